/*
 * partners — loading and checking the partners file, and the per-partner
 * token bucket.
 */
#include "partners.h"

#include "kh_alloc.h"
#include "kh_code.h"
#include "kh_file.h"
#include "kh_orgid.h"
#include "kh_pseudo.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct partners {
    int refs; /* guarded by the store's lock; the store holds one for the current table */
    size_t count;
    partner *items;
};

struct partners_store {
    pthread_mutex_t lock;
    char *path;
    double default_rate, default_burst;
    partners *current;
};

/* Where problems are collected while a file is read: every one of them is
 * reported, as push's subscriptions reader does ("<pointer>: <what>",
 * joined by "; "), so one start shows every mistake. */
typedef struct parse_ctx {
    char *err;
    size_t errlen, used;
    int problems;
} parse_ctx;

static void problem(parse_ctx *c, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(parse_ctx *c, const char *pointer, const char *fmt, ...) {
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (c->used < c->errlen) {
        int n = snprintf(c->err + c->used, c->errlen - c->used, "%s%s: %s", c->problems ? "; " : "",
                         pointer, what);
        if (n > 0)
            c->used += (size_t)n < c->errlen - c->used ? (size_t)n : c->errlen - c->used;
    }
    c->problems++;
}

static void table_free(partners *t) {
    if (!t)
        return;
    for (size_t i = 0; i < t->count; i++)
        pthread_mutex_destroy(&t->items[i].lock);
    free(t->items);
    free(t);
}

static int valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= 64)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return 0;
    return 1;
}

static int valid_hash(const char *s) {
    if (strlen(s) != 64)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f'))
            return 0;
    return 1;
}

static void only_members(parse_ctx *c, const char *ptr, const json_t *obj) {
    static const char *const allowed[] = {
        "name", "organisatie", "api_key_sha256", "event_types", "rate_per_second", "burst", NULL};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], k) != 0)
            i++;
        if (!allowed[i])
            problem(c, ptr, "unknown member \"%.64s\"", k);
    }
}

static void parse_types(parse_ctx *c, const char *ptr, const json_t *arr, partner *p) {
    size_t i;
    json_t *v;
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        problem(c, ptr, "\"event_types\" must be a non-empty array of event type names");
        return;
    }
    json_array_foreach(arr, i, v) {
        const kh_event_type *t = kh_event_type_by_name(json_string_value(v) ? json_string_value(v)
                                                                            : "");
        if (!t)
            problem(c, ptr, "\"event_types\" item %zu is not an event type", i);
        else if (p->org_bit && !(t->issuers & p->org_bit))
            problem(c, ptr, "a %s does not issue %s events (DESIGN.md)", p->org_type, t->name);
        else
            p->types |= 1u << (t - kh_event_type_at(0));
    }
}

static void parse_rate(parse_ctx *c, const char *ptr, const json_t *obj, partner *p,
                       const partners_store *s) {
    const json_t *rate = json_object_get(obj, "rate_per_second"),
                 *burst = json_object_get(obj, "burst");
    p->rate = rate ? json_number_value(rate) : s->default_rate;
    p->burst = burst ? json_number_value(burst) : (rate ? fmax(1, p->rate) : s->default_burst);
    if ((rate && !json_is_number(rate)) || p->rate < 0)
        problem(c, ptr, "\"rate_per_second\" must be a number >= 0 (0: no limit)");
    if ((burst && !json_is_number(burst)) || (p->rate > 0 && p->burst < 1))
        problem(c, ptr, "\"burst\" must be a number >= 1");
    p->tokens = p->burst;
}

static void parse_org(parse_ctx *c, const char *ptr, const json_t *org, partner *p) {
    const char *type = json_string_value(json_object_get(org, "type"));
    const char *code = json_string_value(json_object_get(org, "code"));
    if (!type || !code || !kh_org_bit(type) || json_object_size(org) != 2) {
        problem(c, ptr,
                "\"organisatie\" must be {\"type\": GEMEENTE|SWV|SCHOOL|AANBIEDER, \"code\"}");
        return;
    }
    if (!kh_code_for_type(type, code) || kh_orgid_join(type, code, p->bron, sizeof p->bron)) {
        problem(c, ptr, "\"organisatie\" code is not a %s code (%s)", type,
                kh_code_format_hint(type));
        return;
    }
    snprintf(p->org_type, sizeof p->org_type, "%s", type);
    snprintf(p->org_code, sizeof p->org_code, "%s", code);
    p->org_bit = kh_org_bit(type);
}

static void parse_partner(parse_ctx *c, const json_t *obj, size_t index, partner *p,
                          const partners_store *s) {
    char ptr[64];
    snprintf(ptr, sizeof ptr, "/partners/%zu", index);
    pthread_mutex_init(&p->lock, NULL);
    if (!json_is_object(obj)) {
        problem(c, ptr, "must be an object");
        return;
    }
    only_members(c, ptr, obj);
    const char *name = json_string_value(json_object_get(obj, "name"));
    if (!name || !valid_name(name))
        problem(c, ptr, "\"name\" must be 1-63 letters, digits, '.', '-' or '_'");
    else
        snprintf(p->name, sizeof p->name, "%s", name);
    parse_org(c, ptr, json_object_get(obj, "organisatie"), p);
    const char *hash = json_string_value(json_object_get(obj, "api_key_sha256"));
    if (!hash || !valid_hash(hash))
        problem(c, ptr,
                "\"api_key_sha256\" must be 64 lowercase hex digits (sha256sum of the key)");
    else
        memcpy(p->key_sha256, hash, 65);
    parse_types(c, ptr, json_object_get(obj, "event_types"), p);
    parse_rate(c, ptr, obj, p, s);
}

static void check_unique(parse_ctx *c, const partners *t) {
    for (size_t i = 0; i < t->count; i++)
        for (size_t j = 0; j < i; j++) {
            char ptr[64];
            snprintf(ptr, sizeof ptr, "/partners/%zu", i);
            if (t->items[i].name[0] && strcmp(t->items[i].name, t->items[j].name) == 0)
                problem(c, ptr, "partner name %s is used twice", t->items[i].name);
            if (t->items[i].key_sha256[0] &&
                strcmp(t->items[i].key_sha256, t->items[j].key_sha256) == 0)
                problem(c, ptr, "partners %s and %s have the same API key", t->items[j].name,
                        t->items[i].name);
        }
}

/* Every partner of doc, or NULL with every problem in c. */
static partners *table_of(parse_ctx *c, const json_t *doc, const partners_store *s) {
    const json_t *list = json_object_get(doc, "partners");
    if (!json_is_array(list) || json_object_size(doc) != 1) {
        problem(c, "", "must be {\"partners\": [...]}");
        return NULL;
    }
    partners *t = kh_calloc(1, sizeof *t);
    t->items = kh_calloc(json_array_size(list) + 1, sizeof *t->items);
    size_t i;
    json_t *obj;
    json_array_foreach(list, i, obj) {
        parse_partner(c, obj, i, &t->items[i], s);
        t->count++;
    }
    check_unique(c, t);
    if (c->problems) {
        table_free(t);
        return NULL;
    }
    return t;
}

static partners *table_load(const partners_store *s, char *err, size_t errlen) {
    size_t len;
    char *text = kh_file_read(s->path, 1 << 24, &len, err, errlen);
    if (!text)
        return NULL;
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!doc) {
        snprintf(err, errlen, "%s: line %d column %d: %s", s->path, jerr.line, jerr.column,
                 jerr.text);
        return NULL;
    }
    char why[2048];
    parse_ctx c = {why, sizeof why, 0, 0};
    partners *t = table_of(&c, doc, s);
    json_decref(doc);
    if (!t)
        snprintf(err, errlen, "%s: %s", s->path, why);
    return t;
}

/* Called with the store's lock held: buckets carry over by name. */
static void adopt(partners_store *s, partners *fresh) {
    for (size_t i = 0; i < fresh->count; i++) {
        partner *p = &fresh->items[i];
        for (size_t j = 0; s->current && j < s->current->count; j++) {
            partner *old = &s->current->items[j];
            if (strcmp(old->name, p->name) != 0)
                continue;
            pthread_mutex_lock(&old->lock);
            p->tokens = fmin(old->tokens, p->burst);
            p->refill_ms = old->refill_ms;
            pthread_mutex_unlock(&old->lock);
        }
    }
}

static void drop_ref(partners *t) {
    if (--t->refs == 0)
        table_free(t);
}

partners_store *ingest_partners_open(const char *path, double default_rate, double default_burst,
                                     char *err, size_t errlen) {
    partners_store *s = kh_calloc(1, sizeof *s);
    s->path = kh_strdup(path);
    s->default_rate = default_rate;
    s->default_burst = default_burst;
    pthread_mutex_init(&s->lock, NULL);
    if (ingest_partners_reload(s, err, errlen)) {
        ingest_partners_close(s);
        return NULL;
    }
    return s;
}

int ingest_partners_reload(partners_store *s, char *err, size_t errlen) {
    partners *fresh = table_load(s, err, errlen);
    if (!fresh)
        return -1;
    pthread_mutex_lock(&s->lock);
    adopt(s, fresh);
    fresh->refs = 1;
    partners *old = s->current;
    s->current = fresh;
    if (old)
        drop_ref(old);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

void ingest_partners_close(partners_store *s) {
    if (!s)
        return;
    if (s->current)
        drop_ref(s->current);
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s);
}

partners *ingest_partners_acquire(partners_store *s) {
    pthread_mutex_lock(&s->lock);
    partners *t = s->current;
    t->refs++;
    pthread_mutex_unlock(&s->lock);
    return t;
}

void ingest_partners_release(partners_store *s, partners *p) {
    if (!p)
        return;
    pthread_mutex_lock(&s->lock);
    drop_ref(p);
    pthread_mutex_unlock(&s->lock);
}

size_t ingest_partners_count(const partners *p) { return p->count; }

size_t ingest_partners_count_current(partners_store *s) {
    pthread_mutex_lock(&s->lock);
    size_t n = s->current->count;
    pthread_mutex_unlock(&s->lock);
    return n;
}

partner *ingest_partners_find_key(partners *p, const char *key, size_t len) {
    char hash[65];
    if (kh_sha256_hex(key, len, hash))
        return NULL;
    partner *found = NULL;
    for (size_t i = 0; i < p->count; i++) {
        /* Every partner is compared, whatever matched before. */
        int same = CRYPTO_memcmp(hash, p->items[i].key_sha256, 64) == 0;
        if (same)
            found = &p->items[i];
    }
    return found;
}

int ingest_partner_may_send(const partner *p, const kh_event_type *t) {
    size_t index = (size_t)(t - kh_event_type_at(0));
    return (t->issuers & p->org_bit) && (p->types & (1u << index));
}

int ingest_partner_take_token(partner *p, int64_t now_ms, int *retry_after_s) {
    if (p->rate <= 0)
        return 0;
    pthread_mutex_lock(&p->lock);
    if (p->refill_ms == 0)
        p->refill_ms = now_ms;
    p->tokens = fmin(p->burst, p->tokens + (double)(now_ms - p->refill_ms) * p->rate / 1000.0);
    p->refill_ms = now_ms;
    int rc = 0;
    if (p->tokens >= 1) {
        p->tokens -= 1;
    } else {
        double wait = (1 - p->tokens) / p->rate;
        *retry_after_s = (int)ceil(wait) < 1 ? 1 : (int)ceil(wait);
        rc = -1;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}
