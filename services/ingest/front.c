/*
 * front — one epoll thread: accept, peek at each new connection until its
 * first head is complete, then answer a rejection or hand the socket to
 * libmicrohttpd. A rejected connection is half-closed after the answer and
 * its remaining input read and dropped for a moment (a lingering close), so
 * the client is not sent a reset that could destroy the answer unread.
 */
#define _GNU_SOURCE /* accept4 */

#include "front.h"

#include "http_check.h"
#include "problem.h"

#include "kh_alloc.h"
#include "kh_log.h"
#include "kh_uuid.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How long a rejected connection's input is still read and dropped. */
#define LINGER_NS 2000000000LL
#define TICK_MS 100

/* A connection whose first head is not decided yet, or one lingering. */
typedef struct pending {
    struct pending *prev, *next;
    int fd;
    struct sockaddr_in addr;
    ingest_conn *k;
    int64_t linger_until; /* 0 until rejected */
} pending;

struct ingest_front {
    int lfd, efd, ep;
    pthread_t thread;
    int running, precheck;
    struct MHD_Daemon *daemon;
    ingest_conns *conns;
    telemetry *t;
    pending *head;
    char buf[INGEST_HTTP_HEAD_MAX];
};

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

ingest_front *ingest_front_listen(const struct sockaddr_in *addr, char *err, size_t errlen) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) ||
        bind(fd, (const struct sockaddr *)addr, sizeof *addr) || listen(fd, SOMAXCONN)) {
        snprintf(err, errlen, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    ingest_front *f = kh_calloc(1, sizeof *f);
    f->lfd = fd;
    f->efd = f->ep = -1;
    return f;
}

int ingest_front_port(const ingest_front *f) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    return getsockname(f->lfd, (struct sockaddr *)&a, &len) ? 0 : ntohs(a.sin_port);
}

/* ---- one connection -------------------------------------------------------------- */

static void finish(ingest_front *f, pending *p) {
    if (p->prev)
        p->prev->next = p->next;
    else
        f->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    ingest_conns_closed(f->conns, p->k); /* before close: the number is not reused yet */
    close(p->fd);
    free(p);
}

/* The socket goes to libmicrohttpd, unread. */
static void hand_over(ingest_front *f, pending *p) {
    epoll_ctl(f->ep, EPOLL_CTL_DEL, p->fd, NULL);
    if (p->prev)
        p->prev->next = p->next;
    else
        f->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    ingest_conns_handed(f->conns, p->k);
    /* libmicrohttpd closes the socket itself when it refuses it. */
    if (MHD_add_connection(f->daemon, p->fd, (const struct sockaddr *)&p->addr, sizeof p->addr) !=
        MHD_YES) {
        kh_log_warn("libmicrohttpd refused a connection",
                    json_pack("{s:s}", "error", strerror(errno)));
        ingest_conns_closed(f->conns, p->k);
    }
    free(p);
}

/* The problem+json answer, in the format of answer.c's, written at once
 * (a new connection's send buffer holds it). */
static void answer(ingest_front *f, pending *p, const ingest_http_verdict *v) {
    char id[37], date[64], head[512];
    kh_uuid_v4(id);
    const ingest_problem_info *info = ingest_problem_info_of(v->cls);
    json_t *problem = ingest_problem_new(v->cls, v->detail, id, NULL);
    char *body = problem ? json_dumps(problem, JSON_COMPACT) : NULL;
    json_decref(problem);
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
    size_t len = body ? strlen(body) : 0;
    int n =
        snprintf(head, sizeof head,
                 "HTTP/1.1 %u %s\r\nDate: %s\r\nContent-Type: application/problem+json\r\n"
                 "Cache-Control: no-store\r\n%sConnection: close\r\nContent-Length: %zu\r\n\r\n",
                 info->status, MHD_get_reason_phrase_for(info->status), date,
                 v->accept_encoding ? "Accept-Encoding: identity\r\n" : "", len);
    send(p->fd, head, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT | (len ? MSG_MORE : 0));
    if (len)
        send(p->fd, body, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    free(body);
    kh_log_info("request rejected",
                json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "route", "-", "partner", "-", "status",
                          (int)info->status, "problem", info->slug, "instance", id, "stage",
                          "first-head"));
    ingest_telemetry_request(f->t, "-", info->status, "-",
                             (double)(mono_ns() - p->k->accepted_ns) / 1e9);
    ingest_telemetry_rejection(f->t, info->slug, "-");
}

/* Reads and drops a rejected connection's input; 1 when it has ended. */
static int drain(ingest_front *f, pending *p) {
    for (;;) {
        ssize_t n = recv(p->fd, f->buf, sizeof f->buf, MSG_DONTWAIT);
        if (n > 0)
            continue;
        return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    }
}

static void readable(ingest_front *f, pending *p) {
    if (p->linger_until) {
        if (drain(f, p))
            finish(f, p);
        return;
    }
    ssize_t n = recv(p->fd, f->buf, sizeof f->buf, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) { /* closed by the client, or by the watchdog at the deadline */
        finish(f, p);
        return;
    }
    ingest_http_verdict v;
    int rc = ingest_http_check_raw(f->buf, (size_t)n, &v);
    if (rc == 0)
        hand_over(f, p);
    else if (rc < 0) {
        answer(f, p, &v);
        shutdown(p->fd, SHUT_WR);
        p->linger_until = mono_ns() + LINGER_NS;
        if (drain(f, p))
            finish(f, p);
    }
}

/* ---- the loop ---------------------------------------------------------------------- */

static void accepted(ingest_front *f, int fd, const struct sockaddr_in *addr) {
    ingest_conn *k = ingest_conns_accepted(f->conns, fd, addr->sin_addr.s_addr);
    if (!k) { /* a connection limit: closed unanswered */
        kh_metric_add(f->t->connections_closed, (const char *[]){"limit"}, 1);
        close(fd);
        return;
    }
    pending *p = kh_calloc(1, sizeof *p);
    *p = (pending){NULL, f->head, fd, *addr, k, 0};
    if (f->head)
        f->head->prev = p;
    f->head = p;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = p};
    if (!f->precheck || epoll_ctl(f->ep, EPOLL_CTL_ADD, fd, &ev))
        hand_over(f, p);
}

static void accept_all(ingest_front *f) {
    for (;;) {
        struct sockaddr_in addr;
        socklen_t len = sizeof addr;
        int fd = accept4(f->lfd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            accepted(f, fd, &addr);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EINVAL) /* refused: the socket was shut down */
            epoll_ctl(f->ep, EPOLL_CTL_DEL, f->lfd, NULL);
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            kh_log_warn("accept failed", json_pack("{s:s}", "error", strerror(errno)));
        return;
    }
}

static void linger_overdue(ingest_front *f) {
    int64_t now = mono_ns();
    for (pending *p = f->head, *next; p; p = next) {
        next = p->next;
        if (p->linger_until && now >= p->linger_until)
            finish(f, p);
    }
}

static void *loop(void *arg) {
    ingest_front *f = arg;
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(f->ep, evs, 64, TICK_MS);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &f->efd)
                return NULL;
            if (evs[i].data.ptr == &f->lfd)
                accept_all(f);
            else
                readable(f, evs[i].data.ptr);
        }
        linger_overdue(f);
    }
}

int ingest_front_run(ingest_front *f, struct MHD_Daemon *daemon, ingest_conns *conns, telemetry *t,
                     int precheck, char *err, size_t errlen) {
    f->daemon = daemon;
    f->conns = conns;
    f->t = t;
    f->precheck = precheck;
    f->ep = epoll_create1(EPOLL_CLOEXEC);
    f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &f->lfd};
    struct epoll_event eev = {.events = EPOLLIN, .data.ptr = &f->efd};
    int rc = f->ep < 0 || f->efd < 0 || epoll_ctl(f->ep, EPOLL_CTL_ADD, f->lfd, &lev) ||
                     epoll_ctl(f->ep, EPOLL_CTL_ADD, f->efd, &eev)
                 ? errno
                 : pthread_create(&f->thread, NULL, loop, f);
    if (rc) {
        snprintf(err, errlen, "cannot start accepting connections: %s", strerror(rc));
        return -1;
    }
    f->running = 1;
    return 0;
}

void ingest_front_refuse(ingest_front *f) {
    if (f)
        shutdown(f->lfd, SHUT_RDWR);
}

void ingest_front_free(ingest_front *f) {
    if (!f)
        return;
    if (f->running) {
        uint64_t one = 1;
        if (write(f->efd, &one, sizeof one) != sizeof one)
            kh_log_warn("cannot stop the accepting thread",
                        json_pack("{s:s}", "error", strerror(errno)));
        pthread_join(f->thread, NULL);
    }
    while (f->head)
        finish(f, f->head);
    if (f->ep >= 0)
        close(f->ep);
    if (f->efd >= 0)
        close(f->efd);
    close(f->lfd);
    free(f);
}
