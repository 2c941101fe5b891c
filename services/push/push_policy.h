/*
 * push_policy — what an HTTP outcome means and how long to wait before the
 * next attempt. Pure functions, so the rules are tested on their own.
 *
 *   2xx                                   delivered
 *   408, 429, 5xx, no response (connect,  retry, with exponential backoff and
 *   TLS, reset, timeout)                  jitter, honouring Retry-After
 *   any other status (3xx, other 4xx)     rejected: dead-lettered at once
 */
#ifndef PUSH_POLICY_H
#define PUSH_POLICY_H

#include <stdint.h>

typedef enum push_verdict { PUSH_DELIVERED, PUSH_RETRY, PUSH_REJECTED } push_verdict;

/* status: the HTTP status received, 0 when there was no response. */
push_verdict push_policy_classify(long status);

/* The wait after the attempts-th failed attempt (1 = the first):
 * d = min(max_ms, initial_ms * 2^(attempts-1)), then "equal jitter": a value
 * in [d/2, d] chosen by r in [0, 1). At least retry_after_ms (the server's
 * Retry-After, -1 when absent), which is not capped by max_ms. */
int64_t push_policy_backoff_ms(int attempts, int64_t initial_ms, int64_t max_ms, double r,
                               int64_t retry_after_ms);

#endif
