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
 * A connection record is made when front.c accepts the socket, which is
 * also where the connection limits are applied (http.connection_limit,
 * http.per_address_limit: the record counts from accept to close, while
 * front.c checks its first head and while libmicrohttpd serves it). Once
 * handed to libmicrohttpd it becomes the library's socket_context
 * (MHD_CONNECTION_NOTIFY_STARTED) and is freed on
 * MHD_CONNECTION_NOTIFY_CLOSED, before the library closes the socket, so
 * the watchdog (which works under the same lock) never touches a socket
 * number already reused. All functions are thread-safe.
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
    uint32_t addr;       /* the client's IPv4 address, network order */
    int64_t accepted_ns; /* monotonic */
    int64_t deadline_ns; /* monotonic; 0 while a request is being handled */
    int handed, started; /* given to libmicrohttpd; seen by its notify callback */
    size_t target_len;   /* the current request's raw request-target */
    int target_bad;      /* ingest_http_target_bad of it */
} ingest_conn;

/* A tracker with the two deadlines in seconds and the two limits; starts
 * its watchdog thread. NULL with a message in err when the thread cannot
 * start. */
ingest_conns *ingest_conns_new(int64_t header_timeout_s, int64_t idle_timeout_s, size_t limit,
                               size_t per_address_limit, telemetry *t, char *err, size_t errlen);

/* Stops the watchdog and frees; every connection must be closed. */
void ingest_conns_free(ingest_conns *c);

/* A connection from addr (network order) was accepted on socket fd: its
 * record, with the header deadline running; the caller's until
 * ingest_conns_closed. NULL when the connection limit or addr's limit is
 * reached: the caller closes the socket unanswered. */
ingest_conn *ingest_conns_accepted(ingest_conns *c, int fd, uint32_t addr);

/* k's socket is given to libmicrohttpd: no deadline until the library
 * reports it (a socket the library refused later is closed by it, and its
 * record dropped when accept reuses the number). */
void ingest_conns_handed(ingest_conns *c, ingest_conn *k);

/* libmicrohttpd took socket fd: its record, the header deadline counting
 * from accept again; NULL when none is known. */
ingest_conn *ingest_conns_started(ingest_conns *c, int fd);

/* The socket is about to be closed: the record is freed. */
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
