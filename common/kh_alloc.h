/*
 * kh_alloc — the one out-of-memory policy: allocate or abort.
 *
 * Every allocation in ketenhub goes through these wrappers. When the system
 * cannot give memory, a service can neither keep its promises (a 202 only
 * after the broker acknowledged, offsets only after the work is durable) nor
 * report reliably, so it logs one line and aborts; the supervisor restarts
 * it and Kafka redelivers what was not committed. This is Redis's zmalloc
 * policy. Callers therefore never check for NULL, and never assign realloc's
 * result back to the pointer they grow (kh_realloc does not return on
 * failure).
 *
 * Memory returned is the caller's, freed with free(). Thread-safe.
 */
#ifndef KH_ALLOC_H
#define KH_ALLOC_H

#include <stddef.h>

void *kh_malloc(size_t size);
void *kh_calloc(size_t count, size_t size);
void *kh_realloc(void *ptr, size_t size);
char *kh_strdup(const char *s);
char *kh_strndup(const char *s, size_t n);

/* Logs "out of memory allocating N bytes" to stderr and aborts. */
_Noreturn void kh_alloc_oom(size_t size);

#endif
