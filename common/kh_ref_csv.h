/*
 * kh_ref_csv — private to kh_ref: the reader for the reference CSV files and
 * the typed column readers the loader builds facts with.
 *
 * The dialect is the one CBS and DUO export: ';'-separated, optional
 * "quoted" fields with "" escapes (a quoted field may span lines), a header
 * row whose columns are found by name (any order, any case, extra columns
 * ignored), UTF-8 with an optional BOM, CRLF or LF, blanks around a value
 * trimmed, blank lines skipped. Every error is "file:line: problem" and says
 * which field or column and what to do; nothing else in kh_ref parses text.
 *
 * Not thread-safe per kh_ref_csv; separate readers are independent.
 */
#ifndef KH_REF_CSV_H
#define KH_REF_CSV_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define KH_REF_CSV_MAX_FIELDS 64

typedef struct kh_ref_csv {
    const char *name; /* file name used in messages */
    char *buf;        /* whole file + NUL; fields are unescaped in place */
    size_t len, pos;
    int line;      /* line the current record starts on */
    int next_line; /* line the next record starts on */
    int nfields, ncols;
    char *field[KH_REF_CSV_MAX_FIELDS];
    char *head[KH_REF_CSV_MAX_FIELDS];
    char *err;
    size_t errlen;
} kh_ref_csv;

/* Write the message into err (when err and errlen are set); return -1. */
int kh_ref_vfail(char *err, size_t errlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int kh_ref_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "name:line: " and the message into the reader's err; returns -1. */
int kh_ref_csv_fail(kh_ref_csv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads dir/name whole, checks it is UTF-8 and reads its header row; err
 * (errlen bytes, kept by the reader for later messages) gets the reason
 * when -1 is returned. On 0 the caller closes the reader. */
int kh_ref_csv_open(kh_ref_csv *c, const char *dir, const char *name, char *err, size_t errlen);
void kh_ref_csv_close(kh_ref_csv *c);

/* Checks that every named column is in the header; NULL ends the list. */
int kh_ref_csv_require(kh_ref_csv *c, const char *const *names);

/* Reads the next record, which must be as wide as the header. Returns 1,
 * 0 at end of file, -1 on an error. */
int kh_ref_csv_row(kh_ref_csv *c);

/* Whether the header has an (optional) column. */
int kh_ref_csv_has(const kh_ref_csv *c, const char *col);

/* The value in the current record of a column kh_ref_csv_require checked. */
const char *kh_ref_csv_val(const kh_ref_csv *c, const char *col);

/* Typed column readers: each copies the column's value of the current
 * record into dst when it has the form, and otherwise returns -1 with
 * "file:line: COLUMN 'value' is not ..." in the reader's err. */
int kh_ref_csv_text(kh_ref_csv *c, const char *col, char *dst, size_t cap);
int kh_ref_csv_code(kh_ref_csv *c, const char *col, const char *pat, const char *what, char *dst,
                    size_t cap);
/* A gemeentenummer, as DUO (4 digits) or CBS (GM + 4 digits) writes it,
 * stored in the CBS form. */
int kh_ref_csv_gemeente(kh_ref_csv *c, const char *col, char dst[7]);
int kh_ref_csv_swv(kh_ref_csv *c, const char *col, char dst[7]);
int kh_ref_csv_date(kh_ref_csv *c, const char *col, int32_t *out);
/* The [begin, end] columns (end inclusive and optional) as the half-open
 * [*from, *to) the lookups use; *to is KH_REF_FOREVER without an end. */
int kh_ref_csv_period(kh_ref_csv *c, const char *begin, const char *end, int32_t *from,
                      int32_t *to);
/* A comma-separated list of the event schema's onderwijssoorten. */
int kh_ref_csv_soorten(kh_ref_csv *c, const char *col, char *dst, size_t cap);

#endif
