/*
 * sim_keys — the API keys the simulator sends with: a keys file of
 * `TYPE:CODE KEY [NAME]` lines ('#' starts a comment), one per partner
 * organisation; and writing an ingest partners file (SHA-256 of each key)
 * for every organisation of the reference data, so every bron the
 * simulator uses is a partner.
 */
#ifndef SIM_KEYS_H
#define SIM_KEYS_H

#include "kh_ref.h"

#include <stddef.h>

typedef struct sim_key {
    char org[24]; /* TYPE:CODE */
    char key[128];
    char name[64]; /* the partner's name in the partners file, may be "" */
} sim_key;

typedef struct sim_keys {
    sim_key *keys;
    size_t n;
} sim_keys;

/* Reads path. A missing file is an empty table when missing_ok. Returns 0,
 * or -1 with err naming the file and line. */
int sim_keys_load(sim_keys *k, const char *path, int missing_ok, char *err, size_t errlen);
void sim_keys_free(sim_keys *k);

/* The key of organisation "TYPE:CODE", or NULL. */
const char *sim_keys_find(const sim_keys *k, const char *org);

/* Writes the partners file partners_path for every organisation of ref
 * (keys from k, new ones made for the others: "sim-<code>-<hash>"), and the
 * completed keys file keys_path. Returns the number of partners, or -1
 * with err filled. */
long sim_keys_write_partners(sim_keys *k, const kh_ref *ref, const char *partners_path,
                             const char *keys_path, char *err, size_t errlen);

#endif
