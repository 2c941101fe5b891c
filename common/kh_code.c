/*
 * kh_code — code format checks.
 */
#include "kh_code.h"

#include <string.h>

int kh_code_matches(const char *s, const char *pattern) {
    size_t i = 0;
    for (; pattern[i]; i++) {
        char c = s[i];
        if (c == '\0')
            return 0;
        if (pattern[i] == 'D'   ? !(c >= '0' && c <= '9')
            : pattern[i] == 'A' ? !(c >= 'A' && c <= 'Z')
                                : c != pattern[i])
            return 0;
    }
    return s[i] == '\0';
}

int kh_code_gemeente(const char *s) { return kh_code_matches(s, "GMDDDD"); }
int kh_code_jeugdregio(const char *s) { return kh_code_matches(s, "JZDD"); }
int kh_code_swv(const char *s) {
    return kh_code_matches(s, "PODDDD") || kh_code_matches(s, "VODDDD");
}
int kh_code_school(const char *s) { return kh_code_matches(s, "DDAADD"); }
int kh_code_agb(const char *s) { return kh_code_matches(s, "DDDDDDDD"); }

int kh_code_in_list(const char *list, const char *item) {
    size_t n = strlen(item);
    for (const char *p = list; (p = strstr(p, item)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

static const struct {
    const char *type;
    int (*check)(const char *);
    const char *hint;
} org_formats[] = {
    {"GEMEENTE", kh_code_gemeente, "GM + 4 digits, e.g. GM0599"},
    {"SWV", kh_code_swv, "PO or VO + 4 digits, e.g. PO2801"},
    {"SCHOOL", kh_code_school, "BRIN + vestiging, e.g. 12AB00"},
    {"AANBIEDER", kh_code_agb, "an 8-digit AGB code"},
};

int kh_code_for_type(const char *type, const char *code) {
    for (size_t i = 0; i < sizeof org_formats / sizeof org_formats[0]; i++)
        if (strcmp(org_formats[i].type, type) == 0)
            return org_formats[i].check(code);
    return 0;
}

const char *kh_code_format_hint(const char *type) {
    for (size_t i = 0; i < sizeof org_formats / sizeof org_formats[0]; i++)
        if (strcmp(org_formats[i].type, type) == 0)
            return org_formats[i].hint;
    return "a known organisation type";
}
