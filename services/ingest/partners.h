/*
 * partners — who may call the ingest API: the partners file, API-key
 * lookup, what each partner may send, and its rate limit.
 *
 * The file is JSON (README.md documents it):
 *   {"partners": [{"name": "gemeente-rotterdam",
 *                  "organisatie": {"type": "GEMEENTE", "code": "GM0599"},
 *                  "api_key_sha256": "<64 hex digits>",
 *                  "event_types": ["beschikking", "verwijzing"],
 *                  "rate_per_second": 50, "burst": 100}]}
 * Only the SHA-256 of each key is stored. A partner may list only event
 * types its organisation type issues (kh_event); a file that lists more is
 * refused, as is any unknown member, so a typo cannot widen a permission.
 *
 * A loaded table is a snapshot: requests acquire it, a reload (SIGHUP) swaps
 * in a new one, and the old one is freed when its last request releases it.
 * A partner keeps its rate-limit tokens across reloads by name. All functions are thread-safe.
 */
#ifndef INGEST_PARTNERS_H
#define INGEST_PARTNERS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kh_event.h"

typedef struct partner {
    char name[64];     /* safe as a metric label and in logs */
    char org_type[12]; /* GEMEENTE | SWV | SCHOOL | AANBIEDER */
    char org_code[12];
    char bron[24];        /* "TYPE:CODE", the bron header of its events */
    unsigned org_bit;     /* KH_ORG_* */
    char key_sha256[65];  /* lowercase hex */
    unsigned types;       /* bit i: kh_event_type_at(i) allowed */
    double rate;          /* tokens per second; 0: no limit */
    double burst;         /* bucket size */
    pthread_mutex_t lock; /* guards the bucket */
    double tokens;
    int64_t refill_ms;
} partner;

typedef struct partners partners;
typedef struct partners_store partners_store;

/* Loads path. default_rate and default_burst apply to partners that name
 * none. Returns NULL with every problem of the file in err, as
 * "FILE: <json-pointer>: <what>; <json-pointer>: <what>..." (the format of
 * push's subscriptions file), or "FILE: line L column C: <what>" when it is
 * not JSON. */
partners_store *ingest_partners_open(const char *path, double default_rate, double default_burst,
                                     char *err, size_t errlen);
void ingest_partners_close(partners_store *s);

/* Loads the file again and swaps it in; on failure the old table stays. */
int ingest_partners_reload(partners_store *s, char *err, size_t errlen);

/* The current table, held until partners_release. */
partners *ingest_partners_acquire(partners_store *s);
void ingest_partners_release(partners_store *s, partners *p);
size_t ingest_partners_count(const partners *p);

/* The number of partners in the current table. */
size_t ingest_partners_count_current(partners_store *s);

/* The partner whose key is key[0..len), or NULL. Compares the key's SHA-256
 * with every partner's in constant time, so timing tells nothing about
 * which or how much of a key matched. The pointer lives as long as p. */
partner *ingest_partners_find_key(partners *p, const char *key, size_t len);

/* 1 when the partner may send events of type t (its organisation type
 * issues them and its own list has them). */
int ingest_partner_may_send(const partner *p, const kh_event_type *t);

/* Takes one token of the partner's bucket at now_ms (a monotonic clock).
 * Returns 0, or -1 when empty with *retry_after_s the whole seconds until a
 * token is there (at least 1). */
int ingest_partner_take_token(partner *p, int64_t now_ms, int *retry_after_s);

#endif
