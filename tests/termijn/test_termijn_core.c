/*
 * test_termijn_core — the decision core of ketenhub-termijn as a table: each
 * case is a script of events and clock moves for one child, with the
 * meldingen each step must give (regel, recipients, achterhaald or not) and
 * how many termijnen stay open. Plus the calendar (working days, the
 * Amsterdam date across DST, months in leap years), the pause, and ids.
 */
#include "kh_codec.h"
#include "kh_kalender.h"
#include "kh_time.h"
#include "termijn_bericht.h"
#include "termijn_core.h"
#include "termijn_melding.h"
#include "termijn_state.h"
#include "testlib.h"

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kh_ref *ref;
static kh_kalender *kal;
static termijn_afspraken *afs;
static termijn_ctx ctx;

static void setup(void) {
    char dir[4096], err[512];
    snprintf(dir, sizeof dir, "%s/deploy/reference", kh_test_source_dir());
    ck_assert_msg(kh_ref_load(dir, &ref, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(kh_kalender_load(dir, &kal, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(termijn_afspraken_load(dir, &afs, err, sizeof err) == 0, "%s", err);
    ctx = (termijn_ctx){ref, kal, afs};
}

static void teardown(void) {
    kh_ref_free(ref);
    kh_kalender_free(kal);
    termijn_afspraken_free(afs);
}

static int32_t day(const char *s) {
    int32_t d;
    ck_assert_msg(kh_date_parse(s, &d) == 0, "bad date %s", s);
    return d;
}

/* ---- Events from "key=value" specs -------------------------------------- */

#define F(key, field) \
    { key, offsetof(termijn_event, field), sizeof((termijn_event *)0)->field }
static const struct {
    const char *key;
    size_t off, size;
} text_keys[] = {
    F("id", id),
    F("bij", bij),
    F("os", onderwijssoort),
    F("st", status),
    F("swv", swv),
    F("ts", tlv_soort),
    F("as", aanvragende_school),
    F("gem", gemeente),
    F("aanb", aanbieder),
    F("vid", verwijzing_id),
    F("vt", verwijzer_type),
    F("nt", naar_type),
    F("nc", naar_code),
    F("dom", domein),
    F("woon", woonplaats),
    F("vg", verantwoordelijke),
    F("soort", soort),
};
#undef F

static void set(termijn_event *ev, const char *k, const char *v) {
    for (size_t i = 0; i < sizeof text_keys / sizeof *text_keys; i++)
        if (!strcmp(k, text_keys[i].key)) {
            snprintf((char *)ev + text_keys[i].off, text_keys[i].size, "%s", v);
            return;
        }
    if (!strcmp(k, "d"))
        ev->datum = ev->handeling = day(v);
    else if (!strcmp(k, "h"))
        ev->handeling = day(v);
    else if (!strcmp(k, "e"))
        ev->einddatum = day(v);
    else if (!strcmp(k, "geb"))
        ev->geboortedatum = day(v);
    else if (!strcmp(k, "io")) /* informatie_opgevraagd_op */
        ev->informatie_opgevraagd = day(v);
    else if (!strcmp(k, "iv")) /* informatie_ontvangen_op */
        ev->informatie_ontvangen = day(v);
    else if (!strcmp(k, "ob"))
        ev->ondersteuningsbehoefte = atoi(v);
    else
        ck_abort_msg("unknown key %s", k);
}

/* "A id=X st=INGEDIEND ...": A aanmelding, L tlv, B beschikking, V verwijzing. */
static void event_from(const char *spec, termijn_event *ev) {
    char buf[512];
    memset(ev, 0, sizeof *ev);
    ev->einddatum = TERMIJN_GEEN_DATUM;
    ev->informatie_opgevraagd = ev->informatie_ontvangen = TERMIJN_GEEN_DATUM;
    ev->kind = spec[0] == 'A'   ? TERMIJN_EV_AANMELDING
               : spec[0] == 'L' ? TERMIJN_EV_TLV
               : spec[0] == 'B' ? TERMIJN_EV_BESCHIKKING
                                : TERMIJN_EV_VERWIJZING;
    snprintf(ev->bsn, sizeof ev->bsn, "999990251");
    ev->geboortedatum = day("2016-11-20");
    snprintf(ev->woonplaats, sizeof ev->woonplaats, "GM0502");
    snprintf(ev->soort, sizeof ev->soort, "ONDERWIJS");
    snprintf(ev->naar_type, sizeof ev->naar_type, "AANBIEDER");
    snprintf(ev->domein, sizeof ev->domein, "JEUGDHULP");
    snprintf(ev->bron, sizeof ev->bron, "BRON:%c", spec[0]);
    snprintf(ev->oorzaak.event_id, sizeof ev->oorzaak.event_id,
             "00000000-0000-4000-8000-000000000001");
    snprintf(buf, sizeof buf, "%s", spec + 1);
    for (char *save, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        ck_assert_msg(eq != NULL, "bad token %s", tok);
        *eq = '\0';
        set(ev, tok, eq + 1);
    }
}

/* ---- Scripts ------------------------------------------------------------- */

typedef struct step {
    const char *what;   /* "E <event spec>" or "T <date>" (the clock reaches date) */
    const char *expect; /* the meldingen, "REGEL>TYPE:CODE,TYPE:CODE" or "" for none; a leading
                           '~' means they are achterhaald follow-ups */
    int open;           /* termijnen open afterwards */
} step;

typedef struct script {
    const char *name;
    step steps[10];
} script;

static void got_string(const termijn_uit *out, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < out->n; i++) {
        const termijn_melding *m = &out->m[i];
        n += (size_t)snprintf(buf + n, len - n, "%s%s%s>%s:%s", i ? "," : "",
                              m->achterhaalt[0] ? "~" : "", termijn_regel_naam(m->regel),
                              m->ontvanger_type, m->ontvanger_code);
    }
}

/* The expectation "R>T:C,T:C;R2>..." in the same form as got_string. */
static void want_string(const char *expect, char *buf, size_t len) {
    size_t n = 0;
    char tmp[512];
    buf[0] = '\0';
    snprintf(tmp, sizeof tmp, "%s", expect);
    int late = tmp[0] == '~';
    for (char *s1, *grp = strtok_r(tmp + late, ";", &s1); grp; grp = strtok_r(NULL, ";", &s1)) {
        char *gt = strchr(grp, '>');
        *gt = '\0';
        for (char *s2, *to = strtok_r(gt + 1, ",", &s2); to; to = strtok_r(NULL, ",", &s2))
            n += (size_t)snprintf(buf + n, len - n, "%s%s%s>%s", n ? "," : "", late ? "~" : "", grp,
                                  to);
    }
}

static void run_script(const script *sc) {
    termijn_dossier d = {0};
    static termijn_uit out;
    char got[2048], want[2048];
    for (const step *st = sc->steps; st->what; st++) {
        memset(&out, 0, sizeof out);
        if (st->what[0] == 'E') {
            termijn_event ev;
            event_from(st->what + 2, &ev);
            ck_assert_int_eq(termijn_apply(&d, &ev, &ctx, &out), 0);
        } else {
            ck_assert_int_eq(termijn_tick(&d, day(st->what + 2), &ctx, &out), 0);
        }
        got_string(&out, got, sizeof got);
        want_string(st->expect, want, sizeof want);
        ck_assert_msg(!strcmp(got, want), "%s, step '%s': got [%s], want [%s]", sc->name, st->what,
                      got, want);
        ck_assert_msg((int)d.n == st->open, "%s, step '%s': %zu open, want %d", sc->name, st->what,
                      d.n, st->open);
        for (size_t i = 0; i < out.n; i++) {
            ck_assert_msg(out.m[i].melding_id[0] && out.m[i].toelichting[0], "%s: no id/text",
                          sc->name);
            ck_assert_str_eq(out.m[i].bsn, "999990251");
        }
    }
    termijn_dossier_free(&d);
}

#define ZP "ZORGPLICHT_TERMIJN_VERSTREKEN"
#define DT "DREIGENDE_THUISZITTER"
#define ZA "THUISZITTER_ZONDER_AANBOD"
#define TE "TLV_EINDDATUM_NADERT"
#define BE "BESCHIKKING_EINDDATUM_NADERT"
#define VZ "VERWIJZING_ZONDER_BESLUIT"
#define AANM "A id=A1 bij=12OA00 os=PO ob=1 "

static const script scripts[] = {
    {"zorgplicht opens, fires at 6 weeks, escalates at 10, closes",
     {{"E " AANM "st=INGEDIEND d=2026-03-02", "", 1},
      {"T 2026-04-13", "", 1}, /* day 42 is the last day */
      {"T 2026-04-14", ZP ">SCHOOL:12OA00,SWV:PO2803", 1},
      {"T 2026-04-15", "", 1},
      {"T 2026-05-12", ZP ">SCHOOL:12OA00,SWV:PO2803,GEMEENTE:GM0502", 1},
      {"E " AANM "st=GEPLAATST d=2026-05-20", "", 0},
      {0}}},
    {"zorgplicht closed in time: no melding; the refusal opens the thuiszitter watch",
     {{"E " AANM "st=INGEDIEND d=2026-03-02", "", 1},
      {"E " AANM "st=AFGEWEZEN d=2026-04-01", "", 1},
      {"T 2026-04-14", "", 1},
      {"T 2026-04-29", DT ">SWV:PO2803,GEMEENTE:GM0502", 1},
      {0}}},
    {"zorgplicht late event: decided before the due date, heard after the melding",
     {{"E " AANM "st=INGEDIEND d=2026-03-02", "", 1},
      {"T 2026-04-14", ZP ">SCHOOL:12OA00,SWV:PO2803", 1},
      {"E " AANM "st=GEPLAATST d=2026-04-10", "~" ZP ">SCHOOL:12OA00,SWV:PO2803", 0},
      {"T 2026-06-01", "", 0},
      {0}}},
    {"zorgplicht: a term ending on Koningsdag runs to the next working day",
     {{"E " AANM "st=INGEDIEND d=2027-03-16", "", 1},
      {"T 2027-04-28", "", 1},
      {"T 2027-04-29", ZP ">SCHOOL:12OA00,SWV:PO2803", 1},
      {0}}},
    {"zorgplicht: a term ending on a Saturday runs to Monday",
     {{"E " AANM "st=INGEDIEND d=2026-03-07", "", 1},
      {"T 2026-04-20", "", 1},
      {"T 2026-04-21", ZP ">SCHOOL:12OA00,SWV:PO2803", 1},
      {0}}},
    {"zorgplicht only with ondersteuningsbehoefte, not for MBO or a cluster 2 school",
     {{"E A id=A2 bij=12OA00 os=PO ob=0 st=INGEDIEND d=2026-03-02", "", 0},
      {"E A id=A3 bij=13VA00 os=MBO ob=1 st=INGEDIEND d=2026-03-02", "", 0},
      {"E A id=A4 bij=24RT00 os=SO ob=1 st=INGEDIEND d=2026-03-02", "", 0},
      {"T 2026-12-31", "", 0},
      {0}}},
    {"zorgplicht re-opened: a new aanmelding after a withdrawal starts a new term",
     {{"E " AANM "st=INGEDIEND d=2026-03-02", "", 1},
      {"E " AANM "st=INGETROKKEN d=2026-03-10", "", 1},
      {"E " AANM "st=INGEDIEND d=2026-03-20", "", 2},
      {"E " AANM "st=INGEDIEND d=2026-03-25", "", 2},        /* a repeat keeps the first date */
      {"T 2026-05-01", DT ">SWV:PO2803,GEMEENTE:GM0502", 2}, /* 20 March + 42 is a Friday */
      {"T 2026-05-02", ZP ">SCHOOL:12OA00,SWV:PO2803", 2},
      {0}}},
    {"zorgplicht pause: asked on 10 March, received on 24 March; 14 days added, then Koningsdag",
     {{"E " AANM "st=INGEDIEND d=2026-03-02", "", 1},
      {"E " AANM "st=IN_BEHANDELING d=2026-03-10 io=2026-03-10", "", 1},
      {"T 2026-04-14", "", 1}, /* paused: the 6 weeks do not run out */
      {"E " AANM "st=IN_BEHANDELING d=2026-03-24 io=2026-03-10 iv=2026-03-24", "", 1},
      {"E " AANM "st=IN_BEHANDELING d=2026-03-30 io=2026-03-10 iv=2026-03-24", "", 1}, /* repeat */
      {"T 2026-04-28", "", 1}, /* last day 27 April (Koningsdag) runs to the 28th */
      {"T 2026-04-29", ZP ">SCHOOL:12OA00,SWV:PO2803", 1},
      {"T 2026-05-26", "", 1}, /* 11 May + 14 = 25 May, tweede Pinksterdag: to the 26th */
      {"T 2026-05-27", ZP ">SCHOOL:12OA00,SWV:PO2803,GEMEENTE:GM0502", 1},
      {0}}},
    {"zorgplicht paused twice: 7 + 7 days; a request from before the last answer is not new",
     {{"E " AANM "st=INGEDIEND d=2026-03-02 io=2026-03-10", "", 1},
      {"E " AANM "st=IN_BEHANDELING d=2026-03-17 io=2026-03-10 iv=2026-03-17", "", 1},
      {"E " AANM "st=IN_BEHANDELING d=2026-03-18 io=2026-03-12", "", 1}, /* ignored */
      {"E " AANM "st=IN_BEHANDELING d=2026-03-20 io=2026-03-20", "", 1},
      {"E " AANM "st=IN_BEHANDELING d=2026-03-27 io=2026-03-20 iv=2026-03-27", "", 1},
      {"T 2026-04-28", "", 1},
      {"T 2026-04-29", ZP ">SCHOOL:12OA00,SWV:PO2803", 1},
      {0}}},
    {"zorgplicht: a pause reported after the melding, begun before the due date, withdraws it",
     {{"E " AANM "st=INGEDIEND d=2026-03-02", "", 1},
      {"T 2026-04-14", ZP ">SCHOOL:12OA00,SWV:PO2803", 1},
      {"E " AANM "st=IN_BEHANDELING d=2026-04-15 io=2026-04-01", "~" ZP ">SCHOOL:12OA00,SWV:PO2803",
       1},
      {"T 2026-04-30", "", 1},
      /* 20 days: last day 3 May, a Sunday, runs to Monday 4 May; due the 5th */
      {"E " AANM "st=IN_BEHANDELING d=2026-04-21 io=2026-04-01 iv=2026-04-21", "", 1},
      {"T 2026-05-04", "", 1},
      {"T 2026-05-05", ZP ">SCHOOL:12OA00,SWV:PO2803", 1},
      {0}}},
    {"zorgplicht: a pause begun after the 6 weeks ran out moves only the 10 weeks",
     {{"E " AANM "st=INGEDIEND d=2026-03-02", "", 1},
      {"T 2026-04-14", ZP ">SCHOOL:12OA00,SWV:PO2803", 1},
      {"E " AANM "st=IN_BEHANDELING d=2026-04-20 io=2026-04-20", "", 1},
      {"T 2026-05-12", "", 1},
      {"E " AANM "st=IN_BEHANDELING d=2026-04-27 io=2026-04-20 iv=2026-04-27", "", 1},
      {"T 2026-05-18", "", 1}, /* 11 May + 7 = 18 May is the last day */
      {"T 2026-05-19", ZP ">SCHOOL:12OA00,SWV:PO2803,GEMEENTE:GM0502", 1},
      {0}}},
    {"zorgplicht: a received date without a request, a same-day answer, another school: no pause",
     {{"E " AANM "st=INGEDIEND d=2026-03-02", "", 1},
      {"E " AANM "st=IN_BEHANDELING d=2026-03-10 iv=2026-03-10", "", 1},
      {"E " AANM "st=IN_BEHANDELING d=2026-03-11 io=2026-03-11 iv=2026-03-11", "", 1},
      {"E A id=A1 bij=10AA00 os=PO ob=1 st=IN_BEHANDELING d=2026-03-12 io=2026-03-12", "", 1},
      {"T 2026-04-14", ZP ">SCHOOL:12OA00,SWV:PO2803", 1},
      {"E " AANM "st=GEPLAATST d=2026-04-20", "", 0},
      {"E " AANM "st=IN_BEHANDELING d=2026-04-21 io=2026-04-01", "", 0}, /* closed: nothing */
      {0}}},
    {"dreigende thuiszitter closed by any placement",
     {{"E A id=A1 bij=12OA00 os=PO st=AFGEWEZEN d=2026-03-02", "", 1},
      {"E A id=A9 bij=10AA00 os=PO st=GEPLAATST d=2026-03-20", "", 0},
      {"T 2026-04-30", "", 0},
      {0}}},
    {"dreigende thuiszitter late event",
     {{"E A id=A1 bij=12OA00 os=PO st=AFGEWEZEN d=2026-03-02", "", 1},
      {"T 2026-03-30", DT ">SWV:PO2803,GEMEENTE:GM0502", 1},
      {"E A id=A9 bij=10AA00 os=PO st=GEPLAATST d=2026-03-25", "~" DT ">SWV:PO2803,GEMEENTE:GM0502",
       0},
      {0}}},
    {"dreigende thuiszitter: compulsory age starts the month after the 5th birthday",
     {{"E A id=A1 bij=12OA00 os=PO st=AFGEWEZEN d=2026-03-31 geb=2021-03-15", "", 0},
      {"E A id=A2 bij=12OA00 os=PO st=AFGEWEZEN d=2026-04-01 geb=2021-03-15", "", 1},
      {0}}},
    {"dreigende thuiszitter: ends at the 23rd birthday; 18+ goes to the RMC contactgemeente",
     {{"E A id=A1 bij=13VA00 os=MBO st=AFGEWEZEN d=2026-08-01 geb=2003-08-01", "", 0},
      {"E A id=A2 bij=13VA00 os=MBO st=AFGEWEZEN d=2026-06-09 geb=2003-08-01", "", 1},
      {"T 2026-07-07", DT ">GEMEENTE:GM0599", 1},
      {"T 2026-07-31", "", 1},
      {"T 2026-08-01", "", 0}, /* dropped: 23 now */
      {0}}},
    {"thuiszitter zonder aanbod: the Alkmaar region's three months",
     {{"E A id=A1 bij=60MB00 os=PO st=AFGEWEZEN d=2026-03-02 woon=GM0361", "", 2},
      {"T 2026-03-30", DT ">SWV:PO2705,GEMEENTE:GM0361", 2},
      {"T 2026-06-01", "", 2},
      {"T 2026-06-02", ZA ">SWV:PO2705,GEMEENTE:GM0361", 2},
      {"E A id=A9 bij=60MB00 os=PO st=GEPLAATST d=2026-06-10 woon=GM0361", "", 0},
      {0}}},
    {"tlv: three months before the end, to the issuer and the current school",
     {{"E A id=A9 bij=10AA00 os=PO st=GEPLAATST d=2025-08-01", "", 0},
      {"E L id=T1 swv=PO2803 ts=SO as=12OA00 st=AFGEGEVEN d=2025-08-01 e=2027-07-31", "", 1},
      {"E A id=A8 bij=24RT00 os=SO st=GEPLAATST d=2025-09-01", "", 1},
      {"T 2027-04-29", "", 1},
      {"T 2027-04-30", TE ">SWV:PO2803,SCHOOL:24RT00", 1},
      {"E L id=T2 swv=PO2803 ts=SO as=24RT00 st=AFGEGEVEN d=2027-08-01 e=2029-07-31 h=2027-05-01",
       "", 1},
      {0}}},
    {"tlv: leap day; other soort does not close; withdrawal does",
     {{"E L id=T1 swv=PO2803 ts=SO as=12OA00 st=AFGEGEVEN d=2026-08-01 e=2028-05-31", "", 1},
      {"T 2028-02-28", "", 1},
      {"T 2028-02-29", TE ">SWV:PO2803,SCHOOL:12OA00", 1},
      {"E L id=T3 swv=PO2803 ts=SBO as=12OA00 st=AFGEGEVEN d=2028-06-01 e=2030-07-31", "", 2},
      {"E L id=T1 swv=PO2803 ts=SO st=INGETROKKEN d=2028-03-01", "", 1},
      {0}}},
    {"tlv: 31 May minus three months in a common year is 28 February",
     {{"E L id=T1 swv=PO2803 ts=SO as=12OA00 st=AFGEGEVEN d=2025-08-01 e=2027-05-31", "", 1},
      {"T 2027-02-27", "", 1},
      {"T 2027-02-28", TE ">SWV:PO2803,SCHOOL:12OA00", 1},
      {0}}},
    {"beschikking: eight weeks before the end; a follow-up covering the end closes",
     {{"E B id=B1 gem=GM0599 aanb=98000000 st=TOEGEKEND d=2026-01-01 e=2026-12-31", "", 1},
      {"T 2026-11-04", "", 1},
      {"T 2026-11-05", BE ">GEMEENTE:GM0599,AANBIEDER:98000000", 1},
      {"E B id=B2 gem=GM0599 aanb=98000000 st=TOEGEKEND d=2027-01-01 h=2026-11-01",
       "~" BE ">GEMEENTE:GM0599,AANBIEDER:98000000", 0},
      {0}}},
    {"beschikking: ended early closes; GEWIJZIGD with a new end re-opens",
     {{"E B id=B1 gem=GM0599 aanb=98000000 st=TOEGEKEND d=2026-01-01 e=2026-12-31", "", 1},
      {"E B id=B1 gem=GM0599 aanb=98000000 st=GEWIJZIGD d=2026-01-01 e=2027-06-30", "", 1},
      {"T 2026-11-05", "", 1},
      {"E B id=B1 gem=GM0599 aanb=98000000 st=BEEINDIGD d=2026-01-01 e=2026-12-01", "", 0},
      {0}}},
    {"beschikking: GEWIJZIGD or TOEGEKEND again with the same end keeps the termijn, fired once",
     {{"E B id=B1 gem=GM0599 aanb=98000000 st=TOEGEKEND d=2026-01-01 e=2026-12-31", "", 1},
      {"T 2026-11-05", BE ">GEMEENTE:GM0599,AANBIEDER:98000000", 1},
      {"E B id=B1 gem=GM0599 aanb=98000000 st=GEWIJZIGD d=2026-01-01 e=2026-12-31 h=2026-11-06", "",
       1},
      {"E B id=B1 gem=GM0599 aanb=98000000 st=TOEGEKEND d=2026-01-01 e=2026-12-31 h=2026-11-07", "",
       1},
      {"T 2026-12-30", "", 1},
      {"E B id=B1 gem=GM0599 aanb=98000000 st=GEWIJZIGD d=2026-01-01 e=2027-06-30 h=2026-12-30", "",
       1}, /* another end: replaced, its own due date */
      {"T 2027-05-05", BE ">GEMEENTE:GM0599,AANBIEDER:98000000", 1},
      {0}}},
    {"tlv: re-issued with the same end keeps the termijn, fired once",
     {{"E L id=T1 swv=PO2803 ts=SO as=12OA00 st=AFGEGEVEN d=2025-08-01 e=2027-05-31", "", 1},
      {"T 2027-02-28", TE ">SWV:PO2803,SCHOOL:12OA00", 1},
      {"E L id=T1 swv=PO2803 ts=SO as=12OA00 st=AFGEGEVEN d=2025-08-01 e=2027-05-31", "", 1},
      {"T 2027-03-01", "", 1},
      {0}}},
    {"herindeling: a dissolved gemeente code is sent to its successor at the due date",
     {{"E V id=V1 vt=HUISARTS nc=98000000 d=2026-03-02 woon=GM0416", "", 1},
      {"T 2026-03-10", VZ ">GEMEENTE:GM1980", 1},
      {"E A id=A1 bij=60MB00 os=PO st=AFGEWEZEN d=2026-03-02 woon=GM0416", "", 3},
      {"T 2026-03-30", DT ">SWV:PO2705,GEMEENTE:GM1980", 3},
      {"E B id=B1 gem=GM0416 aanb=98000000 st=TOEGEKEND d=2021-01-01 e=2021-12-31", "", 4},
      {"E B id=B2 gem=GM0416 aanb=98100000 st=TOEGEKEND d=2021-01-01 e=2022-03-31", "", 5},
      /* B1 was due on 2021-11-05, before the herindeling: the old code */
      {"T 2026-04-01",
       BE ">GEMEENTE:GM1980,AANBIEDER:98100000;" BE ">GEMEENTE:GM0416,AANBIEDER:98000000", 3},
      {0}}},
    {"woonplaats: the newest event by date that names one, opening a termijn or not",
     {{"E " AANM "st=INGEDIEND d=2026-03-02", "", 1},
      {"E B id=B1 gem=GM0599 aanb=98000000 st=TOEGEKEND d=2026-03-10 woon=GM0599", "", 1},
      {"E A id=A7 bij=12OA00 os=PO st=IN_BEHANDELING d=2026-03-05 woon=GM0502", "", 1}, /* older */
      {"T 2026-04-14", ZP ">SCHOOL:12OA00,SWV:PO2803", 1},
      {"T 2026-05-12", ZP ">SCHOOL:12OA00,SWV:PO2803,SWV:PO2801,GEMEENTE:GM0599", 1},
      {0}}},
    {"outage: a clock jump of a year fires every step that came due, then drops",
     {{"E " AANM "st=INGEDIEND d=2026-03-02", "", 1},
      {"E B id=B1 gem=GM0599 aanb=98000000 st=TOEGEKEND d=2026-01-01 e=2026-12-31", "", 2},
      {"E L id=T1 swv=PO2803 ts=SO as=12OA00 st=AFGEGEVEN d=2025-08-01 e=2026-05-31", "", 3},
      {"E A id=A2 bij=13VA00 os=MBO st=AFGEWEZEN d=2026-06-09 geb=2003-08-01", "", 4},
      {"T 2027-06-01",
       DT ">GEMEENTE:GM0599;" TE ">SWV:PO2803,SCHOOL:12OA00;" BE
          ">GEMEENTE:GM0599,AANBIEDER:98000000;" ZP ">SCHOOL:12OA00,SWV:PO2803;" ZP
          ">SCHOOL:12OA00,SWV:PO2803,GEMEENTE:GM0502",
       0},
      {0}}},
    {"outage: a step due only after the keep date (the 23rd birthday) never fires",
     {{"E A id=A2 bij=13VA00 os=MBO st=AFGEWEZEN d=2026-07-20 geb=2003-08-01", "", 1},
      {"T 2027-07-20", "", 0},
      {0}}},
    {"born on 29 February: leerplichtig from 1 April after the 5th birthday (1 March)",
     {{"E A id=A1 bij=12OA00 os=PO st=AFGEWEZEN d=2025-03-31 geb=2020-02-29", "", 0},
      {"E A id=A2 bij=12OA00 os=PO st=AFGEWEZEN d=2025-04-01 geb=2020-02-29", "", 1},
      {0}}},
    {"born on 29 February: the thuiszitter watch ends on 1 March, the 23rd birthday",
     {{"E A id=A1 bij=13VA00 os=MBO st=AFGEWEZEN d=2027-01-04 geb=2004-02-29", "", 1},
      {"T 2027-02-01", DT ">GEMEENTE:GM0599", 1},
      {"T 2027-02-28", "", 1},
      {"T 2027-03-01", "", 0},
      {0}}},
    {"verwijzing: five working days (Koningsdag skipped), then eight weeks",
     {{"E V id=V1 vt=HUISARTS nc=98000000 d=2026-04-22", "", 1},
      {"T 2026-04-30", "", 1},
      {"T 2026-05-01", VZ ">GEMEENTE:GM0502", 1},
      {"T 2026-06-17", "", 1},
      {"T 2026-06-18", VZ ">GEMEENTE:GM0502", 1},
      {"E B id=B1 gem=GM0502 aanb=98000000 vid=V1 st=TOEGEKEND d=2026-07-01 e=2026-12-31", "", 1},
      {0}}},
    {"verwijzing: the stated verantwoordelijke gemeente; no term for a school's referral",
     {{"E V id=V1 vt=JEUGDARTS nc=98000000 vg=GM0599 d=2026-03-02", "", 1},
      {"E V id=V2 vt=SCHOOL nc=98000000 d=2026-03-02", "", 1},
      {"E V id=V3 vt=HUISARTS nt=SWV nc=PO2803 dom=SPECIAAL_ONDERWIJS d=2026-03-02", "", 1},
      {"T 2026-03-10", VZ ">GEMEENTE:GM0599", 1},
      {"E B id=B1 gem=GM0599 aanb=98000000 vid=V1 st=AFGEWEZEN d=2026-03-05",
       "~" VZ ">GEMEENTE:GM0599", 0},
      {0}}},
};

START_TEST(script_runs) { run_script(&scripts[_i]); }
END_TEST

/* ---- Calendar ------------------------------------------------------------ */

START_TEST(working_days_skip_weekends_and_feestdagen) {
    ck_assert(!kh_kalender_werkdag(kal, day("2026-04-27"))); /* Koningsdag, Monday */
    ck_assert(!kh_kalender_werkdag(kal, day("2026-04-03"))); /* Goede Vrijdag */
    ck_assert(!kh_kalender_werkdag(kal, day("2026-04-25"))); /* Saturday */
    ck_assert(kh_kalender_werkdag(kal, day("2026-04-28")));
    ck_assert_int_eq(kh_kalender_werkdagen_na(kal, day("2026-12-23"), 3), day("2026-12-29"));
    ck_assert_int_eq(kh_kalender_werkdagen_na(kal, day("2025-04-25"), 1), day("2025-04-28"));
    /* Koningsdag on a Sunday moves to Saturday 26 April (2025: Sunday 27th) */
    ck_assert(kh_kalender_feestdag(kal, day("2025-04-26")));
    ck_assert(kh_kalender_covers(kal, day("2035-06-01")));
    ck_assert(!kh_kalender_covers(kal, day("2036-06-01")));
}
END_TEST

START_TEST(amsterdam_date_across_dst) {
    int64_t ms;
    struct {
        const char *ts, *date;
    } c[] = {
        {"2027-03-27T22:59:59Z", "2027-03-27"}, {"2027-03-27T23:00:00Z", "2027-03-28"},
        {"2027-03-28T21:59:59Z", "2027-03-28"}, {"2027-03-28T22:00:00Z", "2027-03-29"},
        {"2027-10-30T21:59:59Z", "2027-10-30"}, {"2027-10-30T22:00:00Z", "2027-10-31"},
        {"2027-10-31T22:59:59Z", "2027-10-31"}, {"2027-10-31T23:00:00Z", "2027-11-01"},
        {"2028-02-28T23:30:00Z", "2028-02-29"},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        ck_assert_int_eq(kh_ts_parse(c[i].ts, &ms), 0);
        ck_assert_msg(kh_kalender_amsterdam_date(ms) == day(c[i].date), "%s", c[i].ts);
    }
}
END_TEST

/* A beschikking whose due date is the DST change day fires at local
 * midnight, 23:00 UTC the evening before. */
START_TEST(due_on_dst_day_fires_at_local_midnight) {
    termijn_dossier d = {0};
    static termijn_uit out;
    termijn_event ev;
    int64_t ms;
    event_from("B id=B1 gem=GM0599 aanb=98000000 st=TOEGEKEND d=2027-01-01 e=2027-05-23", &ev);
    memset(&out, 0, sizeof out);
    ck_assert_int_eq(termijn_apply(&d, &ev, &ctx, &out), 0); /* due 2027-03-28 */
    kh_ts_parse("2027-03-27T22:59:00Z", &ms);
    ck_assert_int_eq(termijn_tick(&d, kh_kalender_amsterdam_date(ms), &ctx, &out), 0);
    ck_assert_int_eq(out.n, 0);
    kh_ts_parse("2027-03-27T23:00:00Z", &ms);
    ck_assert_int_eq(termijn_tick(&d, kh_kalender_amsterdam_date(ms), &ctx, &out), 0);
    ck_assert_int_eq(out.n, 2);
    termijn_dossier_free(&d);
}
END_TEST

START_TEST(months_clamp_to_month_end) {
    ck_assert_int_eq(kh_kalender_plus_maanden(day("2028-05-31"), -3), day("2028-02-29"));
    ck_assert_int_eq(kh_kalender_plus_maanden(day("2027-05-31"), -3), day("2027-02-28"));
    ck_assert_int_eq(kh_kalender_plus_maanden(day("2026-11-30"), 3), day("2027-02-28"));
    ck_assert_int_eq(kh_kalender_plus_maanden(day("2026-03-02"), 3), day("2026-06-02"));
    ck_assert_int_eq(kh_kalender_plus_maanden(day("2004-02-29"), 23 * 12), day("2027-02-28"));
}
END_TEST

START_TEST(leeftijd_bounds_with_a_leap_day_birthday) {
    int32_t geb = day("2004-02-29");
    ck_assert(termijn_leeftijd_in_bereik(geb, day("2027-02-28")));
    ck_assert(!termijn_leeftijd_in_bereik(geb, day("2027-03-01")));
    /* 5 on 1 March 2009 (kh_age_years agrees), so from 1 April */
    ck_assert_int_eq(kh_age_years(geb, day("2009-02-28")), 4);
    ck_assert_int_eq(kh_age_years(geb, day("2009-03-01")), 5);
    ck_assert(!termijn_leeftijd_in_bereik(geb, day("2009-03-31")));
    ck_assert(termijn_leeftijd_in_bereik(geb, day("2009-04-01")));
    ck_assert(termijn_leeftijd_in_bereik(day("2020-12-05"), day("2026-01-01")));
    ck_assert(!termijn_leeftijd_in_bereik(day("2020-12-05"), day("2025-12-31")));
}
END_TEST

/* ---- Pause, ids, texts ----------------------------------------------------- */

START_TEST(zorgplicht_pause_shifts_the_due_dates) {
    termijn_dossier d = {0};
    static termijn_uit out;
    termijn_event ev;
    event_from(AANM "st=INGEDIEND d=2026-03-02", &ev);
    memset(&out, 0, sizeof out);
    ck_assert_int_eq(termijn_apply(&d, &ev, &ctx, &out), 0);
    ck_assert_int_eq(termijn_pauzeer(&d, "A1", day("2026-03-10")), 0);
    ck_assert_int_eq(termijn_pauzeer(&d, "A1", day("2026-03-11")), -1);
    ck_assert_int_eq(termijn_tick(&d, day("2026-04-20"), &ctx, &out), 0);
    ck_assert_int_eq(out.n, 0); /* paused: nothing fires */
    ck_assert_int_eq(termijn_hervat(&d, "A1", day("2026-03-09"), &ctx), -1); /* before it */
    ck_assert_int_eq(termijn_hervat(&d, "A1", day("2026-03-24"), &ctx), 0);  /* 14 days */
    ck_assert_int_eq(termijn_hervat(&d, "A1", day("2026-03-25"), &ctx), -1); /* not paused */
    /* 13 April + 14 = 27 April, Koningsdag: the term runs to the 28th, so
     * the melding is due on the 29th (not 14 + 14 days after the old due) */
    ck_assert_int_eq(termijn_volgende(&d), day("2026-04-29"));
    ck_assert_int_eq(termijn_tick(&d, day("2026-04-28"), &ctx, &out), 0);
    ck_assert_int_eq(out.n, 0);
    ck_assert_int_eq(termijn_tick(&d, day("2026-04-29"), &ctx, &out), 0);
    ck_assert_int_eq(out.n, 2);
    ck_assert_msg(strstr(out.m[0].toelichting, "De termijn was 14 dagen opgeschort"), "%s",
                  out.m[0].toelichting);
    ck_assert_int_eq(termijn_hervat(&d, "nope", day("2026-04-28"), &ctx), -1);
    ck_assert_int_eq(termijn_pauzeer(&d, "nope", day("2026-04-28")), -1);
    termijn_dossier_free(&d);
}
END_TEST

static void fire_once(termijn_uit *out) {
    termijn_dossier d = {0};
    termijn_event ev;
    event_from(AANM "st=INGEDIEND d=2026-03-02", &ev);
    memset(out, 0, sizeof *out);
    ck_assert_int_eq(termijn_apply(&d, &ev, &ctx, out), 0);
    ck_assert_int_eq(termijn_tick(&d, day("2026-05-12"), &ctx, out), 0);
    termijn_dossier_free(&d);
}

START_TEST(ids_are_deterministic_and_distinct) {
    static termijn_uit a, b;
    fire_once(&a);
    fire_once(&b);
    ck_assert_int_eq(a.n, 5); /* both steps at once after a long outage: 2 + 3 */
    for (size_t i = 0; i < a.n; i++) {
        ck_assert_str_eq(a.m[i].melding_id, b.m[i].melding_id);
        ck_assert_int_eq(a.m[i].aangemaakt_op, b.m[i].aangemaakt_op);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(a.m[i].melding_id, a.m[j].melding_id);
    }
}
END_TEST

START_TEST(texts_say_what_since_when_and_who) {
    static termijn_uit a;
    fire_once(&a);
    const char *t = a.m[0].toelichting;
    ck_assert_msg(strstr(t, "2 maart 2026") && strstr(t, "13 april 2026") && strstr(t, "Actie:") &&
                      strstr(t, "CBS De Wegwijzer (12OA00)"),
                  "%s", t);
    ck_assert_msg(strstr(a.m[2].toelichting, "voorlopig ingeschreven"), "%s", a.m[2].toelichting);
    for (size_t i = 0; i < a.n; i++)
        ck_assert_msg(!strstr(a.m[i].toelichting, "999990251"), "BSN in a text");
}
END_TEST

/* A melding to a dissolved gemeente's successor names the old code. */
START_TEST(herindeling_names_the_old_code) {
    termijn_dossier d = {0};
    static termijn_uit out;
    termijn_event ev;
    event_from("V id=V1 vt=HUISARTS nc=98000000 d=2026-03-02 woon=GM0416", &ev);
    memset(&out, 0, sizeof out);
    ck_assert_int_eq(termijn_apply(&d, &ev, &ctx, &out), 0);
    ck_assert_int_eq(termijn_tick(&d, day("2026-03-10"), &ctx, &out), 0);
    ck_assert_int_eq(out.n, 1);
    const termijn_betrokkene *b = &out.m[0].betrokkenen[0];
    ck_assert_str_eq(b->code, "GM1980");
    ck_assert_str_eq(b->naam, "Dijk en Waard");
    ck_assert_str_eq(b->opvolger_van, "GM0416");
    ck_assert_str_eq(out.m[0].betrokkenen[1].opvolger_van, ""); /* the aanbieder */
    termijn_dossier_free(&d);
}
END_TEST

/* The melding as natural JSON, written here from melding.avsc's field
 * names (kh_melding fills the Avro value directly): the test's own view of
 * what termijn_melding_encode must give. */
static json_t *datum_json(int32_t d) {
    char buf[KH_DATE_LEN];
    return json_string(kh_date_format(d, buf));
}

static json_t *expected_melding(const termijn_melding *m, const char *const topics[]) {
    static const char *const kinds[TERMIJN_EV_KINDS] = {"AANMELDING", "TLV", "BESCHIKKING",
                                                        "VERWIJZING"};
    char ts[KH_TS_LEN];
    json_t *b = json_array();
    for (size_t i = 0; i < m->nbetrokkenen; i++) {
        const termijn_betrokkene *x = &m->betrokkenen[i];
        json_array_append_new(b, json_pack("{s:s,s:s,s:s,s:s,s:s*}", "rol", x->rol, "type", x->type,
                                           "code", x->code, "naam", x->naam, "opvolger_van",
                                           x->opvolger_van[0] ? x->opvolger_van : NULL));
    }
    json_t *t = json_pack("{s:s,s:o,s:o,s:i,s:s*}", "zaak", m->zaak, "geopend_op",
                          datum_json(m->geopend), "vervaldatum", datum_json(m->vervaldatum), "stap",
                          m->stap, "achterhaalt", m->achterhaalt[0] ? m->achterhaalt : NULL);
    const termijn_oorzaak *o = &m->oorzaak;
    return json_pack(
        "{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s,s:i,s:I},s:o,s:o,s:{s:s,s:o},s:s,s:s,s:o}",
        "melding_id", m->melding_id, "regel", termijn_regel_naam(m->regel), "ontvanger", "type",
        m->ontvanger_type, "code", m->ontvanger_code, "oorzaak", "event_type", kinds[o->kind],
        "event_id", o->event_id, "topic", topics[o->kind], "partition", (int)o->partition, "offset",
        (json_int_t)o->offset, "betrokkenen", b, "peildatum", datum_json(m->peildatum), "jeugdige",
        "bsn", m->bsn, "geboortedatum", datum_json(m->geboortedatum), "toelichting", m->toelichting,
        "aangemaakt_op", kh_ts_format(m->aangemaakt_op, ts), "termijn", t);
}

/* Decodes wire and compares it with the oracle; the decoded JSON must also
 * pass the schema's own checks (lengths, formats) on the way back in. */
static void assert_melding(const kh_schemas *schemas, const char *wire, size_t len,
                           const termijn_melding *m, const char *const topics[], const char *name) {
    const kh_schema *which;
    avro_value_t v;
    char err[512];
    ck_assert_int_eq(kh_codec_decode(schemas, wire, len, &which, &v, err, sizeof err),
                     KH_DECODE_OK);
    json_t *got = kh_codec_to_json(which, &v, err, sizeof err), *want = expected_melding(m, topics);
    ck_assert_msg(got != NULL, "%s", err);
    char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
    ck_assert_msg(json_equal(got, want), "%s:\n got %s\nwant %s", name, g, w);
    avro_value_t back;
    kh_problems p;
    kh_problems_init(&p);
    ck_assert_int_eq(kh_schema_new_value(which, &back), 0);
    ck_assert_msg(kh_codec_from_json(which, got, &back, &p) == 0, "%s: %s", name,
                  kh_problems_format(&p, err, sizeof err));
    avro_value_decref(&back);
    free(g);
    free(w);
    json_decref(got);
    json_decref(want);
    avro_value_decref(&v);
}

/* Every script's dossier survives the changelog layout, and every melding
 * it gives encodes to exactly its fields and fits melding.avsc. */
START_TEST(state_round_trips_and_meldingen_encode) {
    kh_schemas *schemas;
    char err[512];
    const char *topics[TERMIJN_EV_KINDS] = {"a", "t", "b", "v"};
    ck_assert_msg(kh_schemas_open(&schemas, err, sizeof err) == 0, "%s", err);
    kh_melding_encoder enc;
    ck_assert_msg(kh_melding_encoder_init(&enc, schemas, err, sizeof err) == 0, "%s", err);
    size_t meldingen = 0;
    for (size_t i = 0; i < sizeof scripts / sizeof *scripts; i++) {
        termijn_dossier d = {0};
        static termijn_uit out;
        for (const step *st = scripts[i].steps; st->what; st++) {
            memset(&out, 0, sizeof out);
            if (st->what[0] == 'E') {
                termijn_event ev;
                event_from(st->what + 2, &ev);
                termijn_apply(&d, &ev, &ctx, &out);
            } else {
                termijn_tick(&d, day(st->what + 2), &ctx, &out);
            }
            for (size_t m = 0; m < out.n; m++) {
                char *wire;
                size_t len;
                ck_assert_msg(termijn_melding_encode(&enc, &out.m[m], topics, &wire, &len, err,
                                                     sizeof err) == 0,
                              "%s: %s", scripts[i].name, err);
                assert_melding(schemas, wire, len, &out.m[m], topics, scripts[i].name);
                free(wire);
                meldingen++;
            }
            size_t len;
            char *v = termijn_state_encode(&d, &len);
            termijn_dossier back = {0};
            ck_assert_msg(termijn_state_decode(v, len, &back, err, sizeof err) == 0, "%s", err);
            size_t len2;
            char *v2 = termijn_state_encode(&back, &len2);
            ck_assert_str_eq(v, v2);
            free(v);
            free(v2);
            termijn_dossier_free(&back);
        }
        termijn_dossier_free(&d);
    }
    termijn_dossier bad = {0};
    ck_assert_int_eq(termijn_state_decode("{\"v\":2}", 7, &bad, err, sizeof err), -1);
    ck_assert_uint_gt(meldingen, 20); /* the scripts give meldingen of every kind */
    kh_melding_encoder_free(&enc);
    kh_schemas_free(schemas);
}
END_TEST

int main(void) {
    Suite *s = suite_create("termijn_core");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, script_runs, 0, (int)(sizeof scripts / sizeof *scripts));
    tcase_add_test(tc, working_days_skip_weekends_and_feestdagen);
    tcase_add_test(tc, amsterdam_date_across_dst);
    tcase_add_test(tc, due_on_dst_day_fires_at_local_midnight);
    tcase_add_test(tc, months_clamp_to_month_end);
    tcase_add_test(tc, leeftijd_bounds_with_a_leap_day_birthday);
    tcase_add_test(tc, zorgplicht_pause_shifts_the_due_dates);
    tcase_add_test(tc, ids_are_deterministic_and_distinct);
    tcase_add_test(tc, texts_say_what_since_when_and_who);
    tcase_add_test(tc, herindeling_names_the_old_code);
    tcase_add_test(tc, state_round_trips_and_meldingen_encode);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
