/*
 * sim_subs — a push subscriptions file with a subscription for every
 * organisation of the reference data, all pointing at one receiver (the
 * demo's partner endpoint, or the test receivers), so every melding the
 * simulator expects has somewhere to go. Subscriptions already in the file
 * are kept as they are; the others are added with a signing secret derived
 * from the organisation (demo and test only, not secret).
 */
#ifndef SIM_SUBS_H
#define SIM_SUBS_H

#include "kh_ref.h"

#include <stddef.h>

/* The receiver path of an organisation: "/gemeente/gm0599". */
void sim_subs_path(const char *org, char *out, size_t len);

/* Writes path: its existing subscriptions (when the file exists) plus one
 * for every other organisation of ref at receiver_url + sim_subs_path.
 * Returns the number of subscriptions, or -1 with err filled. */
long sim_subs_write(const kh_ref *ref, const char *path, const char *receiver_url, char *err,
                    size_t errlen);

#endif
