/*
 * kh_config — `key = value` files with KETENHUB_* environment overrides.
 * A config is a few dozen keys, so plain arrays searched linearly are both
 * the simplest and fast enough.
 */
#include "kh_config.h"

#include "kh_alloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ENV_PREFIX "KETENHUB_"
#define ENV_PREFIX_LEN (sizeof(ENV_PREFIX) - 1)

extern char **environ;

typedef struct entry {
    char *key;
    char *value;
    char *var; /* environment entries only: the variable's name */
} entry;

typedef struct entries {
    entry *v;
    size_t n, cap;
} entries;

struct kh_config {
    entries file; /* set and file values, in order of first definition */
    entries env;  /* the KETENHUB_* snapshot */
};

static void entries_add(entries *es, const char *key, const char *value) {
    if (es->n == es->cap) {
        es->cap = es->cap ? es->cap * 2 : 16;
        es->v = kh_realloc(es->v, es->cap * sizeof(*es->v));
    }
    es->v[es->n++] = (entry){kh_strdup(key), kh_strdup(value), NULL};
}

static void entries_free(entries *es) {
    for (size_t i = 0; i < es->n; i++) {
        free(es->v[i].key);
        free(es->v[i].value);
        free(es->v[i].var);
    }
    free(es->v);
}

static int is_upper_env_char(char ch) {
    return isupper((unsigned char)ch) || isdigit((unsigned char)ch) || ch == '_';
}

/* Only variables that some key could map to are kept, so that the mapping
 * back to a key (kh_config_each) is one-to-one. */
static int env_wanted(const char *var, size_t namelen) {
    if (namelen <= ENV_PREFIX_LEN || strncmp(var, ENV_PREFIX, ENV_PREFIX_LEN) != 0)
        return 0;
    for (size_t i = ENV_PREFIX_LEN; i < namelen; i++)
        if (!is_upper_env_char(var[i]))
            return 0;
    return var[namelen + 1] != '\0'; /* an empty value counts as unset */
}

/* The key an environment variable maps back to: lower case, `_` -> `.`. */
static char *env_key(const char *var) {
    char *key = kh_strdup(var + ENV_PREFIX_LEN);
    for (char *p = key; *p; p++)
        *p = *p == '_' ? '.' : (char)tolower((unsigned char)*p);
    return key;
}

static void snapshot_env(entries *env) {
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (eq == NULL || !env_wanted(*e, (size_t)(eq - *e)))
            continue;
        char *var = kh_strndup(*e, (size_t)(eq - *e));
        char *key = env_key(var);
        entries_add(env, key, eq + 1);
        free(key);
        env->v[env->n - 1].var = var;
    }
}

kh_config *kh_config_new(void) {
    kh_config *c = kh_calloc(1, sizeof(*c));
    snapshot_env(&c->env);
    return c;
}

void kh_config_free(kh_config *c) {
    if (c == NULL)
        return;
    entries_free(&c->file);
    entries_free(&c->env);
    free(c);
}

static int valid_key(const char *key) {
    if (*key == '\0')
        return 0;
    for (const char *p = key; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
            return 0;
    return 1;
}

/* Does environment variable `var` override `key`? */
static int env_matches(const char *var, const char *key) {
    const char *v = var + ENV_PREFIX_LEN;
    for (; *key; key++, v++) {
        char want = *key == '.' || *key == '-' ? '_' : (char)toupper((unsigned char)*key);
        if (*v != want)
            return 0;
    }
    return *v == '\0';
}

static const char *env_lookup(const kh_config *c, const char *key) {
    for (size_t i = 0; i < c->env.n; i++)
        if (env_matches(c->env.v[i].var, key))
            return c->env.v[i].value;
    return NULL;
}

static entry *file_lookup(const kh_config *c, const char *key) {
    for (size_t i = 0; i < c->file.n; i++)
        if (strcmp(c->file.v[i].key, key) == 0)
            return &c->file.v[i];
    return NULL;
}

int kh_config_set(kh_config *c, const char *key, const char *value) {
    if (!valid_key(key))
        return -1;
    entry *e = file_lookup(c, key);
    if (e == NULL) {
        entries_add(&c->file, key, value);
        return 0;
    }
    free(e->value);
    e->value = kh_strdup(value);
    return 0;
}

/* Trims s in place and returns the start of the trimmed text. */
static char *trim(char *s) {
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Splits a `key = value` line in place. Returns NULL on success, else why
 * the line is malformed. */
static const char *split_pair(char *line, char **key, char **value) {
    char *eq = strchr(line, '=');
    if (eq == NULL)
        return "expected key = value";
    *eq = '\0';
    *key = trim(line);
    *value = trim(eq + 1);
    return valid_key(*key) ? NULL : "invalid key (letters, digits, '.', '_', '-')";
}

int kh_config_set_arg(kh_config *c, const char *arg, char *err, size_t errlen) {
    char *copy = kh_strdup(arg), *key, *value;
    const char *why = split_pair(copy, &key, &value);
    if (why == NULL)
        kh_config_set(c, key, value); /* split_pair checked the key */
    else
        snprintf(err, errlen, "--set: %s", why); /* not the argument: it may be a secret */
    free(copy);
    return why ? -1 : 0;
}

/* Handles one line of a file; returns NULL or what is wrong with it. */
static const char *load_line(kh_config *c, char *line) {
    char *key, *value, *s = trim(line);
    if (*s == '\0' || *s == '#')
        return NULL;
    const char *why = split_pair(s, &key, &value);
    if (why == NULL)
        kh_config_set(c, key, value); /* split_pair checked the key */
    return why;
}

int kh_config_load_file(kh_config *c, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        lineno++;
        const char *why = load_line(c, line);
        if (why) {
            snprintf(err, errlen, "%s:%ld: %s", path, lineno, why);
            rc = -1;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

const char *kh_config_get(const kh_config *c, const char *key, const char *def) {
    const char *v = env_lookup(c, key);
    if (v)
        return v;
    const entry *e = file_lookup(c, key);
    return e ? e->value : def;
}

int kh_config_get_int(const kh_config *c, const char *key, long long def, long long *out, char *err,
                      size_t errlen) {
    const char *v = kh_config_get(c, key, NULL);
    if (v == NULL) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    /* strtoll would skip leading blanks and accept an empty string. */
    int digits_first = (*v >= '0' && *v <= '9') || *v == '+' || *v == '-';
    if (!digits_first || end == v || *end != '\0' || errno == ERANGE) {
        snprintf(err, errlen, "config %s: '%.40s' is not an integer%s", key, v,
                 errno == ERANGE ? " in range" : "");
        return -1;
    }
    *out = n;
    return 0;
}

int kh_config_get_bool(const kh_config *c, const char *key, int def, int *out, char *err,
                       size_t errlen) {
    static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};
    const char *v = kh_config_get(c, key, NULL);
    if (v == NULL) {
        *out = def != 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        int is_yes = strcasecmp(v, yes[i]) == 0;
        if (is_yes || strcasecmp(v, no[i]) == 0) {
            *out = is_yes;
            return 0;
        }
    }
    snprintf(err, errlen, "config %s: '%.40s' is not a boolean (true/false, yes/no, 1/0)", key, v);
    return -1;
}

static int overrides_a_file_key(const kh_config *c, const char *var) {
    for (size_t i = 0; i < c->file.n; i++)
        if (env_matches(var, c->file.v[i].key))
            return 1;
    return 0;
}

void kh_config_each(const kh_config *c, const char *prefix,
                    void (*fn)(const char *key, const char *value, void *ud), void *ud) {
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < c->file.n; i++) {
        const entry *e = &c->file.v[i];
        if (strncmp(e->key, prefix, plen) == 0)
            fn(e->key, kh_config_get(c, e->key, e->value), ud);
    }
    for (size_t i = 0; i < c->env.n; i++) {
        const entry *e = &c->env.v[i];
        if (strncmp(e->key, prefix, plen) == 0 && !overrides_a_file_key(c, e->var))
            fn(e->key, e->value, ud);
    }
}
