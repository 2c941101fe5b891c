/*
 * kh_log — structured logging: one JSON object per line, e.g.
 *
 *   {"ts":"2026-11-23T15:14:51.123Z","level":"info","service":"ingest",
 *    "msg":"event published","topic":"ketenhub.tlv.v1","partition":3}
 *
 * Each line goes out in a single write(), so lines from several threads
 * never interleave. There is no format string: variable data goes in the
 * fields object (json_pack() builds one in a line).
 *
 * Privacy: no BSN can be printed. After the line is serialised, every run of
 * exactly 9 digits that passes the elfproef is replaced by `*********` (see
 * kh_bsn_mask), in msg, field names and field values alike; a number field
 * that would hold one becomes the string "*********" so the line stays
 * valid JSON. Log pseudonyms (kh_pseudo) to correlate a child's events.
 */
#ifndef KH_LOG_H
#define KH_LOG_H

#include <jansson.h>

enum { KH_LOG_DEBUG, KH_LOG_INFO, KH_LOG_WARN, KH_LOG_ERROR };

/* Configures logging; call once at startup, before other threads start.
 * service names the program in every line (copied; at most 63 bytes kept).
 * Lines below min_level are dropped. fd receives the lines (normally
 * STDERR_FILENO, which is also the default before any setup, with service
 * "ketenhub" and level KH_LOG_INFO). The fd stays the caller's. */
void kh_log_setup(const char *service, int min_level, int fd);

/* The level named "debug", "info", "warn" or "error" (any case), or -1. */
int kh_log_level_parse(const char *name);

/* Whether a line at level would be written: lets a caller skip building
 * expensive fields. */
int kh_log_enabled(int level);

/* Writes one line at level with msg and the members of fields. fields is a
 * JSON object or NULL; its reference is stolen (released here, also when the
 * line is dropped). Members named ts, level, service or msg are ignored; a
 * fields value that is not an object is logged under the name "fields".
 * Thread-safe. A failed write is not reported: logging must not fail the
 * caller. */
void kh_log(int level, const char *msg, json_t *fields);

#define kh_log_debug(msg, fields) kh_log(KH_LOG_DEBUG, (msg), (fields))
#define kh_log_info(msg, fields) kh_log(KH_LOG_INFO, (msg), (fields))
#define kh_log_warn(msg, fields) kh_log(KH_LOG_WARN, (msg), (fields))
#define kh_log_error(msg, fields) kh_log(KH_LOG_ERROR, (msg), (fields))

#endif
