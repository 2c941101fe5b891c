/*
 * kh_validate — domain rules per event type. The shared rules (envelope,
 * jeugdige) run for every event; each event type adds its own checker.
 */
#include "kh_validate.h"

#include "kh_bsn.h"
#include "kh_code.h"
#include "kh_kalender.h"
#include "kh_time.h"

#include <stdio.h>
#include <string.h>

/* Everything a checker needs about the event in hand. */
typedef struct check {
    const json_t *ev;
    const kh_ref *ref;
    int32_t date; /* the event's own date: reference data is read here */
    int64_t now_ms;
    kh_problems *p;
} check;

static const char *str_at(const json_t *obj, const char *a, const char *b) {
    const json_t *v = json_object_get(obj, a);
    return json_string_value(b ? json_object_get(v, b) : v);
}

static int date_at(const json_t *obj, const char *key, int32_t *days) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s && kh_date_parse(s, days) == 0;
}

/* ---- Codes -------------------------------------------------------------- */

/* Is `code` of organisation `type` known at the event date? Gemeenten may be
 * named by a code a herindeling dissolved, when `allow_merged`. */
static int org_known(const check *c, const char *type, const char *code, int allow_merged) {
    const char *merged_from;
    if (strcmp(type, "GEMEENTE") == 0)
        return allow_merged ? kh_ref_gemeente_resolve(c->ref, code, c->date, &merged_from) != NULL
                            : kh_ref_gemeente_at(c->ref, code, c->date) != NULL;
    if (strcmp(type, "SWV") == 0)
        return kh_ref_swv_at(c->ref, code, c->date) != NULL;
    if (strcmp(type, "SCHOOL") == 0)
        return kh_ref_school_at(c->ref, code, c->date) != NULL;
    if (strcmp(type, "AANBIEDER") == 0)
        return kh_ref_aanbieder_at(c->ref, code, c->date) != NULL;
    return 0;
}

/* Checks one code: its format for the type, then the reference data. */
static int check_code(check *c, const char *pointer, const char *type, const char *code,
                      int allow_merged) {
    char day[KH_DATE_LEN];
    if (!code || !type)
        return -1; /* the codec has reported the missing field */
    if (!kh_code_for_type(type, code)) {
        kh_problems_add(c->p, pointer, KH_R_FORMAT, "malformed %s code: expected %s",
                        strcmp(type, "AANBIEDER") == 0 ? "AGB" : type, kh_code_format_hint(type));
        return -1;
    }
    if (!org_known(c, type, code, allow_merged)) {
        kh_problems_add(c->p, pointer, KH_R_UNKNOWN_CODE, "%s %s is not known on %s", type, code,
                        kh_date_format(c->date, day));
        return -1;
    }
    return 0;
}

/* The bron is the partner itself: it must exist, under its own code, today. */
static void check_bron(check *c, const kh_event_type *t) {
    const json_t *bron = json_object_get(json_object_get(c->ev, "envelope"), "bron");
    const char *type = str_at(bron, "type", NULL);
    if (type && !(kh_org_bit(type) & t->issuers))
        kh_problems_add(c->p, "/envelope/bron/type", KH_R_INCONSISTENT,
                        "%s is not issued by organisation type %s", t->name, type);
    check_code(c, "/envelope/bron/code", type, str_at(bron, "code", NULL), 0);
}

/* The issuing organisation named in the content must be the bron. */
static void check_same_as_bron(check *c, const char *pointer, const char *code) {
    const json_t *envelope = json_object_get(c->ev, "envelope");
    const char *bron = str_at(json_object_get(envelope, "bron"), "code", NULL);
    if (code && bron && strcmp(code, bron) != 0)
        kh_problems_add(c->p, pointer, KH_R_INCONSISTENT,
                        "must be the issuing organisation (envelope.bron.code)");
}

/* ---- Shared rules ----------------------------------------------------- */

static void check_occurred_at(check *c) {
    int64_t ms;
    const char *ts = str_at(c->ev, "envelope", "occurred_at");
    if (ts && kh_ts_parse(ts, &ms) == 0 && ms > c->now_ms + KH_CLOCK_SKEW_MS)
        kh_problems_add(c->p, "/envelope/occurred_at", KH_R_FUTURE,
                        "lies in the future (more than 5 minutes ahead of the hub's clock)");
}

static void check_jeugdige(check *c) {
    const json_t *j = json_object_get(c->ev, "jeugdige");
    const char *bsn = str_at(j, "bsn", NULL);
    if (bsn && strlen(bsn) == 9 && strspn(bsn, "0123456789") == 9) {
        if (!kh_bsn_valid(bsn))
            kh_problems_add(c->p, "/jeugdige/bsn", KH_R_ELFPROEF, "BSN fails the elfproef");
    } else if (bsn) {
        kh_problems_add(c->p, "/jeugdige/bsn", KH_R_FORMAT, "a BSN is exactly 9 digits");
    }
    int32_t birth;
    if (date_at(j, "geboortedatum", &birth)) {
        int32_t today = kh_ts_to_date(c->now_ms);
        int age = kh_age_years(birth, c->date);
        if (birth > today)
            kh_problems_add(c->p, "/jeugdige/geboortedatum", KH_R_FUTURE, "lies in the future");
        else if (birth > c->date)
            kh_problems_add(c->p, "/jeugdige/geboortedatum", KH_R_AGE,
                            "lies after the event date: the child was not born yet");
        else if (age > 23)
            kh_problems_add(c->p, "/jeugdige/geboortedatum", KH_R_AGE,
                            "the child must be 0 to 23 years old at the event date (is %d)", age);
    }
    check_code(c, "/jeugdige/woonplaatsgemeente", "GEMEENTE", str_at(j, "woonplaatsgemeente", NULL),
               1);
}

static void check_period(check *c) {
    int32_t from, to;
    if (date_at(c->ev, "ingangsdatum", &from) && date_at(c->ev, "einddatum", &to) && to < from)
        kh_problems_add(c->p, "/einddatum", KH_R_DATE_ORDER, "lies before ingangsdatum");
}

/* ---- Per event type ---------------------------------------------------- */

/* The gemeente a (possibly dissolved) code stands for at the event date. */
static const char *resolved_gemeente(const check *c, const char *code) {
    const char *merged_from;
    const kh_ref_gemeente *g = code ? kh_ref_gemeente_resolve(c->ref, code, c->date, &merged_from)
                                    : NULL;
    return g ? g->code : NULL;
}

/* Where the child is registered must be where the registering school or
 * provider is: its location's gemeente, and for a school what it teaches. */
static void check_aanmelding_place(check *c, int onderwijs, const char *bij_code) {
    const char *vg = str_at(c->ev, "vestigingsgemeente", NULL);
    const char *soort = str_at(c->ev, "onderwijssoort", NULL);
    const char *actual;
    if (onderwijs) {
        const kh_ref_school *school = kh_ref_school_at(c->ref, bij_code, c->date);
        actual = school->gemeente;
        if (soort && !kh_code_in_list(school->soorten, soort))
            kh_problems_add(c->p, "/onderwijssoort", KH_R_INCONSISTENT,
                            "school %s does not offer %s (it offers %s)", bij_code, soort,
                            school->soorten);
    } else {
        actual = kh_ref_aanbieder_at(c->ref, bij_code, c->date)->vestigingsgemeente;
    }
    /* Compare what both codes stand for at the date, so a dissolved code
     * still matches the school in its successor. */
    const char *named = resolved_gemeente(c, vg), *real = resolved_gemeente(c, actual);
    if (named && strcmp(real ? real : actual, named) != 0)
        kh_problems_add(c->p, "/vestigingsgemeente", KH_R_INCONSISTENT, "%s lies in %s, not in %s",
                        bij_code, actual, vg);
}

static int present(const check *c, const char *key) {
    const json_t *v = json_object_get(c->ev, key);
    return v && !json_is_null(v);
}

/* The zorgplicht pause (informatie_opgevraagd_op, informatie_ontvangen_op):
 * only while a school handles an aanmelding; received after it was asked;
 * both by today in Europe/Amsterdam (the schools' date). The aanmelding's
 * own date is on the event only when it is INGEDIEND (later statuses carry
 * the date of the status change), so only then is "not before datum"
 * checked here; termijn starts a pause no earlier than the term. */
static void check_informatie_dates(check *c, const char *status, int32_t today) {
    static const char *const keys[] = {"informatie_opgevraagd_op", "informatie_ontvangen_op"};
    char pointer[40];
    for (int i = 0; i < 2; i++) {
        int32_t d;
        snprintf(pointer, sizeof pointer, "/%s", keys[i]);
        if (!date_at(c->ev, keys[i], &d))
            continue;
        if (d > today)
            kh_problems_add(c->p, pointer, KH_R_FUTURE, "lies in the future");
        else if (strcmp(status, "INGEDIEND") == 0 && d < c->date)
            kh_problems_add(c->p, pointer, KH_R_DATE_ORDER,
                            "lies before datum, the day the aanmelding was received");
    }
    int32_t asked, received;
    if (date_at(c->ev, keys[0], &asked) && date_at(c->ev, keys[1], &received) && received < asked)
        kh_problems_add(c->p, "/informatie_ontvangen_op", KH_R_DATE_ORDER,
                        "lies before informatie_opgevraagd_op");
}

static void check_informatie(check *c) {
    const char *status = str_at(c->ev, "status", NULL);
    const char *soort = str_at(c->ev, "soort", NULL);
    int asked = present(c, "informatie_opgevraagd_op");
    int received = present(c, "informatie_ontvangen_op");
    if (!status || !soort || (!asked && !received))
        return;
    const char *key = asked ? "/informatie_opgevraagd_op" : "/informatie_ontvangen_op";
    if (strcmp(soort, "ONDERWIJS") != 0) {
        kh_problems_add(c->p, key, KH_R_INCONSISTENT,
                        "only for an aanmelding ONDERWIJS (the zorgplicht term of a school)");
        return;
    }
    if (strcmp(status, "INGEDIEND") != 0 && strcmp(status, "IN_BEHANDELING") != 0) {
        kh_problems_add(c->p, key, KH_R_INCONSISTENT,
                        "only while the aanmelding is INGEDIEND or IN_BEHANDELING; a %s "
                        "aanmelding has no term left to suspend",
                        status);
        return;
    }
    if (received && !asked)
        kh_problems_add(c->p, "/informatie_opgevraagd_op", KH_R_REQUIRED,
                        "required when informatie_ontvangen_op is given");
    check_informatie_dates(c, status, kh_kalender_amsterdam_date(c->now_ms));
}

static void check_aanmelding(check *c) {
    const char *soort = str_at(c->ev, "soort", NULL);
    const char *bij_type = str_at(c->ev, "bij", "type");
    const char *bij_code = str_at(c->ev, "bij", "code");
    const char *bron_type = str_at(json_object_get(json_object_get(c->ev, "envelope"), "bron"),
                                   "type", NULL);
    int onderwijs = soort && strcmp(soort, "ONDERWIJS") == 0;
    const char *want = onderwijs ? "SCHOOL" : "AANBIEDER";
    const json_t *os = json_object_get(c->ev, "onderwijssoort");
    int has_soort = os && !json_is_null(os);
    if (bij_type && strcmp(bij_type, want) != 0)
        kh_problems_add(c->p, "/bij/type", KH_R_INCONSISTENT,
                        "aanmelding %s must be at organisation type %s", soort, want);
    else if (bron_type && bij_type && strcmp(bron_type, bij_type) != 0)
        kh_problems_add(c->p, "/bij/type", KH_R_INCONSISTENT,
                        "must be the issuing organisation (envelope.bron)");
    else if (check_code(c, "/bij/code", bij_type, bij_code, 0) == 0)
        check_aanmelding_place(c, onderwijs, bij_code);
    check_same_as_bron(c, "/bij/code", bij_code);
    if (onderwijs && !has_soort)
        kh_problems_add(c->p, "/onderwijssoort", KH_R_REQUIRED,
                        "required for an aanmelding ONDERWIJS");
    if (!onderwijs && has_soort)
        kh_problems_add(c->p, "/onderwijssoort", KH_R_INCONSISTENT,
                        "only for an aanmelding ONDERWIJS");
    check_code(c, "/vestigingsgemeente", "GEMEENTE", str_at(c->ev, "vestigingsgemeente", NULL), 1);
    check_informatie(c);
}

static void check_tlv(check *c) {
    const char *swv = str_at(c->ev, "swv", NULL);
    const char *soort = str_at(c->ev, "soort", NULL);
    if (check_code(c, "/swv", "SWV", swv, 0) == 0 && soort) {
        const char *sector = strcmp(soort, "VSO") == 0 || strcmp(soort, "PRO") == 0 ? "VO" : "PO";
        if (strncmp(swv, sector, 2) != 0)
            kh_problems_add(c->p, "/swv", KH_R_INCONSISTENT,
                            "a TLV %s must be issued by an SWV %s; %s is an SWV %.2s", soort,
                            sector, swv, swv);
    }
    check_same_as_bron(c, "/swv", swv);
    const json_t *cat = json_object_get(c->ev, "bekostigingscategorie");
    int has_cat = cat && !json_is_null(cat);
    int funded = soort && (strcmp(soort, "SO") == 0 || strcmp(soort, "VSO") == 0);
    if (soort && !funded && has_cat)
        kh_problems_add(c->p, "/bekostigingscategorie", KH_R_INCONSISTENT, "not used for %s",
                        soort);
    if (soort && funded && !has_cat)
        kh_problems_add(c->p, "/bekostigingscategorie", KH_R_REQUIRED, "required for SO and VSO");
    check_code(c, "/aanvragende_school", "SCHOOL", str_at(c->ev, "aanvragende_school", NULL), 0);
    check_period(c);
}

/* The optional verantwoordelijke_gemeente of a beschikking or verwijzing
 * names a gemeente known at the event date (a code a herindeling dissolved
 * is followed to its successor, as for the woonplaatsgemeente). */
static void check_verantwoordelijke(check *c) {
    const json_t *v = json_object_get(c->ev, "verantwoordelijke_gemeente");
    if (!v || json_is_null(v))
        return;
    check_code(c, "/verantwoordelijke_gemeente/gemeente", "GEMEENTE", str_at(v, "gemeente", NULL),
               1);
}

static int all_of(const char *s, size_t len, const char *set) {
    return s && strlen(s) == len && strspn(s, set) == len;
}

static void check_beschikking(check *c) {
    const char *gemeente = str_at(c->ev, "gemeente", NULL);
    check_code(c, "/gemeente", "GEMEENTE", gemeente, 0);
    check_same_as_bron(c, "/gemeente", gemeente);
    check_code(c, "/aanbieder", "AANBIEDER", str_at(c->ev, "aanbieder", NULL), 0);
    const char *cat = str_at(c->ev, "product", "categorie");
    const char *code = str_at(c->ev, "product", "code");
    if (cat && !all_of(cat, 2, "0123456789"))
        kh_problems_add(c->p, "/product/categorie", KH_R_FORMAT,
                        "an iJw productcategorie is 2 digits");
    if (code && !all_of(code, 5, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        kh_problems_add(c->p, "/product/code", KH_R_FORMAT,
                        "an iJw productcode is 5 digits or capital letters");
    const json_t *volume = json_object_get(json_object_get(c->ev, "omvang"), "volume");
    if (json_is_integer(volume) && json_integer_value(volume) < 1)
        kh_problems_add(c->p, "/omvang/volume", KH_R_RANGE, "must be at least 1");
    const char *school = str_at(c->ev, "school", NULL);
    int in_school = json_is_true(json_object_get(c->ev, "zorg_in_onderwijstijd"));
    if (in_school && !school)
        kh_problems_add(c->p, "/school", KH_R_REQUIRED,
                        "required when zorg_in_onderwijstijd is true");
    else if (!in_school && school)
        kh_problems_add(c->p, "/school", KH_R_INCONSISTENT,
                        "only given when zorg_in_onderwijstijd is true");
    else if (school)
        check_code(c, "/school", "SCHOOL", school, 0);
    check_verantwoordelijke(c);
    check_period(c);
}

/* A gemeente, school or SWV refers as itself, so it is the bron; medical
 * verwijzers and GI's refer through a gemeente and are named by AGB code
 * (they are no aanbieders of ours, so only the format is checked). */
static void check_verwijzer(check *c) {
    const char *type = str_at(c->ev, "verwijzer", "type");
    const char *code = str_at(c->ev, "verwijzer", "code");
    const char *bron_type = str_at(json_object_get(json_object_get(c->ev, "envelope"), "bron"),
                                   "type", NULL);
    if (!type || !code || !bron_type)
        return;
    if (strcmp(type, "GEMEENTE") == 0 || strcmp(type, "SCHOOL") == 0 || strcmp(type, "SWV") == 0) {
        if (strcmp(type, bron_type) != 0)
            kh_problems_add(c->p, "/verwijzer/type", KH_R_INCONSISTENT,
                            "must be the issuing organisation (envelope.bron)");
        else if (check_code(c, "/verwijzer/code", type, code, 0) == 0)
            check_same_as_bron(c, "/verwijzer/code", code);
        return;
    }
    if (strcmp(bron_type, "GEMEENTE") != 0)
        kh_problems_add(c->p, "/verwijzer/type", KH_R_INCONSISTENT,
                        "verwijzer %s refers through a gemeente (envelope.bron of type GEMEENTE)",
                        type);
    if (!kh_code_agb(code))
        kh_problems_add(c->p, "/verwijzer/code", KH_R_FORMAT,
                        "verwijzer %s is named by an 8-digit AGB code", type);
}

static void check_verwijzing(check *c) {
    check_verwijzer(c);
    check_verantwoordelijke(c);
    const char *naar_type = str_at(c->ev, "naar", "type");
    const char *domein = str_at(c->ev, "domein", NULL);
    if (!naar_type || !domein)
        return;
    const char *want = strcmp(domein, "JEUGDHULP") == 0 ? "AANBIEDER" : "SWV";
    if (strcmp(naar_type, want) != 0)
        kh_problems_add(c->p, "/naar/type", KH_R_INCONSISTENT,
                        "verwijzing %s goes to organisation type %s", domein, want);
    else
        check_code(c, "/naar/code", naar_type, str_at(c->ev, "naar", "code"), 0);
}

static const struct {
    const char *name;
    void (*rules)(check *c);
} event_rules[] = {
    {"aanmelding", check_aanmelding},
    {"tlv", check_tlv},
    {"beschikking", check_beschikking},
    {"verwijzing", check_verwijzing},
};

int kh_validate_event(const kh_event_type *t, const json_t *ev, const kh_ref *ref, int64_t now_ms,
                      kh_problems *p) {
    size_t before = p->count + p->dropped;
    check c = {.ev = ev, .ref = ref, .date = kh_event_date(t, ev), .now_ms = now_ms, .p = p};
    check_bron(&c, t);
    check_occurred_at(&c);
    check_jeugdige(&c);
    for (size_t i = 0; i < sizeof event_rules / sizeof event_rules[0]; i++)
        if (strcmp(event_rules[i].name, t->name) == 0)
            event_rules[i].rules(&c);
    return p->count + p->dropped == before ? 0 : -1;
}
