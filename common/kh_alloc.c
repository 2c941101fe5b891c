/*
 * kh_alloc — allocation wrappers that abort on failure (see kh_alloc.h).
 */
#include "kh_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void kh_alloc_oom(size_t size) {
    /* No kh_log here: logging allocates. One write(2)-sized line is enough
     * for the operator, and abort() leaves a core for the developer. */
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory allocating %zu bytes\"}\n", size);
    fflush(stderr);
    abort();
}

void *kh_malloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p)
        kh_alloc_oom(size);
    return p;
}

void *kh_calloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        kh_alloc_oom(count * size);
    return p;
}

void *kh_realloc(void *ptr, size_t size) {
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        kh_alloc_oom(size);
    return p;
}

char *kh_strndup(const char *s, size_t n) {
    size_t len = strnlen(s, n);
    char *p = kh_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *kh_strdup(const char *s) { return kh_strndup(s, strlen(s)); }
