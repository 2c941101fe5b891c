/*
 * topics_file — the parser and checks of deploy/topics.tsv and
 * deploy/principals.tsv (see topics_file.h).
 */
#include "topics_file.h"

#include "kh_event.h"
#include "kh_file.h"
#include "kh_retry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_LIMIT (1024 * 1024)
#define FIELDS_MAX 12

/* Splits line (modified in place) at tabs; returns the number of fields. */
static int split_tabs(char *line, char **f, int max) {
    int n = 0;
    for (char *p = line; n < max;) {
        f[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

static int copy_field(char *dst, size_t len, const char *src) {
    if (strlen(src) >= len || !*src)
        return -1;
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

static int parse_ll(const char *s, long long lo, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo)
        return -1;
    *out = v;
    return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out) {
    long long v;
    if (parse_ll(s, lo, &v) || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

typedef int line_fn(char **f, int nf, void *ud, char *why, size_t whylen);

/* Calls fn for every line that is neither empty nor a comment. */
static int each_line(const char *path, line_fn *fn, void *ud, char *err, size_t errlen) {
    size_t len;
    char *text = kh_file_read(path, FILE_LIMIT, &len, err, errlen);
    if (!text)
        return -1;
    int rc = 0, lineno = 0;
    char *save = NULL;
    for (char *line = text; line && rc == 0; line = save) {
        save = strchr(line, '\n');
        if (save)
            *save++ = '\0';
        lineno++;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[l - 1] = '\0';
        if (!*line || *line == '#')
            continue;
        char *f[FIELDS_MAX], why[256] = "";
        int nf = split_tabs(line, f, FIELDS_MAX);
        if (fn(f, nf, ud, why, sizeof why)) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            rc = -1;
        }
    }
    free(text);
    return rc;
}

static int cleanup_ok(const char *s) {
    return !strcmp(s, "delete") || !strcmp(s, "compact") || !strcmp(s, "compact,delete");
}

static int topic_numbers(char **f, tf_topic *t, char *why, size_t whylen) {
    if (parse_int(f[1], 1, 10000, &t->partitions))
        snprintf(why, whylen, "partitions '%s': expected a number from 1 to 10000", f[1]);
    else if (parse_int(f[2], 1, 32, &t->replication))
        snprintf(why, whylen, "replication '%s': expected a number from 1 to 32", f[2]);
    else if (parse_int(f[3], 1, t->replication, &t->min_isr))
        snprintf(why, whylen, "min_isr '%s': expected 1 to the replication factor (%d)", f[3],
                 t->replication);
    else if (parse_ll(f[4], -1, &t->retention_ms) || t->retention_ms == 0)
        snprintf(why, whylen, "retention_ms '%s': expected milliseconds, or -1 for forever", f[4]);
    else if (!cleanup_ok(f[5]))
        snprintf(why, whylen, "cleanup '%s': expected delete, compact or compact,delete", f[5]);
    else
        return 0;
    return -1;
}

static int topic_line(char **f, int nf, void *ud, char *why, size_t whylen) {
    tf_topics *all = ud;
    if (nf != 10) {
        snprintf(why, whylen, "%d tab-separated fields, expected 10 (topic ... why)", nf);
        return -1;
    }
    if (all->n == TF_TOPICS_MAX) {
        snprintf(why, whylen, "more than %d topics", TF_TOPICS_MAX);
        return -1;
    }
    tf_topic *t = &all->t[all->n];
    memset(t, 0, sizeof *t);
    if (copy_field(t->name, sizeof t->name, f[0]) || tf_find(all, f[0])) {
        snprintf(why, whylen, "topic name empty, too long or given twice");
        return -1;
    }
    if (topic_numbers(f, t, why, whylen))
        return -1;
    if (copy_field(t->cleanup, sizeof t->cleanup, f[5]) ||
        copy_field(t->key, sizeof t->key, f[6]) ||
        copy_field(t->producers, sizeof t->producers, f[7]) ||
        copy_field(t->consumers, sizeof t->consumers, f[8]) || !*f[9]) {
        snprintf(why, whylen, "key, producers, consumers and why must be given (- for none)");
        return -1;
    }
    all->n++;
    return 0;
}

int tf_load_topics(const char *path, tf_topics *out, char *err, size_t errlen) {
    out->n = 0;
    if (each_line(path, topic_line, out, err, errlen))
        return -1;
    if (out->n == 0) {
        snprintf(err, errlen, "%s: no topics", path);
        return -1;
    }
    return 0;
}

static int principal_line(char **f, int nf, void *ud, char *why, size_t whylen) {
    tf_principals *all = ud;
    if (nf != 5) {
        snprintf(why, whylen, "%d tab-separated fields, expected 5", nf);
        return -1;
    }
    if (all->n == TF_PRINCIPALS_MAX) {
        snprintf(why, whylen, "more than %d services", TF_PRINCIPALS_MAX);
        return -1;
    }
    tf_principal *p = &all->p[all->n];
    if (copy_field(p->service, sizeof p->service, f[0]) ||
        copy_field(p->principal, sizeof p->principal, f[1]) ||
        copy_field(p->group, sizeof p->group, f[2]) || copy_field(p->txn, sizeof p->txn, f[3]) ||
        copy_field(p->describe_groups, sizeof p->describe_groups, f[4])) {
        snprintf(why, whylen, "every field must be given (- for none) and fit");
        return -1;
    }
    if (strncmp(p->principal, "User:", 5) != 0) {
        snprintf(why, whylen, "principal '%s' must start with User:", p->principal);
        return -1;
    }
    all->n++;
    return 0;
}

int tf_load_principals(const char *path, tf_principals *out, char *err, size_t errlen) {
    out->n = 0;
    return each_line(path, principal_line, out, err, errlen);
}

int tf_in_list(const char *list, const char *service) {
    size_t n = strlen(service);
    for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, service, n) && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

const tf_topic *tf_find(const tf_topics *t, const char *name) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->t[i].name, name))
            return &t->t[i];
    return NULL;
}

static int has_principal(const tf_principals *p, const char *service) {
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->p[i].service, service))
            return 1;
    return 0;
}

/* Every service named in list has a principal. */
static int list_known(const tf_principals *p, const tf_topic *t, const char *list, char *err,
                      size_t errlen) {
    if (!strcmp(list, "-"))
        return 0;
    char copy[TF_LIST_LEN], *save = NULL;
    snprintf(copy, sizeof copy, "%s", list);
    for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
        if (!has_principal(p, s)) {
            snprintf(err, errlen,
                     "topics file, topic %s: service '%s' has no row in the principals file",
                     t->name, s);
            return -1;
        }
    return 0;
}

static int check_manifest(const tf_topics *t, const kh_schemas *all, char *err, size_t errlen) {
    for (size_t i = 0; i < kh_schemas_count(all); i++) {
        const char *topic = kh_schema_topic(kh_schemas_at(all, i));
        if (!tf_find(t, topic)) {
            snprintf(err, errlen, "topic %s (schemas/ids.tsv) has no row in the topics file",
                     topic);
            return -1;
        }
    }
    if (!tf_find(t, KH_RETRY_TOPIC)) {
        snprintf(err, errlen, "topic %s (kh_retry.h) has no row in the topics file",
                 KH_RETRY_TOPIC);
        return -1;
    }
    return 0;
}

/* The event topics share one key, so they must share one partition count. */
static int check_copartitioned(const tf_topics *t, const kh_schemas *all, char *err,
                               size_t errlen) {
    int count = 0;
    for (size_t i = 0; i < kh_event_type_count(); i++) {
        const kh_schema *s = kh_schemas_by_name(all, kh_event_type_at(i)->name);
        const tf_topic *row = s ? tf_find(t, kh_schema_topic(s)) : NULL;
        if (!row)
            continue;
        if (count && row->partitions != count) {
            snprintf(
                err, errlen,
                "%s has %d partitions, another event topic %d: the event topics share the child "
                "pseudonym key and must have one partition count (co-partitioned)",
                row->name, row->partitions, count);
            return -1;
        }
        count = row->partitions;
    }
    return 0;
}

int tf_check(const tf_topics *t, const tf_principals *principals, const kh_schemas *all, char *err,
             size_t errlen) {
    if (check_manifest(t, all, err, errlen) || check_copartitioned(t, all, err, errlen))
        return -1;
    for (int i = 0; principals && i < t->n; i++)
        if (list_known(principals, &t->t[i], t->t[i].producers, err, errlen) ||
            list_known(principals, &t->t[i], t->t[i].consumers, err, errlen))
            return -1;
    return 0;
}
