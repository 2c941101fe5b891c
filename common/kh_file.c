/*
 * kh_file — whole-file reading (see kh_file.h).
 */
#include "kh_file.h"

#include "kh_alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads f to its end into buf, growing it; returns -1 on a read error or
 * when more than limit bytes arrive. */
static int read_all(FILE *f, size_t limit, char **buf, size_t *len) {
    size_t cap = 0;
    for (;;) {
        if (cap - *len < 2) {
            cap = cap ? cap * 2 : 65536;
            *buf = kh_realloc(*buf, cap);
        }
        size_t got = fread(*buf + *len, 1, cap - *len - 1, f);
        *len += got;
        if (limit && *len > limit)
            return -1;
        if (got == 0)
            return ferror(f) ? -1 : 0;
    }
}

char *kh_file_read(const char *path, size_t limit, size_t *len, char *err, size_t errlen) {
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0;
    int rc = read_all(f, limit, &buf, &n);
    int read_errno = errno;
    if (rc < 0) {
        if (limit && n > limit)
            snprintf(err, errlen, "%s: larger than %zu bytes", path, limit);
        else
            snprintf(err, errlen, "%s: read error: %s", path, strerror(read_errno));
    }
    if (!is_stdin)
        fclose(f);
    if (rc < 0) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}
