/*
 * conns — a doubly linked list of connection records under one mutex, and
 * the watchdog thread that enforces the head deadlines.
 */
#include "conns.h"

#include "kh_alloc.h"
#include "kh_log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* How often the watchdog looks: the deadline is kept to within this. */
#define WATCH_MS 100

struct ingest_conns {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int stop;
    ingest_conn *head;
    size_t open, limit, per_address;
    int64_t header_ns, idle_ns;
    telemetry *t;
};

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Called with the lock held. */
static size_t close_overdue(ingest_conns *c, int64_t now) {
    size_t closed = 0;
    for (ingest_conn *k = c->head; k; k = k->next)
        if (k->fd >= 0 && k->deadline_ns && now >= k->deadline_ns) {
            shutdown(k->fd, SHUT_RDWR);
            k->deadline_ns = 0; /* once; front.c closes it soon */
            closed++;
        }
    return closed;
}

static void *watch(void *arg) {
    ingest_conns *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += WATCH_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->wake, &c->lock, &until);
        size_t closed = close_overdue(c, mono_ns());
        if (closed) {
            kh_metric_add(c->t->connections_closed, (const char *[]){"header-deadline"},
                          (double)closed);
            kh_log_info("connections closed: no complete request head before the deadline",
                        json_pack("{s:I}", "connections", (json_int_t)closed));
        }
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

ingest_conns *ingest_conns_new(int64_t header_timeout_s, int64_t idle_timeout_s, size_t limit,
                               size_t per_address_limit, telemetry *t, char *err, size_t errlen) {
    ingest_conns *c = kh_calloc(1, sizeof *c);
    c->limit = limit;
    c->per_address = per_address_limit;
    c->header_ns = header_timeout_s * 1000000000;
    c->idle_ns = idle_timeout_s * 1000000000;
    c->t = t;
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake, &attr);
    pthread_condattr_destroy(&attr);
    int rc = pthread_create(&c->thread, NULL, watch, c);
    if (rc) {
        snprintf(err, errlen, "cannot start the connection watchdog: %s", strerror(rc));
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    return c;
}

void ingest_conns_free(ingest_conns *c) {
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    while (c->head) { /* none: front.c closes every connection first */
        ingest_conn *k = c->head;
        c->head = k->next;
        free(k);
    }
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Called with the lock held. */
static void unlink_conn(ingest_conns *c, ingest_conn *k) {
    if (k->prev)
        k->prev->next = k->next;
    else
        c->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    c->open--;
    kh_metric_set(c->t->connections_open, NULL, (double)c->open);
}

/* Called with the lock held: the connections from addr. */
static size_t from_address(ingest_conns *c, uint32_t addr) {
    size_t n = 0;
    for (ingest_conn *k = c->head; k; k = k->next)
        n += k->addr == addr;
    return n;
}

ingest_conn *ingest_conns_accepted(ingest_conns *c, int fd, uint32_t addr) {
    pthread_mutex_lock(&c->lock);
    size_t same = from_address(c, addr);
    if (c->open >= c->limit || (c->per_address && same >= c->per_address)) {
        pthread_mutex_unlock(&c->lock);
        return NULL;
    }
    ingest_conn *k = kh_calloc(1, sizeof *k);
    k->fd = fd;
    k->addr = addr;
    k->accepted_ns = mono_ns();
    k->deadline_ns = k->accepted_ns + c->header_ns;
    k->next = c->head;
    if (c->head)
        c->head->prev = k;
    c->head = k;
    c->open++;
    kh_metric_set(c->t->connections_open, NULL, (double)c->open);
    pthread_mutex_unlock(&c->lock);
    return k;
}

void ingest_conns_closed(ingest_conns *c, ingest_conn *k) {
    if (!k)
        return;
    pthread_mutex_lock(&c->lock);
    unlink_conn(c, k);
    pthread_mutex_unlock(&c->lock);
    free(k);
}

/* Called with the lock held: a deadline for k, when its socket is open. */
static void set_deadline(ingest_conn *k, int64_t ns) {
    k->deadline_ns = k->fd >= 0 ? mono_ns() + ns : 0;
}

void ingest_conns_head_started(ingest_conns *c, ingest_conn *k) {
    pthread_mutex_lock(&c->lock);
    set_deadline(k, c->header_ns);
    pthread_mutex_unlock(&c->lock);
}

void ingest_conns_head_received(ingest_conns *c, ingest_conn *k) {
    pthread_mutex_lock(&c->lock);
    k->deadline_ns = 0;
    pthread_mutex_unlock(&c->lock);
}

void ingest_conns_socket_closed(ingest_conns *c, ingest_conn *k) {
    pthread_mutex_lock(&c->lock);
    k->fd = -1;
    k->deadline_ns = 0;
    pthread_mutex_unlock(&c->lock);
}

void ingest_conns_request_done(ingest_conns *c, ingest_conn *k) {
    pthread_mutex_lock(&c->lock);
    set_deadline(k, c->idle_ns);
    pthread_mutex_unlock(&c->lock);
}

size_t ingest_conns_open(ingest_conns *c) {
    pthread_mutex_lock(&c->lock);
    size_t n = c->open;
    pthread_mutex_unlock(&c->lock);
    return n;
}
