/*
 * route_watch — directory signatures from readdir and stat.
 */
#include "route_watch.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t route_watch_signature(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    uint64_t sig = 0x84222325cbf29ce4ULL;
    char path[4096];
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        uint64_t h = fnv(0xcbf29ce484222325ULL, e->d_name, strlen(e->d_name));
        h = fnv(h, &st.st_size, sizeof st.st_size);
        h = fnv(h, &st.st_mtim, sizeof st.st_mtim);
        sig += h; /* order-independent: readdir order is not guaranteed */
    }
    closedir(d);
    return sig ? sig : 1;
}
