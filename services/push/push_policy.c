/*
 * push_policy — classification of delivery outcomes and the backoff.
 */
#include "push_policy.h"

push_verdict push_policy_classify(long status) {
    if (status >= 200 && status <= 299)
        return PUSH_DELIVERED;
    if (status == 0 || status == 408 || status == 429 || (status >= 500 && status <= 599))
        return PUSH_RETRY;
    return PUSH_REJECTED;
}

int64_t push_policy_backoff_ms(int attempts, int64_t initial_ms, int64_t max_ms, double r,
                               int64_t retry_after_ms) {
    int64_t d = initial_ms > 0 ? initial_ms : 1;
    for (int i = 1; i < attempts && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    if (r < 0 || r >= 1)
        r = 0;
    int64_t wait = d / 2 + (int64_t)((double)(d - d / 2) * r);
    return retry_after_ms > wait ? retry_after_ms : wait;
}
