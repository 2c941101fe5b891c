/*
 * sim_keys — the keys file and the generated partners file.
 */
#include "sim_keys.h"

#include "kh_alloc.h"
#include "kh_orgid.h"
#include "kh_pseudo.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add(sim_keys *k, const char *org, const char *key, const char *name) {
    k->keys = kh_realloc(k->keys, (k->n + 1) * sizeof *k->keys);
    sim_key *e = &k->keys[k->n++];
    snprintf(e->org, sizeof e->org, "%s", org);
    snprintf(e->key, sizeof e->key, "%s", key);
    snprintf(e->name, sizeof e->name, "%s", name ? name : "");
    return 0;
}

int sim_keys_load(sim_keys *k, const char *path, int missing_ok, char *err, size_t errlen) {
    memset(k, 0, sizeof *k);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (missing_ok && errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot open keys file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int no = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        no++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *org = strtok(line, " \t\r\n"), *key = strtok(NULL, " \t\r\n"),
             *name = strtok(NULL, " \t\r\n");
        if (!org)
            continue;
        if (!key || !strchr(org, ':') || strlen(org) >= sizeof k->keys->org ||
            strlen(key) >= sizeof k->keys->key) {
            snprintf(err, errlen, "%s:%d: expected `TYPE:CODE KEY [NAME]`", path, no);
            rc = -1;
        } else if (add(k, org, key, name) < 0) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }
    fclose(f);
    if (rc)
        sim_keys_free(k);
    return rc;
}

void sim_keys_free(sim_keys *k) {
    free(k->keys);
    memset(k, 0, sizeof *k);
}

const char *sim_keys_find(const sim_keys *k, const char *org) {
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->keys[i].org, org) == 0)
            return k->keys[i].key;
    return NULL;
}

static sim_key *find(sim_keys *k, const char *org) {
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->keys[i].org, org) == 0)
            return &k->keys[i];
    return NULL;
}

/* A key nobody needs to keep secret: this is for demos and tests. */
static int ensure(sim_keys *k, const char *type, const char *code) {
    char org[24], hash[65], key[64], name[64];
    if (kh_orgid_join(type, code, org, sizeof org))
        return -1;
    if (find(k, org))
        return 0;
    if (kh_sha256_hex(org, strlen(org), hash) < 0)
        return -1;
    snprintf(key, sizeof key, "sim-%s-%.12s", code, hash);
    snprintf(name, sizeof name, "%s-%s", type, code);
    for (char *c = key; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    for (char *c = name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return add(k, org, key, name);
}

static int collect(sim_keys *k, const kh_ref *ref) {
    const kh_ref_gemeente *g;
    const kh_ref_school *s;
    const kh_ref_aanbieder *a;
    const kh_ref_swv *v;
    int rc = 0;
    for (size_t i = 0; (g = kh_ref_gemeente_nth(ref, i)); i++)
        rc |= ensure(k, "GEMEENTE", g->code);
    for (size_t i = 0; (v = kh_ref_swv_nth(ref, i)); i++)
        rc |= ensure(k, "SWV", v->code);
    for (size_t i = 0; (s = kh_ref_school_nth(ref, i)); i++)
        rc |= ensure(k, "SCHOOL", s->code);
    for (size_t i = 0; (a = kh_ref_aanbieder_nth(ref, i)); i++)
        rc |= ensure(k, "AANBIEDER", a->code);
    return rc;
}

/* What an organisation type may send (DESIGN.md's issuers). */
static json_t *event_types(const char *org) {
    if (!strncmp(org, "GEMEENTE:", 9))
        return json_pack("[s, s]", "beschikking", "verwijzing");
    if (!strncmp(org, "SWV:", 4))
        return json_pack("[s, s]", "tlv", "verwijzing");
    if (!strncmp(org, "SCHOOL:", 7))
        return json_pack("[s, s]", "aanmelding", "verwijzing");
    return json_pack("[s]", "aanmelding");
}

static json_t *partner(const sim_key *e) {
    char type[KH_ORGID_TYPE_LEN], code[KH_ORGID_CODE_LEN], hash[65];
    kh_orgid_split(e->org, type, code);
    if (kh_sha256_hex(e->key, strlen(e->key), hash) < 0)
        return NULL;
    return json_pack("{s:s, s:{s:s, s:s}, s:s, s:o}", "name", e->name[0] ? e->name : e->org,
                     "organisatie", "type", type, "code", code, "api_key_sha256", hash,
                     "event_types", event_types(e->org));
}

static int write_keys(const sim_keys *k, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f,
            "# TYPE:CODE API-KEY NAME — demo and test keys of `ketenhub simulate`; not secret.\n");
    for (size_t i = 0; i < k->n; i++)
        fprintf(f, "%s %s %s\n", k->keys[i].org, k->keys[i].key, k->keys[i].name);
    return fclose(f);
}

/* One partner per line, so the file reads (and diffs) as a table. */
static int write_partners_file(const sim_keys *k, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fputs("{\"partners\": [\n", f) < 0 ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < k->n; i++) {
        json_t *p = partner(&k->keys[i]);
        char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
        rc = text && fprintf(f, "  %s%s\n", text, i + 1 < k->n ? "," : "") > 0 ? 0 : -1;
        free(text);
        json_decref(p);
    }
    if (rc == 0 && fputs("]}\n", f) < 0)
        rc = -1;
    return fclose(f) || rc ? -1 : 0;
}

long sim_keys_write_partners(sim_keys *k, const kh_ref *ref, const char *partners_path,
                             const char *keys_path, char *err, size_t errlen) {
    if (collect(k, ref) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (write_partners_file(k, partners_path) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", partners_path, strerror(errno));
        return -1;
    }
    if (write_keys(k, keys_path) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", keys_path, strerror(errno));
        return -1;
    }
    return (long)k->n;
}
