/*
 * sim_gen — the simulator's stream of events: children living in the
 * reference gemeenten, and their stories told one event at a time —
 * aanmeldingen at schools and providers through their statuses, TLVs,
 * beschikkingen and verwijzingen — interleaved as partners would send them,
 * with a share of deliberately invalid events (sim_invalid).
 *
 * Same world, seed and options: the same events, byte for byte. Events are
 * dated in the simulated period, never by the clock. Not thread-safe.
 */
#ifndef SIM_GEN_H
#define SIM_GEN_H

#include "kh_event.h"
#include "sim_rng.h"
#include "sim_world.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Days a story may run after its first event: build the world through
 * the last first day plus this. */
#define SIM_STORY_SPAN 120

/* The kinds of story, also the indexes of sim_gen_options.mix. */
enum { SIM_AANMELDING, SIM_TLV, SIM_BESCHIKKING, SIM_VERWIJZING, SIM_KINDS };

typedef struct sim_gen_options {
    double mix[SIM_KINDS]; /* relative weights of new stories per kind */
    double cross;          /* share of stories set up to cross a border (0..1) */
    double invalid_share;  /* share of events made invalid (0..1) */
    size_t open;           /* stories told at the same time */
    double termijn_share;  /* share of new stories that are termijn cases (0..1) */
    int32_t today;         /* termijn cases are dated around this day */
} sim_gen_options;

/* The defaults: mix 35/15/25/25, cross 0.3, invalid 0, 64 open stories,
 * no termijn cases. */
void sim_gen_defaults(sim_gen_options *o);

/* One generated event. */
typedef struct sim_event {
    const kh_event_type *type;
    char bron[24]; /* "TYPE:CODE", the organisation that sends it */
    char event_id[37];
    json_t *event; /* natural JSON; NULL for a syntax case */
    char *body;    /* the request body: the JSON text, or broken text */
    int valid;
    int expect_status;   /* what ingest must answer: 202, 422 or 400 */
    const char *reason;  /* an invalid event's expected reason name, else NULL */
    const char *pointer; /* ... and its JSON pointer ("" = the document) */
} sim_event;

typedef struct sim_gen sim_gen;

/* The world must outlive the generator. NULL when out of memory. */
sim_gen *sim_gen_new(const sim_world *w, uint64_t seed, const sim_gen_options *o);
void sim_gen_free(sim_gen *g);

/* The next event into ev (cleared first). Returns 0, or -1 out of memory. */
int sim_gen_next(sim_gen *g, sim_event *ev);

/* Frees what an event holds and zeroes it. */
void sim_event_clear(sim_event *ev);

/* ---- for sim_gen.c and sim_invalid.c --------------------------------------- */

/* A valid first event of a new story of kind, not kept for later steps:
 * what sim_invalid breaks. */
int sim_gen_single(sim_gen *g, int kind, sim_event *ev);

/* Breaks the valid event ev in one documented way (an error class of the
 * README's catalogue) and sets its expectation. Returns 0 or -1 (memory). */
int sim_invalid_make(sim_gen *g, sim_event *ev);

/* The generator's random stream and world, for sim_invalid. */
sim_rng *sim_gen_rng(sim_gen *g);
const sim_world *sim_gen_world(sim_gen *g);

/* Fills ev->body (and ev->event_id from the event) from ev->event. */
int sim_event_finish(sim_event *ev);

/* ---- for sim_termijn_gen.c ----------------------------------------------------- */

#define SIM_MAX_STEPS 5

typedef struct sim_child {
    char bsn[10];
    int32_t geboren;
    char woon[7]; /* where the child lives: a gemeente of the world */
    char brp[7];  /* the woonplaatsgemeente the events carry: woon, or a code a
                   * herindeling dissolved into woon (the BRP not yet renamed) */
} sim_child;

/* One story: a template event and the status and day of each step. A step
 * with a script event tells that event (its own type, bron, status and
 * dates) instead of the template. The story owns tmpl and the scripts. */
typedef struct sim_story {
    const kh_event_type *type;
    json_t *tmpl;
    char bron[24];
    const char *status[SIM_MAX_STEPS];
    int32_t day[SIM_MAX_STEPS]; /* the day of each step (its occurred_at) */
    int steps, next;
    int dated; /* the step's day is also the template event's date (datum) */
    json_t *script[SIM_MAX_STEPS];
    const kh_event_type *script_type[SIM_MAX_STEPS];
    char script_bron[SIM_MAX_STEPS][24];
} sim_story;

/* A termijn case (sim_termijn_gen.c) around the options' today into s. */
int sim_termijn_story(sim_gen *g, sim_story *s);

/* The options, a new case number, a new child of woon aged min..max on
 * day, its template event, and a school for it (sim_gen.c's helpers). */
const sim_gen_options *sim_gen_opts(sim_gen *g);
unsigned long sim_gen_serial(sim_gen *g);
sim_child sim_gen_child(sim_gen *g, const char *woon, int32_t day, int min, int max);
json_t *sim_gen_template(const sim_child *c);
const char *sim_gen_school(sim_gen *g, const char *woon, const char *soort, int32_t day);
/* Sets the verwijzer of a verwijzing of this type and the story's bron. */
void sim_gen_verwijzer(sim_gen *g, sim_story *s, const char *type, const sim_child *c, int32_t day);
json_t *sim_gen_org(const char *type, const char *code);
json_t *sim_gen_date(int32_t day);

#endif
