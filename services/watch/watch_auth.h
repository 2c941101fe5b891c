/*
 * watch_auth — who may use ketenhub-watch. Bound to loopback, anyone on
 * the machine may (the machine is the boundary). Bound to any other
 * address, the service refuses to start without TLS and an operators file,
 * and every request but /healthz and /readyz needs an operator token:
 *
 *   {"operators": [{"name": "j.jansen", "token_sha256": "<64 hex digits>"}]}
 *
 * Tokens are stored hashed (SHA-256, like the partners' API keys) and sent
 * as `Authorization: Bearer <token>` or, so a browser can ask for it, HTTP
 * Basic with the operator's name as user and the token as password.
 */
#ifndef WATCH_AUTH_H
#define WATCH_AUTH_H

#include <stddef.h>

#define WATCH_OPERATORS_MAX 64

typedef struct watch_operator {
    char name[64];
    char token_sha256[65];
} watch_operator;

typedef struct watch_auth {
    size_t n;
    watch_operator ops[WATCH_OPERATORS_MAX];
} watch_auth;

/* Whether a listen address ("127.0.0.1:8090") is a loopback address. */
int watch_auth_is_loopback(const char *listen);

/* Loads the operators file. Returns 0, or -1 with err naming the file and
 * what is wrong. */
int watch_auth_load(watch_auth *a, const char *path, char *err, size_t errlen);

/* The operator an Authorization header value authenticates, or NULL. The
 * comparison takes the same time whatever the token. */
const watch_operator *watch_auth_check(const watch_auth *a, const char *authorization);

#endif
