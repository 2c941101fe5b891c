/*
 * watch_model — records, watermarks and committed offsets into the model
 * (see watch_model.h); the JSON views are in watch_view.c.
 */
#include "watch_model_impl.h"

#include "kh_alloc.h"
#include "kh_codec.h"
#include "kh_kalender.h"
#include "kh_orgid.h"
#include "kh_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

watch_model *watch_model_new(const watch_limits *lim, const char *const *topics, size_t ntopics,
                             const char *const *services, const char *const *groups, size_t ngroups,
                             const kh_schemas *schemas) {
    watch_model *m = kh_calloc(1, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    m->lim = *lim;
    m->schemas = schemas;
    m->stats = watch_stats_new(lim->max_series);
    m->region = watch_region_new(lim->region_rows, 65536);
    m->pending = watch_pending_new(lim->pending);
    m->termijn = watch_termijn_new(lim->termijn_max);
    m->ntopics = ntopics < WATCH_MAX_TOPICS ? ntopics : WATCH_MAX_TOPICS;
    for (size_t t = 0; t < m->ntopics; t++)
        snprintf(m->topics[t].name, sizeof m->topics[t].name, "%s", topics[t]);
    m->ngroups = ngroups < WATCH_MAX_GROUPS ? ngroups : WATCH_MAX_GROUPS;
    for (size_t g = 0; g < m->ngroups; g++) {
        watch_group *x = &m->groups[g];
        snprintf(x->service, sizeof x->service, "%s", services[g]);
        snprintf(x->group, sizeof x->group, "%s", groups[g]);
        memset(x->committed, 0xff, sizeof x->committed); /* -1: none */
        watch_window_init(&x->window, lim->status_window);
        x->status = WATCH_UNKNOWN;
    }
    return m;
}

void watch_model_free(watch_model *m) {
    if (!m)
        return;
    for (size_t t = 0; t < m->ntopics; t++)
        for (int p = 0; p < m->topics[t].npart; p++)
            free(m->topics[t].parts[p]);
    watch_stats_free(m->stats);
    watch_region_free(m->region);
    watch_pending_free(m->pending);
    watch_termijn_free(m->termijn);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void watch_model_set_ref(watch_model *m, const kh_ref *ref) {
    pthread_mutex_lock(&m->lock);
    m->ref = ref;
    pthread_mutex_unlock(&m->lock);
}

int watch_model_topic_index(const watch_model *m, const char *topic) {
    for (size_t t = 0; t < m->ntopics; t++)
        if (strcmp(m->topics[t].name, topic) == 0)
            return (int)t;
    return -1;
}

/* The partition p of topic t, made (with the ones below it) on first use. */
static watch_partition *partition_of(watch_model *m, size_t t, int32_t p) {
    watch_topic *x = &m->topics[t];
    if (p < 0 || p >= WATCH_MAX_PARTITIONS)
        return NULL;
    while (x->npart <= p) {
        x->parts[x->npart] = kh_calloc(1, sizeof(watch_partition));
        watch_offidx_init(&x->parts[x->npart]->idx);
        x->npart++;
    }
    return x->parts[p];
}

int watch_model_partitions(watch_model *m, size_t t) {
    pthread_mutex_lock(&m->lock);
    int n = t < m->ntopics ? m->topics[t].npart : 0;
    pthread_mutex_unlock(&m->lock);
    return n;
}

void watch_model_high(watch_model *m, const char *topic, int32_t partition, int64_t high) {
    pthread_mutex_lock(&m->lock);
    int t = watch_model_topic_index(m, topic);
    watch_partition *x = t >= 0 ? partition_of(m, (size_t)t, partition) : NULL;
    if (x && high > x->high)
        x->high = high;
    pthread_mutex_unlock(&m->lock);
}

/* ---- one record --------------------------------------------------------------- */

static const char *str(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* aanmelding, tlv, beschikking, verwijzing: type, status, source type. */
static void on_event(watch_model *m, const char *type, const json_t *j, int64_t ts, int64_t now) {
    char key[96];
    watch_stats_add(m->stats, "type", type, ts, 1, now);
    const char *status = str(j, "status");
    snprintf(key, sizeof key, "%s:%s", type, *status ? status : "-");
    watch_stats_add(m->stats, "status", key, ts, 1, now);
    watch_stats_add(m->stats, "bron",
                    str(json_object_get(json_object_get(j, "envelope"), "bron"), "type"), ts, 1,
                    now);
}

/* The gemeente's regions at date, as tags of a case. */
static void gemeente_tags(const kh_ref *ref, const char *code, int32_t date, watch_case *c,
                          int *njr, int *nswv) {
    const kh_ref_gemeente *g = ref ? kh_ref_gemeente_at(ref, code, date) : NULL;
    if (!g)
        return;
    if (*njr < WATCH_REGION_TAGS)
        c->jeugdregio[(*njr)++] = g->jeugdregio;
    if (*nswv < WATCH_REGION_TAGS)
        c->swv[(*nswv)++] = g->swv_po;
    if (*nswv < WATCH_REGION_TAGS)
        c->swv[(*nswv)++] = g->swv_vo;
}

/* Fills the pairs and tags of a case from the melding's betrokkenen. */
static void case_of(const watch_model *m, const json_t *betrokkenen, watch_case *c) {
    int njr = 0, nswv = 0;
    size_t i;
    const json_t *b;
    json_array_foreach(betrokkenen, i, b) {
        const char *rol = str(b, "rol"), *type = str(b, "type"), *code = str(b, "code");
        if (!strcmp(rol, "WOONPLAATSGEMEENTE"))
            c->a[WATCH_PAAR_GEMEENTE] = code;
        else if (!strcmp(rol, "SCHOOLGEMEENTE"))
            c->b[WATCH_PAAR_GEMEENTE] = code;
        else if (!strcmp(rol, "SWV_WOONPLAATS"))
            c->a[WATCH_PAAR_SWV] = code;
        else if (!strcmp(rol, "SWV_SCHOOL") || !strcmp(rol, "SWV_AFGEVER"))
            c->b[WATCH_PAAR_SWV] = code;
        else if (!strcmp(rol, "JEUGDREGIO_WOONPLAATS"))
            c->a[WATCH_PAAR_JEUGDREGIO] = code;
        else if (!strcmp(rol, "JEUGDREGIO_AANBIEDER"))
            c->b[WATCH_PAAR_JEUGDREGIO] = code;
        if (!strcmp(type, "JEUGDREGIO") && njr < WATCH_REGION_TAGS)
            c->jeugdregio[njr++] = code;
        else if (!strcmp(type, "SWV") && nswv < WATCH_REGION_TAGS)
            c->swv[nswv++] = code;
        else if (!strcmp(type, "GEMEENTE"))
            gemeente_tags(m->ref, code, c->peildatum, c, &njr, &nswv);
    }
}

static void on_melding(watch_model *m, const json_t *j, int64_t ts, int64_t now) {
    char partner[48], cause[160];
    const char *regel = str(j, "regel");
    watch_stats_add(m->stats, "regel", regel, ts, 1, now);
    if (kh_orgid_from_json(json_object_get(j, "ontvanger"), partner, sizeof partner) == 0)
        watch_pending_melding(m->pending, str(j, "melding_id"), partner, ts);
    const json_t *o = json_object_get(j, "oorzaak");
    snprintf(cause, sizeof cause, "%s:%lld:%lld", str(o, "topic"),
             (long long)json_integer_value(json_object_get(o, "partition")),
             (long long)json_integer_value(json_object_get(o, "offset")));
    watch_case c = {.cause = cause, .regel = regel};
    if (kh_date_parse(str(j, "peildatum"), &c.peildatum))
        c.peildatum = kh_ts_to_date(ts);
    case_of(m, json_object_get(j, "betrokkenen"), &c);
    watch_region_add(m->region, &c);
}

static void on_aflevering(watch_model *m, const json_t *j, int64_t ts, int64_t now) {
    char partner[48] = "?", key[96];
    kh_orgid_from_json(json_object_get(j, "ontvanger"), partner, sizeof partner);
    snprintf(key, sizeof key, "%s|%s", partner, str(j, "outcome"));
    watch_stats_add(m->stats, "aflevering", key, ts, 1, now);
    watch_pending_done(m->pending, str(j, "melding_id"));
}

static void on_deadletter(watch_model *m, const watch_input *in, const json_t *j, int64_t now) {
    char key[96];
    snprintf(key, sizeof key, "%s|%s", str(j, "service"), str(j, "reason_code"));
    watch_stats_add(m->stats, "deadletter", key, in->ts_ms, 1, now);
    watch_dl *d = &m->dls[m->dlhead];
    memset(d, 0, sizeof *d);
    m->dlhead = (m->dlhead + 1) % WATCH_DEADLETTERS_KEPT;
    if (m->ndl < WATCH_DEADLETTERS_KEPT)
        m->ndl++;
    d->partition = in->partition;
    d->offset = in->offset;
    snprintf(d->reason, sizeof d->reason, "%s", str(j, "reason_code"));
    snprintf(d->service, sizeof d->service, "%s", str(j, "service"));
    if (kh_orgid_from_json(json_object_get(j, "ontvanger"), d->partner, sizeof d->partner))
        d->partner[0] = 0;
    snprintf(d->origin, sizeof d->origin, "%s:%lld:%lld", str(j, "origin_topic"),
             (long long)json_integer_value(json_object_get(j, "origin_partition")),
             (long long)json_integer_value(json_object_get(j, "origin_offset")));
    if (kh_ts_parse(str(j, "failed_at"), &d->failed_at))
        d->failed_at = in->ts_ms;
}

/* Decodes the value and counts what it is; a record that does not decode
 * is counted as such and otherwise ignored (the services dead-letter it). */
static void decode_and_count(watch_model *m, const watch_input *in, int64_t now) {
    const kh_schema *s;
    avro_value_t v;
    char err[256];
    if (kh_codec_decode(m->schemas, in->value, in->len, &s, &v, err, sizeof err) != KH_DECODE_OK) {
        m->undecodable++;
        return;
    }
    json_t *j = kh_codec_to_json(s, &v, err, sizeof err);
    avro_value_decref(&v);
    const char *name = kh_schema_name(s);
    if (!j)
        m->undecodable++;
    else if (!strcmp(name, "melding"))
        on_melding(m, j, in->ts_ms, now);
    else if (!strcmp(name, "aflevering"))
        on_aflevering(m, j, in->ts_ms, now);
    else if (!strcmp(name, "deadletter"))
        on_deadletter(m, in, j, now);
    else if (strcmp(in->topic, kh_schema_topic(s)) == 0)
        on_event(m, name, j, in->ts_ms, now);
    json_decref(j);
}

void watch_model_record(watch_model *m, const watch_input *in, int64_t now_ms) {
    pthread_mutex_lock(&m->lock);
    int t = watch_model_topic_index(m, in->topic);
    watch_partition *x = t >= 0 ? partition_of(m, (size_t)t, in->partition) : NULL;
    if (x) {
        watch_offidx_note(&x->idx, in->offset, in->ts_ms);
        if (in->offset + 1 > x->high)
            x->high = in->offset + 1;
        watch_stats_add(m->stats, "topic", in->topic, in->ts_ms, 1, now_ms);
        if (strcmp(in->topic, WATCH_TERMIJN_TOPIC) == 0)
            watch_termijn_record(m->termijn, in->key, in->klen, in->value, in->len, m->ref,
                                 kh_kalender_amsterdam_date(in->ts_ms));
        else if (in->value)
            decode_and_count(m, in, now_ms);
    }
    pthread_mutex_unlock(&m->lock);
}

/* ---- committed offsets and status ---------------------------------------------- */

watch_lag watch_model_lag(const watch_model *m, const watch_group *g, size_t t, int p,
                          int64_t now_ms) {
    const watch_partition *x = m->topics[t].parts[p];
    return watch_lag_of(&x->idx, g->committed[t][p], x->high, now_ms);
}

/* Counts what group g consumed on each topic since its last sample. */
static void note_consumed(watch_model *m, watch_group *x, const int64_t *sums, int64_t now_ms) {
    char key[128];
    for (size_t t = 0; t < m->ntopics; t++) {
        if (x->sampled && sums[t] > x->last_sum[t]) {
            snprintf(key, sizeof key, "%s|%s", x->service, m->topics[t].name);
            watch_stats_add(m->stats, "consumed", key, now_ms, (double)(sums[t] - x->last_sum[t]),
                            now_ms);
        }
        x->last_sum[t] = sums[t];
    }
    x->sampled = 1;
}

void watch_model_committed(watch_model *m, size_t g, const int64_t *committed, int read_error,
                           int64_t now_ms) {
    pthread_mutex_lock(&m->lock);
    watch_group *x = &m->groups[g];
    int64_t sums[WATCH_MAX_TOPICS] = {0}, sum = 0, lag = 0, oldest = 0;
    int has = 0;
    x->read_error = read_error;
    for (size_t t = 0; t < m->ntopics && !read_error; t++)
        for (int p = 0; p < m->topics[t].npart; p++) {
            x->committed[t][p] = committed[t * WATCH_MAX_PARTITIONS + (size_t)p];
            watch_lag l = watch_model_lag(m, x, t, p, now_ms);
            if (l.records < 0)
                continue;
            has = 1;
            char key[256];
            snprintf(key, sizeof key, "%s|%s|%d", x->service, m->topics[t].name, p);
            watch_stats_set(m->stats, "lag_partition", key, now_ms, (double)l.records, now_ms);
            sums[t] += x->committed[t][p];
            sum += x->committed[t][p];
            lag += l.records;
            oldest = l.age_ms > oldest ? l.age_ms : oldest;
        }
    if (!read_error && has) {
        note_consumed(m, x, sums, now_ms);
        watch_window_add(&x->window, sum, lag);
        watch_stats_set(m->stats, "lag", x->service, now_ms, (double)lag, now_ms);
        watch_stats_set(m->stats, "lag_seconds", x->service, now_ms, (double)oldest / 1000.0,
                        now_ms);
    }
    x->status = watch_window_status(&x->window, read_error, has, oldest, m->lim.err_ms);
    pthread_mutex_unlock(&m->lock);
}

/* ---- dead letters ------------------------------------------------------------------ */

static watch_dl *dl_find(watch_model *m, int32_t partition, int64_t offset) {
    for (size_t i = 0; i < m->ndl; i++)
        if (m->dls[i].partition == partition && m->dls[i].offset == offset)
            return &m->dls[i];
    return NULL;
}

int watch_model_deadletter(watch_model *m, int32_t partition, int64_t offset, char *partner,
                           size_t plen, char *reason, size_t rlen) {
    pthread_mutex_lock(&m->lock);
    watch_dl *d = dl_find(m, partition, offset);
    if (d) {
        snprintf(partner, plen, "%s", d->partner);
        snprintf(reason, rlen, "%s", d->reason);
    }
    pthread_mutex_unlock(&m->lock);
    return d ? 0 : -1;
}

void watch_model_redriven(watch_model *m, int32_t partition, int64_t offset,
                          const char *operator_name, int64_t now_ms) {
    pthread_mutex_lock(&m->lock);
    watch_dl *d = dl_find(m, partition, offset);
    if (d) {
        d->redriven_at = now_ms;
        snprintf(d->redriven_by, sizeof d->redriven_by, "%s", operator_name);
    }
    pthread_mutex_unlock(&m->lock);
}

size_t watch_model_bytes(watch_model *m) {
    pthread_mutex_lock(&m->lock);
    size_t n = sizeof *m + watch_stats_bytes(m->stats) + watch_termijn_bytes(m->termijn);
    for (size_t t = 0; t < m->ntopics; t++)
        n += (size_t)m->topics[t].npart * sizeof(watch_partition);
    pthread_mutex_unlock(&m->lock);
    return n;
}
