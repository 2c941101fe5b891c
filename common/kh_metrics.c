/*
 * kh_metrics — a small Prometheus registry. Each family keeps its children
 * in a list (the rendering order) behind its own mutex, and a hash index of
 * them: a label per partner gives thousands of children (push at national
 * partner counts), and each update must not scan them all.
 */
#include "kh_metrics.h"

#include "kh_alloc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 6
#define KEY_LEN 256

typedef enum { COUNTER, GAUGE, HISTOGRAM } kind;

/* Sized to its key: push has thousands of partners with several series
 * each, so a fixed KEY_LEN per child would be most of the registry. */
typedef struct child {
    struct child *next;
    struct child *hnext; /* in its hash bucket */
    double value;        /* counter, gauge; the sum of a histogram */
    uint64_t count;      /* histogram observations */
    uint64_t *buckets;   /* histogram, one per bound (not cumulative) */
    char key[];          /* label pairs as rendered: route="/v1/tlvs",status="202" */
} child;

struct kh_family {
    struct kh_family *next;
    kind kind;
    char *name, *help;
    char *labels[MAX_LABELS];
    size_t nlabels;
    double *bounds;
    size_t nbounds;
    pthread_mutex_t lock;
    child *children;
    child **index; /* hash buckets; grown to keep chains short */
    size_t nindex, nchildren;
};

struct kh_metrics {
    pthread_mutex_t lock;
    kh_family *families, *last;
};

kh_metrics *kh_metrics_new(void) {
    kh_metrics *m = kh_calloc(1, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void kh_metrics_free(kh_metrics *m) {
    if (!m)
        return;
    for (kh_family *f = m->families, *next; f; f = next) {
        next = f->next;
        for (child *c = f->children, *cn; c; c = cn) {
            cn = c->next;
            free(c->buckets);
            free(c);
        }
        for (size_t i = 0; i < f->nlabels; i++)
            free(f->labels[i]);
        free(f->index);
        pthread_mutex_destroy(&f->lock);
        free(f->bounds);
        free(f->name);
        free(f->help);
        free(f);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static kh_family *family(kh_metrics *m, kind k, const char *name, const char *help,
                         const char *labels) {
    kh_family *f = kh_calloc(1, sizeof *f);
    f->kind = k;
    f->name = kh_strdup(name);
    f->help = kh_strdup(help);
    pthread_mutex_init(&f->lock, NULL);
    if (labels) {
        char *copy = kh_strdup(labels), *save = NULL;
        for (char *l = strtok_r(copy, ",", &save); l && f->nlabels < MAX_LABELS;
             l = strtok_r(NULL, ",", &save))
            f->labels[f->nlabels++] = kh_strdup(l);
        free(copy);
    }
    pthread_mutex_lock(&m->lock);
    if (m->last)
        m->last->next = f;
    else
        m->families = f;
    m->last = f;
    pthread_mutex_unlock(&m->lock);
    return f;
}

kh_family *kh_metrics_counter(kh_metrics *m, const char *name, const char *help,
                              const char *labels) {
    return family(m, COUNTER, name, help, labels);
}

kh_family *kh_metrics_gauge(kh_metrics *m, const char *name, const char *help, const char *labels) {
    return family(m, GAUGE, name, help, labels);
}

kh_family *kh_metrics_histogram(kh_metrics *m, const char *name, const char *help,
                                const char *labels, const double *bounds, size_t nbounds) {
    kh_family *f = family(m, HISTOGRAM, name, help, labels);
    f->bounds = kh_malloc(nbounds * sizeof *bounds);
    memcpy(f->bounds, bounds, nbounds * sizeof *bounds);
    f->nbounds = nbounds;
    return f;
}

/* Label values are escaped as the exposition format requires. */
static void build_key(const kh_family *f, const char *const *values, char *key) {
    size_t used = 0;
    key[0] = '\0';
    for (size_t i = 0; i < f->nlabels && used + 8 < KEY_LEN; i++) {
        used += (size_t)snprintf(key + used, KEY_LEN - used, "%s%s=\"", i ? "," : "", f->labels[i]);
        for (const char *v = values[i] ? values[i] : ""; *v && used + 4 < KEY_LEN; v++) {
            if (*v == '"' || *v == '\\' || *v == '\n') {
                key[used++] = '\\';
                key[used++] = *v == '\n' ? 'n' : *v;
            } else {
                key[used++] = *v;
            }
        }
        if (used + 2 < KEY_LEN)
            key[used++] = '"';
        key[used] = '\0';
    }
}

static size_t key_hash(const char *k) {
    size_t h = 14695981039346656037u;
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211u;
    return h;
}

/* Doubles the index (or makes the first) and re-hangs every child. */
static void grow_index(kh_family *f) {
    size_t n = f->nindex ? f->nindex * 2 : 64;
    free(f->index);
    f->index = kh_calloc(n, sizeof *f->index);
    f->nindex = n;
    for (child *c = f->children; c; c = c->next) {
        size_t b = key_hash(c->key) & (n - 1);
        c->hnext = f->index[b];
        f->index[b] = c;
    }
}

/* The child for these values, made when missing; called with f->lock held. */
static child *find(kh_family *f, const char *const *values, int create) {
    char key[KEY_LEN];
    build_key(f, values, key);
    size_t h = key_hash(key);
    if (f->nindex)
        for (child *c = f->index[h & (f->nindex - 1)]; c; c = c->hnext)
            if (strcmp(c->key, key) == 0)
                return c;
    if (!create)
        return NULL;
    size_t len = strlen(key) + 1;
    child *c = kh_calloc(1, sizeof *c + len);
    memcpy(c->key, key, len);
    if (f->kind == HISTOGRAM)
        c->buckets = kh_calloc(f->nbounds ? f->nbounds : 1, sizeof *c->buckets);
    c->next = f->children;
    f->children = c;
    if (++f->nchildren > f->nindex) {
        grow_index(f);
    } else {
        c->hnext = f->index[h & (f->nindex - 1)];
        f->index[h & (f->nindex - 1)] = c;
    }
    return c;
}

void kh_metric_add(kh_family *f, const char *const *values, double n) {
    pthread_mutex_lock(&f->lock);
    child *c = find(f, values, 1);
    if (c)
        c->value += n;
    pthread_mutex_unlock(&f->lock);
}

void kh_metric_set(kh_family *f, const char *const *values, double v) {
    pthread_mutex_lock(&f->lock);
    child *c = find(f, values, 1);
    if (c)
        c->value = v;
    pthread_mutex_unlock(&f->lock);
}

void kh_metric_observe(kh_family *f, const char *const *values, double v) {
    pthread_mutex_lock(&f->lock);
    child *c = find(f, values, 1);
    if (c) {
        c->value += v;
        c->count++;
        for (size_t i = 0; i < f->nbounds; i++) {
            if (v <= f->bounds[i]) {
                c->buckets[i]++;
                break;
            }
        }
    }
    pthread_mutex_unlock(&f->lock);
}

double kh_metric_value(kh_family *f, const char *const *values) {
    pthread_mutex_lock(&f->lock);
    child *c = find(f, values, 0);
    double v = c ? c->value : 0;
    pthread_mutex_unlock(&f->lock);
    return v;
}

/* A growable text buffer for rendering. */
typedef struct text {
    char *buf;
    size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text *t, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = (t->cap + (size_t)n) * 2;
        t->buf = kh_realloc(t->buf, t->cap);
    }
}

static void render_histogram(text *t, const kh_family *f, const child *c) {
    const char *sep = c->key[0] ? "," : "";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < f->nbounds; i++) {
        cumulative += c->buckets[i];
        put(t, "%s_bucket{%s%sle=\"%g\"} %llu\n", f->name, c->key, sep, f->bounds[i],
            (unsigned long long)cumulative);
    }
    put(t, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", f->name, c->key, sep, (unsigned long long)c->count);
    put(t, "%s_sum{%s} %.9g\n%s_count{%s} %llu\n", f->name, c->key, c->value, f->name, c->key,
        (unsigned long long)c->count);
}

char *kh_metrics_render(kh_metrics *m) {
    static const char *const kinds[] = {"counter", "gauge", "histogram"};
    text t = {.buf = kh_malloc(4096), .cap = 4096};
    t.buf[0] = '\0';
    pthread_mutex_lock(&m->lock);
    for (kh_family *f = m->families; f; f = f->next) {
        put(&t, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, kinds[f->kind]);
        pthread_mutex_lock(&f->lock);
        if (!f->children && f->nlabels == 0 && f->kind != HISTOGRAM)
            put(&t, "%s 0\n", f->name);
        for (child *c = f->children; c; c = c->next) {
            if (f->kind == HISTOGRAM)
                render_histogram(&t, f, c);
            else if (c->key[0])
                put(&t, "%s{%s} %.17g\n", f->name, c->key, c->value);
            else
                put(&t, "%s %.17g\n", f->name, c->value);
        }
        pthread_mutex_unlock(&f->lock);
    }
    pthread_mutex_unlock(&m->lock);
    return t.buf;
}
