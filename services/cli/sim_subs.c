/*
 * sim_subs — the generated subscriptions file, one subscription per line.
 */
#include "sim_subs.h"

#include "kh_orgid.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_subs_path(const char *org, char *out, size_t len) {
    char type[KH_ORGID_TYPE_LEN], code[KH_ORGID_CODE_LEN];
    kh_orgid_split(org, type, code);
    snprintf(out, len, "/%s/%s", type, code);
    for (char *c = out; *c; c++)
        *c = (char)tolower((unsigned char)*c);
}

/* whsec_ + base64 of SHA-256("ketenhub-sim-secret|" + org): 32 bytes. */
static void secret_of(const char *org, char out[64]) {
    char seed[64];
    unsigned char digest[SHA256_DIGEST_LENGTH];
    unsigned char b64[48];
    snprintf(seed, sizeof seed, "ketenhub-sim-secret|%s", org);
    SHA256((const unsigned char *)seed, strlen(seed), digest);
    EVP_EncodeBlock(b64, digest, sizeof digest);
    snprintf(out, 64, "whsec_%s", (const char *)b64);
}

static int add(json_t *subs, json_t *have, const char *type, const char *code, const char *url) {
    char org[24], path[40], secret[64], full[512];
    if (kh_orgid_join(type, code, org, sizeof org))
        return -1;
    if (json_object_get(have, org))
        return 0;
    sim_subs_path(org, path, sizeof path);
    snprintf(full, sizeof full, "%s%s", url, path);
    secret_of(org, secret);
    json_object_set_new(have, org, json_true());
    return json_array_append_new(subs, json_pack("{s:s, s:s, s:s}", "partner", org, "url", full,
                                                 "secret", secret));
}

static int add_all(json_t *subs, json_t *have, const kh_ref *ref, const char *url) {
    const kh_ref_gemeente *g;
    const kh_ref_school *s;
    const kh_ref_aanbieder *a;
    const kh_ref_swv *v;
    int rc = 0;
    for (size_t i = 0; (g = kh_ref_gemeente_nth(ref, i)); i++)
        rc |= add(subs, have, "GEMEENTE", g->code, url);
    for (size_t i = 0; (v = kh_ref_swv_nth(ref, i)); i++)
        rc |= add(subs, have, "SWV", v->code, url);
    for (size_t i = 0; (s = kh_ref_school_nth(ref, i)); i++)
        rc |= add(subs, have, "SCHOOL", s->code, url);
    for (size_t i = 0; (a = kh_ref_aanbieder_nth(ref, i)); i++)
        rc |= add(subs, have, "AANBIEDER", a->code, url);
    return rc;
}

/* The existing subscriptions of path (an empty list when it does not exist). */
static json_t *existing(const char *path, json_t *have) {
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? json_array() : NULL;
    fclose(f);
    json_t *doc = json_load_file(path, 0, NULL);
    json_t *subs = json_incref(json_object_get(doc, "subscriptions"));
    json_decref(doc);
    size_t i;
    json_t *s;
    json_array_foreach(subs, i, s) {
        const char *p = json_string_value(json_object_get(s, "partner"));
        if (p)
            json_object_set_new(have, p, json_true());
    }
    return json_is_array(subs) ? subs : (json_decref(subs), NULL);
}

static int write_file(const json_t *subs, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fputs("{\"subscriptions\": [\n", f) < 0 ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(subs); i++) {
        char *text = json_dumps(json_array_get(subs, i), JSON_COMPACT);
        rc = text && fprintf(f, "  %s%s\n", text, i + 1 < json_array_size(subs) ? "," : "") > 0
                 ? 0
                 : -1;
        free(text);
    }
    if (rc == 0 && fputs("]}\n", f) < 0)
        rc = -1;
    return fclose(f) || rc ? -1 : 0;
}

long sim_subs_write(const kh_ref *ref, const char *path, const char *receiver_url, char *err,
                    size_t errlen) {
    json_t *have = json_object();
    json_t *subs = have ? existing(path, have) : NULL;
    long n = -1;
    if (!subs)
        snprintf(err, errlen, "%s is not a subscriptions file ({\"subscriptions\": [...]})", path);
    else if (add_all(subs, have, ref, receiver_url) < 0)
        snprintf(err, errlen, "out of memory");
    else if (write_file(subs, path) < 0)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    else
        n = (long)json_array_size(subs);
    json_decref(subs);
    json_decref(have);
    return n;
}
