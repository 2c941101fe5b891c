/*
 * ketenhub-route — automated grensverkeer notifications: reads the event
 * topics, applies the cross-border rules of DESIGN.md with the reference
 * data of each event's own date, and publishes one melding per recipient on
 * ketenhub.grensverkeer.v1, exactly once (Kafka transactions). See
 * services/route/README.md.
 */
#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_schema.h"
#include "kh_service.h"
#include "route_loop.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define USAGE                                                                                   \
    "Usage: ketenhub-route [options]\n"                                                         \
    "\n"                                                                                        \
    "Consumes ketenhub.{aanmelding,tlv,beschikking,verwijzing}.v1 in one consumer group,\n"     \
    "applies the grensverkeer rules with the reference data of each event's own date and\n"     \
    "publishes one melding per recipient on ketenhub.grensverkeer.v1 (key: the recipient's\n"   \
    "code), inside Kafka transactions that also commit the consumed offsets (exactly once).\n"  \
    "Poison records go to ketenhub.deadletter.v1. Run several instances with the same\n"        \
    "group.id and distinct route.instance values to share the partitions.\n"                    \
    "\n"                                                                                        \
    "Configuration keys:\n"                                                                     \
    "  group.id            consumer group (default ketenhub-route)\n"                           \
    "  route.instance      stable name of this instance, the same across restarts and\n"        \
    "                      unique among running instances (default: the host name)\n"           \
    "  transactional.id    (default ketenhub-route-<route.instance>); a restart with the\n"     \
    "                      same id fences and aborts its predecessor's open transaction\n"      \
    "  route.transactions  true: exactly once; false: at least once (produce, flush, then\n"    \
    "                      commit offsets; a crash may repeat meldingen) (default true)\n"      \
    "  route.batch.records end a batch (transaction) after this many records (default 20000)\n" \
    "  route.batch.ms      ... or this many ms after its first record (default 250)\n"          \
    "  route.batch.idle.ms ... or this many ms without a new record; 0: never (default 2)\n"    \
    "  reference.dir       reference data directory (default " KH_DEFAULT_REFERENCE_DIR ")\n"   \
    "  reference.watch.ms  reload when the files there change, checked this often; 0: only\n"   \
    "                      on SIGHUP (default 5000)\n"                                          \
    "  route.shutdown.ms   SIGTERM: commit the open batch and close within this, also when\n"   \
    "                      Kafka is unreachable (default 5000)\n"                               \
    "  ops.listen          /healthz /readyz /metrics (default 127.0.0.1:9102)\n"                \
    "Exit status: 0 after SIGTERM/SIGINT (open batch committed); 1 on a fatal Kafka error,\n"   \
    "or when the last batch did not commit within route.shutdown.ms (restart it: nothing\n"     \
    "committed is lost, nothing uncommitted is visible); 2 on bad configuration.\n"

/* ud: the loop's readiness flag, main's `ready`. */
static int ready_fn(void *ud, char *why, size_t whylen) {
    if (atomic_load((atomic_int *)ud))
        return 1;
    snprintf(why, whylen, "not consuming (starting, or shutting down)");
    return 0;
}

/* Reads the configuration into cfg; names are written into the buffers. */
typedef struct names {
    char topics[ROUTE_KINDS][256];
    char melding[256], deadletter[256];
    char instance[256], txn_id[300];
} names;

static int configure_topics(kh_service *svc, const kh_schemas *schemas, route_loop_config *cfg,
                            names *n) {
    for (int k = 0; k < ROUTE_KINDS; k++)
        if (!(cfg->topics[k] = kh_service_schema_topic(svc, schemas, route_kind_name((route_kind)k),
                                                       n->topics[k], sizeof n->topics[k])))
            return -1;
    cfg->melding_topic = kh_service_schema_topic(svc, schemas, "melding", n->melding,
                                                 sizeof n->melding);
    cfg->deadletter_topic = kh_service_schema_topic(svc, schemas, "deadletter", n->deadletter,
                                                    sizeof n->deadletter);
    return cfg->melding_topic && cfg->deadletter_topic ? 0 : -1;
}

static int configure(kh_service *svc, const kh_schemas *schemas, route_loop_config *cfg, names *n) {
    const kh_config *c = svc->config;
    int txn;
    memset(cfg, 0, sizeof *cfg);
    kh_kafka_small_prefetch(svc->config, 20000);
    if (kh_service_bool(svc, "route.transactions", 1, &txn) ||
        kh_service_int(svc, "route.batch.records", 20000, &cfg->batch_records) ||
        kh_service_int(svc, "route.batch.ms", 250, &cfg->batch_ms) ||
        kh_service_int(svc, "route.batch.idle.ms", 2, &cfg->batch_idle_ms) ||
        kh_service_int(svc, "reference.watch.ms", 5000, &cfg->watch_ms) ||
        kh_service_int(svc, "route.shutdown.ms", 5000, &cfg->shutdown_ms))
        return -1;
    if (cfg->batch_records < 1 || cfg->batch_ms < 1 || cfg->batch_idle_ms < 0 ||
        cfg->watch_ms < 0 || cfg->shutdown_ms < 1 || cfg->shutdown_ms > INT32_MAX) {
        kh_log_error("bad configuration",
                     json_pack("{s:s}", "error",
                               "route.batch.records, route.batch.ms and route.shutdown.ms must be "
                               "at least 1 (route.shutdown.ms at most 2147483647), "
                               "route.batch.idle.ms and reference.watch.ms at least 0"));
        return -1;
    }
    if (gethostname(n->instance, sizeof n->instance) != 0)
        strcpy(n->instance, "route");
    n->instance[sizeof n->instance - 1] = '\0';
    snprintf(n->txn_id, sizeof n->txn_id, "ketenhub-route-%s",
             kh_config_get(c, "route.instance", n->instance));
    cfg->group_id = kh_config_get(c, "group.id", "ketenhub-route");
    cfg->transactional_id = txn ? kh_config_get(c, "transactional.id", n->txn_id) : NULL;
    cfg->reference_dir = kh_config_get(c, "reference.dir", KH_DEFAULT_REFERENCE_DIR);
    return configure_topics(svc, schemas, cfg, n);
}

int main(int argc, char **argv) {
    kh_service svc;
    route_loop_config cfg;
    names n;
    char err[512];
    atomic_int ready = 0; /* set by the loop while it consumes; read by /readyz */
    int rc = kh_service_init(&svc, "route", USAGE, argc, argv);
    if (rc)
        return rc < 0 ? 2 : 0;
    if (kh_service_kafka_check(&svc)) {
        kh_service_shutdown(&svc);
        return 2;
    }
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
    kh_refstore *store = NULL;
    rc = 1;
    if (!(store = kh_refstore_open(cfg.reference_dir, err, sizeof err)))
        kh_log_error("cannot start", json_pack("{s:s}", "error", err));
    else if (kh_service_start_ops(&svc, "127.0.0.1:9102", ready_fn, &ready) == 0)
        rc = route_loop_run(&svc, &cfg, store, schemas, &ready);
    if (rc == ROUTE_LOOP_ABANDONED) {
        /* a thread is still blocked in librdkafka and uses what would be
         * freed here: end the process; the uncommitted batch is redone
         * after the restart */
        kh_log_info("stopped", json_pack("{s:i}", "exit", 1));
        fflush(NULL);
        _exit(1);
    }
    kh_log_info("stopped", json_pack("{s:i}", "exit", rc));
    kh_refstore_close(store);
    kh_schemas_free(schemas);
    kh_service_shutdown(&svc);
    return rc;
}
