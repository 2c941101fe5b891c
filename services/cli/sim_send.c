/*
 * sim_send — libcurl multi with a fixed set of slots, one easy handle each
 * (kept, so its connection stays alive). A slot whose answer says "not
 * now" waits out Retry-After (or a backoff) and sends the same request again.
 */
#include "sim_send.h"

#include "kh_alloc.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_CONNECTIONS 64

typedef struct slot {
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    char *answer;
    size_t answer_len;
    void *tag;
    int busy;         /* holds a request */
    int in_multi;     /* being sent now */
    long retry_after; /* seconds from the last answer's Retry-After, -1 none */
    long long deadline, next_try, backoff;
    char url[512];
} slot;

struct sim_send {
    CURLM *multi;
    slot slots[MAX_CONNECTIONS];
    int n;
    long retry_ms;
    char base[256];
    sim_send_done_fn done;
    void *ud;
    unsigned long attempts;
};

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
    slot *s = ud;
    size_t len = size * n;
    s->answer = kh_realloc(s->answer, s->answer_len + len + 1);
    memcpy(s->answer + s->answer_len, data, len);
    s->answer_len += len;
    s->answer[s->answer_len] = 0;
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud) {
    slot *s = ud;
    size_t len = size * n;
    if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0)
        s->retry_after = strtol(data + 12, NULL, 10);
    return len;
}

sim_send *sim_send_new(const char *base_url, int connections, long retry_ms, sim_send_done_fn done,
                       void *ud) {
    sim_send *s = kh_calloc(1, sizeof *s);
    s->n = connections < 1 ? 1 : connections > MAX_CONNECTIONS ? MAX_CONNECTIONS : connections;
    s->retry_ms = retry_ms;
    s->done = done;
    s->ud = ud;
    snprintf(s->base, sizeof s->base, "%s", base_url);
    s->multi = curl_multi_init();
    for (int i = 0; s->multi && i < s->n; i++)
        if (!(s->slots[i].easy = curl_easy_init()))
            break;
    if (!s->multi || !s->slots[s->n - 1].easy) {
        sim_send_free(s);
        return NULL;
    }
    curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)s->n);
    return s;
}

void sim_send_free(sim_send *s) {
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        slot *sl = &s->slots[i];
        if (sl->in_multi)
            curl_multi_remove_handle(s->multi, sl->easy);
        if (sl->easy)
            curl_easy_cleanup(sl->easy);
        curl_slist_free_all(sl->headers);
        free(sl->body);
        free(sl->answer);
    }
    if (s->multi)
        curl_multi_cleanup(s->multi);
    free(s);
}

unsigned long sim_send_attempts(const sim_send *s) { return s->attempts; }

static void start(sim_send *s, slot *sl) {
    CURL *e = sl->easy;
    free(sl->answer);
    sl->answer = NULL;
    sl->answer_len = 0;
    sl->retry_after = -1;
    curl_easy_setopt(e, CURLOPT_URL, sl->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl->headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, sl->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(sl->body));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, sl);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, sl);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, sl);
    curl_multi_add_handle(s->multi, e);
    sl->in_multi = 1;
    s->attempts++;
}

static void finish(sim_send *s, slot *sl, long status) {
    sl->busy = 0;
    s->done(s->ud, sl->tag, status, sl->answer ? sl->answer : "");
    curl_slist_free_all(sl->headers);
    sl->headers = NULL;
    free(sl->body);
    sl->body = NULL;
}

/* A finished transfer: the final answer, or a wait before the next try. */
static void completed(sim_send *s, slot *sl, CURLcode rc) {
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(s->multi, sl->easy);
    sl->in_multi = 0;
    int again = status == 0 || status == 429 || status == 503;
    long long now = now_ms();
    if (!again || now >= sl->deadline) {
        finish(s, sl, status);
        return;
    }
    long long wait = sl->retry_after >= 0 ? sl->retry_after * 1000LL : sl->backoff;
    if (wait > 2000)
        wait = 2000; /* the hub's Retry-After is advice; keep probing */
    sl->backoff = sl->backoff * 2 > 2000 ? 2000 : sl->backoff * 2;
    sl->next_try = now + wait;
}

void sim_send_poll(sim_send *s, int ms) {
    int running;
    long long now = now_ms();
    for (int i = 0; i < s->n; i++) {
        slot *sl = &s->slots[i];
        if (sl->busy && !sl->in_multi && now >= sl->next_try)
            start(s, sl);
    }
    curl_multi_perform(s->multi, &running);
    curl_multi_poll(s->multi, NULL, 0, ms, NULL);
    curl_multi_perform(s->multi, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s->multi, &left)))
        if (msg->msg == CURLMSG_DONE) {
            slot *sl;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
            completed(s, sl, msg->data.result);
        }
}

static slot *free_slot(sim_send *s) {
    for (int i = 0; i < s->n; i++)
        if (!s->slots[i].busy)
            return &s->slots[i];
    return NULL;
}

int sim_send_post(sim_send *s, const char *path, const char *key, const char *body, void *tag) {
    slot *sl;
    while (!(sl = free_slot(s)))
        sim_send_poll(s, 10);
    char auth[300];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    snprintf(sl->url, sizeof sl->url, "%s%s", s->base, path);
    sl->headers = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *h = sl->headers ? curl_slist_append(sl->headers, auth) : NULL;
    h = h ? curl_slist_append(h, "Expect:") : NULL; /* no 100-continue round trip */
    sl->body = kh_strdup(body);
    if (!h) {
        curl_slist_free_all(sl->headers);
        sl->headers = NULL;
        free(sl->body);
        sl->body = NULL;
        return -1;
    }
    sl->tag = tag;
    sl->busy = 1;
    sl->deadline = now_ms() + s->retry_ms;
    sl->backoff = 100;
    start(s, sl);
    return 0;
}

static int busy(const sim_send *s) {
    for (int i = 0; i < s->n; i++)
        if (s->slots[i].busy)
            return 1;
    return 0;
}

void sim_send_drain(sim_send *s) {
    while (busy(s))
        sim_send_poll(s, 20);
}
