/*
 * ketenhub-termijn — termijnbewaking: reads the event topics, keeps each
 * child's open termijnen (legal and agreed deadlines) in memory backed by a
 * compacted changelog topic, and publishes a melding on
 * ketenhub.grensverkeer.v1 to the parties that must act when one passes,
 * exactly once (Kafka transactions). See services/termijn/README.md.
 */
#include "kh_kafka.h"
#include "kh_kalender.h"
#include "kh_log.h"
#include "kh_ref.h"
#include "kh_schema.h"
#include "kh_service.h"
#include "termijn_event.h"
#include "termijn_loop.h"
#include "termijn_refdata.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The changelog topic's name, without topic.prefix; its one definition. */
#define TERMIJN_STATE_TOPIC "ketenhub.termijn.state.v1"

#define USAGE                                                                                  \
    "Usage: ketenhub-termijn [options]\n"                                                      \
    "\n"                                                                                       \
    "Consumes ketenhub.{aanmelding,tlv,beschikking,verwijzing}.v1 in one consumer group\n"     \
    "(range assignor: partition p of each topic on one instance), keeps every child's open\n"  \
    "termijnen, and when one passes publishes one melding per party that must act on\n"        \
    "ketenhub.grensverkeer.v1 (key: the recipient's code). Open termijnen live in the\n"       \
    "compacted changelog " TERMIJN_STATE_TOPIC " (as many partitions as the event\n"           \
    "topics); changelog records, meldingen and consumed offsets commit in one Kafka\n"         \
    "transaction. Poison records go to ketenhub.deadletter.v1.\n"                              \
    "\n"                                                                                       \
    "Configuration keys:\n"                                                                    \
    "  group.id               consumer group (default ketenhub-termijn)\n"                     \
    "  termijn.instance       stable, unique name of this instance (default: the host name)\n" \
    "  transactional.id       (default ketenhub-termijn-<termijn.instance>)\n"                 \
    "  termijn.batch.records  end a transaction after this many records, or a scan's\n"        \
    "                         after this many changed dossiers (default 20000)\n"              \
    "  termijn.batch.ms       ... or this many ms after its first record (default 250)\n"      \
    "  termijn.tick.ms        how often the clock is read; due termijnen fire when the\n"      \
    "                         date in Europe/Amsterdam changes (default 1000)\n"               \
    "  termijn.clock.file     FOR TESTS ONLY: read \"now\" (RFC 3339) from this file on\n"     \
    "                         every tick instead of the wall clock (default: unset)\n"         \
    "  reference.dir          reference data directory, with feestdagen.csv and\n"             \
    "                         termijnafspraken.csv (default " KH_DEFAULT_REFERENCE_DIR ")\n"   \
    "  termijn.shutdown.ms    SIGTERM: commit the open transaction and close within this,\n"   \
    "                         also when Kafka is unreachable (default 5000)\n"                 \
    "  ops.listen             /healthz /readyz /metrics (default 127.0.0.1:9105); /readyz\n"   \
    "                         is 503 \"restoring\" while the changelog is read\n"              \
    "SIGHUP reloads the reference data (all files or none: a bad file keeps the old data).\n"  \
    "Exit status: 0 after SIGTERM/SIGINT (open transaction committed); 1 on a fatal Kafka\n"   \
    "error, or when the last transaction did not commit within termijn.shutdown.ms (restart\n" \
    "it: the changelog restores exactly the committed state and uncommitted records are\n"     \
    "read again); 2 on bad configuration.\n"

static int ready_fn(void *ud, char *why, size_t whylen) {
    termijn_phase phase = (termijn_phase)atomic_load((atomic_int *)ud);
    if (phase == TERMIJN_RUNNING)
        return 1;
    snprintf(why, whylen, "%s", termijn_phase_name(phase));
    return 0;
}

typedef struct names {
    char topics[TERMIJN_EV_KINDS][256];
    char melding[256], deadletter[256], state[256];
    char instance[256], txn_id[300];
} names;

static int configure_topics(kh_service *svc, const kh_schemas *schemas, termijn_loop_config *cfg,
                            names *n) {
    for (int k = 0; k < TERMIJN_EV_KINDS; k++)
        if (!(cfg->topics[k] = kh_service_schema_topic(svc, schemas,
                                                       termijn_kind_name((termijn_kind)k),
                                                       n->topics[k], sizeof n->topics[k])))
            return -1;
    cfg->melding_topic = kh_service_schema_topic(svc, schemas, "melding", n->melding,
                                                 sizeof n->melding);
    cfg->deadletter_topic = kh_service_schema_topic(svc, schemas, "deadletter", n->deadletter,
                                                    sizeof n->deadletter);
    cfg->state_topic = kh_service_topic(svc, TERMIJN_STATE_TOPIC, n->state, sizeof n->state);
    return cfg->melding_topic && cfg->deadletter_topic ? 0 : -1;
}

static int configure(kh_service *svc, const kh_schemas *schemas, termijn_loop_config *cfg,
                     names *n) {
    const kh_config *c = svc->config;
    memset(cfg, 0, sizeof *cfg);
    kh_kafka_small_prefetch(svc->config, 20000);
    if (kh_service_int(svc, "termijn.batch.records", 20000, &cfg->batch_records) ||
        kh_service_int(svc, "termijn.batch.ms", 250, &cfg->batch_ms) ||
        kh_service_int(svc, "termijn.tick.ms", 1000, &cfg->tick_ms) ||
        kh_service_int(svc, "termijn.shutdown.ms", 5000, &cfg->shutdown_ms))
        return -1;
    if (cfg->batch_records < 1 || cfg->batch_ms < 1 || cfg->tick_ms < 1 || cfg->shutdown_ms < 1 ||
        cfg->shutdown_ms > INT32_MAX) {
        kh_log_error("bad configuration",
                     json_pack("{s:s}", "error",
                               "termijn.batch.records, termijn.batch.ms, termijn.tick.ms and "
                               "termijn.shutdown.ms must be at least 1"));
        return -1;
    }
    if (gethostname(n->instance, sizeof n->instance) != 0)
        strcpy(n->instance, "termijn");
    n->instance[sizeof n->instance - 1] = '\0';
    snprintf(n->txn_id, sizeof n->txn_id, "ketenhub-termijn-%s",
             kh_config_get(c, "termijn.instance", n->instance));
    cfg->group_id = kh_config_get(c, "group.id", "ketenhub-termijn");
    cfg->transactional_id = kh_config_get(c, "transactional.id", n->txn_id);
    cfg->clock_file = kh_config_get(c, "termijn.clock.file", NULL);
    return configure_topics(svc, schemas, cfg, n);
}

int main(int argc, char **argv) {
    kh_service svc;
    termijn_loop_config cfg;
    names n;
    char err[512];
    atomic_int phase = TERMIJN_STARTING;
    int rc = kh_service_init(&svc, "termijn", USAGE, argc, argv);
    if (rc)
        return rc < 0 ? 2 : 0;
    kh_schemas *schemas = NULL;
    if (kh_schemas_open(&schemas, err, sizeof err)) {
        kh_log_error("cannot start", json_pack("{s:s}", "error", err));
        kh_service_shutdown(&svc);
        return 1;
    }
    if (configure(&svc, schemas, &cfg, &n)) {
        kh_schemas_free(schemas);
        kh_service_shutdown(&svc);
        return 2;
    }
    rc = 1;
    const char *dir = kh_config_get(svc.config, "reference.dir", KH_DEFAULT_REFERENCE_DIR);
    termijn_refdata *refs = termijn_refdata_open(dir, err, sizeof err);
    if (!refs)
        kh_log_error("cannot load the reference data",
                     json_pack("{s:s,s:s}", "dir", dir, "error", err));
    else if (kh_service_start_ops(&svc, "127.0.0.1:9105", ready_fn, &phase) == 0)
        rc = termijn_loop_run(&svc, &cfg, refs, schemas, &phase);
    if (rc == TERMIJN_LOOP_ABANDONED) {
        /* a thread is still blocked in librdkafka and uses what would be
         * freed here: end the process, the uncommitted transaction is
         * redone after the restart */
        kh_log_info("stopped", json_pack("{s:i}", "exit", 1));
        fflush(NULL);
        _exit(1);
    }
    kh_log_info("stopped", json_pack("{s:i}", "exit", rc));
    termijn_refdata_close(refs);
    kh_schemas_free(schemas);
    kh_service_shutdown(&svc);
    return rc;
}
