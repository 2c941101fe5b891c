/*
 * kh_service — what every ketenhub program does the same way: command line
 * (--config FILE, --set key=value, --help), configuration, structured logs,
 * signal flags, and the ops endpoint (/healthz, /readyz, /metrics).
 *
 *   kh_service svc;
 *   int rc = kh_service_init(&svc, "route", ROUTE_USAGE, argc, argv);
 *   if (rc) return rc < 0 ? 2 : 0;          // 1: --help was printed
 *   kh_service_start_ops(&svc, "127.0.0.1:9102", ready, ud);
 *   while (!kh_service_stop) { ... if (kh_service_reload) { ... } }
 *   kh_service_shutdown(&svc);
 *
 * Common configuration keys:
 *   log.level     debug | info | warn | error (default info)
 *   ops.listen    host:port of /healthz, /readyz, /metrics
 *   topic.prefix  prepended to every topic name (default empty); lets tests
 *                 and side-by-side environments share one Kafka cluster
 *   startup.kafka_check_ms  how long kh_service_kafka_check waits for Kafka
 */
#ifndef KH_SERVICE_H
#define KH_SERVICE_H

#include <signal.h>

#include "kh_config.h"
#include "kh_metrics.h"
#include "kh_ops.h"
#include "kh_schema.h"

/* Set by the signal handlers, read by service loops. With kh_log's settings
 * (written once, by kh_log_setup) and ketenhub-devbroker's own two signal
 * flags, the only mutable globals of ketenhub's programs; everything else
 * lives in structs the programs pass around. */
extern volatile sig_atomic_t kh_service_stop;   /* SIGTERM or SIGINT: finish and exit */
extern volatile sig_atomic_t kh_service_reload; /* SIGHUP: reload data files; the loop clears it */

typedef struct kh_service {
    const char *name;
    kh_config *config;   /* owned */
    kh_metrics *metrics; /* owned */
    kh_ops *ops;         /* owned, NULL until kh_service_start_ops */
} kh_service;

/* usage: the program's own text for --help (synopsis, what it does, its
 * configuration keys); the common options are appended. Returns 0 to run,
 * 1 when --help was printed, -1 after printing an error to stderr; on 1 and
 * -1 everything init made is already freed. kh_service_shutdown may be
 * called more than once. */
int kh_service_init(kh_service *svc, const char *name, const char *usage, int argc, char **argv);

/* Serves the ops endpoint on ops.listen (default_listen when unset). */
int kh_service_start_ops(kh_service *svc, const char *default_listen, kh_ops_ready_fn ready,
                         void *ud);

/* Reads an integer or boolean key; on a malformed value logs the error and
 * returns -1. */
int kh_service_int(kh_service *svc, const char *key, long long def, long long *out);
int kh_service_bool(kh_service *svc, const char *key, int def, int *out);

/* The full name of a ketenhub topic ("ketenhub.tlv.v1") with topic.prefix,
 * written into buf; returns buf. */
const char *kh_service_topic(const kh_service *svc, const char *topic, char *buf, size_t len);

/* The full name of the topic the manifest (schemas/ids.tsv) gives schema
 * `name`, with topic.prefix, written into buf; returns buf, or NULL (and
 * logs why the service cannot start) when the manifest names none. */
const char *kh_service_schema_topic(const kh_service *svc, const kh_schemas *schemas,
                                    const char *name, char *buf, size_t len);

/* Fails a start whose Kafka credentials or TLS settings the cluster
 * refuses (kh_kafka_check_credentials, waiting up to startup.kafka_check_ms,
 * default 10000; 0 skips the check): logs the reason and returns -1; else 0.
 * Call before creating the service's Kafka clients. */
int kh_service_kafka_check(kh_service *svc);

void kh_service_shutdown(kh_service *svc);

#endif
