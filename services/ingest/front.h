/*
 * front — the API port: accepts every connection itself and is the framing
 * guard of every request on it, plain or TLS, before libmicrohttpd sees a
 * byte.
 *
 * libmicrohttpd 0.9.75 (Debian 12 has no newer one) answers some malformed
 * requests itself, with HTML ingest cannot replace: a bad Content-Length
 * with its status line written twice, 414, 431, 505, chunk errors; a
 * request line without a space it closes unanswered. So it never gets the
 * client's socket. For each connection front makes a socketpair
 * (AF_UNIX, SOCK_STREAM) once the first head has passed, gives one end to
 * libmicrohttpd (MHD_add_connection with the client's real address) and
 * relays both directions:
 *   client -> library: parsed as a stream of requests (guard.h): each head
 *     whole, checked by ingest_http_check_framed, then its body by
 *     Content-Length or chunked coding, strictly. Only bytes that passed
 *     are forwarded (a head once complete, body bytes as they come).
 *   library -> client: copied as it is.
 * On a violation nothing more is forwarded. front counts the library's
 * answers as they pass (ingest_guard_answers in guard.h); once the
 * library has answered every request forwarded whole, front shuts its end
 * of the pair down both ways (libmicrohttpd 0.9.75 would wait for the rest
 * of a body that never comes), appends its own problem+json answer
 * (Connection: close; logged and counted like every rejection) and closes.
 * The client sees exactly one answer per request, in order, however many it
 * pipelined (at most INGEST_GUARD_PIPELINE_MAX unanswered at a time). When
 * the library closes first (its answer said Connection: close), front adds
 * nothing. Up to INGEST_GUARD_BLANK_MAX empty lines before a request line
 * are dropped (RFC 9112 §2.2).
 *
 * TLS is terminated here with GnuTLS (the certificate and key ingest is
 * configured with), so the guard reads plaintext; the library runs without
 * TLS on the pair.
 *
 * One epoll thread, non-blocking, level-triggered; per connection two
 * fixed buffers of INGEST_FRONT_BUF bytes, one per direction, with
 * back-pressure: a side is not read while the buffer it fills is full. The
 * connection limits are applied at accept, the head deadline moved at each
 * head (conns.h).
 *
 * Why a relay and not a peek: a peek (MSG_PEEK) sees only what is in the
 * socket before the library reads it, so it cannot check a later request
 * of a keep-alive connection, nor anything under TLS; the library offers
 * no hook between its reads and its parser. The relay costs a copy of
 * every byte and a few system calls per request (README, "Benchmark").
 */
#ifndef INGEST_FRONT_H
#define INGEST_FRONT_H

#include <microhttpd.h>
#include <netinet/in.h>
#include <stddef.h>

#include "conns.h"
#include "telemetry.h"

typedef struct ingest_front ingest_front;

/* A listening socket on addr (port 0: any). NULL with a message in err. */
ingest_front *ingest_front_listen(const struct sockaddr_in *addr, char *err, size_t errlen);

/* The port it listens on. */
int ingest_front_port(const ingest_front *f);

/* Bytes buffered per connection and direction. */
#define INGEST_FRONT_BUF 16384

typedef struct ingest_front_cfg {
    const char *tls_cert, *tls_key; /* PEM text; NULL: plain HTTP */
    unsigned long long body_max;    /* the largest body ingest takes (a chunk over it: 413) */
    unsigned threads;               /* the library's threads (MHD_OPTION_THREAD_POOL_SIZE) */
    size_t connections;             /* http.connection_limit: three descriptors each */
} ingest_front_cfg;

/* Starts accepting: each connection gets a record in conns, and its
 * requests go, checked, to daemon (started with MHD_USE_NO_LISTEN_SOCKET,
 * without TLS). Raises the soft limit of open files towards the hard one
 * when cfg->connections would not fit (a connection holds three: the
 * client's socket and both ends of its pair), and logs a warning when it
 * still does not. -1 with a message in err when the TLS certificate or key
 * cannot be used or the thread cannot start. conns, t and daemon must
 * outlive ingest_front_free; cfg is copied (its strings are not). */
int ingest_front_run(ingest_front *f, struct MHD_Daemon *daemon, ingest_conns *conns, telemetry *t,
                     const ingest_front_cfg *cfg, char *err, size_t errlen);

/* Refuses new connections from now on (shutdown of the listening socket);
 * open connections go on. */
void ingest_front_refuse(ingest_front *f);

/* Stops the thread once the answers the library has written are relayed
 * (at most 1 s), closes every client socket, its end of every pair and
 * the listening socket. Call before MHD_stop_daemon; the records of
 * connections the library still holds stay for ingest_conns_free. NULL is
 * fine. */
void ingest_front_free(ingest_front *f);

#endif
