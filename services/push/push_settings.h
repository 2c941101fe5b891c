/*
 * push_settings — the configuration of ketenhub-push as main.c reads it
 * (the keys and defaults are in main.c's --help and README.md). Read only
 * once the service runs.
 */
#ifndef PUSH_SETTINGS_H
#define PUSH_SETTINGS_H

#include "push_subs.h"

typedef struct push_settings {
    const char *subscriptions_file;
    const char *group_id;
    push_sub_defaults defaults;
    long long retry_initial_ms, retry_max_ms;
    long long breaker_failures; /* failures in a row that make a partner back off */
    long long buffer_max;       /* fresh jobs in memory before the main topics pause */
    long long retry_buffer_max; /* waiting jobs in memory before the retry topic pauses */
    long long commit_interval_ms;
    long long shutdown_timeout_ms;
    long long max_connections, max_host_connections;
    long long max_in_flight; /* requests in flight over all partners */
} push_settings;

#endif
