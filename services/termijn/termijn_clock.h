/*
 * termijn_clock — the hub's "now" for the termijnen: the wall clock, or,
 * for tests only, the RFC 3339 timestamp written in a file
 * (termijn.clock.file), read again on every call so a test moves time by
 * rewriting the file. A file that cannot be read or parsed keeps the last
 * good value (the wall clock until there is one) and says so once.
 */
#ifndef TERMIJN_CLOCK_H
#define TERMIJN_CLOCK_H

#include <stdint.h>

typedef struct termijn_clock {
    const char *file; /* NULL: the wall clock */
    int64_t last;     /* the last good reading of the file */
    int complained;
} termijn_clock;

/* Milliseconds since the epoch, UTC. */
int64_t termijn_clock_now(termijn_clock *c);

#endif
