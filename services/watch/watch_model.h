/*
 * watch_model — everything ketenhub-watch knows, fed by the Kafka side and
 * read by the HTTP side: the time series (watch_series), per partition the
 * high watermark and the offset index of record timestamps, per consumer
 * group the committed offsets, lag and status (watch_lag), the latest dead
 * letters (without payload), pending meldingen per partner (watch_pending),
 * the regional monitoring (watch_region) and the open and overdue
 * termijnen of termijn's state topic (watch_termijn).
 *
 * watch_model_record() turns one record into counts: it decodes the value
 * with kh_codec and keeps only types, statuses, organisation codes, rules
 * and regions, never the child's data. The JSON views are what the API
 * serves. All functions take the model's own lock, so the Kafka thread and
 * the HTTP threads may call them concurrently; now_ms is passed in so tests
 * control the clock.
 */
#ifndef WATCH_MODEL_H
#define WATCH_MODEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "kh_ref.h"
#include "kh_schema.h"
#include "watch_lag.h"

#define WATCH_MAX_TOPICS 10
#define WATCH_MAX_PARTITIONS 64
#define WATCH_MAX_GROUPS 8
#define WATCH_DEADLETTERS_KEPT 500

typedef struct watch_limits {
    size_t max_series;       /* watch.max.series */
    size_t region_rows;      /* watch.region.rows */
    size_t pending;          /* watch.pending.max */
    int status_window;       /* watch.status.window: samples per group status */
    int64_t err_ms;          /* watch.status.err_seconds * 1000 */
    int64_t partner_warn_ms; /* watch.partner.warn_seconds * 1000: oldest pending turns orange */
    size_t termijn_max;      /* watch.termijn.max: children of termijn's state kept at most */
} watch_limits;

typedef struct watch_model watch_model;

/* topics: the short names (without topic.prefix) of the topics read, in
 * the order of the schema manifest plus the retry topic; groups: "service=
 * group.id" pairs. schemas and ref are borrowed (ref may be NULL: the
 * region filters then use the melding's own regions only). */
watch_model *watch_model_new(const watch_limits *lim, const char *const *topics, size_t ntopics,
                             const char *const *services, const char *const *groups, size_t ngroups,
                             const kh_schemas *schemas);
void watch_model_free(watch_model *m);

/* Swaps the reference data used for region filters (borrowed). */
void watch_model_set_ref(watch_model *m, const kh_ref *ref);

/* One record read from topic (short name). headers: NULL-terminated
 * name/value pairs (may be NULL). */
typedef struct watch_input {
    const char *topic;
    int32_t partition;
    int64_t offset, ts_ms;
    const void *value;
    size_t len;
    const void *key; /* the record key (termijn's state: the child's pseudonym) */
    size_t klen;
} watch_input;

void watch_model_record(watch_model *m, const watch_input *in, int64_t now_ms);

/* The high watermark of topic/partition (partitions grow the table). */
void watch_model_high(watch_model *m, const char *topic, int32_t partition, int64_t high);

/* The committed offsets of group g (index into the groups given to new):
 * committed[t * WATCH_MAX_PARTITIONS + p] for topic t, partition p (-1:
 * none), or read_error. Takes one status sample. */
void watch_model_committed(watch_model *m, size_t g, const int64_t *committed, int read_error,
                           int64_t now_ms);

/* Number of partitions known for topic index t. */
int watch_model_partitions(watch_model *m, size_t t);

/* The JSON views (caller owns): */
json_t *watch_model_overview(watch_model *m,
                             int64_t now_ms); /* topics, groups, events, partners, flow */
json_t *watch_model_series(watch_model *m, const char *family, const char *key, int coarse,
                           int64_t now_ms); /* NULL when unknown */
json_t *watch_model_deadletters(watch_model *m, int64_t now_ms);
json_t *watch_model_region(watch_model *m, int paar, const char *jeugdregio, const char *swv);
char *watch_model_region_csv(watch_model *m, int paar, const char *jeugdregio, const char *swv);
/* Open and overdue termijnen at the Amsterdam date of now_ms (watch_termijn.h);
 * indeling a watch_indeling. */
json_t *watch_model_termijnen(watch_model *m, int indeling, const char *jeugdregio, const char *swv,
                              int64_t now_ms);
char *watch_model_termijnen_csv(watch_model *m, int indeling, const char *jeugdregio,
                                const char *swv, int64_t now_ms);

/* The dead letter at partition/offset: its partner ("TYPE:CODE") and
 * reason code, to check a redrive. Returns 0, or -1 when not kept. */
int watch_model_deadletter(watch_model *m, int32_t partition, int64_t offset, char *partner,
                           size_t plen, char *reason, size_t rlen);
void watch_model_redriven(watch_model *m, int32_t partition, int64_t offset,
                          const char *operator_name, int64_t now_ms);

/* Updates the gauges of metrics families (see watch_metrics in main.c). */
typedef struct watch_gauges {
    void (*lag)(void *ud, const char *group, const char *topic, int partition, int64_t records);
    void (*group)(void *ud, const char *group, const char *service, watch_status s, int64_t lag,
                  double age_s);
    void (*partner)(void *ud, const char *partner, size_t pending, double oldest_s);
    void (*topic)(void *ud, const char *topic, double total);
    /* national true counts per regel (the callee rounds them), and the
     * state records not read, per reason; either may be NULL */
    void (*termijn)(void *ud, const char *regel, int64_t open, int64_t verlopen);
    void (*termijn_niet_gelezen)(void *ud, const char *reden, uint64_t n);
    void *ud;
} watch_gauges;
void watch_model_gauges(watch_model *m, const watch_gauges *g, int64_t now_ms);

/* Bytes held by the model's bounded structures (for the memory test). */
size_t watch_model_bytes(watch_model *m);

#endif
