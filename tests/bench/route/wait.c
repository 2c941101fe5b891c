/*
 * route_bench_wait — times a running ketenhub-route through its /metrics:
 * from the first poll that shows partitions assigned
 * (ketenhub_route_assigned_partitions > 0) to the first that shows EVENTS
 * records committed (ketenhub_route_records_in_total), polling every 10 ms.
 *
 *   route_bench_wait -P OPS_PORT -n EVENTS [-t TIMEOUT_S]
 *
 * Prints "route events=N seconds=S events_per_s=R"; exits 1 on timeout.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct body {
    char buf[1 << 16];
    size_t len;
} body;

static size_t collect(char *d, size_t s, size_t n, void *u) {
    body *b = u;
    size_t take = s * n;
    if (take > sizeof b->buf - 1 - b->len)
        take = sizeof b->buf - 1 - b->len;
    memcpy(b->buf + b->len, d, take);
    b->len += take;
    b->buf[b->len] = '\0';
    return s * n;
}

/* The sum of the samples of metric name in text. */
static double sum(const char *text, const char *name) {
    double total = 0;
    size_t n = strlen(name);
    for (const char *line = text; *line;) {
        if (strncmp(line, name, n) == 0 && (line[n] == '{' || line[n] == ' ')) {
            const char *v = line[n] == '{' ? strchr(line, '}') : line + n;
            total += v ? strtod(strchr(v, ' '), NULL) : 0;
        }
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : line + strlen(line);
    }
    return total;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int port = 0, opt;
    double events = 0, timeout = 900;
    while ((opt = getopt(argc, argv, "P:n:t:")) != -1) {
        if (opt == 'P')
            port = atoi(optarg);
        else if (opt == 'n')
            events = atof(optarg);
        else if (opt == 't')
            timeout = atof(optarg);
    }
    if (!port || events <= 0) {
        fprintf(stderr, "usage: route_bench_wait -P OPS_PORT -n EVENTS [-t TIMEOUT_S]\n");
        return 2;
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    static body b;
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    double begun = now_s(), start = 0, done = 0;
    struct timespec tick = {0, 10 * 1000000L};
    while (now_s() - begun < timeout) {
        b.len = 0;
        b.buf[0] = '\0';
        if (curl_easy_perform(c) == CURLE_OK) {
            if (!start && sum(b.buf, "ketenhub_route_assigned_partitions") > 0)
                start = now_s();
            done = sum(b.buf, "ketenhub_route_records_in_total");
            if (start && done >= events) {
                double seconds = now_s() - start;
                printf("route events=%.0f seconds=%.3f events_per_s=%.0f\n", done, seconds,
                       done / seconds);
                curl_easy_cleanup(c);
                return 0;
            }
        }
        nanosleep(&tick, NULL);
    }
    fprintf(stderr, "route_bench_wait: %.0f of %.0f records after %.0f s\n", done, events, timeout);
    curl_easy_cleanup(c);
    return 1;
}
