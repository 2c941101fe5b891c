/*
 * settings — the ingest configuration keys, read once at start-up. main.c's
 * --help text documents each key; README.md repeats them.
 */
#ifndef INGEST_SETTINGS_H
#define INGEST_SETTINGS_H

#include "kh_service.h"

typedef struct settings {
    const char *listen;          /* http.listen */
    long long threads;           /* http.threads */
    const char *tls_cert;        /* http.tls.cert, NULL: plain HTTP */
    const char *tls_key;         /* http.tls.key */
    long long max_body;          /* http.max_body: one event */
    long long max_batch_body;    /* http.max_batch_body */
    long long max_batch_lines;   /* http.max_batch_lines */
    long long idle_timeout_s;    /* http.idle_timeout */
    long long connection_limit;  /* http.connection_limit */
    long long per_address_limit; /* http.per_address_limit: connections from one IP address */
    long long header_timeout_s;  /* http.header_timeout: seconds for a complete request head */
    long long retry_after_s;     /* http.retry_after: Retry-After of a 503 */
    const char *partners_file;   /* partners.file */
    const char *reference_dir;   /* reference.dir */
    const char *secret;          /* pseudonym.secret */
    long long window;            /* idempotency.window */
    long long rate;              /* rate.per_second: default per partner, 0: no limit */
    long long burst;             /* rate.burst */
    long long probe_ms;          /* broker.probe_ms */
    long long grace_ms;          /* shutdown.grace_ms */
} settings;

/* Fills s from svc's configuration (the strings belong to the config) and
 * sets ingest's defaults for kafka.* keys the configuration leaves unset.
 * Logs what is wrong and returns -1 on a bad value. */
int ingest_settings_load(kh_service *svc, settings *s);

#endif
