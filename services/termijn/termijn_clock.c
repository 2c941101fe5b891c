/*
 * termijn_clock — wall clock or the test clock file.
 */
#include "termijn_clock.h"

#include "kh_file.h"
#include "kh_log.h"
#include "kh_time.h"

#include <ctype.h>
#include <stdlib.h>

int64_t termijn_clock_now(termijn_clock *c) {
    char err[256];
    size_t len;
    int64_t ms;
    if (!c->file)
        return kh_now_millis();
    char *text = kh_file_read(c->file, 256, &len, err, sizeof err);
    while (text && len > 0 && isspace((unsigned char)text[len - 1]))
        text[--len] = '\0';
    if (text && kh_ts_parse(text, &ms) == 0) {
        c->last = ms;
        c->complained = 0;
    } else if (!c->complained) {
        c->complained = 1;
        kh_log_warn("termijn.clock.file has no RFC 3339 timestamp; keeping the previous time",
                    json_pack("{s:s}", "file", c->file));
    }
    free(text);
    return c->last ? c->last : kh_now_millis();
}
