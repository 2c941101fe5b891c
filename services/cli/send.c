/*
 * send — `ketenhub send` (see send.h): POST to ingest's /v1/<plural> with
 * libcurl. The key comes only from the environment, so it never shows in
 * a process list or shell history.
 */
#include "send.h"

#include "cli_kafka.h"
#include "kh_alloc.h"
#include "kh_event.h"
#include "kh_file.h"

#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_LIMIT (1024 * 1024)

const char *cli_send_usage(void) {
    return "  send <event> <file.json|-> [--url URL] [--json]\n"
           "      Send one event through ketenhub-ingest (POST /v1/<event plural>) as a partner\n"
           "      does, with the API key in $KETENHUB_API_KEY. URL: --url, else\n"
           "      $KETENHUB_INGEST_URL, else http://127.0.0.1:8080. Prints the answer: event_id,\n"
           "      topic, partition and offset, or the problem with every failing field (--json:\n"
           "      ingest's JSON as it is). Exit status 0 accepted (202), 1 rejected (the\n"
           "      problem says why), 2 usage error, no API key, or ingest unreachable.\n";
}

typedef struct buf {
    char *data;
    size_t len;
} buf;

static size_t collect(char *p, size_t size, size_t n, void *ud) {
    buf *b = ud;
    size_t k = size * n;
    b->data = kh_realloc(b->data, b->len + k + 1);
    memcpy(b->data + b->len, p, k);
    b->len += k;
    b->data[b->len] = 0;
    return k;
}

static void print_answer(long status, const char *body, int json) {
    json_error_t je;
    json_t *j = json_loads(body ? body : "", 0, &je);
    if (json || !j) {
        printf("%s\n", body ? body : "");
    } else if (status == 202) {
        printf("geaccepteerd: event_id %s op %s, partitie %lld, offset %lld\n",
               json_string_value(json_object_get(j, "event_id")),
               json_string_value(json_object_get(j, "topic")),
               (long long)json_integer_value(json_object_get(j, "partition")),
               (long long)json_integer_value(json_object_get(j, "offset")));
    } else {
        printf("%ld %s: %s\n", status, json_string_value(json_object_get(j, "title")),
               json_string_value(json_object_get(j, "detail")));
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(j, "errors"), i, e)
            printf("%s: %s (%s)\n", json_string_value(json_object_get(e, "pointer")),
                   json_string_value(json_object_get(e, "detail")),
                   json_string_value(json_object_get(e, "reason")));
    }
    json_decref(j);
}

static int post(const char *url, const char *key, const char *body, size_t len, int json) {
    CURL *c = curl_easy_init();
    char auth[512];
    buf answer = {NULL, 0};
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK)
        fprintf(stderr,
                "ketenhub: cannot reach ingest at %s: %s; is ketenhub-ingest running? "
                "(--url or KETENHUB_INGEST_URL)\n",
                url, curl_easy_strerror(rc));
    else
        print_answer(status, answer.data, json);
    free(answer.data);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc != CURLE_OK ? 2 : status == 202 ? 0 : 1;
}

int cli_send_main(int argc, char **argv) {
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"url", required_argument, NULL, 'u'},
                                         {NULL, 0, NULL, 0}};
    const char *base = getenv("KETENHUB_INGEST_URL");
    int opt, json = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'j')
            json = 1;
        else if (opt == 'u')
            base = optarg;
        else
            return fprintf(stderr, "ketenhub: send: see ketenhub --help\n"), 2;
    }
    if (argc - optind != 2)
        return fprintf(stderr, "ketenhub: send wants <event> <file.json>, e.g. ketenhub send "
                               "aanmelding a.json\n"),
               2;
    const kh_event_type *t = kh_event_type_by_name(argv[optind]);
    if (!t)
        return fprintf(
                   stderr,
                   "ketenhub: unknown event type '%s' (aanmelding, tlv, beschikking, verwijzing)\n",
                   argv[optind]),
               2;
    const char *key = getenv("KETENHUB_API_KEY");
    if (!key || !*key)
        return fprintf(stderr,
                       "ketenhub: set KETENHUB_API_KEY to your partner API key (it is never read "
                       "from the command line)\n"),
               2;
    char err[512], url[1024];
    size_t len;
    char *body = kh_file_read(argv[optind + 1], BODY_LIMIT, &len, err, sizeof err);
    if (!body)
        return fprintf(stderr, "ketenhub: %s\n", err), 2;
    snprintf(url, sizeof url, "%s/v1/%s", base && *base ? base : "http://127.0.0.1:8080",
             t->plural);
    int rc = post(url, key, body, len, json);
    free(body);
    return rc;
}
