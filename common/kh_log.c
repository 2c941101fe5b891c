/*
 * kh_log — JSON lines with BSN masking. The line is built as a jansson
 * object, every string, key and number in it is masked, it is serialised,
 * masked once more as text (the contract kh_log.h promises, and it covers
 * anything the tree pass could miss), and written in one write().
 *
 * Why mask the tree as well as the text: jansson escapes control characters
 * as \u00XX, and a BSN right after such an escape would join its hex digits
 * into a longer digit run that the text pass leaves alone; a BSN held in a
 * number field would turn into invalid JSON if masked only as text.
 */
#include "kh_log.h"

#include "kh_alloc.h"
#include "kh_bsn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Set once by kh_log_setup() before threads start; read-only afterwards. */
static char log_service[64] = "ketenhub";
static int log_min_level = KH_LOG_INFO;
static int log_fd = STDERR_FILENO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void kh_log_setup(const char *service, int min_level, int fd) {
    snprintf(log_service, sizeof(log_service), "%s", service);
    log_min_level = min_level;
    log_fd = fd;
}

int kh_log_level_parse(const char *name) {
    for (int i = KH_LOG_DEBUG; i <= KH_LOG_ERROR; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

int kh_log_enabled(int level) { return level >= log_min_level; }

/* Masks a buffer that may hold NUL bytes, segment by segment. */
static void mask_bytes(char *buf, size_t len) {
    for (char *p = buf; p < buf + len; p += strlen(p) + 1)
        kh_bsn_mask(p);
}

static json_t *masked_string(const char *s, size_t len) {
    char *copy = kh_malloc(len + 1);
    memcpy(copy, s, len);
    copy[len] = '\0';
    mask_bytes(copy, len);
    /* Only ASCII digits became '*': still the valid UTF-8 it was. */
    json_t *r = json_stringn_nocheck(copy, len);
    free(copy);
    return r;
}

/* A number holding a BSN becomes the masked text as a string. */
static json_t *masked_number(json_t *num) {
    char *text = json_dumps(num, JSON_ENCODE_ANY);
    if (text == NULL)
        return json_incref(num);
    kh_bsn_mask(text);
    json_t *r = strchr(text, '*') ? json_string(text) : json_incref(num);
    free(text);
    return r;
}

/* A deep copy of v with every BSN masked; a new reference. */
static json_t *masked(json_t *v) {
    const char *key;
    size_t keylen, i;
    json_t *member, *copy;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        copy = json_object();
        json_object_keylen_foreach(v, key, keylen, member) {
            json_t *k = masked_string(key, keylen);
            if (copy && k)
                json_object_setn_new_nocheck(copy, json_string_value(k), keylen, masked(member));
            json_decref(k);
        }
        return copy;
    case JSON_ARRAY:
        copy = json_array();
        json_array_foreach(v, i, member) {
            json_array_append_new(copy, masked(member));
        }
        return copy;
    case JSON_STRING: return masked_string(json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
    case JSON_REAL: return masked_number(v);
    default: return json_incref(v);
    }
}

/* s as a JSON string even when it is not valid UTF-8 (bytes >= 0x80 then
 * become '?'): a log line must not be lost over one bad byte. */
static json_t *lenient_string(const char *s) {
    json_t *js = json_string(s);
    if (js)
        return js;
    char *copy = kh_strdup(s);
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    js = json_string(copy);
    free(copy);
    return js;
}

static void timestamp(char buf[32]) {
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, 32 - n, ".%03ldZ", now.tv_nsec / 1000000);
}

static json_t *build_line(int level, const char *msg, json_t *fields) {
    char ts[32];
    timestamp(ts);
    json_t *line = json_object();
    if (line == NULL)
        return NULL;
    json_object_set_new(line, "ts", json_string(ts));
    json_object_set_new(line, "level", json_string(level_names[level]));
    json_object_set_new(line, "service", lenient_string(log_service));
    json_object_set_new(line, "msg", lenient_string(msg ? msg : ""));
    if (json_is_object(fields))
        json_object_update_missing(line, fields);
    else if (fields)
        json_object_set(line, "fields", fields);
    json_t *safe = masked(line);
    json_decref(line);
    return safe;
}

/* A short write (a signal, a full pipe) is completed rather than dropped;
 * only then can another thread's line come in between. */
static void write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

void kh_log(int level, const char *msg, json_t *fields) {
    level = level < KH_LOG_DEBUG ? KH_LOG_DEBUG : level > KH_LOG_ERROR ? KH_LOG_ERROR : level;
    if (!kh_log_enabled(level)) {
        json_decref(fields);
        return;
    }
    json_t *line = build_line(level, msg, fields);
    json_decref(fields);
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (text == NULL)
        return;
    size_t len = strlen(text);
    char *out = kh_realloc(text, len + 2);
    kh_bsn_mask(out);
    out[len] = '\n';
    out[len + 1] = '\0';
    /* One write() per line: concurrent lines do not interleave. */
    write_all(log_fd, out, len + 1);
    free(out);
}
