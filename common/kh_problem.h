/*
 * kh_problem — the list of things wrong with an input, each with a JSON
 * pointer to the field, a stable reason code and a plain-English detail.
 *
 * The codec and the validator append to one list so a partner sees every
 * failing field at once. The reason codes are the error catalogue of the
 * README; they never change meaning. Details never contain a BSN or other
 * field values of the child.
 */
#ifndef KH_PROBLEM_H
#define KH_PROBLEM_H

#include <stddef.h>

typedef enum kh_reason {
    KH_R_SYNTAX,        /* not parseable as JSON */
    KH_R_ENCODING,      /* not valid UTF-8 */
    KH_R_REQUIRED,      /* a required field is missing */
    KH_R_TYPE,          /* wrong JSON type for the field */
    KH_R_ENUM,          /* not one of the allowed symbols */
    KH_R_FORMAT,        /* malformed value: code, uuid, date, timestamp */
    KH_R_TOO_LONG,      /* longer than the field's maxLength */
    KH_R_UNKNOWN_FIELD, /* a field the schema does not have */
    KH_R_RANGE,         /* number outside its range */
    KH_R_ELFPROEF,      /* BSN fails the elfproef */
    KH_R_UNKNOWN_CODE,  /* well-formed code unknown in the reference data at the event date */
    KH_R_DATE_ORDER,    /* einddatum before ingangsdatum */
    KH_R_FUTURE,        /* a date or time in the future */
    KH_R_AGE,           /* the child is not 0-23 years old at the event date */
    KH_R_INCONSISTENT,  /* fields that contradict each other */
    KH_R_COUNT
} kh_reason;

#define KH_PROBLEM_MAX 32
#define KH_POINTER_LEN 128
#define KH_DETAIL_LEN 192

typedef struct kh_problem {
    char pointer[KH_POINTER_LEN]; /* RFC 6901 JSON pointer, "" for the whole document */
    kh_reason reason;
    char detail[KH_DETAIL_LEN];
} kh_problem;

/* A fixed-capacity list; caller-allocated, no heap. */
typedef struct kh_problems {
    kh_problem items[KH_PROBLEM_MAX];
    size_t count;
    size_t dropped; /* problems beyond KH_PROBLEM_MAX, counted but not kept */
} kh_problems;

void kh_problems_init(kh_problems *p);

/* Appends a problem; detail is printf-style. */
void kh_problems_add(kh_problems *p, const char *pointer, kh_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* True when a problem with exactly this pointer is in the list. */
int kh_problems_has(const kh_problems *p, const char *pointer);

/* The stable lower-case name of a reason ("elfproef"), and the reason of a
 * name (-1 when unknown). */
const char *kh_reason_name(kh_reason r);
int kh_reason_from_name(const char *name);

/* Writes "pointer: detail (reason)" lines into buf; returns buf. */
char *kh_problems_format(const kh_problems *p, char *buf, size_t len);

#endif
