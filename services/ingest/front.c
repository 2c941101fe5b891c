/*
 * front — one epoll thread: accept, TLS, the framing guard and the relay
 * between each client and libmicrohttpd's end of its socketpair (front.h).
 *
 * Each connection is driven by pump(): it makes every step that can be
 * made without blocking, in both directions, until none can, and then sets
 * the epoll interests of its two sockets from what it waits for. A socket
 * with nothing to wait for is taken out of the epoll set, so a peer's
 * hang-up cannot wake the loop while the other side is full.
 *
 * A connection ends in this order: the guard's answer (if any) goes out,
 * the client's write side is shut down and its input read and dropped for
 * a moment (a lingering close, so the client is not sent a reset that
 * could destroy the answer unread), its socket closed; the connection is
 * freed once nothing more can come from the library's end (closed by the
 * library, or shut down by front once the answers owed have come).
 */
#define _GNU_SOURCE /* accept4 */

#include "front.h"

#include "guard.h"
#include "problem.h"

#include "kh_alloc.h"
#include "kh_log.h"
#include "kh_uuid.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How long a closed connection's input is still read and dropped. */
#define LINGER_NS 2000000000LL
#define TICK_MS 100
/* How long ingest_front_free waits for answers still on their way. */
#define STOP_NS 1000000000LL
/* The largest TLS record payload. */
#define TLS_RECORD 16384
/* How long the listener rests when accept() finds no descriptor free. */
#define ACCEPT_PAUSE_NS 100000000LL

typedef struct conn {
    struct conn *prev, *next;
    int fd;                     /* the client's socket; -1 once closed */
    int lib;                    /* front's end of the pair; -1 before the first head passed */
    unsigned worker;            /* the library's thread that serves the other end */
    uint32_t want_fd, want_lib; /* epoll interests registered; 0: not in the set */
    struct sockaddr_in addr;
    ingest_conn *k;
    gnutls_session_t tls; /* NULL: plain */
    int handshaken;
    size_t tls_pending; /* the size of a gnutls_record_send to repeat (EAGAIN) */
    ingest_guard guard;
    char rx[INGEST_FRONT_BUF]; /* client -> library: [0, sent) written, [sent, ok) passed */
    size_t rx_sent, rx_ok, rx_len;
    char tx[INGEST_FRONT_BUF]; /* library -> client */
    size_t tx_off, tx_len;
    /* No more from the client; from the library; to the library; a byte of
     * the next head came; nothing more goes to the client. */
    int client_eof, lib_eof, lib_shut, head_started, done;
    /* A side may have bytes to read: epoll said so and no read since came
     * up short (a wasted recv per side and event otherwise). */
    int readable_fd, readable_lib;
    ingest_guard_answers answers; /* the library's, as they pass */
    size_t expect;                /* the answers owed, once expect_set */
    int expect_set;
    int64_t request_ns; /* when the current request's first byte came (monotonic) */
    int bad;            /* a violation, in v */
    const char *stage;  /* where the violation was, for the log; NULL once answered */
    ingest_http_verdict v;
    int64_t linger_until; /* 0 until the client's write side is shut down */
} conn;

struct ingest_front {
    int lfd, efd, ep;
    pthread_t thread;
    int running;
    struct MHD_Daemon *daemon;
    ingest_conns *conns;
    telemetry *t;
    ingest_front_cfg cfg;
    size_t *served;                        /* per library thread: the connections it serves */
    gnutls_certificate_credentials_t cred; /* NULL: plain HTTP */
    conn *head;
    int64_t accept_paused_until; /* 0: the listener is in the epoll set */
    int out_of_files;            /* an episode of EMFILE/ENFILE is going on (logged once) */
    char drop[INGEST_FRONT_BUF];
};

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int again(void) { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

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

/* ---- the two sockets --------------------------------------------------------------- */

/* The epoll data of a connection's socket: the conn, its lowest bit set for
 * the library's end (a conn is malloc'd, so that bit is free). */
#define LIB_SIDE 1u

static void interest(ingest_front *f, conn *c, int fd, uint32_t *have, uint32_t want) {
    if (fd < 0 || *have == want)
        return;
    struct epoll_event ev = {.events = want};
    ev.data.u64 = (uintptr_t)c | (fd == c->lib ? LIB_SIDE : 0);
    int op = !want ? EPOLL_CTL_DEL : !*have ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    epoll_ctl(f->ep, op, fd, &ev);
    *have = want;
}

/* The client's socket is closed; the library's end may still be open. */
static void close_client(ingest_front *f, conn *c) {
    if (c->fd < 0)
        return;
    interest(f, c, c->fd, &c->want_fd, 0);
    ingest_conns_socket_closed(f->conns, c->k);
    if (c->tls) {
        gnutls_deinit(c->tls);
        c->tls = NULL;
    }
    close(c->fd);
    c->fd = -1;
    c->client_eof = c->done = 1;
    c->rx_sent = c->rx_ok = c->rx_len = c->tx_off = c->tx_len = 0;
}

static void finish(ingest_front *f, conn *c) {
    close_client(f, c);
    if (c->lib >= 0) {
        interest(f, c, c->lib, &c->want_lib, 0);
        close(c->lib);
        f->served[c->worker]--;
    }
    ingest_conns_closed(f->conns, c->k);
    if (f->accept_paused_until) /* descriptors were freed: try again at once */
        f->accept_paused_until = 1;
    if (c->prev)
        c->prev->next = c->next;
    else
        f->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

/* The first head passed: the pair, one end to the library. */
static int hand_over(ingest_front *f, conn *c) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv)) {
        kh_log_warn("cannot make a socketpair", json_pack("{s:s}", "error", strerror(errno)));
        return -1;
    }
    /* libmicrohttpd gives an added socket to its thread number fd % threads:
     * of the pair's two numbers (usually consecutive), it gets the one whose
     * thread serves fewer connections, so the threads share the load
     * however the numbers fall. */
    unsigned n = f->cfg.threads ? f->cfg.threads : 1, w0 = (unsigned)sv[0] % n,
             w1 = (unsigned)sv[1] % n;
    int theirs = f->served[w0] < f->served[w1] ? 0 : 1;
    c->lib = sv[1 - theirs];
    c->worker = theirs ? w1 : w0;
    f->served[c->worker]++;
    /* The client's address, so the library's view of the connection stays
     * the client's. It closes its socket itself when it refuses it. */
    if (MHD_add_connection(f->daemon, sv[theirs], (const struct sockaddr *)&c->addr,
                           sizeof c->addr) != MHD_YES) {
        kh_log_warn("libmicrohttpd refused a connection",
                    json_pack("{s:s}", "error", strerror(errno)));
        c->lib_eof = 1;
        return -1;
    }
    return 0;
}

/* ---- the client's bytes ------------------------------------------------------------- */

/* Bytes from the client into rx; >0 read, 0 nothing now, -1 the end or an
 * error (client_eof set). */
static ssize_t client_read(conn *c, char *to, size_t room) {
    ssize_t n;
    if (c->tls) {
        n = gnutls_record_recv(c->tls, to, room);
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            return 0;
    } else {
        n = recv(c->fd, to, room, MSG_DONTWAIT);
        if (n < 0 && again())
            return c->readable_fd = 0;
        c->readable_fd = (size_t)n == room; /* a short read emptied the socket */
    }
    if (n > 0)
        return n;
    c->client_eof = 1;
    return -1;
}

/* Bytes to the client; >0 written, 0 not now, -1 the client is gone. */
static ssize_t client_write(conn *c, const char *from, size_t len) {
    ssize_t n;
    if (c->tls) {
        size_t size = c->tls_pending ? c->tls_pending : len < TLS_RECORD ? len : TLS_RECORD;
        n = gnutls_record_send(c->tls, from, size);
        c->tls_pending = n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED ? size : 0;
        if (c->tls_pending)
            return 0;
    } else {
        n = send(c->fd, from, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && again())
            return 0;
    }
    return n > 0 ? n : -1;
}

/* Room in rx: drops what the library has taken. */
static size_t rx_room(conn *c) {
    if (c->rx_sent == c->rx_len) {
        c->rx_sent = c->rx_ok = c->rx_len = 0;
    } else if (c->rx_sent && c->rx_len > INGEST_FRONT_BUF / 2) {
        memmove(c->rx, c->rx + c->rx_sent, c->rx_len - c->rx_sent);
        c->rx_ok -= c->rx_sent;
        c->rx_len -= c->rx_sent;
        c->rx_sent = 0;
    }
    return INGEST_FRONT_BUF - c->rx_len;
}

/* A head passed: forward it, note a HEAD request; hands the connection to
 * the library at its first. -1 when the library cannot take it. */
static int head_passed(ingest_front *f, conn *c, size_t n) {
    ingest_guard_answers_request(&c->answers, c->guard.heads - 1,
                                 n > 5 && memcmp(c->rx + c->rx_ok, "HEAD ", 5) == 0);
    c->head_started = 0;
    ingest_conns_head_received(f->conns, c->k);
    return c->lib < 0 ? hand_over(f, c) : 0;
}

/* The guard over the bytes not yet passed; 1 when it made a step. */
static int scan(ingest_front *f, conn *c) {
    int stepped = 0;
    while (!c->bad && c->rx_ok < c->rx_len) {
        size_t n;
        int is_head;
        ingest_guard_state state = c->guard.state;
        if (state == INGEST_GUARD_HEAD &&
            c->guard.heads - c->answers.count >= INGEST_GUARD_PIPELINE_MAX)
            break; /* until the library has answered more */
        if (state == INGEST_GUARD_HEAD && !c->head_started) {
            c->head_started = 1;
            c->request_ns = c->guard.heads ? mono_ns() : c->k->accepted_ns;
            if (c->guard.heads)
                ingest_conns_head_started(f->conns, c->k);
        }
        ingest_guard_step s = ingest_guard_scan(&c->guard, c->rx + c->rx_ok, c->rx_len - c->rx_ok,
                                                &n, &is_head, &c->v);
        if (s == INGEST_GUARD_MORE)
            break;
        stepped = 1;
        if (s == INGEST_GUARD_BAD) {
            c->bad = 1;
            c->stage = state != INGEST_GUARD_HEAD ? "body" : c->guard.heads ? "head" : "first-head";
        } else if (s == INGEST_GUARD_SKIP) {
            memmove(c->rx + c->rx_ok, c->rx + c->rx_ok + n, c->rx_len - c->rx_ok - n);
            c->rx_len -= n;
        } else {
            if (is_head && head_passed(f, c, n))
                return c->client_eof = 1, 1;
            c->rx_ok += n;
            if (c->guard.state == INGEST_GUARD_HEAD && !c->head_started)
                ingest_conns_request_done(f->conns, c->k);
        }
    }
    return stepped;
}

/* ---- the library's end ----------------------------------------------------------------- */

/* No more requests go to the library (a violation, or the client's end):
 * once it has the bytes passed, the answers it owes are those of the
 * requests forwarded whole; when it has sent them, its end is shut down
 * both ways, so it closes the connection even in the middle of a body
 * (libmicrohttpd 0.9.75 waits for the rest of a body past the end of the
 * stream). */
static int to_library(conn *c) {
    if (c->lib < 0 || c->lib_shut)
        return 0;
    if (c->rx_sent < c->rx_ok) {
        ssize_t n = send(c->lib, c->rx + c->rx_sent, c->rx_ok - c->rx_sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->rx_sent += (size_t)n;
            return 1;
        }
        if (n < 0 && again())
            return 0;
        c->rx_sent = c->rx_ok = c->rx_len = 0; /* the library closed its end */
        c->lib_shut = 1;
        return 1;
    }
    int waiting = c->rx_ok < c->rx_len && c->guard.state == INGEST_GUARD_HEAD &&
                  c->guard.heads - c->answers.count >=
                      INGEST_GUARD_PIPELINE_MAX; /* more whole requests to pass */
    if (!c->bad && (!c->client_eof || waiting))
        return 0;
    if (!c->expect_set) {
        c->expect = c->guard.heads - (c->guard.state != INGEST_GUARD_HEAD);
        c->expect_set = 1;
    }
    if (!c->done && c->answers.count < c->expect)
        return 0;
    shutdown(c->lib, SHUT_RDWR);
    c->lib_shut = c->readable_lib = 1; /* what it sent, then the end */
    return 1;
}

static int from_library(ingest_front *f, conn *c) {
    if (c->lib < 0 || c->lib_eof || !c->readable_lib)
        return 0;
    char *to = c->done ? f->drop : c->tx + c->tx_len;
    size_t room = c->done ? sizeof f->drop : INGEST_FRONT_BUF - c->tx_len;
    if (!room)
        return 0;
    ssize_t n = recv(c->lib, to, room, MSG_DONTWAIT);
    c->readable_lib = n > 0 && (size_t)n == room;
    if (n < 0 && again())
        return 0;
    if (n <= 0) {
        c->lib_eof = 1;
        return 1;
    }
    if (!c->done)
        c->tx_len += ingest_guard_answers_scan(&c->answers, to, (size_t)n,
                                               c->expect_set ? c->expect : SIZE_MAX);
    if (c->guard.state == INGEST_GUARD_HEAD && !c->head_started && !c->bad)
        ingest_conns_request_done(f->conns, c->k); /* idle counts from the last answer */
    return 1;
}

/* ---- the guard's answer ------------------------------------------------------------------ */

/* The problem+json answer, in the format of answer.c's, into the empty tx. */
static void answer(ingest_front *f, conn *c) {
    const ingest_http_verdict *v = &c->v;
    char id[37], date[64];
    kh_uuid_v4(id);
    const ingest_problem_info *info = ingest_problem_info_of(v->cls);
    json_t *problem = ingest_problem_new(v->cls, v->detail, id, NULL);
    char *body = problem ? json_dumps(problem, JSON_COMPACT) : NULL;
    json_decref(problem);
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
    int n = snprintf(c->tx, sizeof c->tx,
                     "HTTP/1.1 %u %s\r\nDate: %s\r\nContent-Type: application/problem+json\r\n"
                     "Cache-Control: no-store\r\n%sConnection: close\r\nContent-Length: %zu\r\n\r\n"
                     "%s",
                     info->status, MHD_get_reason_phrase_for(info->status), date,
                     v->accept_encoding ? "Accept-Encoding: identity\r\n" : "",
                     body ? strlen(body) : 0, body ? body : "");
    free(body);
    c->tx_off = 0;
    c->tx_len = n > 0 && (size_t)n < sizeof c->tx ? (size_t)n : 0;
    kh_log_info("request rejected",
                json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "route", "-", "partner", "-", "status",
                          (int)info->status, "problem", info->slug, "instance", id, "stage",
                          c->stage));
    ingest_telemetry_request(f->t, "-", info->status, "-",
                             (double)(mono_ns() - c->request_ns) / 1e9);
    ingest_telemetry_rejection(f->t, info->slug, "-");
}

/* ---- one connection's steps ---------------------------------------------------------------- */

static int to_client(conn *c) {
    if (c->done || c->tx_off == c->tx_len)
        return 0;
    ssize_t n = client_write(c, c->tx + c->tx_off, c->tx_len - c->tx_off);
    if (n == 0)
        return 0;
    if (n < 0) {
        c->done = 1;
        return 1;
    }
    c->tx_off += (size_t)n;
    if (c->tx_off == c->tx_len)
        c->tx_off = c->tx_len = 0;
    return 1;
}

static int from_client(conn *c) {
    if (c->client_eof || c->bad ||
        !(c->readable_fd || (c->tls && gnutls_record_check_pending(c->tls))))
        return 0;
    size_t room = rx_room(c);
    if (!room)
        return 0;
    ssize_t n = client_read(c, c->rx + c->rx_len, room);
    if (n > 0)
        c->rx_len += (size_t)n;
    return n != 0;
}

/* Everything the library will send has been relayed: the guard's answer
 * (only when the library answered every request before the bad one: when
 * it closed the connection earlier, its last answer said so), then the
 * lingering close. */
static int wind_up(ingest_front *f, conn *c) {
    int owed_sent = c->expect_set && c->answers.count >= c->expect;
    int ended = c->lib < 0 ? c->bad || c->client_eof : c->lib_eof || owed_sent;
    if (c->done || !ended || c->tx_len)
        return 0;
    if (c->bad && c->stage && (c->lib < 0 || owed_sent)) {
        answer(f, c);
        c->stage = NULL; /* once */
        return 1;
    }
    if (c->tls)
        gnutls_bye(c->tls, GNUTLS_SHUT_WR); /* best effort: a close_notify if it fits */
    shutdown(c->fd, SHUT_WR);
    c->done = 1;
    c->linger_until = mono_ns() + LINGER_NS;
    return 1;
}

/* Reads and drops a closed connection's input; 1 when it has ended. */
static int drained(ingest_front *f, conn *c) {
    for (;;) {
        ssize_t n = recv(c->fd, f->drop, sizeof f->drop, MSG_DONTWAIT);
        if (n > 0)
            continue;
        return n == 0 || !again();
    }
}

static int handshake(conn *c) {
    int rc = gnutls_handshake(c->tls);
    if (rc == GNUTLS_E_SUCCESS)
        return c->handshaken = 1;
    if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(rc))
        return 0;
    c->done = 1; /* not TLS, or no common ground: closed unanswered */
    return 1;
}

static void settle(ingest_front *f, conn *c);

/* events: what epoll reported for the client's socket (lib 0) or the
 * library's end (lib 1); 0: none. */
static void pump(ingest_front *f, conn *c, int lib, uint32_t events) {
    int readable = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
    if (lib) {
        c->readable_lib |= readable;
        events = 0;
    }
    c->readable_fd |= readable && !lib;
    if (c->fd >= 0 && (events & (EPOLLERR | EPOLLHUP)) && !(c->linger_until && (events & EPOLLIN)))
        close_client(f, c); /* reset, or shut down by the deadline watchdog */
    if (c->linger_until && c->fd >= 0 && drained(f, c))
        close_client(f, c);
    for (int progress = 1; progress;) {
        progress = 0;
        if (c->fd >= 0 && c->done && !c->linger_until)
            close_client(f, c);
        if (c->fd >= 0 && !c->done && c->tls && !c->handshaken) {
            progress |= handshake(c);
            if (!c->handshaken)
                continue;
        }
        if (c->fd >= 0 && !c->done) {
            progress |= from_client(c);
            progress |= scan(f, c);
            progress |= to_client(c);
            progress |= wind_up(f, c);
        }
        progress |= to_library(c);
        progress |= from_library(f, c);
    }
    settle(f, c);
}

/* The epoll interests from what the connection waits for, or its end. */
static void settle(ingest_front *f, conn *c) {
    if (c->fd < 0 && (c->lib < 0 || c->lib_eof)) {
        finish(f, c);
        return;
    }
    uint32_t want = 0;
    if (c->fd >= 0 && c->linger_until) {
        want = EPOLLIN;
    } else if (c->fd >= 0 && c->tls && !c->handshaken) {
        want = gnutls_record_get_direction(c->tls) ? EPOLLOUT : EPOLLIN;
    } else if (c->fd >= 0) {
        if (!c->client_eof && !c->bad && c->rx_len - c->rx_sent < INGEST_FRONT_BUF)
            want |= EPOLLIN;
        if (c->tx_len || c->tls_pending)
            want |= EPOLLOUT;
    }
    interest(f, c, c->fd, &c->want_fd, want);
    want = 0;
    if (c->lib >= 0 && !c->lib_eof && (c->done || c->tx_len < INGEST_FRONT_BUF))
        want |= EPOLLIN;
    if (c->lib >= 0 && !c->lib_shut && c->rx_sent < c->rx_ok)
        want |= EPOLLOUT;
    interest(f, c, c->lib, &c->want_lib, want);
}

/* ---- the loop ------------------------------------------------------------------------------ */

static int tls_session(ingest_front *f, conn *c) {
    if (gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) ||
        gnutls_set_default_priority(c->tls) ||
        gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, f->cred)) {
        if (c->tls)
            gnutls_deinit(c->tls);
        c->tls = NULL;
        return -1;
    }
    gnutls_transport_set_int(c->tls, c->fd);
    return 0;
}

static void accepted(ingest_front *f, int fd, const struct sockaddr_in *addr) {
    ingest_conn *k = ingest_conns_accepted(f->conns, fd, addr->sin_addr.s_addr);
    if (!k) { /* a connection limit: closed unanswered */
        kh_metric_add(f->t->connections_closed, (const char *[]){"limit"}, 1);
        close(fd);
        return;
    }
    conn *c = kh_calloc(1, sizeof *c);
    c->fd = fd;
    c->lib = -1;
    c->addr = *addr;
    c->k = k;
    ingest_guard_answers_init(&c->answers);
    ingest_guard_init(&c->guard, f->cfg.body_max);
    c->next = f->head;
    if (f->head)
        f->head->prev = c;
    f->head = c;
    if (f->cred && tls_session(f, c)) {
        kh_log_warn("cannot start a TLS session", NULL);
        c->done = 1;
    }
    c->readable_fd = 1;
    pump(f, c, 0, 0);
}

/* Out of descriptors (or of kernel memory): the connection stays in the
 * backlog and the listener stays readable, so the level-triggered loop
 * would spin on it. The listener leaves the epoll set for ACCEPT_PAUSE_NS,
 * or until a connection closes; each failed accept is counted, an episode
 * logged once. */
static void accept_pause(ingest_front *f, int err) {
    const char *reason = err == EMFILE   ? "EMFILE"
                         : err == ENFILE ? "ENFILE"
                         : err == ENOMEM ? "ENOMEM"
                                         : "ENOBUFS";
    kh_metric_add(f->t->accept_errors, (const char *[]){reason}, 1);
    if (!f->out_of_files)
        kh_log_warn("cannot accept connections: out of file descriptors or memory; pausing the "
                    "listener until a connection closes (raise LimitNOFILE= or lower "
                    "http.connection_limit)",
                    json_pack("{s:s, s:I}", "error", strerror(err), "connections",
                              (json_int_t)ingest_conns_open(f->conns)));
    f->out_of_files = 1;
    epoll_ctl(f->ep, EPOLL_CTL_DEL, f->lfd, NULL);
    f->accept_paused_until = mono_ns() + ACCEPT_PAUSE_NS;
}

/* The pause is over: the listener is watched again. */
static void accept_resume(ingest_front *f) {
    if (!f->accept_paused_until || mono_ns() < f->accept_paused_until)
        return;
    f->accept_paused_until = 0;
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &f->lfd};
    epoll_ctl(f->ep, EPOLL_CTL_ADD, f->lfd, &lev);
}

static void accept_all(ingest_front *f) {
    for (;;) {
        struct sockaddr_in addr;
        socklen_t len = sizeof addr;
        int fd = accept4(f->lfd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (f->out_of_files)
                kh_log_info("accepting connections again", NULL);
            f->out_of_files = 0;
            accepted(f, fd, &addr);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            accept_pause(f, errno);
        else if (errno == EINVAL) /* refused: the socket was shut down */
            epoll_ctl(f->ep, EPOLL_CTL_DEL, f->lfd, NULL);
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            kh_log_warn("accept failed", json_pack("{s:s}", "error", strerror(errno)));
        return;
    }
}

static void linger_overdue(ingest_front *f) {
    int64_t now = mono_ns();
    for (conn *c = f->head, *next; c; c = next) {
        next = c->next;
        if (c->fd >= 0 && c->linger_until && now >= c->linger_until) {
            close_client(f, c);
            settle(f, c);
        }
    }
}

/* 1 while something the library wrote has not reached its client yet. */
static int relaying(ingest_front *f) {
    for (conn *c = f->head; c; c = c->next) {
        int queued = 0;
        if (c->fd >= 0 && !c->done &&
            (c->tx_len ||
             (c->lib >= 0 && !c->lib_eof && ioctl(c->lib, FIONREAD, &queued) == 0 && queued > 0)))
            return 1;
    }
    return 0;
}

/* Until ingest_front_free; then, for at most STOP_NS, until the answers the
 * library has written are relayed (it counts a request done once its
 * answer is written to its end of the pair). */
static void *loop(void *arg) {
    ingest_front *f = arg;
    struct epoll_event evs[64];
    int64_t stop_at = 0;
    for (;;) {
        int n = epoll_wait(f->ep, evs, 64, stop_at ? 10 : TICK_MS);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &f->efd) {
                epoll_ctl(f->ep, EPOLL_CTL_DEL, f->efd, NULL);
                stop_at = mono_ns() + STOP_NS;
                continue;
            }
            if (evs[i].data.ptr == &f->lfd) {
                accept_all(f);
                continue;
            }
            uintptr_t u = (uintptr_t)evs[i].data.u64;
            pump(f, (conn *)(u & ~(uintptr_t)LIB_SIDE), (u & LIB_SIDE) != 0, evs[i].events);
        }
        linger_overdue(f);
        accept_resume(f);
        if (stop_at && (mono_ns() >= stop_at || !relaying(f)))
            return NULL;
    }
}

static int load_tls(ingest_front *f, char *err, size_t errlen) {
    gnutls_datum_t cert = {(unsigned char *)f->cfg.tls_cert, (unsigned)strlen(f->cfg.tls_cert)};
    gnutls_datum_t key = {(unsigned char *)f->cfg.tls_key, (unsigned)strlen(f->cfg.tls_key)};
    int rc = gnutls_certificate_allocate_credentials(&f->cred);
    if (rc == 0)
        rc = gnutls_certificate_set_x509_key_mem(f->cred, &cert, &key, GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
        snprintf(err, errlen, "the TLS certificate or key cannot be used: %s", gnutls_strerror(rc));
        return -1;
    }
    return 0;
}

/* Room for every connection's three descriptors, and some for the rest of
 * the process (the broker's sockets, epoll, files). */
static void enough_files(size_t connections) {
    struct rlimit rl;
    rlim_t want = (rlim_t)connections * 3 + 256;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl))
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < want)
        kh_log_warn("the open-files limit is too low for http.connection_limit; raise it "
                    "(LimitNOFILE=)",
                    json_pack("{s:I, s:I}", "open_files", (json_int_t)rl.rlim_cur, "needed",
                              (json_int_t)want));
}

int ingest_front_run(ingest_front *f, struct MHD_Daemon *daemon, ingest_conns *conns, telemetry *t,
                     const ingest_front_cfg *cfg, char *err, size_t errlen) {
    f->daemon = daemon;
    f->conns = conns;
    f->t = t;
    f->cfg = *cfg;
    enough_files(cfg->connections);
    f->served = kh_calloc(cfg->threads ? cfg->threads : 1, sizeof *f->served);
    if (cfg->tls_cert && load_tls(f, err, errlen))
        return -1;
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
    if (f->cred)
        gnutls_certificate_free_credentials(f->cred);
    free(f->served);
    if (f->ep >= 0)
        close(f->ep);
    if (f->efd >= 0)
        close(f->efd);
    close(f->lfd);
    free(f);
}
