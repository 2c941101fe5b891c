/*
 * watch_pending — meldingen not yet delivered, per partner: a melding read
 * on ketenhub.grensverkeer.v1 is pending for its ontvanger until an
 * aflevering with its melding_id is read on ketenhub.afleveringen.v1 (any
 * outcome: delivered, or given up on and dead-lettered). Gives each
 * partner's pending count and the age of its oldest pending melding.
 *
 * The two topics are read independently, so an aflevering may come first:
 * the ids of recent afleveringen are remembered (watch_seen) and such a
 * melding is not made pending. At most `cap` meldingen are tracked; past
 * that new ones are counted in watch_pending_untracked. Partner names are
 * "TYPE:CODE", at most WATCH_PENDING_PARTNERS of them. Pure and
 * unsynchronised.
 */
#ifndef WATCH_PENDING_H
#define WATCH_PENDING_H

#include <stddef.h>
#include <stdint.h>

#define WATCH_PENDING_PARTNERS 1024

typedef struct watch_pending watch_pending;

watch_pending *watch_pending_new(size_t cap);
void watch_pending_free(watch_pending *p);

/* A melding for partner, written at ts_ms. */
void watch_pending_melding(watch_pending *p, const char *melding_id, const char *partner,
                           int64_t ts_ms);

/* An aflevering of melding_id: it is pending no more. */
void watch_pending_done(watch_pending *p, const char *melding_id);

/* Calls fn for every partner that ever had a melding: pending count and
 * the timestamp of its oldest pending melding (-1 when none). */
typedef void (*watch_pending_fn)(const char *partner, size_t pending, int64_t oldest_ms, void *ud);
void watch_pending_each(const watch_pending *p, watch_pending_fn fn, void *ud);

uint64_t watch_pending_untracked(const watch_pending *p);

#endif
