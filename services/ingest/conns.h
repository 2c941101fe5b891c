/*
 * conns — the open connections of the API port: how many there are (for
 * /readyz), what the library saw of the current request's raw target, and
 * a hard deadline for each request head.
 *
 * libmicrohttpd's own timeout (http.idle_timeout) counts inactivity, so a
 * client trickling one byte at a time keeps a connection forever, and an
 * idle connection holds its slot for the whole timeout. Here each
 * connection has a deadline by which a complete request head must have
 * reached the access handler: http.header_timeout after it was accepted,
 * http.idle_timeout after its previous answer (keep-alive). A watchdog
 * thread shuts down (shutdown(2)) the socket of a connection past its
 * deadline; libmicrohttpd then sees the end of the stream and closes it.
 *
 * A connection record is libmicrohttpd's socket_context: made on
 * MHD_CONNECTION_NOTIFY_STARTED, freed on MHD_CONNECTION_NOTIFY_CLOSED,
 * before the library closes the socket, so the watchdog (which works under
 * the same lock) never touches a socket number already reused. All
 * functions are thread-safe.
 */
#ifndef INGEST_CONNS_H
#define INGEST_CONNS_H

#include <stddef.h>
#include <stdint.h>

#include "telemetry.h"

typedef struct ingest_conns ingest_conns;

typedef struct ingest_conn {
    struct ingest_conn *prev, *next;
    int fd;
    int64_t deadline_ns; /* monotonic; 0 while a request is being handled */
    size_t target_len;   /* the current request's raw request-target */
    int target_bad;      /* ingest_http_target_bad of it */
} ingest_conn;

/* A tracker with the two deadlines in seconds; starts its watchdog thread.
 * NULL with a message in err when the thread cannot start. */
ingest_conns *ingest_conns_new(int64_t header_timeout_s, int64_t idle_timeout_s, telemetry *t,
                               char *err, size_t errlen);

/* Stops the watchdog and frees; every connection must be closed. */
void ingest_conns_free(ingest_conns *c);

/* A connection was accepted on socket fd; the record is the caller's until
 * ingest_conns_closed. */
ingest_conn *ingest_conns_opened(ingest_conns *c, int fd);
void ingest_conns_closed(ingest_conns *c, ingest_conn *k);

/* The raw request-target of k's next request (libmicrohttpd's URI log
 * callback, before any decoding). */
void ingest_conns_target(ingest_conns *c, ingest_conn *k, const char *raw);

/* k's request head reached the access handler: no deadline while it runs. */
void ingest_conns_head_received(ingest_conns *c, ingest_conn *k);

/* k's request was answered: the next head has until the idle deadline. */
void ingest_conns_request_done(ingest_conns *c, ingest_conn *k);

/* The number of open connections. */
size_t ingest_conns_open(ingest_conns *c);

#endif
