/*
 * window — the idempotency window: the most recent event ids accepted per
 * bron, so a resubmission is answered with the first result and produces
 * nothing, and an id reused for a different event is refused.
 *
 * An event's identity is its bron plus its event_id (DESIGN.md): two
 * partners may use the same event_id. With each id the window keeps the
 * SHA-256 of the canonical event (event.h); the same id with another digest
 * is a conflict, while the first submission is pending as well as after.
 *
 * Bounded: it holds at most `capacity` ids and forgets the oldest first
 * (FIFO), so an id resubmitted after `capacity` newer ones is produced again.
 * Per process: instances behind a load balancer do not share it.
 *
 * An id is first PENDING (its record is on the way to the broker), then
 * DONE with the broker's partition and offset, or forgotten again when the
 * write failed with nothing stored (so the partner's retry is produced), or
 * UNSURE when the write failed but the broker may have stored it all the same
 * (a timeout after sending). A resubmission while the id is pending waits as
 * a "waiter" of the first submission's ticket and gets its outcome, so even
 * two submissions racing each other produce one record. A resubmission of an
 * UNSURE id is never produced blindly: it becomes the owner of a check of the
 * topic (WINDOW_UNSURE), and racing resubmissions wait for that check.
 *
 * All functions are thread-safe (one mutex). Tickets are the caller's
 * memory and must stay valid until window_finish has handed them back.
 */
#ifndef INGEST_WINDOW_H
#define INGEST_WINDOW_H

#include <stddef.h>
#include <stdint.h>

typedef struct window window;

typedef struct window_key {
    unsigned char id[16];     /* the event_id's 16 bytes */
    char bron[32];            /* "TYPE:CODE" of the sender, NUL-padded: ids are per bron */
    unsigned char digest[32]; /* of the event: not part of the key; compared on a match */
} window_key;

typedef struct window_result {
    const char *topic; /* must outlive the window (the publisher's topic names) */
    int32_t partition;
    int64_t offset;  /* -1 while the write's fate is unsure */
    int64_t sent_ms; /* unsure: when the first write was handed to the producer */
} window_result;

/* One submission of an id. The window fills it; the caller reads `ok` and
 * `result` once the ticket is finished. */
typedef struct window_ticket {
    struct window_ticket *next;    /* the next waiter of the same owner */
    struct window_ticket *waiters; /* submissions waiting for this one */
    uint32_t slot;                 /* the window slot this ticket owns */
    int ok;                        /* 1 when the id is stored on the broker */
    int unsure;                    /* not ok, and the broker may have stored it */
    window_result result;
} window_ticket;

typedef enum window_claim {
    WINDOW_NEW,      /* the id is new: the caller produces and calls window_finish */
    WINDOW_PENDING,  /* a first submission is in flight: t is its waiter, finished with it */
    WINDOW_DONE,     /* already stored: t->result holds the first result, t->ok is 1 */
    WINDOW_CONFLICT, /* the id is known with another digest: nothing to produce, t unused */
    WINDOW_UNSURE    /* an earlier write may be stored: t->result says where to look
                      * (topic, partition, sent_ms); t owns the id as with WINDOW_NEW, and
                      * the caller looks on the topic, then ends it with window_finish (found,
                      * or produced again) or window_finish_unsure (still not known) */
} window_claim;

/* A window of capacity ids (at least 1). NULL when memory runs out. */
window *ingest_window_new(size_t capacity);
void ingest_window_free(window *w);

window_claim ingest_window_claim_id(window *w, const window_key *key, window_ticket *t);

/* Ends the write of an owner ticket (one that got WINDOW_NEW): ok with the
 * broker's result, or failed. Fills the outcome into the owner and every
 * waiter, and returns the waiters as a list (linked by next) for the caller
 * to complete; the window keeps no pointer to any of them afterwards. */
window_ticket *ingest_window_finish(window *w, window_ticket *owner, int ok,
                                    const window_result *result);

/* Ends the write of an owner ticket that failed while the broker may have
 * stored the record (where: result's topic, partition and sent_ms): the id
 * stays in the window as UNSURE, so a resubmission is checked against the
 * topic instead of produced again. The owner and every waiter are finished
 * not ok, with unsure set; returns the waiters as ingest_window_finish does. */
window_ticket *ingest_window_finish_unsure(window *w, window_ticket *owner,
                                           const window_result *result);

/* The number of ids held (pending, unsure or done). */
size_t ingest_window_size(window *w);

#endif
