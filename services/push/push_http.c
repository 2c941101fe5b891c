/*
 * push_http — libcurl multi interface: one multi handle, easy handles reused
 * from a free list (the connection cache belongs to the multi handle, so any
 * easy handle reuses any idle connection to the same endpoint).
 */
#include "push_http.h"

#include "kh_alloc.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_WAKE_FDS 4

typedef struct transfer {
    struct transfer *next, *prev; /* the active list, or the free list (next only) */
    CURL *easy;
    struct curl_slist *headers;
    push_http_done_fn *done;
    void *ud;
    int has_retry_after;
    char errbuf[CURL_ERROR_SIZE];
    char status_line[100];
} transfer;

struct push_http {
    CURLM *multi;
    void *ctx;
    transfer *active;
    transfer *spare;
    int in_flight;
};

push_http *push_http_new(void *ctx, long max_connections, long max_host_connections, char *err,
                         size_t errlen) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "libcurl cannot be initialised");
        return NULL;
    }
    push_http *h = kh_calloc(1, sizeof *h);
    if (!(h->multi = curl_multi_init())) {
        free(h);
        snprintf(err, errlen, "libcurl: cannot create a multi handle");
        return NULL;
    }
    h->ctx = ctx;
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, max_connections);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_host_connections);
    return h;
}

static void release(push_http *h, transfer *t) {
    curl_multi_remove_handle(h->multi, t->easy);
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    if (t->prev)
        t->prev->next = t->next;
    else
        h->active = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = NULL;
    t->next = h->spare;
    h->spare = t;
    h->in_flight--;
}

void push_http_free(push_http *h) {
    if (!h)
        return;
    while (h->active)
        release(h, h->active);
    for (transfer *t = h->spare, *next; t; t = next) {
        next = t->next;
        curl_easy_cleanup(t->easy);
        free(t);
    }
    curl_multi_cleanup(h->multi);
    free(h);
    curl_global_cleanup();
}

static size_t discard(char *data, size_t size, size_t n, void *ud) {
    (void)data;
    (void)ud;
    return size * n;
}

/* Keeps the status line (for the error of a failed delivery) and notes a
 * Retry-After header; libcurl parses its value. */
static size_t on_header(char *data, size_t size, size_t n, void *ud) {
    transfer *t = ud;
    size_t len = size * n;
    if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
        size_t keep = len < sizeof t->status_line ? len : sizeof t->status_line - 1;
        memcpy(t->status_line, data, keep);
        while (keep > 0 && (t->status_line[keep - 1] == '\r' || t->status_line[keep - 1] == '\n'))
            keep--;
        t->status_line[keep] = '\0';
        t->has_retry_after = 0;
    } else if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
        t->has_retry_after = 1;
    }
    return len;
}

static transfer *take(push_http *h) {
    transfer *t = h->spare;
    if (t) {
        h->spare = t->next;
        curl_easy_reset(t->easy);
    } else {
        t = kh_calloc(1, sizeof *t);
        if (!(t->easy = curl_easy_init())) {
            free(t);
            return NULL;
        }
    }
    t->next = t->prev = NULL;
    t->errbuf[0] = t->status_line[0] = '\0';
    t->has_retry_after = 0;
    return t;
}

static void configure(transfer *t, const push_http_request *rq) {
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, rq->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "ketenhub-push");
    /* Answers are a status line, a few headers and a body push discards:
     * 4 kB instead of libcurl's 16 kB per request in flight. */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    if (rq->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, rq->ca_file);
    if (rq->cert)
        curl_easy_setopt(e, CURLOPT_SSLCERT, rq->cert);
    if (rq->key)
        curl_easy_setopt(e, CURLOPT_SSLKEY, rq->key);
}

int push_http_start(push_http *h, const push_http_request *rq, push_http_done_fn *done, void *ud,
                    char *err, size_t errlen) {
    transfer *t = take(h);
    if (!t) {
        snprintf(err, errlen, "libcurl: cannot create an easy handle");
        return -1;
    }
    /* "Expect:" stops libcurl waiting for a 100 Continue before larger bodies. */
    struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; hl && rq->headers && rq->headers[i]; i++) {
        struct curl_slist *more = curl_slist_append(hl, rq->headers[i]);
        if (!more) {
            curl_slist_free_all(hl);
            hl = NULL;
        }
        hl = more;
    }
    t->headers = hl;
    t->done = done;
    t->ud = ud;
    if (hl)
        configure(t, rq);
    if (!hl || curl_multi_add_handle(h->multi, t->easy) != CURLM_OK) {
        curl_slist_free_all(hl);
        t->headers = NULL;
        t->next = h->spare;
        h->spare = t;
        snprintf(err, errlen, "libcurl cannot start the request");
        return -1;
    }
    t->next = h->active;
    if (h->active)
        h->active->prev = t;
    h->active = t;
    h->in_flight++;
    return 0;
}

static void finish(push_http *h, CURL *easy, CURLcode code) {
    transfer *t = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
    push_http_result r = {.retry_after_ms = -1};
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &r.seconds);
    if (r.status > 0 && t->has_retry_after) {
        curl_off_t secs = 0;
        curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &secs);
        r.retry_after_ms = (int64_t)secs * 1000;
    }
    r.timed_out = code == CURLE_OPERATION_TIMEDOUT;
    if (r.status > 0 && t->status_line[0])
        snprintf(r.error, sizeof r.error, "%s", t->status_line);
    else if (r.status > 0)
        snprintf(r.error, sizeof r.error, "HTTP %ld", r.status);
    else
        snprintf(r.error, sizeof r.error, "%.159s",
                 t->errbuf[0] ? t->errbuf : curl_easy_strerror(code));
    push_http_done_fn *done = t->done;
    void *ud = t->ud;
    release(h, t);
    done(h->ctx, ud, &r);
}

/* Calls the callbacks of the finished transfers; returns how many. */
static int collect(push_http *h) {
    CURLMsg *msg;
    int left, n = 0;
    while ((msg = curl_multi_info_read(h->multi, &left)))
        if (msg->msg == CURLMSG_DONE) {
            finish(h, msg->easy_handle, msg->data.result);
            n++;
        }
    return n;
}

int push_http_run(push_http *h, int timeout_ms, const int *wake_fds, int nfds) {
    struct curl_waitfd extra[MAX_WAKE_FDS];
    int running;
    if (nfds > MAX_WAKE_FDS)
        nfds = MAX_WAKE_FDS;
    for (int i = 0; i < nfds; i++)
        extra[i] = (struct curl_waitfd){.fd = wake_fds[i], .events = CURL_WAIT_POLLIN};
    if (curl_multi_perform(h->multi, &running) != CURLM_OK)
        return -1;
    /* A request that just finished frees its partner's slot: return, so the
     * caller starts the partner's next request now rather than after the
     * wait (up to 100 ms at the tail of a partner's queue). */
    if (collect(h) > 0)
        return 0;
    if (curl_multi_poll(h->multi, extra, (unsigned)nfds, timeout_ms, NULL) != CURLM_OK)
        return -1;
    if (curl_multi_perform(h->multi, &running) != CURLM_OK)
        return -1;
    collect(h);
    return 0;
}

int push_http_in_flight(const push_http *h) { return h->in_flight; }

void push_http_abandon_all(push_http *h, void (*abandoned)(void *ud)) {
    while (h->active) {
        void *ud = h->active->ud;
        release(h, h->active);
        abandoned(ud);
    }
}
