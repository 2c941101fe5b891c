/*
 * route_watch — notices that the reference data files changed, so route
 * can reload them without a SIGHUP. A signature of the directory (names,
 * sizes, modification times) is compared with the last one seen.
 */
#ifndef ROUTE_WATCH_H
#define ROUTE_WATCH_H

#include <stdint.h>

/* The signature of the regular files in dir; 0 when dir cannot be read. */
uint64_t route_watch_signature(const char *dir);

#endif
