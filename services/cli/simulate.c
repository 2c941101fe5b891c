/*
 * simulate — the `ketenhub simulate` subcommand: options, the loop that
 * generates (sim_gen), paces and sends (sim_send) or writes events, checks
 * each answer against its expectation, and the expected meldingen
 * (sim_rules) as a summary and as JSON.
 */
#include "simulate.h"

#include "kh_alloc.h"
#include "kh_ref.h"
#include "kh_time.h"
#include "sim_gen.h"
#include "sim_keys.h"
#include "sim_rules.h"
#include "sim_send.h"
#include "sim_subs.h"
#include "sim_termijn.h"

#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct options {
    uint64_t seed;
    unsigned long events;
    double rate, duration;
    sim_gen_options gen;
    int32_t from, today;
    int days;
    const char *refdir, *url, *keys, *out, *expect, *results, *partners, *subs, *receiver;
    int connections, quiet;
    long retry_ms;
} options;

/* The run's counts and what it expects. */
typedef struct run {
    const options *o;
    const kh_ref *ref;
    sim_keys keys;
    FILE *out, *results;
    json_t *expected; /* array of expected meldingen (with --expect) */
    json_t *per_regel, *per_ontvanger;
    sim_termijn *termijn; /* the termijn expectation (sim_termijn) */
    json_t *termijn_per_regel, *termijn_expected;
    sim_tj_stats termijn_stats;
    unsigned long termijn_meldingen;
    unsigned long generated, invalid, sent, accepted, rejected, as_expected, unexpected, no_key;
    unsigned long meldingen;
} run;

/* Set by SIGINT/SIGTERM: stop generating, finish what is in flight. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

const char *cli_simulate_usage(void) {
    return "  simulate [-r DIR] [options] (--url URL --keys FILE | --out FILE |\n"
           "           --write-partners FILE --keys FILE | --write-subscriptions FILE --receiver "
           "URL)\n"
           "      Realistic, reproducible traffic for the regions of the reference data: children\n"
           "      with valid BSNs, aanmeldingen through their statuses, TLVs, beschikkingen,\n"
           "      verwijzingen; optionally a share of invalid events of every error class. Sends\n"
           "      each event to ingest with the key of the organisation that issues it, or writes\n"
           "      NDJSON, and prints the grensverkeer and termijn meldingen that must come out.\n"
           "      --seed N            random seed; same seed, same events (1)\n"
           "      --events N          how many events; 0: until --duration or Ctrl-C (1000)\n"
           "      --rate R            events per second; 0: as fast as ingest answers (0)\n"
           "      --duration S        stop after S seconds\n"
           "      --invalid-share F   share of invalid events, 0..1 (0)\n"
           "      --mix A,T,B,V       weights of new aanmelding, tlv, beschikking and\n"
           "                          verwijzing stories (35,15,25,25)\n"
           "      --cross F           share of stories set up to cross a border, 0..1 (0.3)\n"
           "      --from DATE --days N  the simulated period (2025-01-01, 365)\n"
           "      --termijn-share F   share of new stories that are termijn cases, 0..1 (0)\n"
           "      --today DATE        the date the termijn meldingen are expected for; termijn\n"
           "                          cases are dated around it (the period's end)\n"
           "      --url URL           ingest, e.g. http://127.0.0.1:8080\n"
           "      --keys FILE         `TYPE:CODE KEY [NAME]` per line (deploy/demo/keys.txt)\n"
           "      --connections N     parallel keep-alive connections (4)\n"
           "      --retry-for S       retry an event on no connection, 429 or 503 for S s (60)\n"
           "      --out FILE          write {\"type\",\"bron\",\"event\"|\"body\",\"expect\"} "
           "lines\n"
           "                          instead of sending (- for stdout)\n"
           "      --expect FILE       write the expected meldingen as JSON\n"
           "      --results FILE      with --url: one JSON line per event with its answer\n"
           "      --write-partners FILE  write an ingest partners file for every organisation\n"
           "                          of the reference data, completing the --keys file\n"
           "      --write-subscriptions FILE --receiver URL  add a push subscription at\n"
           "                          URL/<type>/<code> for every organisation not yet in FILE\n"
           "      --quiet             no summary\n";
}

static int parse_mix(const char *s, double mix[SIM_KINDS]) {
    char *end;
    for (int i = 0; i < SIM_KINDS; i++) {
        mix[i] = strtod(s, &end);
        if (end == s || mix[i] < 0 || (i < SIM_KINDS - 1 && *end != ','))
            return -1;
        s = end + 1;
    }
    return *end == 0 && mix[0] + mix[1] + mix[2] + mix[3] > 0 ? 0 : -1;
}

static int bad(const char *what, const char *value) {
    fprintf(stderr, "ketenhub simulate: bad %s '%s'; see ketenhub --help\n", what, value);
    return -1;
}

static int number(const char *what, const char *s, double lo, double hi, double *out) {
    char *end;
    *out = strtod(s, &end);
    if (end == s || *end || *out < lo || *out > hi)
        return bad(what, s);
    return 0;
}

static int set_option(options *o, int opt, const char *arg) {
    double v;
    switch (opt) {
    case 's': o->seed = strtoull(arg, NULL, 10); return 0;
    case 'n':
        if (number("--events", arg, 0, 1e12, &v))
            return -1;
        o->events = (unsigned long)v;
        return 0;
    case 'R': return number("--rate", arg, 0, 1e6, &o->rate);
    case 'd': return number("--duration", arg, 0, 1e9, &o->duration);
    case 'i': return number("--invalid-share", arg, 0, 1, &o->gen.invalid_share);
    case 'm': return parse_mix(arg, o->gen.mix) ? bad("--mix", arg) : 0;
    case 'x': return number("--cross", arg, 0, 1, &o->gen.cross);
    case 'f': return kh_date_parse(arg, &o->from) ? bad("--from", arg) : 0;
    case 't': return kh_date_parse(arg, &o->today) ? bad("--today", arg) : 0;
    case 'j': return number("--termijn-share", arg, 0, 1, &o->gen.termijn_share);
    case 'D':
        if (number("--days", arg, 1, 3650, &v))
            return -1;
        o->days = (int)v;
        return 0;
    case 'u': o->url = arg; return 0;
    case 'k': o->keys = arg; return 0;
    case 'c':
        if (number("--connections", arg, 1, 64, &v))
            return -1;
        o->connections = (int)v;
        return 0;
    case 'T':
        if (number("--retry-for", arg, 0, 86400, &v))
            return -1;
        o->retry_ms = (long)(v * 1000);
        return 0;
    case 'o': o->out = arg; return 0;
    case 'e': o->expect = arg; return 0;
    case 'F': o->results = arg; return 0;
    case 'P': o->partners = arg; return 0;
    case 'S': o->subs = arg; return 0;
    case 'V': o->receiver = arg; return 0;
    case 'q': o->quiet = 1; return 0;
    case 'r': o->refdir = arg; return 0;
    default: return -1;
    }
}

static int parse(int argc, char **argv, const char *refdir, options *o) {
    static const struct option longs[] = {
        {"seed", 1, 0, 's'},           {"events", 1, 0, 'n'},
        {"rate", 1, 0, 'R'},           {"duration", 1, 0, 'd'},
        {"invalid-share", 1, 0, 'i'},  {"mix", 1, 0, 'm'},
        {"cross", 1, 0, 'x'},          {"from", 1, 0, 'f'},
        {"days", 1, 0, 'D'},           {"url", 1, 0, 'u'},
        {"keys", 1, 0, 'k'},           {"connections", 1, 0, 'c'},
        {"retry-for", 1, 0, 'T'},      {"out", 1, 0, 'o'},
        {"expect", 1, 0, 'e'},         {"results", 1, 0, 'F'},
        {"write-partners", 1, 0, 'P'}, {"write-subscriptions", 1, 0, 'S'},
        {"receiver", 1, 0, 'V'},       {"quiet", 0, 0, 'q'},
        {"today", 1, 0, 't'},          {"termijn-share", 1, 0, 'j'},
        {"help", 0, 0, 'h'},           {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->refdir = refdir;
    o->seed = 1;
    o->events = 1000;
    o->connections = 4;
    o->retry_ms = 60000;
    o->days = 365;
    o->from = kh_date_from_ymd(2025, 1, 1);
    sim_gen_defaults(&o->gen);
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "r:q", longs, NULL)) != -1) {
        if (opt == 'h') {
            fputs(cli_simulate_usage(), stdout);
            return 1;
        }
        if (opt == '?' || set_option(o, opt, optarg) < 0)
            return -1;
    }
    if (!o->today)
        o->today = o->from + o->days;
    o->gen.today = o->today;
    int modes = !!o->url + !!o->out + !!(o->partners || o->subs);
    if (optind != argc || modes != 1 || ((o->url || o->partners) && !o->keys) ||
        (o->results && !o->url) || (o->events == 0 && o->duration == 0 && o->out) ||
        (!o->subs != !o->receiver) || o->today < o->from ||
        o->today > o->from + o->days + SIM_STORY_SPAN) {
        fprintf(stderr,
                "ketenhub simulate: give exactly one of --url (with --keys), --out, or "
                "--write-partners (with --keys) and/or --write-subscriptions (with "
                "--receiver); --results only with --url; an endless run needs --url; "
                "--today within the period plus %d days; see ketenhub --help\n",
                SIM_STORY_SPAN);
        return -1;
    }
    return 0;
}

/* ---- expectations ------------------------------------------------------- */

static void count(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    json_object_set_new(obj, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

/* The expected meldingen of ev, counted and (with --expect) kept; also
 * returned as a JSON array for --out. */
static json_t *expect_meldingen(run *r, const sim_event *ev) {
    sim_melding m[SIM_MAX_MELDINGEN];
    size_t n = sim_rules_expect(r->ref, ev->type, ev->event, m);
    sim_termijn_add(r->termijn, ev->type, ev->event);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(list, json_pack("{s:s, s:s}", "regel", m[i].regel, "ontvanger",
                                              m[i].ontvanger));
        count(r->per_regel, m[i].regel);
        count(r->per_ontvanger, m[i].ontvanger);
        if (r->expected)
            json_array_append_new(r->expected, json_pack("{s:s, s:s, s:s, s:s}", "bron", ev->bron,
                                                         "event_id", ev->event_id, "regel",
                                                         m[i].regel, "ontvanger", m[i].ontvanger));
    }
    r->meldingen += n;
    return list;
}

/* The termijn meldingen expected on --today, counted per regel and kept
 * (marked "soort": "termijn") for --expect. */
static void expect_termijn(run *r) {
    sim_tj_melding *m;
    char dag[KH_DATE_LEN];
    size_t n = sim_termijn_expect(r->termijn, r->o->today, &m, &r->termijn_stats);
    r->termijn_meldingen = n;
    for (size_t i = 0; i < n; i++) {
        count(r->termijn_per_regel, m[i].regel);
        json_array_append_new(r->termijn_expected,
                              json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "soort",
                                        "termijn", "regel", m[i].regel, "stap", m[i].stap, "bron",
                                        m[i].bron, "zaak", m[i].zaak, "ontvanger", m[i].ontvanger,
                                        "vervaldatum", kh_date_format(m[i].vervaldatum, dag),
                                        "melding_id", m[i].melding_id));
    }
    free(m);
}

static json_t *expectation(run *r, const sim_event *ev) {
    if (ev->valid)
        return json_pack("{s:i, s:o}", "status", 202, "meldingen", expect_meldingen(r, ev));
    return json_pack("{s:i, s:s, s:s}", "status", ev->expect_status, "reason", ev->reason,
                     "pointer", ev->pointer);
}

static int write_event(run *r, const sim_event *ev, json_t *expect) {
    json_t *line = json_pack("{s:s, s:s}", "type", ev->type->name, "bron", ev->bron);
    if (ev->event)
        json_object_set(line, "event", ev->event);
    else
        json_object_set_new(line, "body", json_string(ev->body));
    json_object_set(line, "expect", expect);
    char *text = json_dumps(line, JSON_COMPACT);
    int rc = text && fprintf(r->out, "%s\n", text) > 0 ? 0 : -1;
    free(text);
    json_decref(line);
    return rc;
}

/* ---- sending and checking the answers -------------------------------------- */

/* One event on its way, the tag of its POST. */
typedef struct pending {
    unsigned long n;
    const char *type;
    char bron[24], event_id[37];
    int expect_status;
    const char *reason, *pointer;
} pending;

/* Whether a problem answer names the expected pointer and reason. */
static int names_problem(const json_t *answer, const pending *p) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(answer, "errors"), i, e) {
        const char *ptr = json_string_value(json_object_get(e, "pointer"));
        const char *why = json_string_value(json_object_get(e, "reason"));
        if (ptr && why && strcmp(ptr, p->pointer) == 0 && strcmp(why, p->reason) == 0)
            return 1;
    }
    return 0;
}

static void record_result(run *r, const pending *p, long status, const json_t *answer, int ok) {
    if (!r->results)
        return;
    json_t *line = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:b}", "n", (json_int_t)p->n, "type",
                             p->type, "bron", p->bron, "event_id", p->event_id, "status",
                             (json_int_t)status, "expected_status", (json_int_t)p->expect_status,
                             "as_expected", ok);
    if (status == 202) {
        const char *keys[] = {"topic", "partition", "offset"};
        for (size_t i = 0; i < 3; i++)
            if (json_object_get(answer, keys[i]))
                json_object_set(line, keys[i], json_object_get(answer, keys[i]));
    }
    if (p->reason) {
        json_object_set_new(line, "reason", json_string(p->reason));
        json_object_set_new(line, "pointer", json_string(p->pointer));
    }
    char *text = json_dumps(line, JSON_COMPACT);
    if (text) /* a line at a time, so a watcher sees the run's progress */
        fprintf(r->results, "%s\n", text), fflush(r->results);
    free(text);
    json_decref(line);
}

static void on_answer(void *ud, void *tag, long status, const char *body) {
    run *r = ud;
    pending *p = tag;
    json_t *answer = json_loads(body, 0, NULL);
    int ok = status == p->expect_status && (status == 202 || names_problem(answer, p));
    r->accepted += status == 202;
    r->rejected += status >= 400 && status < 500 && status != 429;
    r->as_expected += ok;
    r->unexpected += !ok;
    if (!ok && r->unexpected <= 10)
        fprintf(stderr, "ketenhub simulate: event %lu (%s from %s): %s %ld, expected %d%s%s%s%s\n",
                p->n, p->type, p->bron,
                status ? "answered" : "no answer within --retry-for, last status", status,
                p->expect_status, p->reason ? " with " : "", p->reason ? p->reason : "",
                p->reason ? " at " : "",
                p->reason ? (p->pointer[0] ? p->pointer : "the document") : "");
    record_result(r, p, status, answer, ok);
    json_decref(answer);
    free(p);
}

static int send_event(run *r, sim_send *s, const sim_event *ev) {
    const char *key = sim_keys_find(&r->keys, ev->bron);
    if (!key) {
        if (r->no_key++ < 5)
            fprintf(stderr,
                    "ketenhub simulate: no key for %s in %s; `ketenhub simulate --write-partners` "
                    "makes keys and partners for every organisation\n",
                    ev->bron, r->o->keys);
        return 0;
    }
    pending *p = kh_calloc(1, sizeof *p);
    p->n = r->generated;
    p->type = ev->type->name;
    snprintf(p->bron, sizeof p->bron, "%s", ev->bron);
    snprintf(p->event_id, sizeof p->event_id, "%s", ev->event_id);
    p->expect_status = ev->expect_status;
    p->reason = ev->reason;
    p->pointer = ev->pointer;
    char path[64];
    snprintf(path, sizeof path, "/v1/%s", ev->type->plural);
    r->sent++;
    if (sim_send_post(s, path, key, ev->body, p) < 0) {
        free(p);
        return -1;
    }
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits (serving the connections) until event i is due at the rate. */
static void pace(const options *o, sim_send *s, double t0, unsigned long i) {
    if (o->rate <= 0)
        return;
    for (;;) {
        double wait = t0 + (double)i / o->rate - now_s();
        if (wait <= 0 || stop_requested)
            return;
        if (s)
            sim_send_poll(s, (int)(wait * 1000) + 1);
        else
            nanosleep(&(struct timespec){(time_t)wait, (long)((wait - (time_t)wait) * 1e9)}, NULL);
    }
}

static int by_string(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- the run ----------------------------------------------------------------- */

static int done_generating(const options *o, const run *r, double t0) {
    if (stop_requested)
        return 1;
    if (o->events && r->generated >= o->events)
        return 1;
    return o->duration > 0 && now_s() - t0 >= o->duration;
}

static int one_event(run *r, sim_gen *g, sim_send *s, sim_event *ev) {
    if (sim_gen_next(g, ev) < 0)
        return -1;
    r->generated++;
    r->invalid += !ev->valid;
    json_t *expect = expectation(r, ev);
    int rc = r->out ? write_event(r, ev, expect) : send_event(r, s, ev);
    json_decref(expect);
    return rc;
}

static int generate(run *r, sim_gen *g) {
    const options *o = r->o;
    sim_send *s = NULL;
    if (o->url && !(s = sim_send_new(o->url, o->connections, o->retry_ms, on_answer, r))) {
        fprintf(stderr, "ketenhub simulate: cannot start the HTTP client\n");
        return -1;
    }
    sim_event ev = {0};
    double t0 = now_s();
    int rc = 0;
    while (rc == 0 && !done_generating(o, r, t0)) {
        pace(o, s, t0, r->generated);
        if (!done_generating(o, r, t0))
            rc = one_event(r, g, s, &ev);
    }
    sim_event_clear(&ev);
    if (s) {
        sim_send_drain(s);
        sim_send_free(s);
    }
    if (rc)
        fprintf(stderr, "ketenhub simulate: out of memory or cannot write\n");
    return rc;
}

/* The per-regel counts in the order of the rule table. */
static void print_regels(FILE *f, json_t *per_regel) {
    fprintf(f, "  %-42s %9s\n", "regel", "meldingen");
    for (size_t i = 0; i < sim_rules_count(); i++) {
        json_t *v = json_object_get(per_regel, sim_rules_name(i));
        fprintf(f, "  %-42s %9lld\n", sim_rules_name(i),
                v ? (long long)json_integer_value(v) : 0LL);
    }
}

/* Recipients sorted by TYPE:CODE, three to a line. */
static void print_ontvangers(FILE *f, json_t *per_ontvanger) {
    size_t n = json_object_size(per_ontvanger), k = 0;
    const char **keys = kh_calloc(n ? n : 1, sizeof *keys);
    const char *key;
    json_t *v;
    json_object_foreach(per_ontvanger, key, v)
        keys[k++] = key;
    qsort(keys, n, sizeof *keys, by_string);
    fprintf(f, "  per ontvanger (%zu recipients):", n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%-20s %5lld", i % 3 ? "   " : "\n    ", keys[i],
                (long long)json_integer_value(json_object_get(per_ontvanger, keys[i])));
    fputc('\n', f);
    free(keys);
}

static void print_summary(const run *r, FILE *f) {
    const options *o = r->o;
    fprintf(f, "ketenhub simulate: seed %llu, %lu events (%lu invalid)\n",
            (unsigned long long)o->seed, r->generated, r->invalid);
    if (o->url)
        fprintf(f,
                "sent %lu: %lu accepted (202), %lu rejected; %lu answered as expected, %lu not; "
                "%lu without a key\n",
                r->sent, r->accepted, r->rejected, r->as_expected, r->unexpected, r->no_key);
    fprintf(f, "expected grensverkeer meldingen: %lu\n", r->meldingen);
    print_regels(f, r->per_regel);
    print_ontvangers(f, r->per_ontvanger);
    char dag[KH_DATE_LEN];
    fprintf(f, "expected termijn meldingen by %s: %lu\n", kh_date_format(o->today, dag),
            r->termijn_meldingen);
    fprintf(f, "  %-42s %9s %9s %9s\n", "regel", "meldingen", "fired", "pending");
    for (size_t i = 0; i < SIM_TJ_REGELS; i++) {
        json_t *v = json_object_get(r->termijn_per_regel, sim_termijn_regel(i));
        fprintf(f, "  %-42s %9lld %9zu %9zu\n", sim_termijn_regel(i),
                v ? (long long)json_integer_value(v) : 0LL, r->termijn_stats.fired[i],
                r->termijn_stats.pending[i]);
    }
}

static int write_expect(const run *r) {
    json_t *doc = json_pack("{s:I, s:I, s:I, s:I, s:O, s:O, s:O}", "seed", (json_int_t)r->o->seed,
                            "events", (json_int_t)r->generated, "invalid", (json_int_t)r->invalid,
                            "meldingen_count", (json_int_t)r->meldingen, "per_regel", r->per_regel,
                            "per_ontvanger", r->per_ontvanger, "meldingen", r->expected);
    char dag[KH_DATE_LEN];
    if (doc)
        json_object_update_new(doc, json_pack("{s:s, s:I, s:O, s:O}", "today",
                                              kh_date_format(r->o->today, dag),
                                              "termijn_meldingen_count",
                                              (json_int_t)r->termijn_meldingen, "termijn_per_regel",
                                              r->termijn_per_regel, "termijn_meldingen",
                                              r->termijn_expected));
    int rc = doc ? json_dump_file(doc, r->o->expect, JSON_INDENT(1)) : -1;
    json_decref(doc);
    if (rc)
        fprintf(stderr, "ketenhub simulate: cannot write %s\n", r->o->expect);
    return rc;
}

static int write_subscriptions(const options *o, const kh_ref *ref) {
    char err[512];
    long n = sim_subs_write(ref, o->subs, o->receiver, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "ketenhub simulate: %s\n", err);
        return 2;
    }
    if (!o->quiet)
        printf("ketenhub simulate: %ld subscriptions in %s\n", n, o->subs);
    return 0;
}

static int write_partners(const options *o, const kh_ref *ref) {
    sim_keys keys;
    char err[512];
    if (!o->partners)
        return write_subscriptions(o, ref);
    if (sim_keys_load(&keys, o->keys, 1, err, sizeof err) < 0) {
        fprintf(stderr, "ketenhub simulate: %s\n", err);
        return 2;
    }
    long n = sim_keys_write_partners(&keys, ref, o->partners, o->keys, err, sizeof err);
    sim_keys_free(&keys);
    if (n < 0) {
        fprintf(stderr, "ketenhub simulate: %s\n", err);
        return 2;
    }
    if (!o->quiet)
        printf("ketenhub simulate: %ld partners in %s, their keys in %s\n", n, o->partners,
               o->keys);
    return o->subs ? write_subscriptions(o, ref) : 0;
}

static FILE *open_out(const char *path) {
    if (!path)
        return NULL;
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f)
        fprintf(stderr, "ketenhub simulate: cannot write %s: %m\n", path);
    return f;
}

/* Opens what the run writes and reads; 0, or 2 on a setup error. */
static int run_open(run *r) {
    const options *o = r->o;
    char err[512];
    if (o->url && sim_keys_load(&r->keys, o->keys, 0, err, sizeof err) < 0) {
        fprintf(stderr, "ketenhub simulate: %s\n", err);
        return 2;
    }
    r->termijn = sim_termijn_new(r->ref, o->refdir, err, sizeof err);
    if (!r->termijn) {
        fprintf(stderr, "ketenhub simulate: reference data: %s\n", err);
        return 2;
    }
    r->per_regel = json_object();
    r->per_ontvanger = json_object();
    r->termijn_per_regel = json_object();
    r->termijn_expected = json_array();
    r->expected = o->expect ? json_array() : NULL;
    r->out = open_out(o->out);
    r->results = open_out(o->results);
    if ((o->out && !r->out) || (o->results && !r->results))
        return 2;
    return 0;
}

static void run_close(run *r) {
    if (r->out && r->out != stdout)
        fclose(r->out);
    if (r->results && r->results != stdout)
        fclose(r->results);
    if (r->out == stdout || r->results == stdout)
        fflush(stdout);
    json_decref(r->expected);
    json_decref(r->per_regel);
    json_decref(r->per_ontvanger);
    json_decref(r->termijn_per_regel);
    json_decref(r->termijn_expected);
    sim_termijn_free(r->termijn);
    sim_keys_free(&r->keys);
}

static int simulate(const options *o, const kh_ref *ref) {
    sim_world w;
    char err[512];
    if (sim_world_build(&w, ref, o->from, o->from + o->days + SIM_STORY_SPAN, err, sizeof err) <
        0) {
        fprintf(stderr, "ketenhub simulate: %s\n", err);
        return 2;
    }
    run r = {.o = o, .ref = ref};
    int rc = run_open(&r);
    sim_gen *g = rc ? NULL : sim_gen_new(&w, o->seed, &o->gen);
    if (!rc && !g)
        rc = 2;
    if (!rc && generate(&r, g) < 0)
        rc = 2;
    if (!rc)
        expect_termijn(&r);
    if (!rc && o->expect && write_expect(&r) < 0)
        rc = 2;
    if (!rc && !o->quiet)
        print_summary(&r, r.out == stdout || r.results == stdout ? stderr : stdout);
    if (!rc && (r.unexpected || r.no_key))
        rc = 1;
    sim_gen_free(g);
    run_close(&r);
    sim_world_free(&w);
    return rc;
}

int cli_simulate_main(int argc, char **argv, const char *refdir) {
    options o;
    int p = parse(argc, argv, refdir, &o);
    if (p)
        return p > 0 ? 0 : 2;
    kh_ref *ref;
    char err[512];
    if (kh_ref_load(o.refdir, &ref, err, sizeof err)) {
        fprintf(stderr, "ketenhub simulate: reference data: %s\n", err);
        return 2;
    }
    int rc;
    if (o.partners || o.subs) {
        rc = write_partners(&o, ref);
    } else {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGPIPE, SIG_IGN);
        rc = simulate(&o, ref);
        curl_global_cleanup();
    }
    kh_ref_free(ref);
    return rc;
}
