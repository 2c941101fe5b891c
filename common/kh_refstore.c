/*
 * kh_refstore — the reloadable holder of a service's current kh_ref.
 *
 * Readers acquire the current snapshot and release it when done; a reload
 * loads the directory again off to the side and swaps the new snapshot in,
 * and a snapshot is freed when its last holder lets go. Each load is logged
 * with its summary, so the log says which data a service worked with.
 */
#include "kh_ref.h"

#include "kh_alloc.h"
#include "kh_log.h"
#include "kh_ref_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct kh_refstore {
    pthread_mutex_t lock;   /* guards cur and every snapshot's refs */
    pthread_mutex_t reload; /* one reload at a time, so the newest files win */
    char *dir;
    kh_ref *cur; /* holds one reference for the store itself */
};

static void log_loaded(const kh_ref *ref) {
    kh_log_info("reference data loaded", kh_ref_summary_json(ref));
}

kh_refstore *kh_refstore_open(const char *dir, char *err, size_t errlen) {
    kh_ref *ref;
    if (kh_ref_load(dir, &ref, err, errlen) < 0)
        return NULL;
    kh_refstore *s = kh_calloc(1, sizeof *s);
    int locks = pthread_mutex_init(&s->lock, NULL) == 0;
    if (!locks || pthread_mutex_init(&s->reload, NULL) != 0) {
        if (locks)
            pthread_mutex_destroy(&s->lock);
        free(s);
        kh_ref_free(ref);
        snprintf(err, errlen, "cannot create a mutex for %s", dir);
        return NULL;
    }
    s->dir = kh_strdup(dir);
    ref->refs = 1;
    s->cur = ref;
    log_loaded(ref);
    return s;
}

/* Drops one reference; the snapshot goes when nobody holds it any more. */
static void unref(kh_refstore *s, kh_ref *ref) {
    pthread_mutex_lock(&s->lock);
    int last = --ref->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last)
        kh_ref_free(ref);
}

int kh_refstore_reload(kh_refstore *s, char *err, size_t errlen) {
    kh_ref *fresh;
    pthread_mutex_lock(&s->reload);
    /* Loading takes a while; readers keep the old snapshot meanwhile. */
    if (kh_ref_load(s->dir, &fresh, err, errlen) < 0) {
        pthread_mutex_unlock(&s->reload);
        return -1;
    }
    fresh->refs = 1;
    pthread_mutex_lock(&s->lock);
    kh_ref *old = s->cur;
    s->cur = fresh;
    pthread_mutex_unlock(&s->lock);
    unref(s, old);
    log_loaded(fresh); /* before another reload can replace and free it */
    pthread_mutex_unlock(&s->reload);
    return 0;
}

const kh_ref *kh_refstore_acquire(kh_refstore *s) {
    pthread_mutex_lock(&s->lock);
    kh_ref *ref = s->cur;
    ref->refs++;
    pthread_mutex_unlock(&s->lock);
    return ref;
}

void kh_refstore_release(kh_refstore *s, const kh_ref *ref) {
    /* The snapshot was allocated mutable; only readers see it const. */
    if (ref)
        unref(s, (kh_ref *)ref);
}

/* Every acquired snapshot must be released before close. */
void kh_refstore_close(kh_refstore *s) {
    if (!s)
        return;
    unref(s, s->cur);
    pthread_mutex_destroy(&s->reload);
    pthread_mutex_destroy(&s->lock);
    free(s->dir);
    free(s);
}
