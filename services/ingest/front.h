/*
 * front — the API port's listening socket and the first request head of
 * every connection, before libmicrohttpd sees it.
 *
 * libmicrohttpd 0.9.75 answers some malformed heads itself (a bad
 * Content-Length with its status line written twice, 414, 431, 505, a
 * request line without a target not at all) with HTML ingest cannot
 * replace. So ingest accepts connections itself: front peeks
 * (recv MSG_PEEK, which consumes nothing) at a new connection's bytes until
 * its first head is complete, checks it with ingest_http_check_raw, and
 * either answers a rejection itself (problem+json, Connection: close,
 * logged and counted like every rejection) or hands the socket unchanged
 * to libmicrohttpd (MHD_add_connection). Keep-alive requests after the
 * first are checked by the access handler (api.c). Under TLS the bytes are
 * ciphertext: the socket is handed over at once, unchecked here.
 *
 * The connection limits are applied at accept (conns.h). One thread.
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

/* Starts accepting: each connection gets a record in conns and, when
 * precheck is set, its first head checked, then goes to daemon (started
 * with MHD_USE_NO_LISTEN_SOCKET). -1 with a message in err when the thread
 * cannot start. conns, t and daemon must outlive ingest_front_free. */
int ingest_front_run(ingest_front *f, struct MHD_Daemon *daemon, ingest_conns *conns, telemetry *t,
                     int precheck, char *err, size_t errlen);

/* Refuses new connections from now on (shutdown of the listening socket);
 * heads already being received are still checked and handed over. */
void ingest_front_refuse(ingest_front *f);

/* Stops the thread, closes every connection not yet handed over and the
 * listening socket. Call before MHD_stop_daemon. NULL is fine. */
void ingest_front_free(ingest_front *f);

#endif
