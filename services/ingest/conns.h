/*
 * conns — the open connections of the API port: how many there are (for
 * /readyz), and a hard deadline for each request head.
 *
 * libmicrohttpd's own timeout (http.idle_timeout) counts inactivity, so a
 * client trickling one byte at a time keeps a connection forever, and an
 * idle connection holds its slot for the whole timeout. Here each
 * connection has a deadline by which its next request head must be
 * complete: http.header_timeout after it was accepted or after the first
 * byte of a later head arrived, http.idle_timeout after the previous
 * request (keep-alive) while no byte of the next has come. front.c, which
 * sees every byte of every request (front.h), moves the deadline; a
 * watchdog thread shuts down (shutdown(2)) the client's socket of a
 * connection past it, and front.c then closes the connection.
 *
 * A connection record is made when front.c accepts the socket, which is
 * also where the connection limits are applied (http.connection_limit,
 * http.per_address_limit: the record counts from accept to close). It is
 * front.c's alone (libmicrohttpd never sees it). front.c stops the deadline
 * before it closes the client's socket, so the watchdog (which works under
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
    int fd;              /* the client's socket (front.c's) */
    uint32_t addr;       /* the client's IPv4 address, network order */
    int64_t accepted_ns; /* monotonic */
    int64_t deadline_ns; /* monotonic; 0 while a request is being handled */
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

/* The connection is closed: the record is freed. */
void ingest_conns_closed(ingest_conns *c, ingest_conn *k);

/* The first byte of a later request head of k came: the head has
 * http.header_timeout from now. */
void ingest_conns_head_started(ingest_conns *c, ingest_conn *k);

/* k's request head is complete: no deadline. */
void ingest_conns_head_received(ingest_conns *c, ingest_conn *k);

/* k's client socket is closed. Its number may belong to a new connection
 * at once, so k's socket is never shut down again; the record still counts
 * until ingest_conns_closed. */
void ingest_conns_socket_closed(ingest_conns *c, ingest_conn *k);

/* k is between requests: the next head has until http.idle_timeout from
 * now to begin. */
void ingest_conns_request_done(ingest_conns *c, ingest_conn *k);

/* The number of open connections. */
size_t ingest_conns_open(ingest_conns *c);

#endif
