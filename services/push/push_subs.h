/*
 * push_subs — the subscriptions file: which partner (organisation
 * "TYPE:CODE") receives what, at which endpoint, how it is authenticated and
 * signed, and with which limits. See README.md for the format.
 *
 * A push_subs set is immutable once loaded; a reload (SIGHUP) loads a new
 * set and swaps it in only when the whole file is valid. Pointers returned
 * by lookups live as long as the set. Not synchronised: the delivery loop
 * owns it.
 */
#ifndef PUSH_SUBS_H
#define PUSH_SUBS_H

#include "kh_schema.h"
#include "push_named.h"
#include "push_sign.h"

#include <stddef.h>

typedef enum push_auth { PUSH_AUTH_NONE, PUSH_AUTH_BEARER, PUSH_AUTH_TLS_CLIENT } push_auth;

typedef struct push_sub {
    char partner[PUSH_ORG_LEN]; /* "GEMEENTE:GM0599" */
    char *url;                  /* as configured */
    char *endpoint; /* url without user info, query and fragment: safe to log and record */
    push_auth auth;
    char *authorization; /* "Authorization: Bearer <token>" (bearer), else NULL */
    char *cert, *key;    /* client certificate and key files (tls_client), else NULL */
    char *ca_file;       /* CA bundle for the endpoint's certificate; NULL: the system's */
    unsigned char secret[PUSH_SIGN_KEY_MAX];
    size_t secret_len;
    int meldingen; /* receives the meldingen addressed to it */
    char **regels; /* only meldingen of these rules; nregels 0: every rule */
    size_t nregels;
    unsigned events;      /* bit i: raw events of type kh_event_type_at(i) */
    long concurrency;     /* requests in flight at most */
    long timeout_ms;      /* per request */
    long long max_age_ms; /* give up this long after push first took the item on */
} push_sub;

/* Limits for subscriptions that do not set them. */
typedef struct push_sub_defaults {
    long concurrency;
    long timeout_ms;
    long long max_age_ms;
} push_sub_defaults;

typedef struct push_subs push_subs;

/* Parses a subscriptions document. Relative file names in it are taken
 * relative to base_dir. Secrets and tokens named by environment variable
 * are read now. Returns 0 with *out set (caller frees with push_subs_free),
 * or -1 with every problem in err as "<json-pointer>: <what is wrong>"
 * joined by "; " (never a secret or token). */
int push_subs_parse(const char *text, size_t len, const char *base_dir, const kh_schemas *schemas,
                    const push_sub_defaults *defaults, push_subs **out, char *err, size_t errlen);

/* Reads and parses the file at path; errors start with the path. */
int push_subs_load(const char *path, const kh_schemas *schemas, const push_sub_defaults *defaults,
                   push_subs **out, char *err, size_t errlen);

/* The subscription of partner "TYPE:CODE", or NULL. */
const push_sub *push_subs_find(const push_subs *s, const char *partner);

size_t push_subs_count(const push_subs *s);
const push_sub *push_subs_at(const push_subs *s, size_t i);

/* The union of the raw event bits of all subscriptions. */
unsigned push_subs_events(const push_subs *s);

/* Whether sub takes meldingen of rule regel / raw events of event_type. */
int push_sub_wants_regel(const push_sub *sub, const char *regel);
int push_sub_wants_event(const push_sub *sub, const char *event_type);

void push_subs_free(push_subs *s);

#endif
