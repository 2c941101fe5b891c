/*
 * kh_problem — collecting field-level problems for one input.
 */
#include "kh_problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const reason_names[KH_R_COUNT] = {
    [KH_R_SYNTAX] = "syntax",
    [KH_R_ENCODING] = "encoding",
    [KH_R_REQUIRED] = "required",
    [KH_R_TYPE] = "type",
    [KH_R_ENUM] = "enum",
    [KH_R_FORMAT] = "format",
    [KH_R_TOO_LONG] = "too_long",
    [KH_R_UNKNOWN_FIELD] = "unknown_field",
    [KH_R_RANGE] = "range",
    [KH_R_ELFPROEF] = "elfproef",
    [KH_R_UNKNOWN_CODE] = "unknown_code",
    [KH_R_DATE_ORDER] = "date_order",
    [KH_R_FUTURE] = "future",
    [KH_R_AGE] = "age",
    [KH_R_INCONSISTENT] = "inconsistent",
};

void kh_problems_init(kh_problems *p) {
    p->count = 0;
    p->dropped = 0;
}

void kh_problems_add(kh_problems *p, const char *pointer, kh_reason reason, const char *fmt, ...) {
    if (p->count == KH_PROBLEM_MAX) {
        p->dropped++;
        return;
    }
    kh_problem *item = &p->items[p->count++];
    snprintf(item->pointer, sizeof item->pointer, "%s", pointer);
    item->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(item->detail, sizeof item->detail, fmt, ap);
    va_end(ap);
}

int kh_problems_has(const kh_problems *p, const char *pointer) {
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->items[i].pointer, pointer) == 0)
            return 1;
    return 0;
}

const char *kh_reason_name(kh_reason r) {
    return r >= 0 && r < KH_R_COUNT ? reason_names[r] : "unknown";
}

int kh_reason_from_name(const char *name) {
    for (int r = 0; r < KH_R_COUNT; r++)
        if (strcmp(reason_names[r], name) == 0)
            return r;
    return -1;
}

char *kh_problems_format(const kh_problems *p, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->count && used < len; i++) {
        const kh_problem *item = &p->items[i];
        int n = snprintf(buf + used, len - used, "%s: %s (%s)\n",
                         item->pointer[0] ? item->pointer : "/", item->detail,
                         kh_reason_name(item->reason));
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (p->dropped && used < len)
        snprintf(buf + used, len - used, "... and %zu more\n", p->dropped);
    return buf;
}
