/*
 * kh_ref_csv — the reader for kh_ref's CSV files (the dialect is described
 * in kh_ref_csv.h) and the typed column readers that turn a value into a
 * code, a date or a period, or into a message saying which file, line and
 * column hold what, and what it should be.
 *
 * The file is read whole and fields are unescaped in place, so a record is
 * an array of pointers into one buffer and nothing is copied per field.
 * libcsv (Debian libcsv-dev) was evaluated for this and not used; the
 * README's Dependencies section says why.
 */
#include "kh_ref_csv.h"

#include "kh_code.h"
#include "kh_file.h"
#include "kh_ref.h"
#include "kh_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int kh_ref_vfail(char *err, size_t errlen, const char *fmt, va_list ap) {
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    return -1;
}

int kh_ref_fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kh_ref_vfail(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int kh_ref_csv_fail(kh_ref_csv *c, const char *fmt, ...) {
    if (!c->err || !c->errlen)
        return -1;
    int n = snprintf(c->err, c->errlen, "%s:%d: ", c->name, c->line);
    if (n >= 0 && (size_t)n < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Offset of the first byte that is not well-formed UTF-8, or len. Overlong
 * forms, surrogates and code points above U+10FFFF are rejected too: a
 * Windows-1252 export ("Súdwest-Fryslân") must fail here, not turn into
 * mojibake in a melding. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, min = 0x10000, c &= 0x07;
        } else {
            return i;
        }
        if (i + n >= len)
            return i;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            c = (c << 6) | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return i;
        i += n + 1;
    }
    return len;
}

static int line_of(const char *buf, size_t off) {
    int line = 1;
    for (size_t i = 0; i < off; i++)
        line += buf[i] == '\n';
    return line;
}

static void trim(char *s) {
    size_t n = strlen(s), i = 0;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    if (i)
        memmove(s, s + i, n - i + 1);
}

/* Copies one quoted field (b[*r] is the opening quote) to b + *w. */
static int csv_quoted(kh_ref_csv *c, size_t *r, size_t *w) {
    char *b = c->buf;
    int qline = c->next_line;
    (*r)++;
    for (;;) {
        if (*r >= c->len) {
            c->line = qline;
            return kh_ref_csv_fail(c, "unterminated quoted field (field %d)", c->nfields);
        }
        if (b[*r] == '"') {
            if (*r + 1 < c->len && b[*r + 1] == '"') {
                b[(*w)++] = '"';
                *r += 2;
                continue;
            }
            (*r)++;
            break;
        }
        if (b[*r] == '\n')
            c->next_line++;
        b[(*w)++] = b[(*r)++];
    }
    if (*r < c->len && b[*r] != ';' && b[*r] != '\n' && b[*r] != '\r')
        return kh_ref_csv_fail(c, "text after the closing quote of field %d", c->nfields);
    return 0;
}

static int csv_plain(kh_ref_csv *c, size_t *r, size_t *w) {
    char *b = c->buf;
    while (*r < c->len && b[*r] != ';' && b[*r] != '\n' && b[*r] != '\r') {
        if (b[*r] == '"')
            return kh_ref_csv_fail(c, "quote inside unquoted field %d (quote the whole field)",
                                   c->nfields);
        b[(*w)++] = b[(*r)++];
    }
    return 0;
}

/* Reads the next record into c->field. Returns 1, 0 at end of file, -1. */
static int csv_next(kh_ref_csv *c) {
    char *b = c->buf;
    for (;;) {
        size_t r = c->pos;
        while (r < c->len && (b[r] == '\n' || b[r] == '\r'))
            c->next_line += b[r++] == '\n';
        if (r >= c->len) {
            c->pos = r;
            return 0;
        }
        c->line = c->next_line;
        c->nfields = 0;
        size_t w = r;
        for (;;) {
            if (c->nfields == KH_REF_CSV_MAX_FIELDS)
                return kh_ref_csv_fail(c, "more than %d fields", KH_REF_CSV_MAX_FIELDS);
            c->field[c->nfields++] = b + w;
            if ((b[r] == '"' ? csv_quoted(c, &r, &w) : csv_plain(c, &r, &w)) < 0)
                return -1;
            char end = r < c->len ? b[r++] : '\0';
            b[w++] = '\0';
            if (end == ';')
                continue;
            c->next_line += end == '\n';
            break;
        }
        c->pos = r;
        for (int i = 0; i < c->nfields; i++)
            trim(c->field[i]);
        /* A line of blanks is no record, just as an empty line is not. */
        if (!(c->nfields == 1 && c->field[0][0] == '\0'))
            return 1;
    }
}

/* Like csv_next, and the record must be as wide as the header. */
int kh_ref_csv_row(kh_ref_csv *c) {
    int rc = csv_next(c);
    if (rc == 1 && c->nfields != c->ncols)
        return kh_ref_csv_fail(c, "%d fields, the header has %d", c->nfields, c->ncols);
    return rc;
}

void kh_ref_csv_close(kh_ref_csv *c) {
    free(c->buf);
    c->buf = NULL;
}

/* Reads dir/name into c->buf and rejects what is not UTF-8. */
static int csv_load(kh_ref_csv *c, const char *dir, const char *name) {
    char path[4096], why[4352];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return kh_ref_fail(c->err, c->errlen, "%s: path too long", name);
    c->buf = kh_file_read(path, 0, &c->len, why, sizeof why);
    if (!c->buf)
        return kh_ref_fail(c->err, c->errlen, "%s: cannot read %s", name, why);
    size_t bad = utf8_invalid_at((const unsigned char *)c->buf, c->len);
    if (bad < c->len) {
        c->line = line_of(c->buf, bad);
        return kh_ref_csv_fail(c, "not valid UTF-8 (byte 0x%02x); save the file as UTF-8",
                               (unsigned char)c->buf[bad]);
    }
    return 0;
}

int kh_ref_csv_open(kh_ref_csv *c, const char *dir, const char *name, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->name = name;
    c->err = err;
    c->errlen = errlen;
    c->line = c->next_line = 1;
    int rc = csv_load(c, dir, name);
    if (rc == 0) {
        if (c->len >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0)
            c->pos = 3;
        rc = csv_next(c);
        if (rc == 0)
            kh_ref_csv_fail(c, "empty file, expected a header row");
    }
    if (rc != 1) {
        kh_ref_csv_close(c);
        return -1;
    }
    c->ncols = c->nfields;
    memcpy(c->head, c->field, sizeof c->head);
    return 0;
}

static int csv_col(const kh_ref_csv *c, const char *name) {
    for (int i = 0; i < c->ncols; i++)
        if (strcasecmp(c->head[i], name) == 0)
            return i;
    return -1;
}

/* Checks that every named column is in the header; NULL ends the list. */
int kh_ref_csv_require(kh_ref_csv *c, const char *const *names) {
    for (; *names; names++)
        if (csv_col(c, *names) < 0)
            return kh_ref_csv_fail(c, "missing column '%s'", *names);
    return 0;
}

int kh_ref_csv_has(const kh_ref_csv *c, const char *name) { return csv_col(c, name) >= 0; }

/* The value of a column that kh_ref_csv_require has checked. */
const char *kh_ref_csv_val(const kh_ref_csv *c, const char *name) {
    return c->field[csv_col(c, name)];
}

/* ------------------------------------------------------------------------ */
/* Field checks                                                              */
/* ------------------------------------------------------------------------ */

int kh_ref_csv_text(kh_ref_csv *c, const char *col, char *dst, size_t cap) {
    const char *v = kh_ref_csv_val(c, col);
    if (!*v)
        return kh_ref_csv_fail(c, "%s is empty", col);
    if (strlen(v) >= cap)
        return kh_ref_csv_fail(c, "%s '%s' is longer than %zu bytes", col, v, cap - 1);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

int kh_ref_csv_code(kh_ref_csv *c, const char *col, const char *pat, const char *what, char *dst,
                    size_t cap) {
    const char *v = kh_ref_csv_val(c, col);
    if (!kh_code_matches(v, pat) || strlen(v) >= cap)
        return kh_ref_csv_fail(c, "%s '%s' is not %s", col, v, what);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* DUO writes a gemeentenummer as 4 digits, CBS as GM + 4 digits; both become
 * the CBS form. */
int kh_ref_csv_gemeente(kh_ref_csv *c, const char *col, char dst[7]) {
    const char *v = kh_ref_csv_val(c, col);
    if (kh_code_matches(v, "DDDD"))
        snprintf(dst, 7, "GM%s", v);
    else if (kh_code_matches(v, "GMDDDD"))
        memcpy(dst, v, 7);
    else
        return kh_ref_csv_fail(c, "%s '%s' is not GM + 4 digits (or a 4-digit gemeentenummer)", col,
                               v);
    return 0;
}

int kh_ref_csv_swv(kh_ref_csv *c, const char *col, char dst[7]) {
    const char *v = kh_ref_csv_val(c, col);
    if (!kh_code_matches(v, "PODDDD") && !kh_code_matches(v, "VODDDD"))
        return kh_ref_csv_fail(c, "%s '%s' is not PO or VO + 4 digits", col, v);
    memcpy(dst, v, 7);
    return 0;
}

int kh_ref_csv_date(kh_ref_csv *c, const char *col, int32_t *out) {
    const char *v = kh_ref_csv_val(c, col);
    if (kh_date_parse(v, out) < 0)
        return kh_ref_csv_fail(c, "%s '%s' is not a date (YYYY-MM-DD)", col, v);
    return 0;
}

/* A [begin, end] period with an inclusive, optional end date, stored as the
 * half-open [valid_from, valid_to) the lookups use. */
int kh_ref_csv_period(kh_ref_csv *c, const char *begin, const char *end, int32_t *from,
                      int32_t *to) {
    if (kh_ref_csv_date(c, begin, from) < 0)
        return -1;
    if (!*kh_ref_csv_val(c, end)) {
        *to = KH_REF_FOREVER;
        return 0;
    }
    int32_t last;
    if (kh_ref_csv_date(c, end, &last) < 0)
        return -1;
    if (last < *from)
        return kh_ref_csv_fail(c, "%s %s is before %s %s", end, kh_ref_csv_val(c, end), begin,
                               kh_ref_csv_val(c, begin));
    *to = last + 1;
    return 0;
}

/* ONDERWIJSSOORT: a comma-separated list of the event schema's onderwijssoorten. */
int kh_ref_csv_soorten(kh_ref_csv *c, const char *col, char *dst, size_t cap) {
    static const char *const known[] = {"PO", "SBO", "SO", "VO", "VSO", "PRO", "MBO", NULL};
    if (kh_ref_csv_text(c, col, dst, cap) < 0)
        return -1;
    const char *p = dst;
    while (*p) {
        size_t n = strcspn(p, ",");
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strlen(*k) == n && memcmp(*k, p, n) == 0;
        if (!ok)
            return kh_ref_csv_fail(c,
                                   "%s '%s': '%.*s' is not one of PO, SBO, SO, VO, VSO, PRO, "
                                   "MBO",
                                   col, dst, (int)n, p);
        p += n + (p[n] == ',');
    }
    return 0;
}
