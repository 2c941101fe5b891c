/*
 * watch_view — the JSON views of the model that the API serves, and the
 * Prometheus gauges: rates, sparklines, lag and status per group, partner
 * delivery health, the flow diagram's nodes and edges. Counts only: codes
 * of organisations, rules, statuses; never a child's data.
 */
#include "watch_model_impl.h"

#include "kh_deadletter.h"
#include "kh_kalender.h"
#include "kh_time.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define RATE_BUCKETS 5  /* the rate shown: the last 10 seconds */
#define SPARK_BINS 90   /* an hour in bins of 40 s */
#define RECENT_MS 60000 /* failures this recent turn an edge red */

/* An hour of a series in SPARK_BINS bins: records/s for a sum, the largest
 * value for a gauge (null when empty). */
static json_t *spark(const watch_series *s, int64_t now) {
    double pts[WATCH_FINE_SLOTS];
    json_t *a = json_array();
    if (!s)
        return a;
    size_t n = watch_series_points(s, WATCH_FINE_MS, now, pts, WATCH_FINE_SLOTS),
           per = n / SPARK_BINS;
    for (size_t b = 0; b < SPARK_BINS; b++) {
        double v = s->kind == WATCH_SUM ? 0 : NAN;
        for (size_t k = b * per; k < (b + 1) * per; k++)
            v = s->kind == WATCH_SUM ? v + pts[k] : isnan(v) || pts[k] > v ? pts[k] : v;
        if (s->kind == WATCH_SUM)
            v /= (double)per * WATCH_FINE_MS / 1000.0;
        json_array_append_new(a, isnan(v) ? json_null() : json_real(round(v * 100) / 100));
    }
    return a;
}

static double rate_of(const watch_model *m, const char *family, const char *key, int64_t now) {
    const watch_series *s = watch_stats_get(m->stats, family, key);
    return s ? round(watch_series_rate(s, now, RATE_BUCKETS) * 100) / 100 : 0;
}

/* Sum over the last `ms` of a sum series. */
static double recent(const watch_series *s, int64_t now, int64_t ms) {
    double pts[WATCH_FINE_SLOTS], sum = 0;
    size_t n = watch_series_points(s, WATCH_FINE_MS, now, pts, (size_t)(ms / WATCH_FINE_MS));
    for (size_t i = 0; i < n; i++)
        sum += pts[i];
    return sum;
}

typedef struct ctx {
    const watch_model *m;
    int64_t now;
    json_t *out;
    const watch_gauges *gauges;
} ctx;

static void family_entry(const char *key, const watch_series *s, double total, void *ud) {
    ctx *c = ud;
    json_array_append_new(c->out,
                          json_pack("{s:s, s:f, s:f, s:o}", "key", key, "rate",
                                    round(watch_series_rate(s, c->now, RATE_BUCKETS) * 100) / 100,
                                    "total", total, "spark", spark(s, c->now)));
}

static json_t *family(const watch_model *m, const char *name, int64_t now) {
    ctx c = {m, now, json_array(), NULL};
    watch_stats_each(m->stats, name, family_entry, &c);
    return c.out;
}

static json_t *topics_json(const watch_model *m, int64_t now) {
    json_t *a = json_array();
    for (size_t t = 0; t < m->ntopics; t++) {
        const watch_topic *x = &m->topics[t];
        json_t *parts = json_array();
        for (int p = 0; p < x->npart; p++)
            json_array_append_new(parts, json_pack("{s:i, s:I}", "partition", p, "high",
                                                   (json_int_t)x->parts[p]->high));
        const watch_series *s = watch_stats_get(m->stats, "topic", x->name);
        json_array_append_new(a, json_pack("{s:s, s:f, s:f, s:o, s:o}", "topic", x->name, "rate",
                                           rate_of(m, "topic", x->name, now), "total",
                                           watch_stats_total(m->stats, "topic", x->name),
                                           "partitions", parts, "spark", spark(s, now)));
    }
    return a;
}

static json_t *group_json(const watch_model *m, const watch_group *g, int64_t now) {
    json_t *parts = json_array();
    int64_t lag = 0, age = 0;
    for (size_t t = 0; t < m->ntopics; t++)
        for (int p = 0; p < m->topics[t].npart; p++) {
            watch_lag l = watch_model_lag(m, g, t, p, now);
            if (l.records < 0)
                continue;
            lag += l.records;
            age = l.age_ms > age ? l.age_ms : age;
            json_array_append_new(parts, json_pack("{s:s, s:i, s:I, s:I, s:I, s:f}", "topic",
                                                   m->topics[t].name, "partition", p, "committed",
                                                   (json_int_t)g->committed[t][p], "high",
                                                   (json_int_t)m->topics[t].parts[p]->high, "lag",
                                                   (json_int_t)l.records, "lag_seconds",
                                                   (double)l.age_ms / 1000.0));
        }
    return json_pack("{s:s, s:s, s:s, s:I, s:f, s:o, s:o, s:o}", "service", g->service, "group",
                     g->group, "status", watch_status_name(g->status), "lag", (json_int_t)lag,
                     "lag_seconds", (double)age / 1000.0, "partitions", parts, "spark_lag",
                     spark(watch_stats_get(m->stats, "lag", g->service), now), "spark_lag_seconds",
                     spark(watch_stats_get(m->stats, "lag_seconds", g->service), now));
}

/* ---- partners ---------------------------------------------------------------------- */

static void partner_outcome(const char *key, const watch_series *s, double total, void *ud) {
    ctx *c = ud;
    char partner[64];
    const char *bar = strchr(key, '|');
    if (!bar || (size_t)(bar - key) >= sizeof partner)
        return;
    snprintf(partner, sizeof partner, "%.*s", (int)(bar - key), key);
    json_t *p = json_object_get(c->out, partner);
    if (!p) {
        p = json_pack("{s:s, s:{}, s:i, s:n, s:f, s:f}", "partner", partner, "outcomes", "pending",
                      0, "oldest_pending_seconds", "failures_recent", 0.0, "rate", 0.0);
        json_object_set_new(c->out, partner, p);
    }
    json_object_set_new(json_object_get(p, "outcomes"), bar + 1, json_real(total));
    double rate = json_real_value(json_object_get(p, "rate")) +
                  watch_series_rate(s, c->now, RATE_BUCKETS);
    json_object_set_new(p, "rate", json_real(round(rate * 100) / 100));
    if (strcmp(bar + 1, "DELIVERED") != 0) {
        double f = json_real_value(json_object_get(p, "failures_recent")) +
                   recent(s, c->now, RECENT_MS);
        json_object_set_new(p, "failures_recent", json_real(f));
    }
}

static void partner_pending(const char *partner, size_t pending, int64_t oldest, void *ud) {
    ctx *c = ud;
    json_t *p = json_object_get(c->out, partner);
    if (!p) {
        p = json_pack("{s:s, s:{}, s:f, s:f}", "partner", partner, "outcomes", "failures_recent",
                      0.0, "rate", 0.0);
        json_object_set_new(c->out, partner, p);
    }
    json_object_set_new(p, "pending", json_integer((json_int_t)pending));
    json_object_set_new(p, "oldest_pending_seconds",
                        oldest < 0 ? json_null() : json_real((double)(c->now - oldest) / 1000.0));
}

static const char *partner_state(const watch_model *m, const json_t *p) {
    double f = json_real_value(json_object_get(p, "failures_recent"));
    double age = json_number_value(json_object_get(p, "oldest_pending_seconds"));
    if (f > 0)
        return "err";
    return age * 1000 > (double)m->lim.partner_warn_ms ? "warn" : "ok";
}

/* {"TYPE:CODE": {...}} for every partner with afleveringen or pending meldingen. */
static json_t *partners_json(const watch_model *m, int64_t now) {
    ctx c = {m, now, json_object(), NULL};
    watch_stats_each(m->stats, "aflevering", partner_outcome, &c);
    watch_pending_each(m->pending, partner_pending, &c);
    const char *k;
    json_t *p, *list = json_array();
    json_object_foreach(c.out, k, p) {
        json_object_set_new(p, "state", json_string(partner_state(m, p)));
        json_array_append(list, p);
    }
    json_decref(c.out);
    return list;
}

/* ---- the flow diagram ----------------------------------------------------------------- */

static const watch_group *group_of(const watch_model *m, const char *service) {
    for (size_t g = 0; g < m->ngroups; g++)
        if (strcmp(m->groups[g].service, service) == 0)
            return &m->groups[g];
    return NULL;
}

static const char *state_of(const watch_group *g) {
    if (!g)
        return "unknown";
    switch (g->status) {
    case WATCH_WARN: return "warn";
    case WATCH_STALL:
    case WATCH_ERR: return "err";
    case WATCH_UNKNOWN: return "unknown";
    default: return "ok";
    }
}

static void edge(json_t *edges, const char *from, const char *to, double rate, const char *state,
                 const char *why) {
    json_array_append_new(edges, json_pack("{s:s, s:s, s:f, s:s, s:s}", "from", from, "to", to,
                                           "rate", rate, "state", state, "why", why));
}

static void service_edges(const watch_model *m, json_t *edges, const char *service, int64_t now) {
    const watch_group *g = group_of(m, service);
    char from[96], to[64], key[160];
    snprintf(to, sizeof to, "svc:%s", service);
    for (size_t t = 0; g && t < m->ntopics; t++) {
        snprintf(key, sizeof key, "%s|%s", service, m->topics[t].name);
        int consumes = 0;
        for (int p = 0; p < m->topics[t].npart; p++)
            consumes |= g->committed[t][p] >= 0;
        int declared = (!strcmp(service, "route") &&
                        strstr(m->topics[t].name, "grensverkeer") == NULL &&
                        strstr(m->topics[t].name, "deadletter") == NULL &&
                        strstr(m->topics[t].name, "aflevering") == NULL &&
                        strstr(m->topics[t].name, "retry") == NULL) ||
                       (!strcmp(service, "push") && strstr(m->topics[t].name, "grensverkeer"));
        if (!consumes && !declared)
            continue;
        snprintf(from, sizeof from, "topic:%s", m->topics[t].name);
        edge(edges, from, to, rate_of(m, "consumed", key, now), state_of(g),
             watch_status_name(g->status));
    }
}

static void partner_edges(json_t *edges, const json_t *partners) {
    static const char *const types[] = {"GEMEENTE", "SWV", "SCHOOL", "AANBIEDER"};
    for (size_t i = 0; i < 4; i++) {
        double rate = 0;
        const char *state = "ok";
        size_t k;
        const json_t *p;
        json_array_foreach(partners, k, p) {
            const char *name = json_string_value(json_object_get(p, "partner"));
            if (strncmp(name, types[i], strlen(types[i])) || name[strlen(types[i])] != ':')
                continue;
            rate += json_number_value(json_object_get(p, "rate"));
            const char *s = json_string_value(json_object_get(p, "state"));
            if (!strcmp(s, "err") || (!strcmp(s, "warn") && strcmp(state, "err")))
                state = s;
        }
        char to[32];
        snprintf(to, sizeof to, "partner:%s", types[i]);
        edge(edges, "svc:push", to, round(rate * 100) / 100, state, state);
    }
}

static json_t *flow_json(const watch_model *m, const json_t *partners, int64_t now) {
    json_t *edges = json_array();
    static const char *const bronnen[] = {"GEMEENTE", "SWV", "SCHOOL", "AANBIEDER"};
    char from[64], to[96];
    for (size_t i = 0; i < 4; i++) {
        snprintf(from, sizeof from, "bron:%s", bronnen[i]);
        edge(edges, from, "svc:ingest", rate_of(m, "bron", bronnen[i], now), "ok", "");
    }
    for (size_t t = 0; t < m->ntopics; t++) {
        const char *name = m->topics[t].name;
        const char *producer = strstr(name, "grensverkeer")                          ? "svc:route"
                               : strstr(name, "aflevering") || strstr(name, "retry") ? "svc:push"
                               : strstr(name, "deadletter")                          ? NULL
                                                                                     : "svc:ingest";
        snprintf(to, sizeof to, "topic:%s", name);
        if (producer)
            edge(edges, producer, to, rate_of(m, "topic", name, now), "ok", "");
    }
    for (size_t g = 0; g < m->ngroups; g++)
        service_edges(m, edges, m->groups[g].service, now);
    partner_edges(edges, partners);
    return edges;
}

static void deadletter_edges(const watch_model *m, json_t *edges, int64_t now) {
    char from[64], to[96];
    for (size_t g = 0; g < m->ngroups; g++) {
        double n = 0;
        for (size_t k = 0; k < m->ndl; k++)
            if (!strcmp(m->dls[k].service, m->groups[g].service) &&
                now - m->dls[k].failed_at < RECENT_MS)
                n++;
        snprintf(from, sizeof from, "svc:%s", m->groups[g].service);
        snprintf(to, sizeof to, "topic:%s", "ketenhub.deadletter.v1");
        for (size_t t = 0; t < m->ntopics; t++)
            if (strstr(m->topics[t].name, "deadletter"))
                snprintf(to, sizeof to, "topic:%s", m->topics[t].name);
        edge(edges, from, to, round(n / (RECENT_MS / 1000.0) * 100) / 100, n > 0 ? "err" : "ok",
             n > 0 ? "dead letters in the last minute" : "");
    }
}

json_t *watch_model_overview(watch_model *m, int64_t now_ms) {
    char ts[KH_TS_LEN];
    pthread_mutex_lock(&m->lock);
    json_t *groups = json_array();
    for (size_t g = 0; g < m->ngroups; g++)
        json_array_append_new(groups, group_json(m, &m->groups[g], now_ms));
    json_t *partners = partners_json(m, now_ms);
    json_t *edges = flow_json(m, partners, now_ms);
    deadletter_edges(m, edges, now_ms);
    json_t *o = json_pack("{s:s, s:o, s:o, s:{s:o, s:o, s:o}, s:o, s:o, s:o, s:o, s:I}", "now",
                          kh_ts_format(now_ms, ts), "topics", topics_json(m, now_ms), "groups",
                          groups, "events", "type", family(m, "type", now_ms), "status",
                          family(m, "status", now_ms), "bron", family(m, "bron", now_ms), "regels",
                          family(m, "regel", now_ms), "deadletters",
                          family(m, "deadletter", now_ms), "partners", partners, "flow", edges,
                          "undecodable", (json_int_t)m->undecodable);
    pthread_mutex_unlock(&m->lock);
    return o;
}

json_t *watch_model_series(watch_model *m, const char *fam, const char *key, int coarse,
                           int64_t now_ms) {
    double pts[WATCH_FINE_SLOTS];
    pthread_mutex_lock(&m->lock);
    const watch_series *s = watch_stats_get(m->stats, fam, key);
    json_t *o = NULL;
    if (s) {
        int64_t step = coarse ? WATCH_COARSE_MS : WATCH_FINE_MS;
        size_t n = watch_series_points(s, step, now_ms, pts,
                                       coarse ? WATCH_COARSE_SLOTS : WATCH_FINE_SLOTS);
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, isnan(pts[i]) ? json_null() : json_real(pts[i]));
        o = json_pack("{s:s, s:s, s:I, s:s, s:o}", "family", fam, "key", key, "step_ms",
                      (json_int_t)step, "kind", s->kind == WATCH_SUM ? "count" : "gauge", "points",
                      a);
    }
    pthread_mutex_unlock(&m->lock);
    return o;
}

json_t *watch_model_deadletters(watch_model *m, int64_t now_ms) {
    char ts[KH_TS_LEN];
    json_t *a = json_array();
    pthread_mutex_lock(&m->lock);
    for (size_t k = 0; k < m->ndl; k++) {
        const watch_dl *d =
            &m->dls[(m->dlhead + WATCH_DEADLETTERS_KEPT - 1 - k) % WATCH_DEADLETTERS_KEPT];
        int reason = kh_dl_reason_by_name(d->reason);
        json_t *o = json_pack("{s:i, s:I, s:s, s:s, s:s?, s:s, s:s, s:f, s:b}", "partition",
                              (int)d->partition, "offset", (json_int_t)d->offset, "reason_code",
                              d->reason, "service", d->service, "partner",
                              d->partner[0] ? d->partner : NULL, "origin", d->origin, "failed_at",
                              kh_ts_format(d->failed_at, ts), "age_seconds",
                              (double)(now_ms - d->failed_at) / 1000.0, "redrivable",
                              d->partner[0] && reason >= 0 &&
                                  kh_dl_reason_is_delivery((kh_dl_reason)reason));
        if (d->redriven_at)
            json_object_set_new(o, "redriven",
                                json_pack("{s:s, s:s}", "at", kh_ts_format(d->redriven_at, ts),
                                          "by", d->redriven_by));
        json_array_append_new(a, o);
    }
    pthread_mutex_unlock(&m->lock);
    return a;
}

json_t *watch_model_region(watch_model *m, int paar, const char *jeugdregio, const char *swv) {
    pthread_mutex_lock(&m->lock);
    json_t *t = watch_region_table(m->region, (watch_paar)paar, jeugdregio, swv);
    pthread_mutex_unlock(&m->lock);
    return t;
}

char *watch_model_region_csv(watch_model *m, int paar, const char *jeugdregio, const char *swv) {
    pthread_mutex_lock(&m->lock);
    char *t = watch_region_csv(m->region, (watch_paar)paar, jeugdregio, swv);
    pthread_mutex_unlock(&m->lock);
    return t;
}

json_t *watch_model_termijnen(watch_model *m, int indeling, const char *jeugdregio, const char *swv,
                              int64_t now_ms) {
    pthread_mutex_lock(&m->lock);
    json_t *t = watch_termijn_table(m->termijn, (watch_indeling)indeling, jeugdregio, swv,
                                    kh_kalender_amsterdam_date(now_ms));
    pthread_mutex_unlock(&m->lock);
    return t;
}

char *watch_model_termijnen_csv(watch_model *m, int indeling, const char *jeugdregio,
                                const char *swv, int64_t now_ms) {
    pthread_mutex_lock(&m->lock);
    char *t = watch_termijn_csv(m->termijn, (watch_indeling)indeling, jeugdregio, swv,
                                kh_kalender_amsterdam_date(now_ms));
    pthread_mutex_unlock(&m->lock);
    return t;
}

/* National counts per regel, and the state records not read. */
static void gauge_termijnen(const watch_model *m, const watch_gauges *g, int64_t now_ms) {
    int64_t open[WATCH_TERMIJN_REGELS], verlopen[WATCH_TERMIJN_REGELS];
    watch_termijn_totalen(m->termijn, kh_kalender_amsterdam_date(now_ms), open, verlopen);
    for (int r = 0; g->termijn && r < WATCH_TERMIJN_REGELS; r++)
        g->termijn(g->ud, watch_termijn_regel(r), open[r], verlopen[r]);
    watch_termijn_telling t;
    watch_termijn_tellingen(m->termijn, &t);
    const struct {
        const char *reden;
        uint64_t n;
    } niet[] = {{"json", t.json},
                {"versie", t.versie},
                {"vorm", t.vorm},
                {"onbekende_regel", t.onbekende_regel},
                {"vol", t.vol}};
    for (size_t i = 0; g->termijn_niet_gelezen && i < sizeof niet / sizeof niet[0]; i++)
        g->termijn_niet_gelezen(g->ud, niet[i].reden, niet[i].n);
}

static void gauge_partner(const char *partner, size_t pending, int64_t oldest, void *ud) {
    const ctx *c = ud;
    const watch_gauges *g = c->gauges;
    g->partner(g->ud, partner, pending, oldest < 0 ? 0 : (double)(c->now - oldest) / 1000.0);
}

static void gauge_topic(const char *key, const watch_series *s, double total, void *ud) {
    (void)s;
    const watch_gauges *g = ud;
    g->topic(g->ud, key, total);
}

void watch_model_gauges(watch_model *m, const watch_gauges *g, int64_t now_ms) {
    pthread_mutex_lock(&m->lock);
    for (size_t k = 0; k < m->ngroups; k++) {
        const watch_group *x = &m->groups[k];
        int64_t lag = 0, age = 0;
        for (size_t t = 0; t < m->ntopics; t++)
            for (int p = 0; p < m->topics[t].npart; p++) {
                watch_lag l = watch_model_lag(m, x, t, p, now_ms);
                if (l.records < 0)
                    continue;
                g->lag(g->ud, x->group, m->topics[t].name, p, l.records);
                lag += l.records;
                age = l.age_ms > age ? l.age_ms : age;
            }
        g->group(g->ud, x->group, x->service, x->status, lag, (double)age / 1000.0);
    }
    ctx c = {m, now_ms, NULL, g};
    watch_pending_each(m->pending, gauge_partner, &c);
    watch_stats_each(m->stats, "topic", gauge_topic, (void *)g);
    gauge_termijnen(m, g, now_ms);
    pthread_mutex_unlock(&m->lock);
}
