/*
 * sim_send — the simulator's HTTP client: POSTs events to ingest over a few
 * keep-alive connections in parallel (libcurl multi), and tries again what
 * the hub could not take yet (no connection, 429, 503) with the same body,
 * so the same event_id, until a time limit.
 *
 * One thread. The caller owns the tags it passes; each comes back exactly
 * once through the callback, with the final answer.
 */
#ifndef SIM_SEND_H
#define SIM_SEND_H

#include <stddef.h>

/* status 0: no answer (connection failed) before the retry time ran out.
 * body: the answer's body ("" when none), valid during the call. */
typedef void (*sim_send_done_fn)(void *ud, void *tag, long status, const char *body);

typedef struct sim_send sim_send;

/* base_url: "http://127.0.0.1:8080"; retry_ms: how long one event may be
 * retried. NULL when out of memory or libcurl fails to start. */
sim_send *sim_send_new(const char *base_url, int connections, long retry_ms, sim_send_done_fn done,
                       void *ud);
void sim_send_free(sim_send *s);

/* Queues one POST of body to path with the bearer key; waits (serving the
 * connections) until a connection is free. body and key are copied.
 * Returns 0 or -1 (out of memory). */
int sim_send_post(sim_send *s, const char *path, const char *key, const char *body, void *tag);

/* Serves the connections for at most ms milliseconds. */
void sim_send_poll(sim_send *s, int ms);

/* Waits until every queued POST has its final answer. */
void sim_send_drain(sim_send *s);

/* POSTs made, including retries. */
unsigned long sim_send_attempts(const sim_send *s);

#endif
