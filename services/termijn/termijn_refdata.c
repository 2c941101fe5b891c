/*
 * termijn_refdata — load, reload and free termijn's reference data.
 */
#include "termijn_refdata.h"

#include "kh_alloc.h"

#include <stdlib.h>

struct termijn_refdata {
    kh_refstore *store;
    char *dir;
    termijn_ctx ctx; /* ref: acquired from store; kalender, afspraken: owned */
};

/* The files only termijn reads; both or neither. */
static int load_own(const char *dir, kh_kalender **kal, termijn_afspraken **afs, char *err,
                    size_t errlen) {
    *kal = NULL;
    *afs = NULL;
    if (kh_kalender_load(dir, kal, err, errlen))
        return -1;
    if (termijn_afspraken_load(dir, afs, err, errlen)) {
        kh_kalender_free(*kal);
        *kal = NULL;
        return -1;
    }
    return 0;
}

termijn_refdata *termijn_refdata_open(const char *dir, char *err, size_t errlen) {
    kh_kalender *kal;
    termijn_afspraken *afs;
    if (load_own(dir, &kal, &afs, err, errlen))
        return NULL;
    kh_refstore *store = kh_refstore_open(dir, err, errlen);
    if (!store) {
        kh_kalender_free(kal);
        termijn_afspraken_free(afs);
        return NULL;
    }
    termijn_refdata *r = kh_calloc(1, sizeof *r);
    r->store = store;
    r->dir = kh_strdup(dir);
    r->ctx = (termijn_ctx){kh_refstore_acquire(store), kal, afs};
    return r;
}

const termijn_ctx *termijn_refdata_ctx(const termijn_refdata *r) { return &r->ctx; }

int termijn_refdata_reload(termijn_refdata *r, char *err, size_t errlen) {
    kh_kalender *kal;
    termijn_afspraken *afs;
    if (load_own(r->dir, &kal, &afs, err, errlen))
        return -1;
    /* the organisations last: once they are swapped in, nothing can fail */
    if (kh_refstore_reload(r->store, err, errlen)) {
        kh_kalender_free(kal);
        termijn_afspraken_free(afs);
        return -1;
    }
    kh_refstore_release(r->store, r->ctx.ref);
    kh_kalender_free((kh_kalender *)r->ctx.kalender);
    termijn_afspraken_free((termijn_afspraken *)r->ctx.afspraken);
    r->ctx = (termijn_ctx){kh_refstore_acquire(r->store), kal, afs};
    return 0;
}

void termijn_refdata_close(termijn_refdata *r) {
    if (!r)
        return;
    kh_refstore_release(r->store, r->ctx.ref);
    kh_refstore_close(r->store);
    kh_kalender_free((kh_kalender *)r->ctx.kalender);
    termijn_afspraken_free((termijn_afspraken *)r->ctx.afspraken);
    free(r->dir);
    free(r);
}
