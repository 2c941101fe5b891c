/*
 * kh_bsn — elfproef and masking of BSN's. Only the 9 characters at p are
 * ever read by the check, so the masker can test runs inside longer text.
 */
#include "kh_bsn.h"

#include <string.h>

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* The elfproef on 9 digits known to be digits. */
static int elfproef(const char *p) {
    int sum = 0, nonzero = 0;
    for (int i = 0; i < 8; i++) {
        sum += (p[i] - '0') * (9 - i);
        nonzero |= p[i] != '0';
    }
    sum -= p[8] - '0';
    nonzero |= p[8] != '0';
    return nonzero && sum % 11 == 0;
}

int kh_bsn_valid(const char *s) {
    if (s == NULL)
        return 0;
    for (int i = 0; i < 9; i++)
        if (!is_digit(s[i]))
            return 0;
    return s[9] == '\0' && elfproef(s);
}

void kh_bsn_mask(char *text) {
    char *p = text;
    while (*p) {
        if (!is_digit(*p)) {
            p++;
            continue;
        }
        char *run = p;
        while (is_digit(*p))
            p++;
        if (p - run == 9 && elfproef(run))
            memset(run, '*', 9);
    }
}
