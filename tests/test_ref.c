/*
 * test_ref — the dated reference data: loading deploy/reference, lookups on
 * both sides of the herindelingen, the cross-border cases the router relies
 * on, rejection of malformed files with a message naming file and line, and
 * reloading kh_refstore while other threads read, and the summary a service
 * logs when it opens the store.
 *
 * The repository root comes from KH_SOURCE_DIR (ctest sets it). Tests that
 * break files do so in a copy under /tmp.
 */
#include "kh_alloc.h"
#include "kh_file.h"
#include "kh_log.h"
#include "kh_ref.h"
#include "kh_time.h"
#include "testlib.h"

#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

/* dir/name into buf (4096 bytes). */
static char *join(char *buf, const char *dir, const char *name) {
    int n = snprintf(buf, 4096, "%s/%s", dir, name);
    ck_assert_msg(n > 0 && n < 4096, "path too long: %s/%s", dir, name);
    return buf;
}

static const char *ref_dir(void) {
    static char path[4096];
    const char *root = getenv("KH_SOURCE_DIR");
    join(path, root ? root : ".", "deploy/reference");
    return path;
}

static int32_t day(const char *iso) {
    int32_t d;
    ck_assert_msg(kh_date_parse(iso, &d) == 0, "bad test date %s", iso);
    return d;
}

static kh_ref *load_ok(const char *dir) {
    kh_ref *ref = NULL;
    char err[512] = "";
    int rc = kh_ref_load(dir, &ref, err, sizeof err);
    ck_assert_msg(rc == 0, "load %s failed: %s", dir, err);
    ck_assert_ptr_nonnull(ref);
    return ref;
}

static char *slurp(const char *path) {
    char err[512];
    char *buf = kh_file_read(path, 0, NULL, err, sizeof err);
    ck_assert_msg(buf != NULL, "%s", err);
    return buf;
}

static void spew(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_int_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
}

/* A fresh copy of deploy/reference in a temp dir; returns its path. */
static char *copy_reference(void) {
    char *tmp = kh_strdup("/tmp/kh_ref_test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    DIR *d = opendir(ref_dir());
    ck_assert_msg(d != NULL, "cannot open %s", ref_dir());
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char from[4096], to[4096];
        join(from, ref_dir(), e->d_name);
        join(to, tmp, e->d_name);
        char *text = slurp(from);
        spew(to, text);
        free(text);
    }
    closedir(d);
    return tmp;
}

static void remove_dir(char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            join(path, dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* Replaces the first occurrence of needle in dir/file; returns the 1-based
 * line it was on. */
static int edit(const char *dir, const char *file, const char *needle, const char *repl) {
    char path[4096];
    join(path, dir, file);
    char *text = slurp(path);
    char *at = strstr(text, needle);
    ck_assert_msg(at != NULL, "'%s' not in %s", needle, file);
    int line = 1;
    for (char *p = text; p < at; p++)
        line += *p == '\n';
    size_t head = (size_t)(at - text), nl = strlen(needle), rl = strlen(repl);
    char *out = kh_malloc(strlen(text) - nl + rl + 1);
    memcpy(out, text, head);
    memcpy(out + head, repl, rl);
    strcpy(out + head + rl, at + nl);
    spew(path, out);
    free(out);
    free(text);
    return line;
}

static void append(const char *dir, const char *file, const char *text) {
    char path[4096];
    join(path, dir, file);
    char *old = slurp(path);
    char *both = kh_malloc(strlen(old) + strlen(text) + 1);
    strcpy(both, old);
    strcat(both, text);
    spew(path, both);
    free(both);
    free(old);
}

static int count_lines(const char *dir, const char *file) {
    char path[4096];
    join(path, dir, file);
    char *text = slurp(path);
    int n = 0;
    for (char *p = text; *p; p++)
        n += *p == '\n';
    free(text);
    return n;
}

/* Loading dir must fail with a message that contains every fragment. */
static void load_fails(const char *dir, const char *frag1, const char *frag2) {
    kh_ref *ref = (kh_ref *)1;
    char err[512] = "";
    ck_assert_int_eq(kh_ref_load(dir, &ref, err, sizeof err), -1);
    ck_assert_ptr_null(ref);
    ck_assert_msg(strstr(err, frag1) != NULL, "'%s' not in error: %s", frag1, err);
    if (frag2)
        ck_assert_msg(strstr(err, frag2) != NULL, "'%s' not in error: %s", frag2, err);
}

/* Like load_fails, and the message starts with "file:line:". */
static void load_fails_at(const char *dir, const char *file, int line, const char *frag) {
    char where[128];
    snprintf(where, sizeof where, "%s:%d:", file, line);
    load_fails(dir, where, frag);
}

/* ------------------------------------------------------------------------ */
/* The shipped data                                                          */
/* ------------------------------------------------------------------------ */

START_TEST(test_load_counts) {
    kh_ref *ref = load_ok(ref_dir());
    ck_assert_uint_gt(kh_ref_count_gemeenten(ref), 40);
    ck_assert_uint_gt(kh_ref_count_scholen(ref), 80);
    ck_assert_uint_gt(kh_ref_count_aanbieders(ref), 40);
    kh_ref_free(ref);
}
END_TEST

START_TEST(test_gemeente_fields) {
    kh_ref *ref = load_ok(ref_dir());
    const kh_ref_gemeente *g = kh_ref_gemeente_at(ref, "GM0599", day("2024-03-01"));
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->code, "GM0599");
    ck_assert_str_eq(g->naam, "Rotterdam");
    ck_assert_str_eq(g->jeugdregio, "JZ29");
    ck_assert_str_eq(g->jeugdregio_naam, "Rijnmond");
    ck_assert_str_eq(g->swv_po, "PO2801");
    ck_assert_str_eq(g->swv_vo, "VO2801");
    ck_assert_str_eq(g->rmc, "RMC32");
    ck_assert_str_eq(g->rmc_naam, "Rijnmond");
    /* Six identical yearly rows are one fact from 2021 on. */
    ck_assert_int_eq(g->valid_from, day("2021-01-01"));
    ck_assert_int_eq(g->valid_to, KH_REF_FOREVER);

    const kh_ref_gemeente *a = kh_ref_gemeente_at(ref, "GM0363", day("2025-09-01"));
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->naam, "Amsterdam");
    ck_assert_str_eq(a->jeugdregio, "JZ13");
    ck_assert_str_eq(a->jeugdregio_naam, "Amsterdam-Amstelland");

    const kh_ref_swv *s = kh_ref_swv_at(ref, g->swv_vo, day("2024-03-01"));
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->sector, "VO");
    ck_assert_str_eq(s->naam, "Koers VO");
    s = kh_ref_swv_at(ref, "PO2809", day("2024-03-01"));
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->sector, "PO");
    kh_ref_free(ref);
}
END_TEST

START_TEST(test_before_first_file) {
    kh_ref *ref = load_ok(ref_dir());
    ck_assert_ptr_null(kh_ref_gemeente_at(ref, "GM0599", day("2020-12-31")));
    ck_assert_ptr_nonnull(kh_ref_gemeente_at(ref, "GM0599", day("2021-01-01")));
    kh_ref_free(ref);
}
END_TEST

START_TEST(test_herindeling_voorne_aan_zee) {
    kh_ref *ref = load_ok(ref_dir());
    const char *from = "x";
    const kh_ref_gemeente *g = kh_ref_gemeente_at(ref, "GM0501", day("2022-12-31"));
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->naam, "Brielle");
    ck_assert_int_eq(g->valid_to, day("2023-01-01"));
    ck_assert_ptr_null(kh_ref_gemeente_at(ref, "GM0501", day("2023-01-01")));

    g = kh_ref_gemeente_resolve(ref, "GM0501", day("2023-01-01"), &from);
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->code, "GM1992");
    ck_assert_str_eq(g->naam, "Voorne aan Zee");
    ck_assert_str_eq(g->jeugdregio, "JZ29");
    ck_assert_str_eq(g->swv_po, "PO2806");
    ck_assert_ptr_nonnull(from);
    ck_assert_str_eq(from, "GM0501");

    /* Before the merger the old code resolves to itself, not forward. */
    g = kh_ref_gemeente_resolve(ref, "GM0501", day("2022-12-31"), &from);
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->code, "GM0501");
    ck_assert_ptr_null(from);

    g = kh_ref_gemeente_resolve(ref, "GM0530", day("2026-02-01"), &from);
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->code, "GM1992");
    ck_assert_str_eq(from, "GM0530");

    ck_assert_ptr_null(kh_ref_gemeente_at(ref, "GM1992", day("2022-12-31")));
    ck_assert_ptr_null(kh_ref_gemeente_resolve(ref, "GM1992", day("2022-12-31"), &from));
    ck_assert_ptr_null(from);
    ck_assert_ptr_nonnull(kh_ref_gemeente_at(ref, "GM1992", day("2023-01-01")));
    kh_ref_free(ref);
}
END_TEST

START_TEST(test_herindeling_dijk_en_waard) {
    kh_ref *ref = load_ok(ref_dir());
    const char *from = NULL;
    ck_assert_ptr_nonnull(kh_ref_gemeente_at(ref, "GM0398", day("2021-12-31")));
    ck_assert_ptr_null(kh_ref_gemeente_at(ref, "GM0398", day("2022-01-01")));
    ck_assert_ptr_null(kh_ref_gemeente_at(ref, "GM1980", day("2021-12-31")));

    const kh_ref_gemeente *g = kh_ref_gemeente_resolve(ref, "GM0416", day("2022-01-01"), &from);
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->code, "GM1980");
    ck_assert_str_eq(g->naam, "Dijk en Waard");
    ck_assert_str_eq(g->jeugdregio, "JZ06");
    ck_assert_str_eq(from, "GM0416");

    g = kh_ref_gemeente_resolve(ref, "GM0599", day("2022-01-01"), &from);
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_null(from);
    kh_ref_free(ref);
}
END_TEST

/* The Alkmaar agenda's "bijzondere positie": same youth region, other SWV's. */
START_TEST(test_castricum_alkmaar) {
    kh_ref *ref = load_ok(ref_dir());
    int32_t d = day("2025-10-01");
    const kh_ref_gemeente *alk = kh_ref_gemeente_at(ref, "GM0361", d);
    const kh_ref_gemeente *cas = kh_ref_gemeente_at(ref, "GM0383", d);
    const kh_ref_gemeente *uit = kh_ref_gemeente_at(ref, "GM0450", d);
    const kh_ref_gemeente *bev = kh_ref_gemeente_at(ref, "GM0375", d);
    ck_assert_ptr_nonnull(alk);
    ck_assert_ptr_nonnull(cas);
    ck_assert_ptr_nonnull(uit);
    ck_assert_ptr_nonnull(bev);
    ck_assert_str_eq(cas->jeugdregio, alk->jeugdregio);
    ck_assert_str_eq(uit->jeugdregio, alk->jeugdregio);
    ck_assert_str_ne(cas->swv_po, alk->swv_po);
    ck_assert_str_ne(cas->swv_vo, alk->swv_vo);
    /* Their SWV's are the IJmond's, whose gemeenten form another jeugdregio. */
    ck_assert_str_eq(cas->swv_po, bev->swv_po);
    ck_assert_str_eq(cas->swv_vo, bev->swv_vo);
    ck_assert_str_ne(cas->jeugdregio, bev->jeugdregio);
    kh_ref_free(ref);
}
END_TEST

START_TEST(test_capelle_rotterdam) {
    kh_ref *ref = load_ok(ref_dir());
    int32_t d = day("2025-10-01");
    const kh_ref_school *s = kh_ref_school_at(ref, "12AB00", d);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->gemeente, "GM0599");
    ck_assert_str_eq(s->soorten, "PO");
    const kh_ref_gemeente *cap = kh_ref_gemeente_at(ref, "GM0502", d);
    const kh_ref_gemeente *rot = kh_ref_gemeente_at(ref, s->gemeente, d);
    ck_assert_ptr_nonnull(cap);
    ck_assert_ptr_nonnull(rot);
    ck_assert_str_eq(cap->naam, "Capelle aan den IJssel");
    ck_assert_str_eq(cap->jeugdregio, rot->jeugdregio);
    ck_assert_str_ne(cap->swv_po, rot->swv_po); /* PO: own SWV */
    ck_assert_str_eq(cap->swv_vo, rot->swv_vo); /* VO: both Koers VO */

    const kh_ref_school *so = kh_ref_school_at(ref, "21RT00", d);
    ck_assert_ptr_nonnull(so);
    ck_assert_str_eq(so->soorten, "SO,VSO");
    ck_assert_str_eq(so->gemeente, "GM0599");

    /* A Dordrecht child with a Rotterdam provider crosses jeugdregio's. */
    const kh_ref_gemeente *dor = kh_ref_gemeente_at(ref, "GM0505", d);
    ck_assert_ptr_nonnull(dor);
    ck_assert_str_eq(dor->jeugdregio, "JZ31");
    ck_assert_str_ne(dor->jeugdregio, rot->jeugdregio);
    kh_ref_free(ref);
}
END_TEST

START_TEST(test_school_dating) {
    kh_ref *ref = load_ok(ref_dir());
    ck_assert_ptr_nonnull(kh_ref_school_at(ref, "12AB01", day("2024-07-31")));
    ck_assert_ptr_null(kh_ref_school_at(ref, "12AB01", day("2024-08-01")));
    ck_assert_ptr_null(kh_ref_school_at(ref, "22RT00", day("2024-07-31")));
    ck_assert_ptr_nonnull(kh_ref_school_at(ref, "22RT00", day("2024-08-01")));

    /* DUO moves a school to the new gemeente on the merger date. */
    const kh_ref_school *s = kh_ref_school_at(ref, "33FA00", day("2022-12-31"));
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->gemeente, "GM0501");
    s = kh_ref_school_at(ref, "33FA00", day("2023-01-01"));
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->gemeente, "GM1992");
    kh_ref_free(ref);
}
END_TEST

START_TEST(test_aanbieder) {
    kh_ref *ref = load_ok(ref_dir());
    int32_t d = day("2024-06-01");
    const kh_ref_aanbieder *a = kh_ref_aanbieder_at(ref, "98000017", d);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->naam, "Jeugdhulp Rijnmond \"De Haven\""); /* "" escape */
    ck_assert_str_eq(a->vestigingsgemeente, "GM0599");
    a = kh_ref_aanbieder_at(ref, "98000033", d);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->naam, "Jeugd-GGZ Kennemerland; locatie Beverwijk"); /* quoted ';' */
    ck_assert_str_eq(a->vestigingsgemeente, "GM0375");
    ck_assert_ptr_nonnull(kh_ref_aanbieder_at(ref, "98000025", day("2024-12-31")));
    ck_assert_ptr_null(kh_ref_aanbieder_at(ref, "98000025", day("2025-01-01")));
    kh_ref_free(ref);
}
END_TEST

/* Cluster 1/2 schools, the RMC contactgemeente and the regions' agreements
 * with their source; an ADVIES is loaded but marked as such. */
START_TEST(test_cluster_rmc_afspraken) {
    kh_ref *ref = load_ok(ref_dir());
    int32_t d = day("2026-03-01");
    ck_assert_int_eq(kh_ref_school_at(ref, "24RT00", d)->cluster, 2);
    ck_assert_int_eq(kh_ref_school_at(ref, "21RT00", d)->cluster, 0);
    const kh_ref_rmc *m = kh_ref_rmc_at(ref, "RMC32", d);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->contactgemeente, "GM0599");
    ck_assert_ptr_null(kh_ref_rmc_at(ref, "RMC32", day("2020-12-31")));
    const kh_ref_afspraak *a = kh_ref_afspraak_at(ref, "JZ06", "THUISZITTER_AANBOD", d);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->status, "AFSPRAAK");
    ck_assert_str_eq(a->bron_datum, ""); /* the document carries no date */
    ck_assert_ptr_nonnull(strstr(a->tekst, "binnen drie maanden beschikbaar"));
    ck_assert_ptr_nonnull(strstr(a->bron_titel, "regio Alkmaar"));
    a = kh_ref_afspraak_at(ref, "JZ29", "HULP_OP_SCHOOL", d);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->status, "ADVIES");
    ck_assert_ptr_null(kh_ref_afspraak_at(ref, "JZ13", "HULP_OP_SCHOOL", d));
    kh_ref_summary s;
    kh_ref_summarize(ref, &s);
    ck_assert_uint_eq(s.rmcs, 8);
    ck_assert_uint_eq(s.afspraken, 5);
    kh_ref_free(ref);
}
END_TEST

START_TEST(test_unknown_codes) {
    kh_ref *ref = load_ok(ref_dir());
    int32_t d = day("2024-06-01");
    const char *from = "x";
    ck_assert_ptr_null(kh_ref_gemeente_at(ref, "GM9999", d));
    ck_assert_ptr_null(kh_ref_gemeente_resolve(ref, "GM9999", d, &from));
    ck_assert_ptr_null(from);
    ck_assert_ptr_null(kh_ref_gemeente_at(ref, "", d));
    ck_assert_ptr_null(kh_ref_gemeente_at(ref, NULL, d));
    ck_assert_ptr_null(kh_ref_gemeente_at(ref, "GM0599GM0599", d));
    ck_assert_ptr_null(kh_ref_gemeente_at(ref, "gm0599", d));
    ck_assert_ptr_null(kh_ref_gemeente_at(ref, "GM0599", KH_REF_FOREVER));
    ck_assert_ptr_null(kh_ref_school_at(ref, "99ZZ00", d));
    ck_assert_ptr_null(kh_ref_aanbieder_at(ref, "12345678", d));
    ck_assert_ptr_null(kh_ref_swv_at(ref, "PO9999", d));
    ck_assert_ptr_null(kh_ref_school_at(ref, "GM0599", d)); /* a code of another kind */
    kh_ref_free(ref);
}
END_TEST

/* Every gemeente with a fact in every year has an SWV PO and VO whose sector
 * matches, and every school's gemeente exists on the school's dates. */
START_TEST(test_referential_integrity) {
    kh_ref *ref = load_ok(ref_dir());
    static const char *const codes[] = {"GM0599", "GM0502", "GM0542", "GM0505", "GM0642",
                                        "GM0361", "GM0383", "GM0450", "GM0363", "GM0344",
                                        "GM0268", "GM0855", NULL};
    for (int y = 2021; y <= 2026; y++) {
        int32_t d = kh_date_from_ymd(y, 6, 1);
        for (const char *const *c = codes; *c; c++) {
            const kh_ref_gemeente *g = kh_ref_gemeente_at(ref, *c, d);
            ck_assert_msg(g != NULL, "%s unknown in %d", *c, y);
            const kh_ref_swv *po = kh_ref_swv_at(ref, g->swv_po, d);
            const kh_ref_swv *vo = kh_ref_swv_at(ref, g->swv_vo, d);
            ck_assert_ptr_nonnull(po);
            ck_assert_ptr_nonnull(vo);
            ck_assert_str_eq(po->sector, "PO");
            ck_assert_str_eq(vo->sector, "VO");
        }
    }
    kh_ref_free(ref);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Parsing details, on a small hand-written directory                        */
/* ------------------------------------------------------------------------ */

static char *mini_dir(void) {
    char *dir = kh_strdup("/tmp/kh_ref_mini.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[4096];
#define PUT(name, text)        \
    do {                       \
        join(path, dir, name); \
        spew(path, text);      \
    } while (0)
    /* BOM, CRLF, columns in another order than usual, an extra column,
     * CBS-style padding and a quoted name. */
    PUT("gebieden_2024.csv", "\xEF\xBB\xBF"
                             "RMCregioNaam;Extra;GemeentecodeGM;JeugdzorgregioCode;Gemeentenaam;"
                             "JeugdzorgregioNaam;RMCregioCode\r\n"
                             "Rijnmond;x;GM0599   ;JZ29;\"Rotter\"\"dam\";Rijnmond;RMC32\r\n"
                             "\r\n"
                             "Rijnmond;y;GM0502;JZ29;Capelle aan den IJssel;Rijnmond;RMC32\r\n");
    PUT("herindelingen.csv", "DatumIngang;GemeentecodeOud;GemeentecodeNieuw\n");
    PUT("samenwerkingsverbanden.csv", "SWV CODE;SWV NAAM;SECTOR;DATUM INGANG;DATUM EINDE\n"
                                      "PO2801;PPO Rotterdam;PO;2014-08-01;\n"
                                      "PO2803;\"PO Capelle; Krimpen\";PO;2014-08-01;\n"
                                      "VO2801;Koers VO;VO;2014-08-01;\n");
    /* Capelle moves to PPO Rotterdam on 1 August 2024. */
    PUT("swv_gemeenten.csv", "SWV CODE;GEMEENTENUMMER;DATUM INGANG;DATUM EINDE\n"
                             "PO2801;0599;2014-08-01;\n"
                             "VO2801;0599;2014-08-01;\n"
                             "PO2803;0502;2014-08-01;2024-07-31\n"
                             "PO2801;GM0502;2024-08-01;\n"
                             "VO2801;0502;2014-08-01;\n");
    PUT("vestigingen.csv",
        "BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;GEMEENTENUMMER;ONDERWIJSSOORT;DATUM INGANG;"
        "DATUM EINDE\n"
        "12AB;12AB01;\"School met\nregelovergang\";0599;PO;2024-01-01;\n"
        "12AB;00;Hoofdvestiging;0502;VO,PRO;2024-01-01;\n");
    PUT("aanbieders.csv", "AGB-CODE;NAAM;VESTIGINGSGEMEENTE;DATUM AANVANG;DATUM EINDE\n"
                          "98000017;Aanbieder;GM0599;2024-01-01;2024-12-31\n");
#undef PUT
    return dir;
}

START_TEST(test_csv_dialect) {
    char *dir = mini_dir();
    kh_ref *ref = load_ok(dir);
    const kh_ref_gemeente *g = kh_ref_gemeente_at(ref, "GM0599", day("2024-05-01"));
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->naam, "Rotter\"dam");
    ck_assert_str_eq(g->rmc_naam, "Rijnmond");
    const kh_ref_swv *s = kh_ref_swv_at(ref, "PO2803", day("2024-05-01"));
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->naam, "PO Capelle; Krimpen");
    const kh_ref_school *sc = kh_ref_school_at(ref, "12AB01", day("2024-05-01"));
    ck_assert_ptr_nonnull(sc);
    ck_assert_str_eq(sc->naam, "School met\nregelovergang");
    sc = kh_ref_school_at(ref, "12AB00", day("2024-05-01"));
    ck_assert_ptr_nonnull(sc);
    ck_assert_str_eq(sc->gemeente, "GM0502");
    ck_assert_str_eq(sc->soorten, "VO,PRO");
    kh_ref_free(ref);
    remove_dir(dir);
}
END_TEST

START_TEST(test_swv_change_mid_year) {
    char *dir = mini_dir();
    kh_ref *ref = load_ok(dir);
    const kh_ref_gemeente *g = kh_ref_gemeente_at(ref, "GM0502", day("2024-07-31"));
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->swv_po, "PO2803");
    ck_assert_int_eq(g->valid_from, day("2024-01-01"));
    ck_assert_int_eq(g->valid_to, day("2024-08-01"));
    g = kh_ref_gemeente_at(ref, "GM0502", day("2024-08-01"));
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->swv_po, "PO2801");
    ck_assert_str_eq(g->swv_vo, "VO2801");
    ck_assert_int_eq(g->valid_to, KH_REF_FOREVER);
    ck_assert_uint_eq(kh_ref_count_gemeenten(ref), 3);
    kh_ref_free(ref);
    remove_dir(dir);
}
END_TEST

/* The summary a service logs at start: the directory, the years of its
 * gebieden files and what it holds (mini_dir: one 2024 file, three gemeente
 * facts, two schools, one provider, three SWV's, no herindelingen). */
START_TEST(test_summary) {
    char *dir = mini_dir();
    kh_ref *ref = load_ok(dir);
    kh_ref_summary s;
    kh_ref_summarize(ref, &s);
    ck_assert_str_eq(s.dir, dir);
    ck_assert_int_eq(s.first_year, 2024);
    ck_assert_int_eq(s.last_year, 2024);
    ck_assert_uint_eq(s.gemeenten, kh_ref_count_gemeenten(ref));
    ck_assert_uint_eq(s.gemeenten, 3);
    ck_assert_uint_eq(s.scholen, 2);
    ck_assert_uint_eq(s.aanbieders, 1);
    ck_assert_uint_eq(s.swvs, 3);
    ck_assert_uint_eq(s.herindelingen, 0);
    ck_assert_uint_eq(s.rmcs, 0); /* rmc_regio.csv and afspraken.csv are optional */
    ck_assert_uint_eq(s.afspraken, 0);

    json_t *j = kh_ref_summary_json(ref);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "reference_dir")), dir);
    ck_assert_str_eq(json_string_value(json_object_get(j, "gebieden_from")), "2024-01-01");
    ck_assert_str_eq(json_string_value(json_object_get(j, "gebieden_years")), "2024-2024");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "gemeenten")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "swvs")), 3);
    json_decref(j);
    kh_ref_free(ref);
    remove_dir(dir);
}
END_TEST

/* The shipped data: the years are those of its gebieden files. */
START_TEST(test_summary_shipped) {
    int first = 9999, last = 0;
    DIR *d = opendir(ref_dir());
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int y;
        char tail[8] = "";
        if (sscanf(e->d_name, "gebieden_%4d.%4s", &y, tail) == 2 && strcmp(tail, "csv") == 0) {
            first = y < first ? y : first;
            last = y > last ? y : last;
        }
    }
    closedir(d);
    kh_ref *ref = load_ok(ref_dir());
    kh_ref_summary s;
    kh_ref_summarize(ref, &s);
    ck_assert_int_eq(s.first_year, first);
    ck_assert_int_eq(s.last_year, last);
    ck_assert_uint_gt(s.herindelingen, 0);
    ck_assert_uint_eq(s.scholen, kh_ref_count_scholen(ref));
    ck_assert_uint_eq(s.aanbieders, kh_ref_count_aanbieders(ref));
    kh_ref_free(ref);
}
END_TEST

/* A herindeling on another day than 1 January ends the old gemeente on that
 * day, even though the yearly file still listed it on 1 January, and even
 * across a later SWV change. */
START_TEST(test_herindeling_mid_year) {
    char *dir = mini_dir();
    edit(dir, "herindelingen.csv", "GemeentecodeNieuw\n",
         "GemeentecodeNieuw\n2024-03-24;GM0502;GM0599\n");
    edit(dir, "vestigingen.csv", "0502;VO,PRO;2024-01-01;", "0502;VO,PRO;2024-01-01;2024-03-23");
    kh_ref *ref = load_ok(dir);
    const char *from = NULL;
    ck_assert_ptr_nonnull(kh_ref_gemeente_at(ref, "GM0502", day("2024-03-23")));
    ck_assert_ptr_null(kh_ref_gemeente_at(ref, "GM0502", day("2024-03-24")));
    ck_assert_ptr_null(kh_ref_gemeente_at(ref, "GM0502", day("2024-09-01")));
    const kh_ref_gemeente *g = kh_ref_gemeente_resolve(ref, "GM0502", day("2024-09-01"), &from);
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->code, "GM0599");
    ck_assert_str_eq(from, "GM0502");
    kh_ref_free(ref);
    remove_dir(dir);
}
END_TEST

/* A gemeente split over two successors has no single successor. */
START_TEST(test_herindeling_split) {
    char *dir = copy_reference();
    append(dir, "herindelingen.csv", "2023-01-01;GM0614;Westvoorne;GM1930;Nissewaard\n");
    kh_ref *ref = load_ok(dir);
    const char *from = "x";
    ck_assert_ptr_null(kh_ref_gemeente_resolve(ref, "GM0614", day("2023-06-01"), &from));
    ck_assert_ptr_null(from);
    const kh_ref_gemeente *g = kh_ref_gemeente_resolve(ref, "GM0501", day("2023-06-01"), &from);
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->code, "GM1992");
    kh_ref_free(ref);
    remove_dir(dir);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Malformed files: -1 and a message naming file and line                   */
/* ------------------------------------------------------------------------ */

/* One broken line each; the message must start with "file:line:" for the
 * line broken and contain frag. needle NULL appends repl as a new last line,
 * otherwise the first needle in file becomes repl. */
typedef struct bad_line {
    const char *file, *needle, *repl, *frag;
} bad_line;

static const bad_line bad_lines[] = {
    {"gebieden_2023.csv", "GM0599;", "GX12;", "GemeentecodeGM 'GX12' is not GM + 4 digits"},
    {"vestigingen.csv", "12AB;00;", "12ab;00;", "BRIN NUMMER '12ab'"},
    {"aanbieders.csv", "98000025;", "9800025;", "AGB-CODE '9800025' is not 8 digits"},
    {"swv_gemeenten.csv", "PO2801;", "PO28-1;", "SWV CODE 'PO28-1' is not PO or VO + 4 digits"},
    {"vestigingen.csv", "GEMEENTENUMMER;", "GEMEENTE;", "missing column 'GEMEENTENUMMER'"},
    {"aanbieders.csv", "2015-01-01", "2015-13-01", "DATUM AANVANG '2015-13-01' is not a date"},
    {"aanbieders.csv", "2015-01-01;2024-12-31", "2015-01-01;2014-12-31",
     "DATUM EINDE 2014-12-31 is before DATUM AANVANG"},
    {"aanbieders.csv", NULL, "98999999;\"Nooit gesloten;GM0599;Rotterdam;2020-01-01;\n",
     "unterminated quoted field"},
    {"herindelingen.csv", NULL, "2024-01-01;GM0599;Rotterdam\n", "3 fields, the header has 5"},
    {"vestigingen.csv", "OBS Het Noorderlicht;", "OBS H\xe9t Noorderlicht;", "not valid UTF-8"},
    {"vestigingen.csv", NULL, "12AB;00;Dubbel;ROTTERDAM;0599;ROTTERDAM;BAO;PO;2020-08-01;;\n",
     "12AB00 is already valid"},
    /* Cluster 1 and 2 are (v)so instellingen; the column takes 1, 2 or nothing. */
    {"vestigingen.csv", "SO/VSO;SO,VSO;1990-08-01;;2", "SO/VSO;SO,VSO;1990-08-01;;3",
     "CLUSTER '3' is not 1, 2 or empty"},
    {"vestigingen.csv", "BAO;PO;1968-08-01;;", "BAO;PO;1968-08-01;;1",
     "CLUSTER 1 for a location without SO or VSO"},
    {"rmc_regio.csv", "RMC32;Rijnmond;GM0599;", "RMC32;Rijnmond;GM0598;",
     "Contactgemeente 'GM0598' is not a gemeente on 2021-01-01"},
    {"afspraken.csv", "JZ06;THUISZITTER_AANBOD;AFSPRAAK;", "JZ6;THUISZITTER_AANBOD;AFSPRAAK;",
     "REGIO 'JZ6' is not a jeugdregio"},
    {"afspraken.csv", "JZ06;THUISZITTER_AANBOD;AFSPRAAK;", "JZ06;THUISZITTER_AANBOD;BELOFTE;",
     "STATUS 'BELOFTE' is not one of the values"},
    {"afspraken.csv", NULL, "JZ06;THUISZITTER_AANBOD;AFSPRAAK;Nog een.;Titel;;2024-01-01;;x\n",
     "JZ06 already has an agreement on THUISZITTER_AANBOD in this period"},
    /* Keeping Brielle's schools open past the merger leaves them in a
     * gemeente that no longer exists. */
    {"vestigingen.csv", "0501;BRIELLE;BAO;PO;1974-08-01;2022-12-31",
     "0501;BRIELLE;BAO;PO;1974-08-01;2023-06-30",
     "GEMEENTENUMMER 'GM0501' is not a gemeente on 2023-01-01"},
    /* Rotterdam in a second SWV PO at the same time. */
    {"swv_gemeenten.csv", NULL, "PO2803;Tweede SWV;0599;ROTTERDAM;2024-08-01;\n",
     "GM0599 is in two SWV's PO on 2024-08-01"},
    /* A gemeente in no gebieden file: quoted as written, and the file that
     * should list it is named. */
    {"swv_gemeenten.csv", "VO2801;Koers VO;0599;", "VO2801;Koers VO;0598;",
     "GEMEENTENUMMER '0598' is in no gebieden_YYYY.csv file (gebieden_2021.csv to "
     "gebieden_2026.csv): add GM0598 to gebieden_2021.csv and every later file"},
    /* A membership beginning after the newest file: that year's file is
     * missing. */
    {"swv_gemeenten.csv", NULL, "PO2801;PPO Rotterdam;0070;NIEUW;2027-01-01;\n",
     "GEMEENTENUMMER '0070' is in no gebieden_YYYY.csv file (gebieden_2021.csv to "
     "gebieden_2026.csv) and this row begins on 2027-01-01: add gebieden_2027.csv, the gemeenten "
     "on 1 January 2027"},
    {"herindelingen.csv", NULL, "2025-01-01;GM0599;Rotterdam;GM1992;Voorne aan Zee\n",
     "GM0599 is dissolved on 2025-01-01 but still in gebieden_2025.csv"},
};

START_TEST(test_bad_line) {
    const bad_line *b = &bad_lines[_i];
    char *dir = copy_reference();
    int line;
    if (b->needle) {
        line = edit(dir, b->file, b->needle, b->repl);
    } else {
        line = count_lines(dir, b->file) + 1;
        append(dir, b->file, b->repl);
    }
    load_fails_at(dir, b->file, line, b->frag);
    remove_dir(dir);
}
END_TEST

START_TEST(test_gemeente_vanishes) {
    char *dir = copy_reference();
    edit(dir, "gebieden_2025.csv",
         "GM0599;Rotterdam;PV28;Zuid-Holland;JZ29;Rijnmond;RMC32;Rijnmond\r\n", "");
    load_fails(dir, "gebieden_2025.csv", "'GM0599' (Rotterdam) is missing");
    remove_dir(dir);
}
END_TEST

/* A membership that ends leaves the gemeente without an SWV VO. */
START_TEST(test_swv_membership_ends) {
    char *dir = copy_reference();
    edit(dir, "swv_gemeenten.csv", "VO2801;Koers VO;0599;ROTTERDAM;2014-08-01;",
         "VO2801;Koers VO;0599;ROTTERDAM;2014-08-01;2023-12-31");
    load_fails(dir, "GM0599 (Rotterdam) has no SWV VO on 2024-01-01", NULL);
    remove_dir(dir);
}
END_TEST

START_TEST(test_missing_file) {
    char *dir = copy_reference();
    char path[4096];
    join(path, dir, "herindelingen.csv");
    ck_assert_int_eq(unlink(path), 0);
    load_fails(dir, "herindelingen.csv: cannot read", NULL);
    remove_dir(dir);
    load_fails("/nonexistent/kh_ref", "cannot open directory", NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* kh_refstore                                                               */
/* ------------------------------------------------------------------------ */

START_TEST(test_refstore_reload) {
    char *dir = copy_reference();
    char err[512] = "";
    kh_refstore *store = kh_refstore_open(dir, err, sizeof err);
    ck_assert_msg(store != NULL, "open: %s", err);
    int32_t d = day("2026-03-01");

    const kh_ref *old = kh_refstore_acquire(store);
    const kh_ref_gemeente *g = kh_ref_gemeente_at(old, "GM0599", d);
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->jeugdregio_naam, "Rijnmond");

    edit(dir, "gebieden_2026.csv", "GM0599;Rotterdam;PV28;Zuid-Holland;JZ29;Rijnmond;",
         "GM0599;Rotterdam;PV28;Zuid-Holland;JZ29;Rijnmond (nieuw);");
    ck_assert_msg(kh_refstore_reload(store, err, sizeof err) == 0, "reload: %s", err);

    const kh_ref *cur = kh_refstore_acquire(store);
    ck_assert_ptr_ne(cur, old);
    ck_assert_str_eq(kh_ref_gemeente_at(cur, "GM0599", d)->jeugdregio_naam, "Rijnmond (nieuw)");
    ck_assert_str_eq(kh_ref_gemeente_at(cur, "GM0599", day("2025-03-01"))->jeugdregio_naam,
                     "Rijnmond");
    /* A reader that acquired before the reload still sees its snapshot. */
    ck_assert_str_eq(g->jeugdregio_naam, "Rijnmond");
    kh_refstore_release(store, old);
    kh_refstore_release(store, cur);

    /* A failed reload keeps the current snapshot. */
    edit(dir, "aanbieders.csv", "98000017;", "98X00017;");
    err[0] = '\0';
    ck_assert_int_eq(kh_refstore_reload(store, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "aanbieders.csv:") != NULL, "error: %s", err);
    cur = kh_refstore_acquire(store);
    ck_assert_str_eq(kh_ref_gemeente_at(cur, "GM0599", d)->jeugdregio_naam, "Rijnmond (nieuw)");
    ck_assert_ptr_nonnull(kh_ref_aanbieder_at(cur, "98000017", d));
    kh_refstore_release(store, cur);

    kh_refstore_close(store);
    remove_dir(dir);
}
END_TEST

/* Opening the store logs which directory, years and counts it loaded. */
START_TEST(test_refstore_logs_summary) {
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    kh_log_setup("test_ref", KH_LOG_INFO, fd[1]);
    char err[512] = "";
    kh_refstore *store = kh_refstore_open(ref_dir(), err, sizeof err);
    ck_assert_msg(store != NULL, "open: %s", err);
    kh_refstore_close(store);
    close(fd[1]);
    char buf[4096];
    ssize_t n = read(fd[0], buf, sizeof buf - 1);
    close(fd[0]);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    json_t *line = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
    ck_assert_msg(line != NULL, "not JSON: %s", buf);
    ck_assert_str_eq(json_string_value(json_object_get(line, "msg")), "reference data loaded");
    ck_assert_str_eq(json_string_value(json_object_get(line, "reference_dir")), ref_dir());
    ck_assert_ptr_nonnull(json_string_value(json_object_get(line, "gebieden_years")));
    ck_assert_int_gt(json_integer_value(json_object_get(line, "gemeenten")), 40);
    json_decref(line);
    kh_log_setup("test_ref", KH_LOG_INFO, 2);
}
END_TEST

START_TEST(test_refstore_open_fails) {
    char *dir = copy_reference();
    edit(dir, "gebieden_2021.csv", "JZ29", "JZ2");
    char err[512] = "";
    ck_assert_ptr_null(kh_refstore_open(dir, err, sizeof err));
    ck_assert_msg(strstr(err, "gebieden_2021.csv:") && strstr(err, "JZ + 2 digits"), "%s", err);
    remove_dir(dir);
}
END_TEST

typedef struct reader_arg {
    kh_refstore *store;
    atomic_int *stop;
    long lookups, failures;
} reader_arg;

static void *reader(void *p) {
    reader_arg *a = p;
    int32_t d = kh_date_from_ymd(2026, 3, 1);
    while (!atomic_load(a->stop)) {
        const kh_ref *ref = kh_refstore_acquire(a->store);
        const kh_ref_gemeente *g = kh_ref_gemeente_at(ref, "GM0599", d);
        const kh_ref_school *s = kh_ref_school_at(ref, "12AB00", d);
        /* Either value is fine; a torn or freed snapshot is not. */
        if (!g || !s || strcmp(s->gemeente, "GM0599") != 0 ||
            (strcmp(g->jeugdregio_naam, "Rijnmond") != 0 &&
             strcmp(g->jeugdregio_naam, "Rijnmond B") != 0))
            a->failures++;
        a->lookups++;
        kh_refstore_release(a->store, ref);
    }
    return NULL;
}

START_TEST(test_refstore_threads) {
    char *dir = copy_reference();
    char err[512] = "";
    kh_refstore *store = kh_refstore_open(dir, err, sizeof err);
    ck_assert_msg(store != NULL, "open: %s", err);
    atomic_int stop = 0;
    reader_arg args[2] = {{store, &stop, 0, 0}, {store, &stop, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, reader, &args[i]), 0);

    const char *a = "GM0599;Rotterdam;PV28;Zuid-Holland;JZ29;Rijnmond;";
    const char *b = "GM0599;Rotterdam;PV28;Zuid-Holland;JZ29;Rijnmond B;";
    for (int i = 0; i < 20; i++) {
        edit(dir, "gebieden_2026.csv", i % 2 ? b : a, i % 2 ? a : b);
        ck_assert_msg(kh_refstore_reload(store, err, sizeof err) == 0, "reload %d: %s", i, err);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    ck_assert_int_eq(args[0].failures + args[1].failures, 0);
    ck_assert_int_gt(args[0].lookups, 0);
    ck_assert_int_gt(args[1].lookups, 0);

    /* The last reload (i = 19) left "Rijnmond" in place. */
    const kh_ref *ref = kh_refstore_acquire(store);
    ck_assert_str_eq(kh_ref_gemeente_at(ref, "GM0599", day("2026-03-01"))->jeugdregio_naam,
                     "Rijnmond");
    kh_refstore_release(store, ref);
    kh_refstore_close(store);
    remove_dir(dir);
}
END_TEST

static Suite *ref_suite(void) {
    Suite *s = suite_create("kh_ref");
    TCase *data = tcase_create("data");
    tcase_add_test(data, test_load_counts);
    tcase_add_test(data, test_gemeente_fields);
    tcase_add_test(data, test_before_first_file);
    tcase_add_test(data, test_herindeling_voorne_aan_zee);
    tcase_add_test(data, test_herindeling_dijk_en_waard);
    tcase_add_test(data, test_castricum_alkmaar);
    tcase_add_test(data, test_capelle_rotterdam);
    tcase_add_test(data, test_school_dating);
    tcase_add_test(data, test_aanbieder);
    tcase_add_test(data, test_cluster_rmc_afspraken);
    tcase_add_test(data, test_unknown_codes);
    tcase_add_test(data, test_referential_integrity);
    suite_add_tcase(s, data);

    TCase *parse = tcase_create("parse");
    tcase_add_test(parse, test_csv_dialect);
    tcase_add_test(parse, test_swv_change_mid_year);
    tcase_add_test(parse, test_summary);
    tcase_add_test(parse, test_summary_shipped);
    tcase_add_test(parse, test_herindeling_mid_year);
    tcase_add_test(parse, test_herindeling_split);
    tcase_add_loop_test(parse, test_bad_line, 0, (int)(sizeof bad_lines / sizeof *bad_lines));
    tcase_add_test(parse, test_gemeente_vanishes);
    tcase_add_test(parse, test_swv_membership_ends);
    tcase_add_test(parse, test_missing_file);
    suite_add_tcase(s, parse);

    TCase *store = tcase_create("store");
    tcase_set_timeout(store, 60);
    tcase_add_test(store, test_refstore_reload);
    tcase_add_test(store, test_refstore_open_fails);
    tcase_add_test(store, test_refstore_logs_summary);
    tcase_add_test(store, test_refstore_threads);
    suite_add_tcase(s, store);
    return s;
}

int main(void) { return kh_test_run(ref_suite()); }
