/*
 * ketenhub-push — delivers meldingen (and subscribed raw events) to each
 * partner's own REST endpoint: signed, retried, dead-lettered when
 * permanent, every final outcome recorded on ketenhub.afleveringen.v1.
 * This file reads the configuration; push_loop.c does the work.
 */
#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_service.h"
#include "push_loop.h"

#include <stdio.h>

#define USAGE                                                                                    \
    "Usage: ketenhub-push [--config FILE] [--set KEY=VALUE]...\n"                                \
    "\n"                                                                                         \
    "Delivers every melding on ketenhub.grensverkeer.v1 to the partner it is addressed to,\n"    \
    "and raw events to subscribers they are addressed to, by HTTP POST to the partner's\n"       \
    "endpoint from the subscriptions file, signed per Standard Webhooks (webhook-id,\n"          \
    "webhook-timestamp, webhook-signature). 2xx is delivered; 408, 429, 5xx and network\n"       \
    "errors are retried with backoff through ketenhub.push.retry.v1 up to the partner's\n"       \
    "maximum age, then dead-lettered; other statuses are dead-lettered at once; a recipient\n"   \
    "without a subscription is dead-lettered for replay. Every final outcome is written to\n"    \
    "ketenhub.afleveringen.v1. See services/push/README.md.\n"                                   \
    "\n"                                                                                         \
    "Configuration keys:\n"                                                                      \
    "  subscriptions.file        the subscriptions (JSON; default subscriptions.json);\n"        \
    "                            reloaded on SIGHUP, kept when the new file is invalid\n"        \
    "  group.id                  Kafka consumer group (default ketenhub-push); instances\n"      \
    "                            with the same group.id share the partitions\n"                  \
    "  delivery.concurrency      requests in flight per partner when its subscription sets\n"    \
    "                            no limit (default 1: keeps each partner's order)\n"             \
    "  delivery.timeout.ms       per request, when the subscription sets none (default 10000)\n" \
    "  delivery.max.age.ms       give up (dead letter DELIVERY_EXPIRED) this long after push\n"  \
    "                            took a delivery on, when the subscription sets none\n"          \
    "                            (default 86400000, one day)\n"                                  \
    "  retry.initial.ms          backoff after the first failed attempt (default 1000)\n"        \
    "  retry.max.ms              longest backoff (default 300000); each failure doubles it,\n"   \
    "                            with jitter, and Retry-After is honoured when longer\n"         \
    "  retry.breaker.failures    failed attempts in a row after which the whole partner\n"       \
    "                            backs off: no requests until the backoff ends, its queued\n"    \
    "                            deliveries go to the retry topic (default 3; a Retry-After\n"   \
    "                            header makes the partner back off at once)\n"                   \
    "  buffer.max                deliveries read and not yet started, in memory, before\n"       \
    "                            push stops reading (default 10000)\n"                           \
    "  retry.buffer.max          retries held in memory until due, before reading the retry\n"   \
    "                            topic pauses (default 100000)\n"                                \
    "  commit.interval.ms        how often finished offsets are committed (default 1000)\n"      \
    "  shutdown.timeout.ms       on SIGTERM, how long requests in flight may finish\n"           \
    "                            (default 10000)\n"                                              \
    "  http.max.connections      idle connections kept for reuse (default 512)\n"                \
    "  http.max.host.connections connections per host, 0 = no cap (default 0)\n"                 \
    "  http.max.in.flight        requests in flight over all partners (default 512); partners\n" \
    "                            whose last attempt failed hold at most half of them\n"          \
    "  ops.listen                /healthz, /readyz, /metrics (default 127.0.0.1:9103)\n"         \
    "Topics (all with topic.prefix): reads ketenhub.grensverkeer.v1, ketenhub.push.retry.v1\n"   \
    "and the raw event topics subscriptions ask for; writes ketenhub.afleveringen.v1,\n"         \
    "ketenhub.deadletter.v1 and ketenhub.push.retry.v1. The consumer sets\n"                     \
    "kafka.allow.auto.create.topics=true unless configured, so the retry and afleveringen\n"     \
    "topics are created at start where the broker allows it. librdkafka's pre-fetch is\n"        \
    "capped unless configured: kafka.queued.min.messages=5000,\n"                                \
    "kafka.queued.max.messages.kbytes=8192, kafka.max.partition.fetch.bytes=262144.\n"           \
    "SIGHUP reloads the subscriptions file (not reference data: push uses none).\n"

typedef struct key_spec {
    const char *key;
    long long def, min;
    long long *out;
} key_spec;

/* librdkafka pre-fetches up to 64 MB and 100,000 records by default; push
 * keeps its own bounded buffer (buffer.max) of what it read, so its
 * pre-fetch can be smaller than route's: 5,000 records held the national
 * benchmark's start under 64 MB (README, Configuration). */
static void kafka_defaults(kh_service *svc) { kh_kafka_small_prefetch(svc->config, 5000); }

static int read_settings(kh_service *svc, push_settings *s) {
    long long conc, timeout;
    kafka_defaults(svc);
    key_spec keys[] = {
        {"delivery.concurrency", 1, 1, &conc},
        {"delivery.timeout.ms", 10000, 100, &timeout},
        {"delivery.max.age.ms", 86400000LL, 1, &s->defaults.max_age_ms},
        {"retry.initial.ms", 1000, 1, &s->retry_initial_ms},
        {"retry.max.ms", 300000, 1, &s->retry_max_ms},
        {"retry.breaker.failures", 3, 1, &s->breaker_failures},
        {"buffer.max", 10000, 4, &s->buffer_max},
        {"retry.buffer.max", 100000, 4, &s->retry_buffer_max},
        {"commit.interval.ms", 1000, 10, &s->commit_interval_ms},
        {"shutdown.timeout.ms", 10000, 0, &s->shutdown_timeout_ms},
        {"http.max.connections", 512, 1, &s->max_connections},
        {"http.max.host.connections", 0, 0, &s->max_host_connections},
        {"http.max.in.flight", 512, 2, &s->max_in_flight},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (kh_service_int(svc, keys[i].key, keys[i].def, keys[i].out))
            return -1;
        if (*keys[i].out < keys[i].min) {
            kh_log_error("bad configuration", json_pack("{s:s, s:I}", "key", keys[i].key, "minimum",
                                                        (json_int_t)keys[i].min));
            return -1;
        }
    }
    s->defaults.concurrency = (long)conc;
    s->defaults.timeout_ms = (long)timeout;
    s->subscriptions_file = kh_config_get(svc->config, "subscriptions.file", "subscriptions.json");
    if (kh_config_get(svc->config, "consumer.group", NULL)) {
        kh_log_error("bad configuration: consumer.group is now called group.id, as in route",
                     json_pack("{s:s}", "key", "consumer.group"));
        return -1;
    }
    s->group_id = kh_config_get(svc->config, "group.id", "ketenhub-push");
    return 0;
}

int main(int argc, char **argv) {
    kh_service svc;
    int rc = kh_service_init(&svc, "push", USAGE, argc, argv);
    if (rc)
        return rc < 0 ? 2 : 0;
    push_settings s = {0};
    rc = read_settings(&svc, &s) || kh_service_kafka_check(&svc) ? 2 : push_loop_run(&svc, &s);
    kh_service_shutdown(&svc);
    return rc;
}
