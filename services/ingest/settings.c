/*
 * settings — configuration keys of ingest with their defaults and limits.
 */
#include "settings.h"

#include "kh_log.h"
#include "kh_pseudo.h"

#include <string.h>

#ifndef KH_DEFAULT_REFERENCE_DIR
#error "KH_DEFAULT_REFERENCE_DIR must be defined by the build"
#endif

/* librdkafka settings ingest wants unless configured otherwise: every
 * partner waits for its record's acknowledgement, so a short linger (the
 * producer still batches whatever arrives while earlier batches are in
 * flight); a 503 within seconds rather than librdkafka's five minutes; a
 * quick reconnect once the broker is back. */
static const char *const kafka_defaults[] = {"kafka.linger.ms",
                                             "1",
                                             "kafka.message.timeout.ms",
                                             "10000",
                                             "kafka.reconnect.backoff.max.ms",
                                             "1000",
                                             NULL};

typedef struct int_key {
    const char *key;
    long long def, min, max;
    long long *out;
} int_key;

static int bad(const char *key, const char *why) {
    kh_log_error("bad configuration", json_pack("{s:s, s:s}", "key", key, "error", why));
    return -1;
}

int ingest_settings_load(kh_service *svc, settings *s) {
    kh_config *c = svc->config;
    memset(s, 0, sizeof *s);
    for (size_t i = 0; kafka_defaults[i]; i += 2)
        if (!kh_config_get(c, kafka_defaults[i], NULL))
            kh_config_set(c, kafka_defaults[i], kafka_defaults[i + 1]);
    const int_key ints[] = {
        {"http.threads", 2, 1, 64, &s->threads},
        {"http.max_body", 65536, 1024, 16 << 20, &s->max_body},
        {"http.max_batch_body", 1 << 20, 1024, 64 << 20, &s->max_batch_body},
        {"http.max_batch_lines", 1000, 1, 100000, &s->max_batch_lines},
        {"http.idle_timeout", 60, 1, 3600, &s->idle_timeout_s},
        {"http.connection_limit", 1000, 1, 100000, &s->connection_limit},
        {"http.per_address_limit", 256, 1, 100000, &s->per_address_limit},
        {"http.header_timeout", 10, 1, 3600, &s->header_timeout_s},
        {"http.retry_after", 5, 1, 3600, &s->retry_after_s},
        {"idempotency.window", 100000, 1, 1 << 24, &s->window},
        {"rate.per_second", 100, 0, 1000000, &s->rate},
        {"rate.burst", 200, 1, 10000000, &s->burst},
        {"broker.probe_ms", 1000, 50, 60000, &s->probe_ms},
        {"shutdown.grace_ms", 30000, 0, 3600000, &s->grace_ms},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (kh_service_int(svc, ints[i].key, ints[i].def, ints[i].out))
            return -1;
        if (*ints[i].out < ints[i].min || *ints[i].out > ints[i].max)
            return bad(ints[i].key, "out of range (see --help)");
    }
    s->listen = kh_config_get(c, "http.listen", "127.0.0.1:8080");
    s->tls_cert = kh_config_get(c, "http.tls.cert", NULL);
    s->tls_key = kh_config_get(c, "http.tls.key", NULL);
    if (!s->tls_cert != !s->tls_key)
        return bad(s->tls_cert ? "http.tls.key" : "http.tls.cert",
                   "TLS needs both http.tls.cert and http.tls.key");
    s->partners_file = kh_config_get(c, "partners.file", "partners.json");
    s->reference_dir = kh_config_get(c, "reference.dir", KH_DEFAULT_REFERENCE_DIR);
    s->secret = kh_config_get(c, "pseudonym.secret", NULL);
    if (!s->secret || strlen(s->secret) < KH_PSEUDO_MIN_KEYLEN)
        return bad("pseudonym.secret", "required, at least 16 bytes (use 32 random bytes)");
    return 0;
}
