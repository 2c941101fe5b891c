/*
 * watch_auth — operator tokens (see watch_auth.h).
 */
#include "watch_auth.h"

#include "kh_codec.h"
#include "kh_file.h"
#include "kh_pseudo.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int watch_auth_is_loopback(const char *listen) {
    return strncmp(listen, "127.", 4) == 0 || strncmp(listen, "localhost:", 10) == 0;
}

static int load_one(watch_auth *a, const json_t *o, size_t i, const char *path, char *err,
                    size_t errlen) {
    const char *name = json_string_value(json_object_get(o, "name"));
    const char *hash = json_string_value(json_object_get(o, "token_sha256"));
    if (!name || !*name || strlen(name) >= sizeof a->ops[0].name) {
        snprintf(err, errlen, "%s: operators[%zu].name must be a string of 1-63 bytes", path, i);
        return -1;
    }
    if (!hash || strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64) {
        snprintf(err, errlen,
                 "%s: operators[%zu].token_sha256 must be 64 lowercase hex digits "
                 "(printf %%s TOKEN | sha256sum)",
                 path, i);
        return -1;
    }
    snprintf(a->ops[a->n].name, sizeof a->ops[0].name, "%s", name);
    snprintf(a->ops[a->n].token_sha256, sizeof a->ops[0].token_sha256, "%s", hash);
    a->n++;
    return 0;
}

int watch_auth_load(watch_auth *a, const char *path, char *err, size_t errlen) {
    size_t len;
    char *text = kh_file_read(path, 1 << 20, &len, err, errlen);
    memset(a, 0, sizeof *a);
    if (!text)
        return -1;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    const json_t *list = json_object_get(root, "operators");
    int rc = 0;
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > WATCH_OPERATORS_MAX) {
        snprintf(err, errlen,
                 "%s: want {\"operators\": [{\"name\", \"token_sha256\"}, ...]} with 1-%d "
                 "operators%s%s",
                 path, WATCH_OPERATORS_MAX, root ? "" : "; JSON error: ", root ? "" : je.text);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(list); i++)
        rc = load_one(a, json_array_get(list, i), i, path, err, errlen);
    json_decref(root);
    return rc;
}

/* The token of a Bearer or Basic header value into tok; the Basic user
 * name into user (empty for Bearer). */
static int token_of(const char *h, char *tok, size_t toklen, char *user, size_t userlen) {
    user[0] = 0;
    if (strncasecmp(h, "Bearer ", 7) == 0) {
        snprintf(tok, toklen, "%s", h + 7);
        return 0;
    }
    if (strncasecmp(h, "Basic ", 6) != 0)
        return -1;
    size_t n;
    unsigned char *raw = kh_codec_base64_decode(h + 6, strlen(h + 6), &n);
    char *colon = raw ? memchr(raw, ':', n) : NULL;
    int rc = -1;
    if (colon && (size_t)(colon - (char *)raw) < userlen) {
        snprintf(user, userlen, "%.*s", (int)(colon - (char *)raw), (char *)raw);
        snprintf(tok, toklen, "%.*s", (int)(n - (size_t)(colon + 1 - (char *)raw)), colon + 1);
        rc = 0;
    }
    free(raw);
    return rc;
}

const watch_operator *watch_auth_check(const watch_auth *a, const char *authorization) {
    char tok[256], user[64], hash[65];
    if (!authorization || token_of(authorization, tok, sizeof tok, user, sizeof user) ||
        kh_sha256_hex(tok, strlen(tok), hash))
        return NULL;
    const watch_operator *found = NULL;
    for (size_t i = 0; i < a->n; i++)
        if (CRYPTO_memcmp(hash, a->ops[i].token_sha256, 64) == 0 && !found &&
            (!user[0] || strcmp(user, a->ops[i].name) == 0))
            found = &a->ops[i];
    return found;
}
