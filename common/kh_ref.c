/*
 * kh_ref — the dated reference data: which gemeente, jeugdregio, SWV and RMC
 * region a code stood for on a given day, where a school location lies and
 * where a youth-care provider is established.
 *
 * A directory of CSV files (CBS "Gebieden in Nederland" per year, the CBS
 * herindelingen, DUO samenwerkingsverbanden, gemeenten per SWV and
 * vestigingen, and an AGB register extract; layouts in
 * deploy/reference/README.md) is loaded into immutable tables. Every table is
 * an array of facts plus an index sorted by (code, valid_from), so a lookup
 * is one binary search: the router does several per event and must not scan.
 *
 * Loading is strict on purpose: a malformed code, a date that does not parse,
 * a gemeente without an SWV, or a school in a gemeente that no longer exists
 * fails the whole load with "file:line: problem", and kh_refstore keeps
 * serving the previous snapshot. Wrong reference data would route meldingen
 * to the wrong parties, which is worse than routing with yesterday's data.
 */
#include "kh_ref.h"

#include "kh_code.h"
#include "kh_time.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSV_MAX_FIELDS 64
#define MAX_HOPS 8 /* herindeling chains longer than this are data errors */

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* qsort, minus the undefined behaviour of a NULL base for empty arrays. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
    if (n > 1)
        qsort(base, n, size, cmp);
}

static void *grow(void *p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap)
        return p;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *np = realloc(p, ncap * size);
    if (np)
        *cap = ncap;
    return np;
}

/* ------------------------------------------------------------------------ */
/* CSV reader: ';'-separated, optional "quoted" fields with "" escapes,     */
/* header row mapped by name, UTF-8 with optional BOM, CRLF or LF.          */
/* ------------------------------------------------------------------------ */

typedef struct csv {
    const char *name; /* file name used in messages */
    char *buf;        /* whole file + NUL; fields are unescaped in place */
    size_t len, pos;
    int line;      /* line the current record starts on */
    int next_line; /* line the next record starts on */
    int nfields, ncols;
    char *field[CSV_MAX_FIELDS];
    char *head[CSV_MAX_FIELDS];
    char *err;
    size_t errlen;
} csv;

__attribute__((format(printf, 2, 3)))
static int csv_fail(csv *c, const char *fmt, ...) {
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

static int read_file(const char *path, char **out, size_t *outlen) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        char *nb = grow(buf, &cap, len + 65536, 1);
        if (!nb) {
            free(buf);
            fclose(f);
            errno = ENOMEM;
            return -1;
        }
        buf = nb;
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return -1;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return 0;
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
static int csv_quoted(csv *c, size_t *r, size_t *w) {
    char *b = c->buf;
    int qline = c->next_line;
    (*r)++;
    for (;;) {
        if (*r >= c->len) {
            c->line = qline;
            return csv_fail(c, "unterminated quoted field (field %d)", c->nfields);
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
        return csv_fail(c, "text after the closing quote of field %d", c->nfields);
    return 0;
}

static int csv_plain(csv *c, size_t *r, size_t *w) {
    char *b = c->buf;
    while (*r < c->len && b[*r] != ';' && b[*r] != '\n' && b[*r] != '\r') {
        if (b[*r] == '"')
            return csv_fail(c, "quote inside unquoted field %d (quote the whole field)",
                            c->nfields);
        b[(*w)++] = b[(*r)++];
    }
    return 0;
}

/* Reads the next record into c->field. Returns 1, 0 at end of file, -1. */
static int csv_next(csv *c) {
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
            if (c->nfields == CSV_MAX_FIELDS)
                return csv_fail(c, "more than %d fields", CSV_MAX_FIELDS);
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
static int csv_row(csv *c) {
    int rc = csv_next(c);
    if (rc == 1 && c->nfields != c->ncols)
        return csv_fail(c, "%d fields, the header has %d", c->nfields, c->ncols);
    return rc;
}

static void csv_close(csv *c) {
    free(c->buf);
    c->buf = NULL;
}

/* Opens dir/name and reads its header row. */
static int csv_open(csv *c, const char *dir, const char *name, char *err, size_t errlen) {
    char path[4096];
    memset(c, 0, sizeof *c);
    c->name = name;
    c->err = err;
    c->errlen = errlen;
    c->line = c->next_line = 1;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return fail(err, errlen, "%s: path too long", name);
    if (read_file(path, &c->buf, &c->len) < 0)
        return fail(err, errlen, "%s: cannot read: %s", name, strerror(errno));
    size_t bad = utf8_invalid_at((const unsigned char *)c->buf, c->len);
    if (bad < c->len) {
        c->line = line_of(c->buf, bad);
        csv_fail(c, "not valid UTF-8 (byte 0x%02x); save the file as UTF-8",
                 (unsigned char)c->buf[bad]);
        csv_close(c);
        return -1;
    }
    if (c->len >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0)
        c->pos = 3;
    int rc = csv_next(c);
    if (rc == 0)
        csv_fail(c, "empty file, expected a header row");
    if (rc != 1) {
        csv_close(c);
        return -1;
    }
    c->ncols = c->nfields;
    memcpy(c->head, c->field, sizeof c->head);
    return 0;
}

static int csv_col(const csv *c, const char *name) {
    for (int i = 0; i < c->ncols; i++)
        if (strcasecmp(c->head[i], name) == 0)
            return i;
    return -1;
}

/* Checks that every named column is in the header; NULL ends the list. */
static int csv_require(csv *c, const char *const *names) {
    for (; *names; names++)
        if (csv_col(c, *names) < 0)
            return csv_fail(c, "missing column '%s'", *names);
    return 0;
}

/* The value of a column that csv_require has checked. */
static const char *val(const csv *c, const char *name) {
    return c->field[csv_col(c, name)];
}

/* ------------------------------------------------------------------------ */
/* Field checks                                                              */
/* ------------------------------------------------------------------------ */

static int get_text(csv *c, const char *col, char *dst, size_t cap) {
    const char *v = val(c, col);
    if (!*v)
        return csv_fail(c, "%s is empty", col);
    if (strlen(v) >= cap)
        return csv_fail(c, "%s '%s' is longer than %zu bytes", col, v, cap - 1);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int get_code(csv *c, const char *col, const char *pat, const char *what, char *dst,
                    size_t cap) {
    const char *v = val(c, col);
    if (!kh_code_matches(v, pat) || strlen(v) >= cap)
        return csv_fail(c, "%s '%s' is not %s", col, v, what);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* DUO writes a gemeentenummer as 4 digits, CBS as GM + 4 digits; both become
 * the CBS form. */
static int get_gemeente(csv *c, const char *col, char dst[7]) {
    const char *v = val(c, col);
    if (kh_code_matches(v, "DDDD"))
        snprintf(dst, 7, "GM%s", v);
    else if (kh_code_matches(v, "GMDDDD"))
        memcpy(dst, v, 7);
    else
        return csv_fail(c, "%s '%s' is not GM + 4 digits (or a 4-digit gemeentenummer)", col, v);
    return 0;
}

static int get_swv(csv *c, const char *col, char dst[7]) {
    const char *v = val(c, col);
    if (!kh_code_matches(v, "PODDDD") && !kh_code_matches(v, "VODDDD"))
        return csv_fail(c, "%s '%s' is not PO or VO + 4 digits", col, v);
    memcpy(dst, v, 7);
    return 0;
}

static int get_date(csv *c, const char *col, int32_t *out) {
    const char *v = val(c, col);
    if (kh_date_parse(v, out) < 0)
        return csv_fail(c, "%s '%s' is not a date (YYYY-MM-DD)", col, v);
    return 0;
}

/* A [begin, end] period with an inclusive, optional end date, stored as the
 * half-open [valid_from, valid_to) the lookups use. */
static int get_period(csv *c, const char *begin, const char *end, int32_t *from, int32_t *to) {
    if (get_date(c, begin, from) < 0)
        return -1;
    if (!*val(c, end)) {
        *to = KH_REF_FOREVER;
        return 0;
    }
    int32_t last;
    if (get_date(c, end, &last) < 0)
        return -1;
    if (last < *from)
        return csv_fail(c, "%s %s is before %s %s", end, val(c, end), begin, val(c, begin));
    *to = last + 1;
    return 0;
}

/* ONDERWIJSSOORT: a comma-separated list of the event schema's onderwijssoorten. */
static int get_soorten(csv *c, const char *col, char *dst, size_t cap) {
    static const char *const known[] = {"PO", "SBO", "SO", "VO", "VSO", "PRO", "MBO", NULL};
    if (get_text(c, col, dst, cap) < 0)
        return -1;
    const char *p = dst;
    while (*p) {
        size_t n = strcspn(p, ",");
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strlen(*k) == n && memcmp(*k, p, n) == 0;
        if (!ok)
            return csv_fail(c, "%s '%s': '%.*s' is not one of PO, SBO, SO, VO, VSO, PRO, MBO",
                            col, dst, (int)n, p);
        p += n + (p[n] == ',');
    }
    return 0;
}

static char *fmt_date(int32_t d, char *buf) {
    if (d == KH_REF_FOREVER)
        return strcpy(buf, "(open)");
    return kh_date_format(d, buf);
}

/* ------------------------------------------------------------------------ */
/* Dated tables                                                              */
/* ------------------------------------------------------------------------ */

/* Codes are at most 8 ASCII bytes, so a big-endian 64-bit word compares
 * exactly like the string and the binary search compares integers. */
static int code_key(const char *code, uint64_t *key) {
    uint64_t k = 0;
    size_t i = 0;
    for (; i < 8 && code[i]; i++)
        k = (k << 8) | (unsigned char)code[i];
    if (i == 0 || code[i])
        return -1;
    *key = k << (8 * (8 - i));
    return 0;
}

typedef struct ref_key {
    uint64_t code;
    int32_t from, to;
    uint32_t row;
} ref_key;

typedef struct ref_table {
    char *rows;    /* n facts of `size` bytes, code first, in load order */
    int *lines;    /* source line of each fact, for messages */
    ref_key *keys; /* sorted by (code, from) */
    size_t n, cap, size, from_off, to_off;
} ref_table;

static void table_init(ref_table *t, size_t size, size_t from_off, size_t to_off) {
    memset(t, 0, sizeof *t);
    t->size = size;
    t->from_off = from_off;
    t->to_off = to_off;
}

static void table_free(ref_table *t) {
    free(t->rows);
    free(t->lines);
    free(t->keys);
}

static void *table_row(const ref_table *t, size_t i) {
    return t->rows + i * t->size;
}

static int32_t *row_from(const ref_table *t, size_t i) {
    return (int32_t *)((char *)table_row(t, i) + t->from_off);
}

static int32_t *row_to(const ref_table *t, size_t i) {
    return (int32_t *)((char *)table_row(t, i) + t->to_off);
}

/* Appends a zeroed fact; NULL when out of memory. */
static void *table_add(ref_table *t, int line) {
    size_t cap = t->cap;
    char *rows = grow(t->rows, &cap, t->n + 1, t->size);
    if (!rows)
        return NULL;
    t->rows = rows;
    cap = t->cap;
    int *lines = grow(t->lines, &cap, t->n + 1, sizeof *lines);
    if (!lines)
        return NULL;
    t->lines = lines;
    t->cap = cap;
    t->lines[t->n] = line;
    memset(table_row(t, t->n), 0, t->size);
    return table_row(t, t->n++);
}

static int key_cmp(const void *a, const void *b) {
    const ref_key *x = a, *y = b;
    if (x->code != y->code)
        return x->code < y->code ? -1 : 1;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* (Re)builds the sorted index after facts were added or changed. */
static int table_index(ref_table *t) {
    ref_key *keys = realloc(t->keys, (t->n ? t->n : 1) * sizeof *keys);
    if (!keys)
        return -1;
    t->keys = keys;
    for (size_t i = 0; i < t->n; i++) {
        code_key(table_row(t, i), &keys[i].code);
        keys[i].from = *row_from(t, i);
        keys[i].to = *row_to(t, i);
        keys[i].row = (uint32_t)i;
    }
    sort(keys, t->n, sizeof *keys, key_cmp);
    return 0;
}

/* Two facts for one code whose periods overlap make lookups ambiguous. */
static int table_overlaps(const ref_table *t, const char *file, char *err, size_t errlen) {
    for (size_t i = 1; i < t->n; i++) {
        const ref_key *a = &t->keys[i - 1], *b = &t->keys[i];
        if (a->code == b->code && a->to > b->from) {
            char d[KH_DATE_LEN];
            return fail(err, errlen, "%s:%d: %s is already valid on %s (line %d)", file,
                        t->lines[b->row], (const char *)table_row(t, b->row),
                        fmt_date(b->from, d), t->lines[a->row]);
        }
    }
    return 0;
}

/* Index of the first key >= (code, from). */
static size_t lower_bound(const ref_table *t, uint64_t code, int32_t from) {
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const ref_key *k = &t->keys[mid];
        if (k->code < code || (k->code == code && k->from < from))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The fact for code valid on date: the last key with (code, from <= date). */
static const void *table_at(const ref_table *t, const char *code, int32_t date) {
    uint64_t k;
    if (!code || code_key(code, &k) < 0 || date == INT32_MAX)
        return NULL;
    size_t i = lower_bound(t, k, date + 1);
    if (i == 0)
        return NULL;
    const ref_key *e = &t->keys[i - 1];
    if (e->code != k || date >= e->to)
        return NULL;
    return table_row(t, e->row);
}

/* ------------------------------------------------------------------------ */
/* The snapshot                                                              */
/* ------------------------------------------------------------------------ */

typedef struct herindeling {
    uint64_t key; /* of oud */
    int32_t datum;
    int line;
    char oud[7], nieuw[7];
} herindeling;

struct kh_ref {
    ref_table gemeenten, scholen, aanbieders, swvs;
    herindeling *her; /* sorted by (oud, datum) */
    size_t nher;
    int32_t first; /* 1 January of the oldest gebieden file */
    int refs;      /* kh_refstore's count of holders */
};

const kh_ref_gemeente *kh_ref_gemeente_at(const kh_ref *ref, const char *code, int32_t date) {
    return table_at(&ref->gemeenten, code, date);
}

const kh_ref_school *kh_ref_school_at(const kh_ref *ref, const char *code, int32_t date) {
    return table_at(&ref->scholen, code, date);
}

const kh_ref_aanbieder *kh_ref_aanbieder_at(const kh_ref *ref, const char *code, int32_t date) {
    return table_at(&ref->aanbieders, code, date);
}

const kh_ref_swv *kh_ref_swv_at(const kh_ref *ref, const char *code, int32_t date) {
    return table_at(&ref->swvs, code, date);
}

size_t kh_ref_count_gemeenten(const kh_ref *ref) {
    return ref->gemeenten.n;
}

size_t kh_ref_count_scholen(const kh_ref *ref) {
    return ref->scholen.n;
}

size_t kh_ref_count_aanbieders(const kh_ref *ref) {
    return ref->aanbieders.n;
}

size_t kh_ref_count_swvs(const kh_ref *ref) {
    return ref->swvs.n;
}

/* The i-th fact of a table in load order, or NULL past its end. */
static const void *table_nth(const ref_table *t, size_t i) {
    return i < t->n ? table_row(t, i) : NULL;
}

const kh_ref_gemeente *kh_ref_gemeente_nth(const kh_ref *ref, size_t i) {
    return table_nth(&ref->gemeenten, i);
}

const kh_ref_school *kh_ref_school_nth(const kh_ref *ref, size_t i) {
    return table_nth(&ref->scholen, i);
}

const kh_ref_aanbieder *kh_ref_aanbieder_nth(const kh_ref *ref, size_t i) {
    return table_nth(&ref->aanbieders, i);
}

const kh_ref_swv *kh_ref_swv_nth(const kh_ref *ref, size_t i) {
    return table_nth(&ref->swvs, i);
}

/* The herindeling that dissolved code most recently on or before date, or
 * NULL. A gemeente split over several successors has no single answer, so
 * it resolves to none: the caller must then ask for an address. */
static const herindeling *successor(const kh_ref *ref, const char *code, int32_t date) {
    uint64_t k;
    if (code_key(code, &k) < 0)
        return NULL;
    size_t lo = 0, hi = ref->nher;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const herindeling *h = &ref->her[mid];
        if (h->key < k || (h->key == k && h->datum <= date))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || ref->her[lo - 1].key != k)
        return NULL;
    const herindeling *h = &ref->her[lo - 1];
    for (size_t i = lo - 1; i-- > 0 && ref->her[i].key == k && ref->her[i].datum == h->datum;)
        if (strcmp(ref->her[i].nieuw, h->nieuw) != 0)
            return NULL;
    return h;
}

const kh_ref_gemeente *kh_ref_gemeente_resolve(const kh_ref *ref, const char *code, int32_t date,
                                               const char **merged_from) {
    if (merged_from)
        *merged_from = NULL;
    const kh_ref_gemeente *g = kh_ref_gemeente_at(ref, code, date);
    if (g || !code)
        return g;
    const char *first_old = NULL;
    for (int hop = 0; hop < MAX_HOPS; hop++) {
        const herindeling *h = successor(ref, code, date);
        if (!h)
            return NULL;
        if (!first_old)
            first_old = h->oud;
        g = kh_ref_gemeente_at(ref, h->nieuw, date);
        if (g) {
            if (merged_from)
                *merged_from = first_old;
            return g;
        }
        code = h->nieuw;
    }
    return NULL;
}

void kh_ref_free(kh_ref *ref) {
    if (!ref)
        return;
    table_free(&ref->gemeenten);
    table_free(&ref->scholen);
    table_free(&ref->aanbieders);
    table_free(&ref->swvs);
    free(ref->her);
    free(ref);
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

/* One row of a gebieden_YYYY.csv, before the SWV's are joined in. */
typedef struct gebied {
    kh_ref_gemeente g;
    int year, line;
} gebied;

/* One row of swv_gemeenten.csv: gemeente belongs to swv during [from, to). */
typedef struct lid {
    char gemeente[7], swv[7];
    int32_t from, to;
    int line;
} lid;

typedef struct loader {
    const char *dir;
    kh_ref *ref;
    gebied *geb;
    size_t ngeb, capgeb;
    lid *leden; /* sorted by (gemeente, from) */
    size_t nleden, capleden;
    int *years;
    size_t nyears;
    char *err;
    size_t errlen;
} loader;

static int oom(loader *L) {
    return fail(L->err, L->errlen, "out of memory loading %s", L->dir);
}

typedef int (*row_fn)(loader *L, csv *c, void *arg);

/* Reads dir/name, checks its header has cols, and hands every row to fn. */
static int each_row(loader *L, const char *name, const char *const *cols, row_fn fn, void *arg) {
    csv c;
    if (csv_open(&c, L->dir, name, L->err, L->errlen) < 0)
        return -1;
    int rc = csv_require(&c, cols);
    while (rc == 0 && (rc = csv_row(&c)) == 1)
        rc = fn(L, &c, arg);
    csv_close(&c);
    return rc < 0 ? -1 : 0;
}

/* Sorts a table's index and rejects overlapping periods for one code. */
static int finish_table(loader *L, ref_table *t, const char *file) {
    if (table_index(t) < 0)
        return oom(L);
    return table_overlaps(t, file, L->err, L->errlen);
}

static int swv_row(loader *L, csv *c, void *arg) {
    (void)arg;
    kh_ref_swv *s = table_add(&L->ref->swvs, c->line);
    if (!s)
        return oom(L);
    if (get_swv(c, "SWV CODE", s->code) < 0 ||
        get_text(c, "SWV NAAM", s->naam, sizeof s->naam) < 0 ||
        get_text(c, "SECTOR", s->sector, sizeof s->sector) < 0 ||
        get_period(c, "DATUM INGANG", "DATUM EINDE", &s->valid_from, &s->valid_to) < 0)
        return -1;
    if (strncmp(s->code, s->sector, 2) != 0)
        return csv_fail(c, "SECTOR '%s' does not match SWV CODE '%s'", s->sector, s->code);
    return 0;
}

/* samenwerkingsverbanden.csv (DUO). */
static int load_swvs(loader *L) {
    static const char *const cols[] = {"SWV CODE", "SWV NAAM", "SECTOR", "DATUM INGANG",
                                       "DATUM EINDE", NULL};
    if (each_row(L, "samenwerkingsverbanden.csv", cols, swv_row, NULL) < 0)
        return -1;
    return finish_table(L, &L->ref->swvs, "samenwerkingsverbanden.csv");
}

static int int_cmp(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The years of the gebieden_YYYY.csv files in dir, ascending. */
static int find_years(loader *L) {
    DIR *d = opendir(L->dir);
    if (!d)
        return fail(L->err, L->errlen, "%s: cannot open directory: %s", L->dir, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int year;
        if (!kh_code_matches(e->d_name, "gebieden_DDDD.csv"))
            continue;
        year = atoi(e->d_name + 9);
        int *ny = grow(L->years, &cap, L->nyears + 1, sizeof *ny);
        if (!ny) {
            closedir(d);
            return oom(L);
        }
        L->years = ny;
        L->years[L->nyears++] = year;
    }
    closedir(d);
    if (L->nyears == 0)
        return fail(L->err, L->errlen, "%s: no gebieden_YYYY.csv files", L->dir);
    sort(L->years, L->nyears, sizeof *L->years, int_cmp);
    L->ref->first = kh_date_from_ymd(L->years[0], 1, 1);
    return 0;
}

typedef struct file_year {
    int year;
    int32_t from, to;
} file_year;

static int gebied_row(loader *L, csv *c, void *arg) {
    const file_year *fy = arg;
    gebied *ng = grow(L->geb, &L->capgeb, L->ngeb + 1, sizeof *ng);
    if (!ng)
        return oom(L);
    L->geb = ng;
    gebied *r = &L->geb[L->ngeb];
    memset(r, 0, sizeof *r);
    r->year = fy->year;
    r->line = c->line;
    r->g.valid_from = fy->from;
    r->g.valid_to = fy->to;
    kh_ref_gemeente *g = &r->g;
    if (get_code(c, "GemeentecodeGM", "GMDDDD", "GM + 4 digits", g->code, sizeof g->code) < 0 ||
        get_text(c, "Gemeentenaam", g->naam, sizeof g->naam) < 0 ||
        get_code(c, "JeugdzorgregioCode", "JZDD", "JZ + 2 digits", g->jeugdregio,
                 sizeof g->jeugdregio) < 0 ||
        get_text(c, "JeugdzorgregioNaam", g->jeugdregio_naam, sizeof g->jeugdregio_naam) < 0 ||
        get_code(c, "RMCregioCode", "RMCDD", "RMC + 2 digits", g->rmc, sizeof g->rmc) < 0 ||
        get_text(c, "RMCregioNaam", g->rmc_naam, sizeof g->rmc_naam) < 0)
        return -1;
    L->ngeb++;
    return 0;
}

/* gebieden_YYYY.csv: the gemeenten as on 1 January YYYY, valid until the
 * next file's year begins. */
static int load_gebieden_year(loader *L, size_t i) {
    static const char *const cols[] = {"GemeentecodeGM", "Gemeentenaam", "JeugdzorgregioCode",
                                       "JeugdzorgregioNaam", "RMCregioCode", "RMCregioNaam", NULL};
    char name[32];
    file_year fy = {.year = L->years[i], .to = KH_REF_FOREVER};
    fy.from = kh_date_from_ymd(fy.year, 1, 1);
    if (i + 1 < L->nyears)
        fy.to = kh_date_from_ymd(L->years[i + 1], 1, 1);
    snprintf(name, sizeof name, "gebieden_%04d.csv", fy.year);
    return each_row(L, name, cols, gebied_row, &fy);
}

static int gebied_cmp(const void *a, const void *b) {
    const gebied *x = a, *y = b;
    int c = strcmp(x->g.code, y->g.code);
    if (c)
        return c;
    return (x->g.valid_from > y->g.valid_from) - (x->g.valid_from < y->g.valid_from);
}

static int load_gebieden(loader *L) {
    for (size_t i = 0; i < L->nyears; i++)
        if (load_gebieden_year(L, i) < 0)
            return -1;
    sort(L->geb, L->ngeb, sizeof *L->geb, gebied_cmp);
    for (size_t i = 1; i < L->ngeb; i++) {
        const gebied *a = &L->geb[i - 1], *b = &L->geb[i];
        if (strcmp(a->g.code, b->g.code) == 0 && a->year == b->year)
            return fail(L->err, L->errlen, "gebieden_%04d.csv:%d: GemeentecodeGM '%s' appears twice "
                        "(also line %d)", b->year, b->line, b->g.code, a->line);
    }
    return 0;
}

static int lid_cmp(const void *a, const void *b) {
    const lid *x = a, *y = b;
    int c = strcmp(x->gemeente, y->gemeente);
    if (c)
        return c;
    return (x->from > y->from) - (x->from < y->from);
}

static int known_gemeente(const loader *L, const char *code) {
    for (size_t lo = 0, hi = L->ngeb; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(L->geb[mid].g.code, code);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int lid_row(loader *L, csv *c, void *arg) {
    (void)arg;
    lid *nl = grow(L->leden, &L->capleden, L->nleden + 1, sizeof *nl);
    if (!nl)
        return oom(L);
    L->leden = nl;
    lid *m = &L->leden[L->nleden];
    memset(m, 0, sizeof *m);
    m->line = c->line;
    if (get_swv(c, "SWV CODE", m->swv) < 0 ||
        get_gemeente(c, "GEMEENTENUMMER", m->gemeente) < 0 ||
        get_period(c, "DATUM INGANG", "DATUM EINDE", &m->from, &m->to) < 0)
        return -1;
    if (!kh_ref_swv_at(L->ref, m->swv, m->from)) {
        char d[KH_DATE_LEN];
        return csv_fail(c, "SWV CODE '%s' is not in samenwerkingsverbanden.csv on %s", m->swv,
                        fmt_date(m->from, d));
    }
    if (!known_gemeente(L, m->gemeente))
        return csv_fail(c, "GEMEENTENUMMER '%s' is in no gebieden_YYYY.csv file", m->gemeente);
    L->nleden++;
    return 0;
}

/* swv_gemeenten.csv (DUO "gemeenten per samenwerkingsverband"). */
static int load_leden(loader *L) {
    static const char *const cols[] = {"SWV CODE", "GEMEENTENUMMER", "DATUM INGANG", "DATUM EINDE",
                                       NULL};
    if (each_row(L, "swv_gemeenten.csv", cols, lid_row, NULL) < 0)
        return -1;
    sort(L->leden, L->nleden, sizeof *L->leden, lid_cmp);
    return 0;
}

static int same_fact(const kh_ref_gemeente *a, const kh_ref_gemeente *b) {
    return strcmp(a->code, b->code) == 0 && strcmp(a->naam, b->naam) == 0 &&
           strcmp(a->jeugdregio, b->jeugdregio) == 0 &&
           strcmp(a->jeugdregio_naam, b->jeugdregio_naam) == 0 &&
           strcmp(a->swv_po, b->swv_po) == 0 && strcmp(a->swv_vo, b->swv_vo) == 0 &&
           strcmp(a->rmc, b->rmc) == 0 && strcmp(a->rmc_naam, b->rmc_naam) == 0;
}

/* Appends fact, or extends the previous fact when nothing but the dates
 * differ: six identical yearly rows become one fact. */
static int emit_gemeente(loader *L, const kh_ref_gemeente *fact) {
    ref_table *t = &L->ref->gemeenten;
    if (t->n > 0) {
        kh_ref_gemeente *prev = table_row(t, t->n - 1);
        if (prev->valid_to == fact->valid_from && same_fact(prev, fact)) {
            prev->valid_to = fact->valid_to;
            return 0;
        }
    }
    kh_ref_gemeente *g = table_add(t, 0);
    if (!g)
        return oom(L);
    *g = *fact;
    return 0;
}

/* Joins the SWV PO and VO valid at `at` into fact; *next is lowered to the
 * first membership change after `at`. */
static int join_swvs(loader *L, const lid *m, size_t nm, kh_ref_gemeente *fact, int32_t at,
                     int32_t *next) {
    const lid *po = NULL, *vo = NULL;
    char d[KH_DATE_LEN];
    for (size_t i = 0; i < nm; i++) {
        if (m[i].from > at && m[i].from < *next)
            *next = m[i].from;
        if (m[i].to > at && m[i].to < *next)
            *next = m[i].to;
        if (m[i].from > at || at >= m[i].to)
            continue;
        const lid **slot = m[i].swv[0] == 'P' ? &po : &vo;
        if (*slot)
            return fail(L->err, L->errlen, "swv_gemeenten.csv:%d: %s is in two SWV's %.2s on %s "
                        "(%s here, %s on line %d)", m[i].line, fact->code, m[i].swv,
                        fmt_date(at, d), m[i].swv, (*slot)->swv, (*slot)->line);
        *slot = &m[i];
    }
    if (!po || !vo)
        return fail(L->err, L->errlen, "swv_gemeenten.csv: %s (%s) has no SWV %s on %s",
                    fact->code, fact->naam, po ? "VO" : "PO", fmt_date(at, d));
    memcpy(fact->swv_po, po->swv, sizeof fact->swv_po);
    memcpy(fact->swv_vo, vo->swv, sizeof fact->swv_vo);
    return 0;
}

/* The gemeente facts: each yearly row, split wherever its SWV membership
 * changes (a school year can start on 1 August), merged where unchanged. */
static int build_gemeenten(loader *L) {
    size_t j = 0;
    for (size_t i = 0; i < L->ngeb; i++) {
        const gebied *r = &L->geb[i];
        while (j < L->nleden && strcmp(L->leden[j].gemeente, r->g.code) < 0)
            j++;
        size_t nm = 0;
        while (j + nm < L->nleden && strcmp(L->leden[j + nm].gemeente, r->g.code) == 0)
            nm++;
        for (int32_t at = r->g.valid_from; at < r->g.valid_to;) {
            kh_ref_gemeente fact = r->g;
            int32_t next = r->g.valid_to;
            if (join_swvs(L, &L->leden[j], nm, &fact, at, &next) < 0)
                return -1;
            fact.valid_from = at;
            fact.valid_to = next;
            if (emit_gemeente(L, &fact) < 0)
                return -1;
            at = next;
        }
    }
    return table_index(&L->ref->gemeenten) < 0 ? oom(L) : 0;
}

static int her_cmp(const void *a, const void *b) {
    const herindeling *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->datum > y->datum) - (x->datum < y->datum);
}

/* Ends h->oud's yearly rows at the herindeling date before any fact is
 * built: the herindelingen file, not the 1 January snapshots, says when a
 * gemeente stopped (a herindeling may fall mid-year). A yearly file that
 * still lists it after that date contradicts the herindeling. */
static int cut_at_herindeling(loader *L, const herindeling *h) {
    char d[KH_DATE_LEN];
    for (size_t i = 0; i < L->ngeb; i++) {
        gebied *r = &L->geb[i];
        if (strcmp(r->g.code, h->oud) != 0)
            continue;
        if (r->g.valid_from >= h->datum)
            return fail(L->err, L->errlen, "herindelingen.csv:%d: %s is dissolved on %s but still "
                        "in gebieden_%04d.csv (line %d)", h->line, h->oud, fmt_date(h->datum, d),
                        r->year, r->line);
        if (r->g.valid_to > h->datum)
            r->g.valid_to = h->datum;
    }
    return 0;
}

static int check_herindeling(loader *L, const herindeling *h) {
    const kh_ref *ref = L->ref;
    char d[KH_DATE_LEN];
    if (h->datum - 1 >= ref->first && !kh_ref_gemeente_at(ref, h->oud, h->datum - 1))
        return fail(L->err, L->errlen, "herindelingen.csv:%d: GemeentecodeOud '%s' is not in the "
                    "gebieden files on the day before %s", h->line, h->oud, fmt_date(h->datum, d));
    if (h->datum >= ref->first && !kh_ref_gemeente_at(ref, h->nieuw, h->datum))
        return fail(L->err, L->errlen, "herindelingen.csv:%d: GemeentecodeNieuw '%s' is not in "
                    "the gebieden files on %s", h->line, h->nieuw, fmt_date(h->datum, d));
    return 0;
}

static int her_row(loader *L, csv *c, void *arg) {
    size_t *cap = arg;
    herindeling h;
    memset(&h, 0, sizeof h);
    h.line = c->line;
    if (get_date(c, "DatumIngang", &h.datum) < 0 ||
        get_code(c, "GemeentecodeOud", "GMDDDD", "GM + 4 digits", h.oud, sizeof h.oud) < 0 ||
        get_code(c, "GemeentecodeNieuw", "GMDDDD", "GM + 4 digits", h.nieuw, sizeof h.nieuw) < 0)
        return -1;
    /* CBS also lists a gemeente that absorbs another under its own code;
     * it did not stop, so there is nothing to follow. */
    if (strcmp(h.oud, h.nieuw) == 0)
        return 0;
    code_key(h.oud, &h.key);
    herindeling *nh = grow(L->ref->her, cap, L->ref->nher + 1, sizeof *nh);
    if (!nh)
        return oom(L);
    L->ref->her = nh;
    nh[L->ref->nher++] = h;
    return 0;
}

static int load_herindelingen(loader *L) {
    static const char *const cols[] = {"DatumIngang", "GemeentecodeOud", "GemeentecodeNieuw", NULL};
    size_t cap = 0;
    if (each_row(L, "herindelingen.csv", cols, her_row, &cap) < 0)
        return -1;
    kh_ref *ref = L->ref;
    sort(ref->her, ref->nher, sizeof *ref->her, her_cmp);
    for (size_t i = 0; i < ref->nher; i++)
        if (cut_at_herindeling(L, &ref->her[i]) < 0)
            return -1;
    return 0;
}

/* Runs once the gemeente facts exist. */
static int check_herindelingen(loader *L) {
    for (size_t i = 0; i < L->ref->nher; i++)
        if (check_herindeling(L, &L->ref->her[i]) < 0)
            return -1;
    return 0;
}

static int dissolved_on(const kh_ref *ref, uint64_t key, int32_t date) {
    for (size_t i = 0; i < ref->nher; i++)
        if (ref->her[i].key == key && ref->her[i].datum == date)
            return 1;
    return 0;
}

/* A gemeente only disappears through a herindeling; one that is missing from
 * a later gebieden file is a mistake in that file, and would make every
 * event of its children undeliverable. */
static int check_continuity(loader *L) {
    const ref_table *t = &L->ref->gemeenten;
    for (size_t i = 0; i < t->n; i++) {
        const ref_key *k = &t->keys[i];
        if (k->to == KH_REF_FOREVER)
            continue;
        if (i + 1 < t->n && t->keys[i + 1].code == k->code && t->keys[i + 1].from == k->to)
            continue;
        if (dissolved_on(L->ref, k->code, k->to))
            continue;
        const kh_ref_gemeente *g = table_row(t, k->row);
        int y, m, d;
        kh_date_to_ymd(k->to, &y, &m, &d);
        return fail(L->err, L->errlen, "gebieden_%04d.csv: GemeentecodeGM '%s' (%s) is missing "
                    "and herindelingen.csv has no herindeling for it", y, g->code, g->naam);
    }
    return 0;
}

/* A school or provider row must lie in a gemeente for its whole period (as
 * far as the gebieden files reach), so the router never finds a school whose
 * gemeente is unknown. */
static int check_gemeente_covers(const kh_ref *ref, csv *c, const char *col, const char *code,
                                 int32_t from, int32_t to) {
    int32_t at = from > ref->first ? from : ref->first;
    while (at < to) {
        const kh_ref_gemeente *g = kh_ref_gemeente_at(ref, code, at);
        if (!g) {
            char d[KH_DATE_LEN];
            return csv_fail(c, "%s '%s' is not a gemeente on %s (after a herindeling, end this "
                            "row the day before and add one for the new gemeente)",
                            col, code, fmt_date(at, d));
        }
        at = g->valid_to;
    }
    return 0;
}

static int school_row(loader *L, csv *c, void *arg) {
    (void)arg;
    kh_ref_school *s = table_add(&L->ref->scholen, c->line);
    if (!s)
        return oom(L);
    char brin[5], vest[7];
    if (get_code(c, "BRIN NUMMER", "DDAA", "2 digits + 2 uppercase letters", brin,
                 sizeof brin) < 0)
        return -1;
    /* DUO writes the vestigingsnummer either alone (00) or with the BRIN. */
    const char *v = val(c, "VESTIGINGSNUMMER");
    if (kh_code_matches(v, "DD"))
        snprintf(vest, sizeof vest, "%s", v);
    else if (kh_code_matches(v, "DDAADD") && strncmp(v, brin, 4) == 0)
        snprintf(vest, sizeof vest, "%s", v + 4);
    else
        return csv_fail(c, "VESTIGINGSNUMMER '%s' is not 2 digits (or BRIN %s + 2 digits)", v,
                        brin);
    snprintf(s->code, sizeof s->code, "%s%.2s", brin, vest);
    if (get_text(c, "VESTIGINGSNAAM", s->naam, sizeof s->naam) < 0 ||
        get_gemeente(c, "GEMEENTENUMMER", s->gemeente) < 0 ||
        get_soorten(c, "ONDERWIJSSOORT", s->soorten, sizeof s->soorten) < 0 ||
        get_period(c, "DATUM INGANG", "DATUM EINDE", &s->valid_from, &s->valid_to) < 0)
        return -1;
    return check_gemeente_covers(L->ref, c, "GEMEENTENUMMER", s->gemeente, s->valid_from,
                                 s->valid_to);
}

/* vestigingen.csv (DUO "vestigingen"): school locations. */
static int load_scholen(loader *L) {
    static const char *const cols[] = {"BRIN NUMMER", "VESTIGINGSNUMMER", "VESTIGINGSNAAM",
                                       "GEMEENTENUMMER", "ONDERWIJSSOORT", "DATUM INGANG",
                                       "DATUM EINDE", NULL};
    if (each_row(L, "vestigingen.csv", cols, school_row, NULL) < 0)
        return -1;
    return finish_table(L, &L->ref->scholen, "vestigingen.csv");
}

static int aanbieder_row(loader *L, csv *c, void *arg) {
    (void)arg;
    kh_ref_aanbieder *a = table_add(&L->ref->aanbieders, c->line);
    if (!a)
        return oom(L);
    if (get_code(c, "AGB-CODE", "DDDDDDDD", "8 digits", a->code, sizeof a->code) < 0 ||
        get_text(c, "NAAM", a->naam, sizeof a->naam) < 0 ||
        get_gemeente(c, "VESTIGINGSGEMEENTE", a->vestigingsgemeente) < 0 ||
        get_period(c, "DATUM AANVANG", "DATUM EINDE", &a->valid_from, &a->valid_to) < 0)
        return -1;
    return check_gemeente_covers(L->ref, c, "VESTIGINGSGEMEENTE", a->vestigingsgemeente,
                                 a->valid_from, a->valid_to);
}

/* aanbieders.csv (an AGB register extract). */
static int load_aanbieders(loader *L) {
    static const char *const cols[] = {"AGB-CODE", "NAAM", "VESTIGINGSGEMEENTE", "DATUM AANVANG",
                                       "DATUM EINDE", NULL};
    if (each_row(L, "aanbieders.csv", cols, aanbieder_row, NULL) < 0)
        return -1;
    return finish_table(L, &L->ref->aanbieders, "aanbieders.csv");
}

/* The order matters: SWV's before the memberships that name them,
 * herindelingen before the gemeente facts they end, and those facts before
 * the herindelingen, schools and providers checked against them. */
static int load_all(loader *L) {
    if (find_years(L) < 0 || load_swvs(L) < 0 || load_gebieden(L) < 0 || load_leden(L) < 0 ||
        load_herindelingen(L) < 0 || build_gemeenten(L) < 0 || check_herindelingen(L) < 0 ||
        check_continuity(L) < 0 || load_scholen(L) < 0 || load_aanbieders(L) < 0)
        return -1;
    return 0;
}

int kh_ref_load(const char *dir, kh_ref **out, char *err, size_t errlen) {
    *out = NULL;
    kh_ref *ref = calloc(1, sizeof *ref);
    if (!ref)
        return fail(err, errlen, "out of memory loading %s", dir);
    table_init(&ref->gemeenten, sizeof(kh_ref_gemeente), offsetof(kh_ref_gemeente, valid_from),
               offsetof(kh_ref_gemeente, valid_to));
    table_init(&ref->scholen, sizeof(kh_ref_school), offsetof(kh_ref_school, valid_from),
               offsetof(kh_ref_school, valid_to));
    table_init(&ref->aanbieders, sizeof(kh_ref_aanbieder), offsetof(kh_ref_aanbieder, valid_from),
               offsetof(kh_ref_aanbieder, valid_to));
    table_init(&ref->swvs, sizeof(kh_ref_swv), offsetof(kh_ref_swv, valid_from),
               offsetof(kh_ref_swv, valid_to));
    loader L = {.dir = dir, .ref = ref, .err = err, .errlen = errlen};
    int rc = load_all(&L);
    free(L.geb);
    free(L.leden);
    free(L.years);
    if (rc < 0) {
        kh_ref_free(ref);
        return -1;
    }
    *out = ref;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Reloadable store                                                          */
/* ------------------------------------------------------------------------ */

struct kh_refstore {
    pthread_mutex_t lock;   /* guards cur and every snapshot's refs */
    pthread_mutex_t reload; /* one reload at a time, so the newest files win */
    char *dir;
    kh_ref *cur; /* holds one reference for the store itself */
};

kh_refstore *kh_refstore_open(const char *dir, char *err, size_t errlen) {
    kh_ref *ref;
    if (kh_ref_load(dir, &ref, err, errlen) < 0)
        return NULL;
    kh_refstore *s = calloc(1, sizeof *s);
    if (s)
        s->dir = strdup(dir);
    if (!s || !s->dir || pthread_mutex_init(&s->lock, NULL) != 0) {
        if (s)
            free(s->dir);
        free(s);
        kh_ref_free(ref);
        fail(err, errlen, "out of memory opening %s", dir);
        return NULL;
    }
    if (pthread_mutex_init(&s->reload, NULL) != 0) {
        pthread_mutex_destroy(&s->lock);
        free(s->dir);
        free(s);
        kh_ref_free(ref);
        fail(err, errlen, "cannot create a mutex for %s", dir);
        return NULL;
    }
    ref->refs = 1;
    s->cur = ref;
    return s;
}

/* Drops one reference; the snapshot goes when nobody holds it any more. */
static void unref(kh_refstore *s, kh_ref *ref) {
    pthread_mutex_lock(&s->lock);
    int last = --ref->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last)
        kh_ref_free(ref);
}

int kh_refstore_reload(kh_refstore *s, char *err, size_t errlen) {
    kh_ref *fresh;
    pthread_mutex_lock(&s->reload);
    /* Loading takes a while; readers keep the old snapshot meanwhile. */
    if (kh_ref_load(s->dir, &fresh, err, errlen) < 0) {
        pthread_mutex_unlock(&s->reload);
        return -1;
    }
    fresh->refs = 1;
    pthread_mutex_lock(&s->lock);
    kh_ref *old = s->cur;
    s->cur = fresh;
    pthread_mutex_unlock(&s->lock);
    unref(s, old);
    pthread_mutex_unlock(&s->reload);
    return 0;
}

const kh_ref *kh_refstore_acquire(kh_refstore *s) {
    pthread_mutex_lock(&s->lock);
    kh_ref *ref = s->cur;
    ref->refs++;
    pthread_mutex_unlock(&s->lock);
    return ref;
}

void kh_refstore_release(kh_refstore *s, const kh_ref *ref) {
    /* The snapshot was allocated mutable; only readers see it const. */
    if (ref)
        unref(s, (kh_ref *)ref);
}

/* Every acquired snapshot must be released before close. */
void kh_refstore_close(kh_refstore *s) {
    if (!s)
        return;
    unref(s, s->cur);
    pthread_mutex_destroy(&s->reload);
    pthread_mutex_destroy(&s->lock);
    free(s->dir);
    free(s);
}
