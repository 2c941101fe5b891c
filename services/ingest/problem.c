/*
 * problem — the catalogue table and the problem+json builder.
 */
#include "problem.h"

#include "kh_bsn.h"

#include <stdio.h>
#include <string.h>

/* The bytes of a character that may be a digit at p: an ASCII digit, or
 * any non-ASCII character (a fullwidth or other script's digit; telling
 * which would need Unicode tables, and masking a letter costs nothing). */
static size_t digit_like(const unsigned char *p) {
    if (*p >= '0' && *p <= '9')
        return 1;
    if (*p < 0xc0)
        return 0;
    size_t n = 1;
    while (n < 4 && (p[n] & 0xc0) == 0x80)
        n++;
    return n;
}

/* What may stand between the digits of a number written for people
 * (123 456 782, 123.456.782, 123-456-782) or split over pointer segments
 * (/123/456/782; ~ for ~0 and ~1 escapes). */
static int separator(unsigned char c) { return c && strchr(" \t.-_/~,\\", c) != NULL; }

void ingest_problem_mask_digits(const char *in, char *out, size_t len) {
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0;
    while (*p && o + 1 < len) {
        size_t digits = 0, end = 0, n;
        for (size_t i = 0; p[i]; i += n) {
            if ((n = digit_like(p + i))) {
                digits++;
                end = i + n;
            } else if (separator(p[i])) {
                n = 1;
            } else {
                break;
            }
        }
        if (digits >= INGEST_PROBLEM_MASK_DIGITS) {
            for (size_t i = 0; i < end && o + 1 < len; i += n) {
                n = digit_like(p + i);
                out[o++] = n ? '*' : (char)p[i];
                n = n ? n : 1;
            }
            p += end;
        } else {
            n = end ? end : 1;
            for (size_t i = 0; i < n && o + 1 < len; i++)
                out[o++] = (char)p[i];
            p += n;
        }
    }
    out[len ? o : 0] = '\0';
}

/* jansson's syntax errors quote the input near the fault ("invalid escape
 * near '"123 456 782\x'"), which is partner data in any form (spaced,
 * escaped): the quote is cut, line and column stay. */
static void cut_quote(char *text) {
    char *near = strstr(text, " near '");
    if (!near)
        return;
    /* The last one: the quoted input may hold the same words. */
    char *at = NULL;
    for (char *p = strstr(near, "' at line "); p; p = strstr(p + 1, "' at line "))
        at = p;
    memmove(near, at ? at + 1 : "", strlen(at ? at + 1 : "") + 1);
}

void ingest_problem_detail(const char *text, char *out, size_t len) {
    snprintf(out, len, "%s", text);
    cut_quote(out);
    kh_bsn_mask(out);
}

/* A detail fit to send; one cut inside a UTF-8 sequence keeps only its
 * ASCII. */
static json_t *masked(const char *text) {
    char buf[KH_DETAIL_LEN * 3];
    ingest_problem_detail(text, buf, sizeof buf);
    json_t *s = json_string(buf);
    for (char *c = buf; !s && *c; c++)
        if ((unsigned char)*c >= 0x80)
            *c = '?';
    return s ? s : json_string(buf);
}

static json_t *masked_pointer(const char *pointer) {
    char buf[KH_POINTER_LEN];
    ingest_problem_mask_digits(pointer, buf, sizeof buf);
    return json_string(buf);
}

static const ingest_problem_info catalogue[INGEST_PROBLEM_COUNT] = {
    [INGEST_PROBLEM_SYNTAX] = {"syntax", 400, "The body is not valid JSON"},
    [INGEST_PROBLEM_BAD_BATCH] = {"bad-batch", 400,
                                  "The batch is not lines of {\"type\", \"event\"}"},
    [INGEST_PROBLEM_BAD_REQUEST] = {"bad-request", 400, "The request is not well-formed HTTP"},
    [INGEST_PROBLEM_UNAUTHORIZED] = {"unauthorized", 401, "No valid API key"},
    [INGEST_PROBLEM_FORBIDDEN_TYPE] = {"forbidden-event-type", 403,
                                       "This partner may not send this event type"},
    [INGEST_PROBLEM_FORBIDDEN_BRON] = {"forbidden-bron", 403,
                                       "The event's bron is not this partner's organisation"},
    [INGEST_PROBLEM_NOT_FOUND] = {"not-found", 404, "Not found"},
    [INGEST_PROBLEM_METHOD] = {"method-not-allowed", 405, "Method not allowed"},
    [INGEST_PROBLEM_EVENT_ID_CONFLICT] = {"event-id-conflict", 409,
                                          "The event_id was already used for a different event"},
    [INGEST_PROBLEM_TOO_LARGE] = {"payload-too-large", 413, "The body is over the limit"},
    [INGEST_PROBLEM_URI_TOO_LONG] = {"uri-too-long", 414, "The request-target is too long"},
    [INGEST_PROBLEM_MEDIA_TYPE] = {"unsupported-media-type", 415, "Unsupported content type"},
    [INGEST_PROBLEM_VALIDATION] = {"validation", 422,
                                   "The event breaks the schema or a domain rule"},
    [INGEST_PROBLEM_RATE_LIMITED] = {"rate-limited", 429, "Too many requests from this partner"},
    [INGEST_PROBLEM_HEAD_TOO_LARGE] = {"header-fields-too-large", 431,
                                       "The request head is too large"},
    [INGEST_PROBLEM_INTERNAL] = {"internal", 500, "Internal error"},
    [INGEST_PROBLEM_NOT_IMPLEMENTED] = {"not-implemented", 501, "Not implemented"},
    [INGEST_PROBLEM_VERSION] = {"http-version-not-supported", 505,
                                "Only HTTP/1.1 and HTTP/1.0 are served"},
    [INGEST_PROBLEM_UNAVAILABLE] = {"broker-unavailable", 503, "The event could not be stored now"},
    [INGEST_PROBLEM_SHUTTING_DOWN] = {"shutting-down", 503, "This instance is shutting down"},
};

const ingest_problem_info *ingest_problem_info_of(ingest_problem_class c) {
    return &catalogue[c < INGEST_PROBLEM_COUNT ? c : INGEST_PROBLEM_INTERNAL];
}

static json_t *field_errors(const kh_problems *fields) {
    json_t *errors = json_array();
    for (size_t i = 0; i < fields->count; i++)
        json_array_append_new(errors, json_pack("{s:o, s:o, s:s}", "pointer",
                                                masked_pointer(fields->items[i].pointer), "detail",
                                                masked(fields->items[i].detail), "reason",
                                                kh_reason_name(fields->items[i].reason)));
    return errors;
}

json_t *ingest_problem_new(ingest_problem_class c, const char *detail, const char *instance_id,
                           const kh_problems *fields) {
    const ingest_problem_info *info = ingest_problem_info_of(c);
    char type[96], instance[64];
    snprintf(type, sizeof type, "https://ketenhub.nl/problems/%s", info->slug);
    snprintf(instance, sizeof instance, "urn:uuid:%s", instance_id);
    json_t *body = json_pack("{s:s, s:s, s:i, s:o, s:s}", "type", type, "title", info->title,
                             "status", (int)info->status, "detail",
                             masked(detail ? detail : info->title), "instance", instance);
    if (body && fields && fields->count)
        json_object_set_new(body, "errors", field_errors(fields));
    return body;
}
