/*
 * test_watch_service — ketenhub-watch as a program on a devbroker: --help,
 * refusing a non-loopback address without TLS and tokens, operator tokens
 * (401 without, the page and API with Bearer or Basic, /healthz open), the
 * API's problems (bad parameters, a redrive of an unknown dead letter, a
 * redrive that is not JSON), the page and its script served from the
 * binary, the Prometheus gauges, HTTPS, and termijn's state records on
 * the topic becoming open and overdue counts per region without the child.
 */
#include "kh_kalender.h"
#include "kh_time.h"
#include "state_fixture.h"
#include "testlib.h"

#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char bootstrap[512], env_bootstrap[600], dir[] = "/tmp/kh-watch-svc-XXXXXX", ops[256],
                                                log_path[256];
static pid_t broker, watch;
static int port;
static const char *cainfo; /* set: speak HTTPS, trusting this CA */

/* printf %s token-of-j.jansen | sha256sum */
#define TOKEN "token-of-j.jansen"

typedef struct body {
    char text[262144];
    size_t len;
} body;

static size_t collect(char *p, size_t size, size_t n, void *ud) {
    body *b = ud;
    size_t k = size * n;
    if (b->len + k < sizeof b->text) {
        memcpy(b->text + b->len, p, k);
        b->len += k;
        b->text[b->len] = 0;
    }
    return k;
}

/* A request with an optional Authorization header and JSON body; the status. */
static long request(const char *method, const char *path, const char *auth, const char *json,
                    const char *ctype, body *out) {
    char url[256], h1[256], h2[128];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d%s", cainfo ? "https" : "http", port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    if (auth) {
        snprintf(h1, sizeof h1, "Authorization: %s", auth);
        h = curl_slist_append(h, h1);
    }
    if (ctype) {
        snprintf(h2, sizeof h2, "Content-Type: %s", ctype);
        h = curl_slist_append(h, h2);
    }
    out->len = 0;
    out->text[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (json)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (cainfo)
        curl_easy_setopt(c, CURLOPT_CAINFO, cainfo);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static void setup(void) {
    broker = kh_test_devbroker(bootstrap, sizeof bootstrap);
    snprintf(env_bootstrap, sizeof env_bootstrap, "KETENHUB_KAFKA_BOOTSTRAP_SERVERS=%s", bootstrap);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(ops, sizeof ops, "%s/operators.json", dir);
    snprintf(log_path, sizeof log_path, "%s/watch.log", dir);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "printf '{\"operators\": [{\"name\": \"j.jansen\", \"token_sha256\": \"%%s\"}]}' "
             "$(printf %%s %s | sha256sum | cut -c1-64) > %s",
             TOKEN, ops);
    ck_assert_int_eq(system(cmd), 0);
    port = kh_test_free_port();
    char listen[64], opsfile[300];
    snprintf(listen, sizeof listen, "http.listen=127.0.0.1:%d", port);
    snprintf(opsfile, sizeof opsfile, "operators.file=%s", ops);
    const char *argv[] = {kh_test_bin("ketenhub-watch"), "--set", listen, "--set", opsfile, NULL};
    watch = kh_test_spawn(argv, (const char *[]){env_bootstrap, NULL}, log_path);
    kh_test_wait_http(port, "/readyz", 200, 30000);
}

static void teardown(void) {
    ck_assert_int_eq(kh_test_stop(watch, SIGTERM, 10000), 0);
    kh_test_stop(broker, SIGTERM, 5000);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    strcpy(dir, "/tmp/kh-watch-svc-XXXXXX");
}

START_TEST(tokens_guard_everything_but_health) {
    static body b;
    ck_assert_int_eq(request("GET", "/healthz", NULL, NULL, NULL, &b), 200);
    ck_assert_int_eq(request("GET", "/api/v1/overzicht", NULL, NULL, NULL, &b), 401);
    ck_assert_ptr_nonnull(strstr(b.text, "operator token"));
    ck_assert_int_eq(request("GET", "/", "Bearer wrong", NULL, NULL, &b), 401);
    ck_assert_int_eq(request("GET", "/api/v1/overzicht", "Bearer " TOKEN, NULL, NULL, &b), 200);
    ck_assert_ptr_nonnull(strstr(b.text, "\"groups\""));
    char basic[160], enc[128];
    FILE *p = popen("printf %s 'j.jansen:" TOKEN "' | base64 -w0", "r");
    ck_assert_ptr_nonnull(fgets(enc, sizeof enc, p));
    pclose(p);
    snprintf(basic, sizeof basic, "Basic %s", enc);
    ck_assert_int_eq(request("GET", "/", basic, NULL, NULL, &b), 200);
    ck_assert_ptr_nonnull(strstr(b.text, "<html lang=\"nl\">"));
    ck_assert_int_eq(request("GET", "/app.js", basic, NULL, NULL, &b), 200);
    ck_assert_ptr_nonnull(strstr(b.text, "drawFlow"));
    ck_assert_int_eq(request("GET", "/openapi.json", basic, NULL, NULL, &b), 200);
    ck_assert_ptr_nonnull(strstr(b.text, "/api/v1/deadletters/redrive"));
}
END_TEST

START_TEST(api_problems_are_precise) {
    static body b;
    const char *auth = "Bearer " TOKEN;
    ck_assert_int_eq(request("GET", "/api/v1/regio?paar=provincie", auth, NULL, NULL, &b), 400);
    ck_assert_ptr_nonnull(strstr(b.text, "paar must be gemeente, swv or jeugdregio"));
    ck_assert_int_eq(request("GET", "/api/v1/reeks?familie=topic", auth, NULL, NULL, &b), 400);
    ck_assert_int_eq(request("GET", "/api/v1/reeks?familie=topic&sleutel=nope", auth, NULL, NULL,
                             &b),
                     404);
    ck_assert_int_eq(request("GET", "/nope", auth, NULL, NULL, &b), 404);
    ck_assert_int_eq(request("DELETE", "/api/v1/overzicht", auth, NULL, NULL, &b), 405);
    ck_assert_int_eq(request("POST", "/api/v1/deadletters/redrive", auth, "partition=0",
                             "application/x-www-form-urlencoded", &b),
                     415);
    ck_assert_int_eq(request("POST", "/api/v1/deadletters/redrive", auth, "{\"partition\": 0}",
                             "application/json", &b),
                     400);
    ck_assert_int_eq(request("POST", "/api/v1/deadletters/redrive", auth,
                             "{\"partition\": 0, \"offset\": 9}", "application/json", &b),
                     404);
    ck_assert_ptr_nonnull(strstr(b.text, "no such dead letter"));
    ck_assert_int_eq(request("GET", "/api/v1/regio.csv", auth, NULL, NULL, &b), 200);
    ck_assert_str_eq(b.text, "regel,maand,paar,a,b,aantal\n");
    ck_assert_int_eq(request("GET", "/metrics", auth, NULL, NULL, &b), 200);
    ck_assert_ptr_nonnull(strstr(b.text, "ketenhub_watch_group_status{group=\"ketenhub-push\","
                                         "service=\"push\",status=\"UNKNOWN\"} 1"));
    ck_assert_ptr_nonnull(strstr(b.text, "# TYPE ketenhub_watch_group_lag_seconds gauge"));
}
END_TEST

START_TEST(refuses_other_addresses_without_tls_and_tokens) {
    char path[300];
    snprintf(path, sizeof path, "%s/refused.log", dir);
    const char *argv[] = {kh_test_bin("ketenhub-watch"), "--set", "http.listen=0.0.0.0:0", NULL};
    pid_t pid = kh_test_spawn(argv, (const char *[]){env_bootstrap, NULL}, path);
    ck_assert_int_eq(kh_test_stop(pid, 0, 20000), 1);
    char text[4096] = "";
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = 0;
    if (f)
        fclose(f);
    ck_assert_msg(strstr(text,
                         "is not loopback: set http.tls.cert, http.tls.key and operators.file") !=
                      NULL,
                  "%s", text);
    const char *help[] = {kh_test_bin("ketenhub-watch"), "--help", NULL};
    snprintf(path, sizeof path, "%s/help.log", dir);
    pid = kh_test_spawn(help, NULL, path);
    ck_assert_int_eq(kh_test_stop(pid, 0, 10000), 0);
}
END_TEST

START_TEST(serves_https_with_tokens) {
    static body b;
    char cmd[512], cert[300], key[300], ca[300], listen[64], opsfile[300], tls_cert[320],
        tls_key[320], path[300];
    snprintf(cmd, sizeof cmd, "%s/tests/push/make-certs.sh %s >/dev/null 2>&1",
             kh_test_source_dir(), dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(tls_cert, sizeof tls_cert, "http.tls.cert=%s", cert);
    snprintf(tls_key, sizeof tls_key, "http.tls.key=%s", key);
    snprintf(opsfile, sizeof opsfile, "operators.file=%s", ops);
    snprintf(path, sizeof path, "%s/https.log", dir);
    int plain = port;
    port = kh_test_free_port();
    snprintf(listen, sizeof listen, "http.listen=127.0.0.1:%d", port);
    const char *argv[] = {kh_test_bin("ketenhub-watch"),
                          "--set",
                          listen,
                          "--set",
                          opsfile,
                          "--set",
                          tls_cert,
                          "--set",
                          tls_key,
                          NULL};
    pid_t pid = kh_test_spawn(argv, (const char *[]){env_bootstrap, NULL}, path);
    cainfo = ca;
    long st = 0;
    for (int i = 0; i < 100 && st != 200; i++, usleep(100000))
        st = request("GET", "/healthz", NULL, NULL, NULL, &b);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(request("GET", "/api/v1/deadletters", NULL, NULL, NULL, &b), 401);
    ck_assert_int_eq(request("GET", "/api/v1/deadletters", "Bearer " TOKEN, NULL, NULL, &b), 200);
    ck_assert_str_eq(b.text, "{\"deadletters\":[]}");
    cainfo = NULL;
    ck_assert_int_eq(kh_test_stop(pid, SIGTERM, 10000), 0);
    port = plain;
}
END_TEST

#define STATE_BSN "111222333"

/* The changelog record termijn itself writes for a child in woon with one
 * zorgplicht termijn due at `due` (state_fixture.h), its layout version
 * set to `version` (1 is termijn's; another one watch must skip and
 * count); version < 0: a tombstone. */
static void produce_state(rd_kafka_t *rk, const char *key, const char *woon, int32_t due,
                          int version) {
    char *value = NULL;
    size_t n = 0;
    if (version >= 0) {
        char *v = state_fixture_zorgplicht(STATE_BSN, woon, due, &n);
        json_t *j = json_loadb(v, n, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "v")), 1);
        json_object_set_new(j, "v", json_integer(version));
        value = json_dumps(j, JSON_COMPACT);
        n = strlen(value);
        json_decref(j);
        free(v);
    }
    rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("ketenhub.termijn.state.v1"),
                                              RD_KAFKA_V_KEY(key, strlen(key)),
                                              RD_KAFKA_V_VALUE(value, n),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                              RD_KAFKA_V_END);
    ck_assert_int_eq(e, 0);
    free(value);
}

static void assert_no_child(const char *text, const char *what) {
    ck_assert_msg(!strstr(text, STATE_BSN), "BSN in %s", what);
    ck_assert_msg(!strstr(text, "16572") && !strstr(text, "12AB00"), "child data in %s", what);
    ck_assert_msg(!strstr(text, "kind-"), "pseudonym in %s", what);
}

START_TEST(termijn_state_shows_per_region_without_the_child) {
    static body b;
    const char *auth = "Bearer " TOKEN;
    int32_t today = kh_kalender_amsterdam_date(kh_now_millis());
    rd_kafka_t *rk = kh_test_producer(bootstrap);
    char key[32];
    for (int i = 0; i < 7; i++) { /* Rotterdam, JZ29: 7, 3 of them overdue */
        snprintf(key, sizeof key, "kind-r%d", i);
        produce_state(rk, key, "GM0599", i < 3 ? today - 1 : today + 9, 1);
    }
    for (int i = 0; i < 2; i++) { /* Amsterdam, JZ13: 2 */
        snprintf(key, sizeof key, "kind-a%d", i);
        produce_state(rk, key, "GM0363", today + 9, 1);
    }
    produce_state(rk, "kind-r6", "", 0, -1);         /* tombstone */
    produce_state(rk, "kind-x", "GM0599", today, 2); /* layout version 2 */
    ck_assert_int_eq(rd_kafka_flush(rk, 10000), 0);
    rd_kafka_destroy(rk);
    /* watch looks for new partitions every 10 s */
    const char *want = "{\"open\":\"5\",\"verlopen\":\"< 5\",\"regio\":\"JZ29\"}";
    for (int i = 0; i < 60 && !strstr(b.text, want); i++, usleep(500000))
        ck_assert_int_eq(request("GET", "/api/v1/termijnen", auth, NULL, NULL, &b), 200);
    ck_assert_msg(strstr(b.text, want) != NULL, "%s", b.text);
    ck_assert_ptr_nonnull(strstr(b.text, "{\"open\":\"< 5\",\"verlopen\":\"0\",\"regio\":"
                                         "\"JZ13\"}"));
    ck_assert_ptr_nonnull(strstr(b.text, "\"niet_gelezen\":{\"json\":0,\"versie\":1,"));
    assert_no_child(b.text, "the JSON");
    ck_assert_int_eq(request("GET", "/api/v1/termijnen?indeling=swv&jeugdregio=JZ13", auth, NULL,
                             NULL, &b),
                     200);
    ck_assert_msg(!strstr(b.text, "JZ29") && strstr(b.text, "\"open\":\"< 5\""), "%s", b.text);
    ck_assert_int_eq(request("GET", "/api/v1/termijnen?indeling=gemeente", auth, NULL, NULL, &b),
                     400);
    ck_assert_int_eq(request("GET", "/api/v1/termijnen.csv", auth, NULL, NULL, &b), 200);
    ck_assert_ptr_nonnull(strstr(b.text,
                                 "ZORGPLICHT_TERMIJN_VERSTREKEN,jeugdregio,JZ29,5,< 5\n"
                                 "ZORGPLICHT_TERMIJN_VERSTREKEN,jeugdregio,totaal,5,< 5\n"));
    assert_no_child(b.text, "the CSV");
    ck_assert_int_eq(request("GET", "/metrics", auth, NULL, NULL, &b), 200);
    ck_assert_ptr_nonnull(strstr(b.text, "ketenhub_watch_termijnen_open{regel=\""
                                         "ZORGPLICHT_TERMIJN_VERSTREKEN\"} 5\n"));
    ck_assert_ptr_nonnull(strstr(b.text, "ketenhub_watch_termijnen_verlopen{regel=\""
                                         "ZORGPLICHT_TERMIJN_VERSTREKEN\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(b.text, "ketenhub_watch_termijn_state_unread_records{reden=\""
                                         "versie\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(b.text, "group=\"ketenhub-termijn\",service=\"termijn\""));
    assert_no_child(b.text, "the metrics");
    ck_assert_int_eq(request("GET", "/api/v1/overzicht", auth, NULL, NULL, &b), 200);
    assert_no_child(b.text, "the overview");
}
END_TEST

int main(void) {
    Suite *s = suite_create("watch_service");
    TCase *tc = tcase_create("service");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tokens_guard_everything_but_health);
    tcase_add_test(tc, api_problems_are_precise);
    tcase_add_test(tc, refuses_other_addresses_without_tls_and_tokens);
    tcase_add_test(tc, serves_https_with_tokens);
    tcase_add_test(tc, termijn_state_shows_per_region_without_the_child);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
