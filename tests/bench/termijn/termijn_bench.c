/*
 * termijn_bench — the state side of ketenhub-termijn at national scale:
 *   1. the decision core opens N termijnen (N children, one zorgplicht
 *      aanmelding each) in a termijn_store: events per second of
 *      termijn_apply + termijn_tick without Kafka, and resident memory per
 *      termijn (RSS growth / N);
 *   2. with -b: writes every dossier's changelog record to
 *      <prefix>ketenhub.termijn.state.v1 (P partitions, as the service
 *      does), then restores a fresh store from it with termijn_restore:
 *      restore seconds and records per second, and the memory after restore.
 *
 *   termijn_bench -r REFERENCE_DIR [-n N] [-b BOOTSTRAP -p PREFIX -P PARTITIONS]
 *
 * Prints one "key=value ..." line per measurement.
 */
#include "kh_config.h"
#include "kh_kafka.h"
#include "kh_kalender.h"
#include "kh_ref.h"
#include "kh_time.h"
#include "termijn_afspraak.h"
#include "termijn_core.h"
#include "termijn_restore.h"
#include "termijn_state.h"
#include "termijn_store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rss_bytes(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static void key_of(size_t i, char key[65]) {
    /* pseudonym-shaped: 64 hex digits, spread like a hash */
    uint64_t h = 1469598103934665603ull ^ i;
    for (int k = 0; k < 4; k++) {
        h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull;
        snprintf(key + 16 * k, 17, "%016llx", (unsigned long long)h);
    }
}

static void event_of(size_t i, termijn_event *ev) {
    memset(ev, 0, sizeof *ev);
    ev->kind = TERMIJN_EV_AANMELDING;
    snprintf(ev->bron, sizeof ev->bron, "SCHOOL:12OA00");
    snprintf(ev->oorzaak.event_id, sizeof ev->oorzaak.event_id, "6b0c1f5e-2d34-4c1a-9f1e-%012llu",
             (unsigned long long)(i % 1000000000000ull));
    ev->oorzaak.offset = (int64_t)i;
    snprintf(ev->bsn, sizeof ev->bsn, "999990251");
    ev->geboortedatum = kh_date_from_ymd(2016, 11, 20);
    snprintf(ev->woonplaats, sizeof ev->woonplaats, "GM0502");
    snprintf(ev->status, sizeof ev->status, "INGEDIEND");
    snprintf(ev->id, sizeof ev->id, "AANM-%zu", i);
    ev->datum = ev->handeling = kh_date_from_ymd(2026, 3, 2);
    ev->einddatum = TERMIJN_GEEN_DATUM;
    ev->informatie_opgevraagd = ev->informatie_ontvangen = TERMIJN_GEEN_DATUM;
    snprintf(ev->soort, sizeof ev->soort, "ONDERWIJS");
    snprintf(ev->bij, sizeof ev->bij, "12OA00");
    snprintf(ev->onderwijssoort, sizeof ev->onderwijssoort, "PO");
    ev->ondersteuningsbehoefte = 1;
}

static termijn_store *open_all(const termijn_ctx *ctx, size_t n, int partitions) {
    static termijn_uit out;
    termijn_store *s = termijn_store_new();
    int32_t today = kh_date_from_ymd(2026, 3, 3);
    double rss0 = rss_bytes(), t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        char key[65];
        termijn_event ev;
        key_of(i, key);
        event_of(i, &ev);
        out.n = 0;
        termijn_dossier *d = termijn_store_get(s, (int32_t)(i % (size_t)partitions), key, 64, 1);
        if (!d || termijn_apply(d, &ev, ctx, &out) || termijn_tick(d, today, ctx, &out)) {
            fprintf(stderr, "termijn_bench: out of memory at %zu\n", i);
            exit(1);
        }
    }
    double secs = now_s() - t0, grown = rss_bytes() - rss0;
    for (int p = 0; p < partitions; p++)
        termijn_store_mark_loaded(s, p);
    printf("core events=%zu seconds=%.3f events_per_s=%.0f termijnen=%zu rss_growth_mib=%.1f "
           "bytes_per_termijn=%.0f\n",
           n, secs, (double)n / secs, termijn_store_termijnen(s), grown / 1048576.0,
           grown / (double)n);
    return s;
}

typedef struct writer {
    rd_kafka_t *rk;
    const char *topic;
    size_t bytes;
} writer;

static int write_one(void *ud, int32_t p, const char *key, termijn_dossier *d) {
    writer *w = ud;
    size_t len;
    char *v = termijn_state_encode(d, &len);
    w->bytes += len;
    while (rd_kafka_producev(w->rk, RD_KAFKA_V_TOPIC(w->topic), RD_KAFKA_V_PARTITION(p),
                             RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(v, len),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(w->rk, 10);
    return 0;
}

static int write_changelog(kh_config *c, termijn_store *s, const char *topic, size_t n) {
    char err[512];
    writer w = {kh_kafka_producer_new(c, NULL, NULL, err, sizeof err), topic, 0};
    if (!w.rk) {
        fprintf(stderr, "termijn_bench: %s\n", err);
        return -1;
    }
    double t0 = now_s();
    termijn_store_each(s, write_one, &w);
    rd_kafka_flush(w.rk, 600000);
    int left = rd_kafka_outq_len(w.rk);
    rd_kafka_destroy(w.rk);
    printf("changelog records=%zu bytes_per_record=%.0f write_seconds=%.3f unacked=%d\n", n,
           (double)w.bytes / (double)n, now_s() - t0, left);
    return left ? -1 : 0;
}

/* The changelog topic with the service's partition count. */
static int create_topic(kh_config *c, const char *topic, int partitions) {
    char err[512];
    rd_kafka_t *rk = kh_kafka_producer_new(c, NULL, NULL, err, sizeof err);
    if (!rk)
        return -1;
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    int rc = ev && rd_kafka_event_error(ev) == 0 ? 0 : -1;
    if (ev) {
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev),
                                                &(size_t){0});
        if (res && rd_kafka_topic_result_error(res[0]))
            rc = -1,
            fprintf(stderr, "termijn_bench: %s\n", rd_kafka_topic_result_error_string(res[0]));
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_destroy(rk);
    return rc;
}

static int restore_all(kh_config *c, const char *topic, int partitions) {
    char err[512];
    int32_t parts[256];
    termijn_restore_stats st;
    for (int p = 0; p < partitions; p++)
        parts[p] = p;
    termijn_store *s = termijn_store_new();
    double rss0 = rss_bytes();
    if (termijn_restore(c, "termijn-bench-restore", topic, parts, (size_t)partitions, s, &st, err,
                        sizeof err)) {
        fprintf(stderr, "termijn_bench: %s\n", err);
        return -1;
    }
    printf("restore records=%zu dossiers=%zu termijnen=%zu seconds=%.3f records_per_s=%.0f "
           "rss_growth_mib=%.1f\n",
           st.records, st.dossiers, termijn_store_termijnen(s), st.seconds,
           (double)st.records / st.seconds, (rss_bytes() - rss0) / 1048576.0);
    termijn_store_free(s);
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = NULL, *bootstrap = NULL, *prefix = "bench.";
    size_t n = 1000000;
    int partitions = 4, opt;
    char err[512], topic[256];
    while ((opt = getopt(argc, argv, "r:n:b:p:P:")) != -1) {
        switch (opt) {
        case 'r': dir = optarg; break;
        case 'n': n = (size_t)atol(optarg); break;
        case 'b': bootstrap = optarg; break;
        case 'p': prefix = optarg; break;
        case 'P': partitions = atoi(optarg); break;
        default: return 2;
        }
    }
    kh_ref *ref = NULL;
    kh_kalender *kal = NULL;
    termijn_afspraken *afs = NULL;
    if (!dir || partitions < 1 || partitions > 256 || kh_ref_load(dir, &ref, err, sizeof err) ||
        kh_kalender_load(dir, &kal, err, sizeof err) ||
        termijn_afspraken_load(dir, &afs, err, sizeof err)) {
        fprintf(stderr,
                "usage: termijn_bench -r REFERENCE_DIR [-n N] [-b BOOTSTRAP -p PREFIX "
                "-P PARTITIONS] (%s)\n",
                dir ? err : "no -r");
        return 2;
    }
    termijn_ctx ctx = {ref, kal, afs};
    termijn_store *s = open_all(&ctx, n, partitions);
    int rc = 0;
    if (bootstrap) {
        kh_config *c = kh_config_new();
        kh_config_set(c, "kafka.bootstrap.servers", bootstrap);
        snprintf(topic, sizeof topic, "%sketenhub.termijn.state.v1", prefix);
        rc = create_topic(c, topic, partitions) || write_changelog(c, s, topic, n) ||
             restore_all(c, topic, partitions);
        kh_config_free(c);
    }
    termijn_store_free(s);
    termijn_afspraken_free(afs);
    kh_kalender_free(kal);
    kh_ref_free(ref);
    return rc ? 1 : 0;
}
