/*
 * push_subs — parsing and lookup of the subscriptions file. Every field is
 * checked, unknown fields are refused, and every problem is reported with
 * its JSON pointer, so an operator fixes the file in one go.
 */
#include "push_subs.h"

#include "kh_alloc.h"
#include "kh_code.h"
#include "kh_event.h"
#include "kh_file.h"
#include "kh_orgid.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CONCURRENCY 256
#define MIN_TIMEOUT_MS 100
#define MAX_TIMEOUT_MS 600000

struct push_subs {
    push_sub *subs; /* sorted by partner, for bsearch */
    size_t n;
    unsigned events;
};

/* Where problems are collected while parsing. */
typedef struct parse_ctx {
    char *err;
    size_t errlen, used;
    int problems;
    const char *base_dir;
    const kh_schemas *schemas;
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

static void free_sub(push_sub *s) {
    free(s->url);
    free(s->endpoint);
    free(s->authorization);
    free(s->cert);
    free(s->key);
    free(s->ca_file);
    for (size_t i = 0; i < s->nregels; i++)
        free(s->regels[i]);
    free(s->regels);
    memset(s->secret, 0, sizeof s->secret);
}

void push_subs_free(push_subs *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free_sub(&s->subs[i]);
    free(s->subs);
    free(s);
}

/* Refuses members not in allowed (NULL-terminated). */
static void only_members(parse_ctx *c, const json_t *obj, const char *ptr,
                         const char *const *allowed) {
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

/* A string member, or NULL (with a problem when present but not a string,
 * or when required and missing). */
static const char *get_str(parse_ctx *c, const json_t *obj, const char *ptr, const char *name,
                           int required) {
    const json_t *v = json_object_get(obj, name);
    if (!v) {
        if (required)
            problem(c, ptr, "\"%s\" is required", name);
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) == 0) {
        problem(c, ptr, "\"%s\" must be a non-empty string", name);
        return NULL;
    }
    return json_string_value(v);
}

static long long get_int(parse_ctx *c, const json_t *obj, const char *ptr, const char *name,
                         long long def, long long min, long long max) {
    const json_t *v = json_object_get(obj, name);
    if (!v)
        return def;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        problem(c, ptr, "\"%s\" must be an integer from %lld to %lld", name, min, max);
        return def;
    }
    return json_integer_value(v);
}

/* A file name from the document, made absolute against base_dir and
 * checked to be readable. Returns a new string or NULL. */
static char *get_file(parse_ctx *c, const json_t *obj, const char *ptr, const char *name,
                      int required) {
    const char *f = get_str(c, obj, ptr, name, required);
    if (!f)
        return NULL;
    char *path = kh_malloc(strlen(c->base_dir) + strlen(f) + 2);
    if (f[0] == '/')
        strcpy(path, f);
    else
        sprintf(path, "%s/%s", c->base_dir, f);
    if (access(path, R_OK) != 0) {
        problem(c, ptr, "\"%s\": cannot read %.200s", name, path);
        free(path);
        return NULL;
    }
    return path;
}

/* The value of an environment variable named by member name. */
static const char *get_env(parse_ctx *c, const json_t *obj, const char *ptr, const char *name) {
    const char *var = get_str(c, obj, ptr, name, 1);
    if (!var)
        return NULL;
    const char *v = getenv(var);
    if (!v || !*v) {
        problem(c, ptr, "environment variable %.64s (named by \"%s\") is not set", var, name);
        return NULL;
    }
    return v;
}

static void parse_partner(parse_ctx *c, const json_t *obj, const char *ptr, push_sub *s) {
    const char *p = get_str(c, obj, ptr, "partner", 1);
    if (!p)
        return;
    char type[KH_ORGID_TYPE_LEN], code[KH_ORGID_CODE_LEN];
    if (kh_orgid_split(p, type, code)) {
        problem(c, ptr, "\"partner\" must be TYPE:CODE, e.g. GEMEENTE:GM0599");
        return;
    }
    if (!kh_org_bit(type))
        problem(c, ptr, "\"partner\" type must be GEMEENTE, SWV, SCHOOL or AANBIEDER");
    else if (!kh_code_for_type(type, code))
        problem(c, ptr, "\"partner\" code for %s must be %s", type, kh_code_format_hint(type));
    else
        strcpy(s->partner, p);
}

/* The URL as scheme://host[:port]/path: what may be logged and recorded. */
static void parse_url(parse_ctx *c, const json_t *obj, const char *ptr, push_sub *s) {
    const char *url = get_str(c, obj, ptr, "url", 1);
    if (!url)
        return;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        problem(c, ptr, "\"url\" must be an absolute http:// or https:// URL");
    } else {
        curl_url_get(u, CURLUPART_PORT, &port, 0);
        curl_url_get(u, CURLUPART_PATH, &path, 0);
        size_t n = strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) +
                   (path ? strlen(path) : 0) + 8;
        s->endpoint = kh_malloc(n);
        snprintf(s->endpoint, n, "%s://%s%s%s%s", scheme, host, port ? ":" : "", port ? port : "",
                 path ? path : "/");
        s->url = kh_strdup(url);
        if (strlen(s->endpoint) > 512)
            problem(c, ptr, "\"url\" is longer than 512 characters");
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
}

static int token_ok(const char *t) {
    for (; *t; t++)
        if (*t <= ' ' || *t > '~')
            return 0;
    return 1;
}

static void parse_auth(parse_ctx *c, const json_t *obj, const char *ptr, push_sub *s) {
    static const char *const allowed[] = {"type", "token_env", "cert", "key", NULL};
    char p[96];
    const json_t *a = json_object_get(obj, "auth");
    snprintf(p, sizeof p, "%s/auth", ptr);
    if (!a) {
        s->auth = PUSH_AUTH_NONE;
        return;
    }
    if (!json_is_object(a)) {
        problem(c, p, "must be an object");
        return;
    }
    only_members(c, a, p, allowed);
    const char *type = get_str(c, a, p, "type", 1);
    if (!type)
        return;
    if (strcmp(type, "none") == 0) {
        s->auth = PUSH_AUTH_NONE;
    } else if (strcmp(type, "bearer") == 0) {
        s->auth = PUSH_AUTH_BEARER;
        const char *tok = get_env(c, a, p, "token_env");
        if (tok && !token_ok(tok))
            problem(c, p, "the bearer token has spaces or control characters");
        else if (tok) {
            s->authorization = kh_malloc(strlen(tok) + 32);
            sprintf(s->authorization, "Authorization: Bearer %s", tok);
        }
    } else if (strcmp(type, "tls_client") == 0) {
        s->auth = PUSH_AUTH_TLS_CLIENT;
        s->cert = get_file(c, a, p, "cert", 1);
        s->key = get_file(c, a, p, "key", 1);
    } else {
        problem(c, p, "\"type\" must be none, bearer or tls_client");
    }
}

static void parse_secret(parse_ctx *c, const json_t *obj, const char *ptr, push_sub *s) {
    int inline_secret = json_object_get(obj, "secret") != NULL;
    int env_secret = json_object_get(obj, "secret_env") != NULL;
    if (inline_secret == env_secret) {
        problem(c, ptr, "give exactly one of \"secret\" and \"secret_env\"");
        return;
    }
    const char *whsec = inline_secret ? get_str(c, obj, ptr, "secret", 1)
                                      : get_env(c, obj, ptr, "secret_env");
    char why[160];
    if (whsec && push_sign_parse_secret(whsec, s->secret, &s->secret_len, why, sizeof why))
        problem(c, ptr, "%s", why);
}

/* The symbols of the melding schema's Regel enum. */
static const kh_node *regel_enum(const kh_schemas *schemas) {
    const kh_node *root = kh_schema_root(kh_schemas_by_name(schemas, "melding"));
    for (size_t i = 0; root && i < root->nfields; i++)
        if (strcmp(root->fields[i].name, "regel") == 0)
            return root->fields[i].type;
    return NULL;
}

static void parse_regels(parse_ctx *c, const json_t *obj, const char *ptr, push_sub *s) {
    const json_t *r = json_object_get(obj, "regels");
    const kh_node *e = regel_enum(c->schemas);
    char p[96];
    snprintf(p, sizeof p, "%s/regels", ptr);
    if (!r)
        return;
    if (!json_is_array(r) || json_array_size(r) == 0) {
        problem(c, p, "must be a non-empty array of rule names (leave it out for every rule)");
        return;
    }
    s->regels = kh_calloc(json_array_size(r), sizeof *s->regels);
    size_t i;
    const json_t *v;
    json_array_foreach(r, i, v) {
        const char *name = json_string_value(v);
        size_t k = 0;
        while (e && name && k < e->nsymbols && strcmp(e->symbols[k], name) != 0)
            k++;
        if (!e || !name || k == e->nsymbols)
            problem(c, p, "item %zu is not a grensverkeer rule (see the melding schema)", i);
        else
            s->regels[s->nregels++] = kh_strdup(name);
    }
}

static void parse_events(parse_ctx *c, const json_t *obj, const char *ptr, push_sub *s) {
    const json_t *ev = json_object_get(obj, "events");
    char p[96];
    snprintf(p, sizeof p, "%s/events", ptr);
    if (!ev)
        return;
    if (!json_is_array(ev)) {
        problem(c, p, "must be an array of event types");
        return;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(ev, i, v) {
        const char *name = json_string_value(v);
        size_t k = 0;
        while (name && k < kh_event_type_count() && strcmp(kh_event_type_at(k)->name, name) != 0)
            k++;
        if (!name || k == kh_event_type_count())
            problem(c, p, "item %zu must be aanmelding, tlv, beschikking or verwijzing", i);
        else
            s->events |= 1u << k;
    }
}

static void parse_limits(parse_ctx *c, const json_t *obj, const char *ptr, push_sub *s,
                         const push_sub_defaults *d) {
    static const char *const allowed[] = {"concurrency", "timeout_ms", "max_age_ms", NULL};
    const json_t *l = json_object_get(obj, "limits");
    char p[96];
    snprintf(p, sizeof p, "%s/limits", ptr);
    s->concurrency = d->concurrency;
    s->timeout_ms = d->timeout_ms;
    s->max_age_ms = d->max_age_ms;
    if (!l)
        return;
    if (!json_is_object(l)) {
        problem(c, p, "must be an object");
        return;
    }
    only_members(c, l, p, allowed);
    s->concurrency = (long)get_int(c, l, p, "concurrency", d->concurrency, 1, MAX_CONCURRENCY);
    s->timeout_ms = (long)get_int(c, l, p, "timeout_ms", d->timeout_ms, MIN_TIMEOUT_MS,
                                  MAX_TIMEOUT_MS);
    s->max_age_ms = get_int(c, l, p, "max_age_ms", d->max_age_ms, 1, 366LL * 86400 * 1000);
}

static void parse_one(parse_ctx *c, const json_t *obj, const char *ptr, push_sub *s,
                      const push_sub_defaults *d) {
    static const char *const allowed[] = {"partner", "url",        "auth",      "ca_file",
                                          "secret",  "secret_env", "meldingen", "regels",
                                          "events",  "limits",     NULL};
    if (!json_is_object(obj)) {
        problem(c, ptr, "must be an object");
        return;
    }
    only_members(c, obj, ptr, allowed);
    parse_partner(c, obj, ptr, s);
    parse_url(c, obj, ptr, s);
    parse_auth(c, obj, ptr, s);
    if (json_object_get(obj, "ca_file"))
        s->ca_file = get_file(c, obj, ptr, "ca_file", 1);
    parse_secret(c, obj, ptr, s);
    const json_t *m = json_object_get(obj, "meldingen");
    if (m && !json_is_boolean(m))
        problem(c, ptr, "\"meldingen\" must be true or false");
    s->meldingen = m ? json_is_true(m) : 1;
    parse_regels(c, obj, ptr, s);
    parse_events(c, obj, ptr, s);
    parse_limits(c, obj, ptr, s, d);
    if (!s->meldingen && !s->events)
        problem(c, ptr, "receives nothing: \"meldingen\" is false and \"events\" is empty");
}

static int by_partner(const void *a, const void *b) {
    return strcmp(((const push_sub *)a)->partner, ((const push_sub *)b)->partner);
}

int push_subs_parse(const char *text, size_t len, const char *base_dir, const kh_schemas *schemas,
                    const push_sub_defaults *defaults, push_subs **out, char *err, size_t errlen) {
    static const char *const allowed[] = {"subscriptions", NULL};
    parse_ctx c = {.err = err, .errlen = errlen, .base_dir = base_dir, .schemas = schemas};
    err[0] = '\0';
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        snprintf(err, errlen, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return -1;
    }
    const json_t *list = json_object_get(doc, "subscriptions");
    push_subs *s = kh_calloc(1, sizeof *s);
    if (!json_is_object(doc) || !json_is_array(list)) {
        problem(&c, "", "must be an object with a \"subscriptions\" array");
    } else {
        only_members(&c, doc, "", allowed);
        s->subs = kh_calloc(json_array_size(list) + 1, sizeof *s->subs);
        size_t i;
        const json_t *item;
        json_array_foreach(list, i, item) {
            char ptr[48];
            snprintf(ptr, sizeof ptr, "/subscriptions/%zu", i);
            parse_one(&c, item, ptr, &s->subs[s->n++], defaults);
        }
        qsort(s->subs, s->n, sizeof *s->subs, by_partner);
        for (i = 0; i + 1 < s->n; i++)
            if (s->subs[i].partner[0] && strcmp(s->subs[i].partner, s->subs[i + 1].partner) == 0)
                problem(&c, "/subscriptions", "partner %s appears more than once",
                        s->subs[i].partner);
        for (i = 0; i < s->n; i++)
            s->events |= s->subs[i].events;
    }
    json_decref(doc);
    if (c.problems) {
        push_subs_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int push_subs_load(const char *path, const kh_schemas *schemas, const push_sub_defaults *defaults,
                   push_subs **out, char *err, size_t errlen) {
    size_t len = 0;
    char *text = kh_file_read(path, 0, &len, err, errlen); /* the operator writes it: no limit */
    if (!text)
        return -1;
    char dir[1024];
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    char why[2048];
    int rc = push_subs_parse(text, len, slash == path ? "/" : dir, schemas, defaults, out, why,
                             sizeof why);
    if (rc)
        snprintf(err, errlen, "%s: %s", path, why);
    free(text);
    return rc;
}

const push_sub *push_subs_find(const push_subs *s, const char *partner) {
    push_sub key;
    if (!s || strlen(partner) >= sizeof key.partner)
        return NULL;
    strcpy(key.partner, partner);
    return bsearch(&key, s->subs, s->n, sizeof *s->subs, by_partner);
}

size_t push_subs_count(const push_subs *s) { return s ? s->n : 0; }

const push_sub *push_subs_at(const push_subs *s, size_t i) { return &s->subs[i]; }

unsigned push_subs_events(const push_subs *s) { return s ? s->events : 0; }

int push_sub_wants_regel(const push_sub *sub, const char *regel) {
    if (!sub->meldingen)
        return 0;
    if (sub->nregels == 0)
        return 1;
    for (size_t i = 0; i < sub->nregels; i++)
        if (strcmp(sub->regels[i], regel) == 0)
            return 1;
    return 0;
}

int push_sub_wants_event(const push_sub *sub, const char *event_type) {
    for (size_t k = 0; k < kh_event_type_count(); k++)
        if (strcmp(kh_event_type_at(k)->name, event_type) == 0)
            return (sub->events >> k) & 1u;
    return 0;
}
