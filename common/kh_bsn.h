/*
 * kh_bsn — the burgerservicenummer (BSN) check and its masking.
 *
 * A BSN is 9 digits passing the elfproef: d1*9 + d2*8 + ... + d8*2 - d9*1
 * is divisible by 11 (and the number is not all zeros). Validation uses the
 * check on input; the log module uses the masking so that no BSN ever
 * reaches a log line. Both functions are pure and thread-safe.
 */
#ifndef KH_BSN_H
#define KH_BSN_H

/* Returns 1 when s is exactly 9 ASCII digits passing the elfproef, else 0
 * (also for NULL). */
int kh_bsn_valid(const char *s);

/* Masks, in place, every run of exactly 9 consecutive ASCII digits (not part
 * of a longer digit run) that passes the elfproef: each digit becomes '*'.
 * The length of text does not change. */
void kh_bsn_mask(char *text);

#endif
