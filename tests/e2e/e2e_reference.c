/*
 * e2e_reference — the herindeling of e2e_reference.h written into a copy of
 * the reference data, a row at a time.
 */
#include "e2e_reference.h"

#include "kh_file.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The codes as DUO writes them, without "GM". */
#define OUD (&E2E_OUD[2])
#define NIEUW (&E2E_NIEUW[2])
#define DAY_BEFORE "2024-12-31"
#define HERINDELING E2E_MERGER_DATE ";" E2E_OUD ";Castricum;" E2E_NIEUW ";Alkmaar\n"
/* A successor that exists in no gebieden file. */
#define BAD_HERINDELING E2E_MERGER_DATE ";" E2E_OUD ";Castricum;GM9999;Nergens\n"

char *e2e_reference_read(const char *dir, const char *name) {
    char path[400], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = kh_file_read(path, 0, NULL, err, sizeof err);
    ck_assert_msg(text != NULL, "%s", err);
    return text;
}

void e2e_reference_write(const char *dir, const char *name, const char *text) {
    char path[400], tmp[410];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(tmp, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(rename(tmp, path), 0);
}

#define MAX_FIELDS 16

/* One CSV line (without its end) cut at the ';' outside "…" quotes. */
typedef struct csv_line {
    size_t n, at[MAX_FIELDS], len[MAX_FIELDS];
} csv_line;

static void csv_cut(const char *line, size_t linelen, csv_line *c) {
    int quoted = 0;
    c->n = 1;
    c->at[0] = 0;
    for (size_t i = 0; i < linelen; i++) {
        if (line[i] == '"')
            quoted = !quoted;
        else if (line[i] == ';' && !quoted && c->n < MAX_FIELDS) {
            c->len[c->n - 1] = i - c->at[c->n - 1];
            c->at[c->n++] = i + 1;
        }
    }
    c->len[c->n - 1] = linelen - c->at[c->n - 1];
}

static int field_is(const char *line, const csv_line *c, size_t i, const char *want) {
    return i < c->n && c->len[i] == strlen(want) && memcmp(line + c->at[i], want, c->len[i]) == 0;
}

/* Column name's index in a header line (BOM skipped). */
static size_t column(const char *line, size_t len, const char *name) {
    csv_line c;
    size_t skip = strncmp(line, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    csv_cut(line + skip, len - skip, &c);
    for (size_t i = 0; i < c.n; i++)
        if (field_is(line + skip, &c, i, name))
            return i;
    ck_abort_msg("no column %s", name);
    return 0;
}

/* Writes line with field i replaced by with[i] where that is not NULL. */
static void put_fields(FILE *out, const char *line, const csv_line *c, const char *const with[],
                       const char *eol) {
    for (size_t i = 0; i < c->n; i++)
        fprintf(out, "%s%.*s", i ? ";" : "", with[i] ? (int)strlen(with[i]) : (int)c->len[i],
                with[i] ? with[i] : line + c->at[i]);
    fputs(eol, out);
}

/* A line at a time: lines of text not starting with prefix. */
static char *drop_rows(const char *text, const char *prefix) {
    char *out_text;
    size_t out_len;
    FILE *out = open_memstream(&out_text, &out_len);
    ck_assert_ptr_nonnull(out);
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t full = nl ? (size_t)(nl - line) + 1 : strlen(line);
        if (strncmp(line, prefix, strlen(prefix)) != 0)
            fwrite(line, 1, full, out);
        line += full;
    }
    ck_assert_int_eq(fclose(out), 0);
    return out_text;
}

static void field(const char *line, const csv_line *c, size_t i, char *buf, size_t len) {
    snprintf(buf, len, "%.*s", i < c->n ? (int)c->len[i] : 0, i < c->n ? line + c->at[i] : "");
}

/* One data row of a DUO/AGB file: a row of OUD that still holds on the
 * merger date ends the day before; with move, a copy in NIEUW holds from
 * the merger date on (as DUO moves a school location). */
static void merge_row(FILE *out, const char *line, size_t len, const char *eol, const size_t col[3],
                      int move) {
    csv_line c;
    char code[16], begin[16], end[16], moved[16];
    csv_cut(line, len, &c);
    field(line, &c, col[0], code, sizeof code);
    field(line, &c, col[1], begin, sizeof begin);
    field(line, &c, col[2], end, sizeof end);
    int gm = strncmp(code, "GM", 2) == 0;
    if (strcmp(code + (gm ? 2 : 0), OUD) != 0 || (end[0] && strcmp(end, E2E_MERGER_DATE) < 0)) {
        fprintf(out, "%.*s%s", (int)len, line, eol);
        return;
    }
    const char *with[MAX_FIELDS] = {0};
    if (strcmp(begin, E2E_MERGER_DATE) < 0) {
        with[col[2]] = DAY_BEFORE;
        put_fields(out, line, &c, with, eol);
        with[col[2]] = NULL;
        with[col[1]] = E2E_MERGER_DATE;
    }
    snprintf(moved, sizeof moved, "%s%s", gm ? "GM" : "", NIEUW);
    with[col[0]] = moved;
    if (move)
        put_fields(out, line, &c, with, eol);
}

/* A DUO/AGB file after the merger; cols: the gemeente, begin and end. */
static char *merge_rows(const char *text, const char *const cols[3], int move) {
    char *out_text, eol[3];
    size_t out_len, col[3];
    FILE *out = open_memstream(&out_text, &out_len);
    ck_assert_ptr_nonnull(out);
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t full = nl ? (size_t)(nl - line) + 1 : strlen(line), len = full;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        snprintf(eol, sizeof eol, "%.*s", (int)(full - len), line + len);
        if (line == text) {
            for (int i = 0; i < 3; i++)
                col[i] = column(line, len, cols[i]);
            fwrite(line, 1, full, out);
        } else if (len) {
            merge_row(out, line, len, eol, col, move);
        }
        line += full;
    }
    ck_assert_int_eq(fclose(out), 0);
    return out_text;
}

/* herindelingen.csv as it was, with one row more. */
static void add_herindeling(const char *dir, const char *herindelingen, const char *row) {
    size_t n = strlen(herindelingen);
    char *text = malloc(n + strlen(row) + 2);
    ck_assert_ptr_nonnull(text);
    sprintf(text, "%s%s%s", herindelingen, n && herindelingen[n - 1] != '\n' ? "\n" : "", row);
    e2e_reference_write(dir, "herindelingen.csv", text);
    free(text);
}

/* The dissolved code's rows gone from gebieden_YYYY.csv from the merger's year on. */
static void drop_from_gebieden(const char *dir) {
    for (int year = 2025; year <= 2030; year++) {
        char name[32], path[400];
        snprintf(name, sizeof name, "gebieden_%d.csv", year);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (access(path, F_OK) != 0)
            continue;
        char *text = e2e_reference_read(dir, name), *changed = drop_rows(text, E2E_OUD ";");
        ck_assert_uint_lt(strlen(changed), strlen(text));
        e2e_reference_write(dir, name, changed);
        free(text), free(changed);
    }
}

void e2e_herindeling_write(const char *dir, const char *herindelingen) {
    static const char *const duo_cols[] = {"GEMEENTENUMMER", "DATUM INGANG", "DATUM EINDE"},
                             *const agb_cols[] = {"VESTIGINGSGEMEENTE", "DATUM AANVANG",
                                                  "DATUM EINDE"};
    static const struct {
        const char *file;
        const char *const *cols;
        int move;
    } duo[] = {{"swv_gemeenten.csv", duo_cols, 0},
               {"vestigingen.csv", duo_cols, 1},
               {"aanbieders.csv", agb_cols, 1}};
    drop_from_gebieden(dir);
    for (size_t i = 0; i < sizeof duo / sizeof duo[0]; i++) {
        char *text = e2e_reference_read(dir, duo[i].file);
        char *changed = merge_rows(text, duo[i].cols, duo[i].move);
        e2e_reference_write(dir, duo[i].file, changed);
        free(text), free(changed);
    }
    add_herindeling(dir, herindelingen, HERINDELING);
}

void e2e_herindeling_write_bad(const char *dir, const char *herindelingen) {
    add_herindeling(dir, herindelingen, BAD_HERINDELING);
}
