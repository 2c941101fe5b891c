/*
 * test_push_units — the modules of ketenhub-push on their own: Standard
 * Webhooks signatures (the spec's own test vector), the outcome policy and
 * backoff bounds, every class of error in the subscriptions file, who a raw
 * event is addressed to, who receives each kind of record (push_process, as
 * a table), offset tracking with out-of-order completion,
 * abandonment and revocation, the partner queues, the retry record headers
 * and the aflevering record.
 */
#include "kh_alloc.h"
#include "kh_codec.h"
#include "kh_retry.h"
#include "push_aflevering.h"
#include "push_named.h"
#include "push_offsets.h"
#include "push_partner.h"
#include "push_policy.h"
#include "push_process.h"
#include "push_sign.h"
#include "push_subs.h"
#include "testlib.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kh_schemas *schemas;
static const push_sub_defaults defaults = {1, 10000, 86400000LL};

static void setup(void) {
    char err[256];
    ck_assert_int_eq(kh_schemas_open(&schemas, err, sizeof err), 0);
}

static void teardown(void) { kh_schemas_free(schemas); }

/* ---- signing ----------------------------------------------------------- */

START_TEST(signature_matches_the_spec_vector) {
    /* From the Standard Webhooks specification's reference libraries. */
    unsigned char key[PUSH_SIGN_KEY_MAX];
    size_t keylen;
    char err[160], sig[PUSH_SIGN_LEN];
    ck_assert_int_eq(push_sign_parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, &keylen,
                                            err, sizeof err),
                     0);
    ck_assert_uint_eq(keylen, 24);
    const char *body = "{\"test\": 2432232314}";
    ck_assert_int_eq(push_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                               strlen(body), sig),
                     0);
    ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* A different timestamp, id or body gives a different signature. */
    char other[PUSH_SIGN_LEN];
    ck_assert_int_eq(push_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body,
                               strlen(body), other),
                     0);
    ck_assert_str_ne(sig, other);
}
END_TEST

START_TEST(bad_secrets_are_refused) {
    unsigned char key[PUSH_SIGN_KEY_MAX];
    size_t keylen;
    char err[160];
    const char *bad[] = {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",       /* no prefix */
                         "whsec_",                                 /* empty */
                         "whsec_c2hvcnQ=",                         /* 5 bytes: too short */
                         "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa$w", /* not base64 */
                         "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"}; /* not padded */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(push_sign_parse_secret(bad[i], key, &keylen, err, sizeof err) == -1,
                      "accepted %s", bad[i]);
        ck_assert_ptr_null(strstr(err, "MfKQ")); /* the secret never appears in the error */
    }
}
END_TEST

/* ---- policy -------------------------------------------------------------- */

START_TEST(outcomes_are_classified) {
    ck_assert_int_eq(push_policy_classify(200), PUSH_DELIVERED);
    ck_assert_int_eq(push_policy_classify(204), PUSH_DELIVERED);
    ck_assert_int_eq(push_policy_classify(0), PUSH_RETRY);
    ck_assert_int_eq(push_policy_classify(408), PUSH_RETRY);
    ck_assert_int_eq(push_policy_classify(429), PUSH_RETRY);
    ck_assert_int_eq(push_policy_classify(500), PUSH_RETRY);
    ck_assert_int_eq(push_policy_classify(503), PUSH_RETRY);
    ck_assert_int_eq(push_policy_classify(599), PUSH_RETRY);
    ck_assert_int_eq(push_policy_classify(400), PUSH_REJECTED);
    ck_assert_int_eq(push_policy_classify(401), PUSH_REJECTED);
    ck_assert_int_eq(push_policy_classify(404), PUSH_REJECTED);
    ck_assert_int_eq(push_policy_classify(422), PUSH_REJECTED);
    ck_assert_int_eq(push_policy_classify(301), PUSH_REJECTED);
}
END_TEST

START_TEST(backoff_doubles_with_jitter_and_honours_retry_after) {
    for (int a = 1; a <= 12; a++) {
        int64_t d = 1000;
        for (int i = 1; i < a && d < 60000; i++)
            d *= 2;
        if (d > 60000)
            d = 60000;
        int64_t lo = push_policy_backoff_ms(a, 1000, 60000, 0.0, -1);
        int64_t hi = push_policy_backoff_ms(a, 1000, 60000, 0.999999, -1);
        ck_assert_int_eq(lo, d / 2);
        ck_assert_int_ge(hi, d - 1);
        ck_assert_int_le(hi, d);
    }
    /* Retry-After wins when longer, also beyond the maximum backoff. */
    ck_assert_int_eq(push_policy_backoff_ms(1, 1000, 60000, 0.5, 120000), 120000);
    ck_assert_int_le(push_policy_backoff_ms(1, 1000, 60000, 0.5, 10), 1000);
    ck_assert_int_eq(push_policy_backoff_ms(1000, 1000, 60000, 0.0, -1), 30000); /* no overflow */
}
END_TEST

/* ---- subscriptions -------------------------------------------------------- */

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static int parse(const char *text, push_subs **out, char *err, size_t errlen) {
    return push_subs_parse(text, strlen(text), "/tmp", schemas, &defaults, out, err, errlen);
}

START_TEST(subscriptions_parse_and_look_up) {
    setenv("KH_UNIT_TOKEN", "abc.def-123", 1);
    setenv("KH_UNIT_SECRET", SECRET, 1);
    const char *text = "{\"subscriptions\":["
                       "{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"https://"
                       "u:p@api.rotterdam.example:8443/hub/in?t=1#x\","
                       " \"secret\":\"" SECRET
                       "\",\"auth\":{\"type\":\"bearer\",\"token_env\":\"KH_UNIT_TOKEN\"},"
                       " \"regels\":[\"ONDERWIJS_BUITEN_WOONGEMEENTE\"],\"limits\":{"
                       "\"concurrency\":4,\"timeout_ms\":2500,\"max_age_ms\":60000}},"
                       "{\"partner\":\"AANBIEDER:98000000\",\"url\":\"http://127.0.0.1:9/"
                       "x\",\"secret_env\":\"KH_UNIT_SECRET\","
                       " \"meldingen\":false,\"events\":[\"verwijzing\",\"beschikking\"]}]}";
    push_subs *s;
    char err[1024];
    ck_assert_msg(parse(text, &s, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(push_subs_count(s), 2);
    const push_sub *g = push_subs_find(s, "GEMEENTE:GM0599");
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->endpoint, "https://api.rotterdam.example:8443/hub/in");
    ck_assert_str_eq(g->authorization, "Authorization: Bearer abc.def-123");
    ck_assert_int_eq(g->concurrency, 4);
    ck_assert_int_eq(g->timeout_ms, 2500);
    ck_assert_int_eq(g->max_age_ms, 60000);
    ck_assert(push_sub_wants_regel(g, "ONDERWIJS_BUITEN_WOONGEMEENTE"));
    ck_assert(!push_sub_wants_regel(g, "TLV_BUITEN_SWV_WOONPLAATS"));
    ck_assert(!push_sub_wants_event(g, "verwijzing"));
    const push_sub *a = push_subs_find(s, "AANBIEDER:98000000");
    ck_assert_int_eq(a->concurrency, 1); /* the default */
    ck_assert_int_eq(a->secret_len, 24);
    ck_assert_ptr_null(a->authorization);
    ck_assert(!push_sub_wants_regel(a, "ONDERWIJS_BUITEN_WOONGEMEENTE"));
    ck_assert(push_sub_wants_event(a, "verwijzing"));
    ck_assert(push_sub_wants_event(a, "beschikking"));
    ck_assert(!push_sub_wants_event(a, "aanmelding"));
    ck_assert_ptr_null(push_subs_find(s, "GEMEENTE:GM0363"));
    ck_assert_uint_ne(push_subs_events(s), 0);
    push_subs_free(s);
}
END_TEST

START_TEST(subscription_errors_name_each_field) {
    unsetenv("KH_UNIT_MISSING");
    const struct {
        const char *text, *expect;
    } cases[] = {
        {"{\"subscriptions\":[", "line 1"},
        {"[]", "\"subscriptions\" array"},
        {"{\"subscriptions\":[],\"x\":1}", "unknown member \"x\""},
        {"{\"subscriptions\":[{\"url\":\"http://a/\",\"secret\":\"" SECRET "\"}]}",
         "/subscriptions/0: \"partner\" is required"},
        {"{\"subscriptions\":[{\"partner\":\"GM0599\",\"url\":\"http://a/\",\"secret\":\"" SECRET
         "\"}]}",
         "TYPE:CODE"},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM599\",\"url\":\"http://a/"
         "\",\"secret\":\"" SECRET "\"}]}",
         "GM + 4 digits"},
        {"{\"subscriptions\":[{\"partner\":\"KERK:GM0599\",\"url\":\"http://a/"
         "\",\"secret\":\"" SECRET "\"}]}",
         "type must be"},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"ftp://a/"
         "\",\"secret\":\"" SECRET "\"}]}",
         "http:// or https://"},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://a/\"}]}",
         "exactly one of \"secret\""},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://a/"
         "\",\"secret\":\"geheim\"}]}",
         "whsec_"},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://a/"
         "\",\"secret_env\":\"KH_UNIT_MISSING\"}]}",
         "KH_UNIT_MISSING"},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://a/"
         "\",\"secret\":\"" SECRET "\",\"auth\":{\"type\":\"basic\"}}]}",
         "none, bearer or tls_client"},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://a/"
         "\",\"secret\":\"" SECRET
         "\",\"auth\":{\"type\":\"bearer\",\"token_env\":\"KH_UNIT_MISSING\"}}]}",
         "is not set"},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://a/"
         "\",\"secret\":\"" SECRET
         "\",\"auth\":{\"type\":\"tls_client\",\"cert\":\"/nonexistent.pem\",\"key\":\"k.pem\"}}]}",
         "cannot read /nonexistent.pem"},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://a/"
         "\",\"secret\":\"" SECRET "\",\"regels\":[\"GEEN_REGEL\"]}]}",
         "/subscriptions/0/regels: item 0"},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://a/"
         "\",\"secret\":\"" SECRET "\",\"events\":[\"melding\"]}]}",
         "/subscriptions/0/events: item 0"},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://a/"
         "\",\"secret\":\"" SECRET "\",\"limits\":{\"concurrency\":0}}]}",
         "\"concurrency\" must be an integer from 1"},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://a/"
         "\",\"secret\":\"" SECRET "\",\"limits\":{\"timeout_ms\":5}}]}",
         "\"timeout_ms\""},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://a/"
         "\",\"secret\":\"" SECRET "\",\"limits\":{\"retries\":5}}]}",
         "unknown member \"retries\""},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://a/"
         "\",\"secret\":\"" SECRET "\",\"meldingen\":false}]}",
         "receives nothing"},
        {"{\"subscriptions\":[{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://a/"
         "\",\"secret\":\"" SECRET "\"},"
         "{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://b/\",\"secret\":\"" SECRET "\"}]}",
         "appears more than once"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        push_subs *s = NULL;
        char err[2048];
        ck_assert_msg(parse(cases[i].text, &s, err, sizeof err) == -1, "case %zu accepted", i);
        ck_assert_msg(strstr(err, cases[i].expect) != NULL, "case %zu: \"%s\" lacks \"%s\"", i, err,
                      cases[i].expect);
        ck_assert_msg(strstr(err, "MfKQ9r8") == NULL, "case %zu: the secret is in the error", i);
    }
    /* Several problems are reported together. */
    push_subs *s;
    char err[2048];
    ck_assert_int_eq(
        parse("{\"subscriptions\":[{\"partner\":\"X\",\"url\":\"nope\",\"secret\":\"y\"}]}", &s,
              err, sizeof err),
        -1);
    ck_assert_ptr_nonnull(strstr(err, "TYPE:CODE"));
    ck_assert_ptr_nonnull(strstr(err, "http://"));
    ck_assert_ptr_nonnull(strstr(err, "whsec_"));
}
END_TEST

/* ---- who a raw event is for ------------------------------------------------- */

START_TEST(raw_events_name_their_addressees) {
    char orgs[PUSH_NAMED_MAX][PUSH_ORG_LEN];
    json_t *ev =
        json_loads("{\"envelope\":{\"bron\":{\"type\":\"GEMEENTE\",\"code\":\"GM0599\"}},"
                   "\"gemeente\":\"GM0599\",\"aanbieder\":\"98000000\",\"school\":\"12AB00\"}",
                   0, NULL);
    size_t n = push_named_orgs("beschikking", ev, orgs);
    ck_assert_uint_eq(n, 3); /* bron and gemeente are the same organisation */
    ck_assert_str_eq(orgs[0], "GEMEENTE:GM0599");
    ck_assert_str_eq(orgs[1], "AANBIEDER:98000000");
    ck_assert_str_eq(orgs[2], "SCHOOL:12AB00");
    json_decref(ev);
    ev = json_loads("{\"envelope\":{\"bron\":{\"type\":\"SWV\",\"code\":\"PO2801\"}},"
                    "\"jeugdige\":{\"woonplaatsgemeente\":\"GM0502\"},"
                    "\"swv\":\"PO2801\",\"aanvragende_school\":\"12AB00\"}",
                    0, NULL);
    n = push_named_orgs("tlv", ev, orgs);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(orgs[1], "SCHOOL:12AB00");
    for (size_t i = 0; i < n; i++)
        ck_assert_ptr_null(strstr(orgs[i],
                                  "GM0502")); /* the woonplaatsgemeente is not an addressee */
    json_decref(ev);
    ev = json_loads(
        "{\"envelope\":{\"bron\":{\"type\":\"SCHOOL\",\"code\":\"12AB00\"}},"
        "\"bij\":{\"type\":\"SCHOOL\",\"code\":\"34CD01\"},\"vestigingsgemeente\":\"GM0599\"}",
        0, NULL);
    n = push_named_orgs("aanmelding", ev, orgs);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(orgs[1], "SCHOOL:34CD01");
    ck_assert_uint_eq(push_named_orgs("melding", ev, orgs), 0);
    json_decref(ev);
}
END_TEST

/* Every event type names its addressees (kh_event's column), each a field
 * its schema has: a new type without them would reach only its bron. */
START_TEST(every_event_type_has_addressees_in_its_schema) {
    for (size_t t = 0; t < kh_event_type_count(); t++) {
        const kh_event_type *et = kh_event_type_at(t);
        const kh_node *root = kh_schema_root(kh_schemas_by_name(schemas, et->name));
        ck_assert_ptr_nonnull(root);
        ck_assert_msg(et->addressees[0].field != NULL, "%s has no addressees", et->name);
        for (size_t i = 0; i < KH_EVENT_ADDRESSEES && et->addressees[i].field; i++) {
            size_t f = 0;
            while (f < root->nfields && strcmp(root->fields[f].name, et->addressees[i].field) != 0)
                f++;
            ck_assert_msg(f < root->nfields, "%s: addressee %s is not a field of its schema",
                          et->name, et->addressees[i].field);
            ck_assert_msg(!et->addressees[i].type || kh_org_bit(et->addressees[i].type), "%s: %s",
                          et->name, et->addressees[i].type);
        }
    }
}
END_TEST

/* ---- who receives a record (push_process) ---------------------------------- */

static char *wire_of(const char *name, json_t *j, size_t *len) {
    const kh_schema *s = kh_schemas_by_name(schemas, name);
    avro_value_t v;
    kh_problems p;
    char err[256], shown[1024], *wire;
    kh_problems_init(&p);
    ck_assert_int_eq(kh_schema_new_value(s, &v), 0);
    ck_assert_msg(kh_codec_from_json(s, j, &v, &p) == 0, "%s",
                  kh_problems_format(&p, shown, sizeof shown));
    ck_assert_msg(kh_codec_encode(s, &v, &wire, len, err, sizeof err) == 0, "%s", err);
    avro_value_decref(&v);
    json_decref(j);
    return wire;
}

static char *example_tlv(size_t *len) {
    char path[1024];
    snprintf(path, sizeof path,
             "%s/schemas/examples/tlv/valid/02-afgegeven-sbo-rotterdam-woont-capelle.json",
             kh_test_source_dir());
    json_t *j = json_load_file(path, 0, NULL);
    ck_assert_ptr_nonnull(j);
    return wire_of("tlv", j, len);
}

/* One record as push reads it, and what the decision must be: poison with
 * reason, or the recipients (comma-separated, "" for nobody). */
typedef struct process_case {
    const char *name;
    push_source source;
    const char *payload;    /* "melding", "tlv", or raw bytes */
    const char *topic_type; /* PUSH_FROM_EVENT */
    const char *retry_to;   /* PUSH_FROM_RETRY: the ontvanger header, NULL: no headers */
    int poison;             /* -1, or the kh_dl_reason */
    const char *to;
    const char *what;
    size_t raw_len; /* of a raw payload */
} process_case;

static const process_case process_cases[] = {
    {"melding to its ontvanger", PUSH_FROM_MELDING, "melding", NULL, NULL, -1, "GEMEENTE:GM0599",
     "ONDERWIJS_BUITEN_WOONGEMEENTE", 0},
    {"an event on the melding topic", PUSH_FROM_MELDING, "tlv", NULL, NULL, KH_DL_INVALID_EVENT, "",
     NULL, 0},
    {"bad magic byte", PUSH_FROM_MELDING, "\x01\x00\x00\x03\xe9x", NULL, NULL, KH_DL_BAD_MAGIC_BYTE,
     "", NULL, 6},
    {"unknown schema id", PUSH_FROM_MELDING, "\x00\x00\x00\x01\xf4\x02", NULL, NULL,
     KH_DL_UNKNOWN_SCHEMA_ID, "", NULL, 6},
    {"tlv to its subscribed addressees only", PUSH_FROM_EVENT, "tlv", "tlv", NULL, -1, "SWV:PO2801",
     "tlv", 0},
    {"tlv on the beschikking topic", PUSH_FROM_EVENT, "tlv", "beschikking", NULL,
     KH_DL_INVALID_EVENT, "", NULL, 0},
    {"retry of a melding to its ontvanger", PUSH_FROM_RETRY, "melding", NULL, "GEMEENTE:GM0599", -1,
     "GEMEENTE:GM0599", "ONDERWIJS_BUITEN_WOONGEMEENTE", 0},
    {"retry of an event to an addressee without subscription", PUSH_FROM_RETRY, "tlv", NULL,
     "SCHOOL:12AB00", -1, "SCHOOL:12AB00", "tlv", 0},
    {"retry to someone not addressed", PUSH_FROM_RETRY, "melding", NULL, "GEMEENTE:GM0518",
     KH_DL_INVALID_EVENT, "", NULL, 0},
    {"retry without headers", PUSH_FROM_RETRY, "melding", NULL, NULL, KH_DL_INVALID_EVENT, "", NULL,
     0},
};

static char *process_payload(const process_case *c, size_t *len) {
    if (strcmp(c->payload, "tlv") == 0)
        return example_tlv(len);
    if (strcmp(c->payload, "melding") != 0) {
        *len = c->raw_len;
        char *raw = malloc(*len);
        memcpy(raw, c->payload, *len);
        return raw;
    }
    json_t *j =
        json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:i, s:i}, s:[{s:s, s:s, s:s, s:s}],"
                  " s:s, s:{s:s, s:s}, s:s, s:s}",
                  "melding_id", "00000001-0000-4000-8000-000000000001", "regel",
                  "ONDERWIJS_BUITEN_WOONGEMEENTE", "ontvanger", "type", "GEMEENTE", "code",
                  "GM0599", "oorzaak", "event_type", "AANMELDING", "event_id",
                  "00000002-0000-4000-8000-000000000002", "topic", "ketenhub.aanmelding.v1",
                  "partition", 0, "offset", 42, "betrokkenen", "rol", "WOONPLAATSGEMEENTE", "type",
                  "GEMEENTE", "code", "GM0502", "naam", "Capelle aan den IJssel", "peildatum",
                  "2025-09-01", "jeugdige", "bsn", "999990111", "geboortedatum", "2014-05-01",
                  "toelichting", "Leerling woont in Capelle aan den IJssel.", "aangemaakt_op",
                  "2025-09-01T08:00:00Z");
    return wire_of("melding", j, len);
}

static rd_kafka_headers_t *process_headers(const char *to) {
    kh_retry r = {.attempts = 2,
                  .since_ms = 1700000000000,
                  .due_ms = 1700000004000,
                  .last_status = 503,
                  .origin_partition = 1,
                  .origin_offset = 7};
    snprintf(r.ontvanger, sizeof r.ontvanger, "%s", to);
    snprintf(r.origin_topic, sizeof r.origin_topic, "ketenhub.grensverkeer.v1");
    return kh_retry_headers(&r, "GM0599", 6);
}

static void expect_recipients(const process_case *c, const push_decision *d) {
    char got[256] = "";
    for (size_t i = 0; i < d->n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "," : "", d->to[i]);
    ck_assert_msg(strcmp(got, c->to) == 0, "%s: recipients %s, expected %s", c->name, got, c->to);
    ck_assert_msg(d->body && d->body[0] == '{', "%s: no body", c->name);
    ck_assert_str_eq(d->what, c->what);
    ck_assert_int_eq(d->is_event, strcmp(c->payload, "melding") != 0);
}

START_TEST(records_go_to_whom_they_are_addressed) {
    const process_case *c = &process_cases[_i];
    push_subs *subs;
    char err[1024];
    const char *text = "{\"subscriptions\":["
                       "{\"partner\":\"SWV:PO2801\",\"url\":\"http://127.0.0.1:9/a\","
                       " \"secret\":\"" SECRET "\",\"events\":[\"tlv\"]},"
                       "{\"partner\":\"GEMEENTE:GM0599\",\"url\":\"http://127.0.0.1:9/b\","
                       " \"secret\":\"" SECRET "\"}]}";
    ck_assert_msg(parse(text, &subs, err, sizeof err) == 0, "%s", err);
    size_t len;
    char *payload = process_payload(c, &len);
    rd_kafka_headers_t *h = c->retry_to ? process_headers(c->retry_to) : NULL;
    push_record r = {.source = c->source,
                     .payload = payload,
                     .len = len,
                     .headers = h,
                     .event_type = c->topic_type ? kh_event_type_by_name(c->topic_type) : NULL};
    push_decision d;
    push_process(schemas, subs, &r, &d);
    ck_assert_msg(d.poison == (c->poison >= 0), "%s: poison %d (%s)", c->name, d.poison, d.why);
    if (c->poison >= 0) {
        ck_assert_msg((int)d.reason == c->poison, "%s: reason %s", c->name,
                      kh_dl_reason_name(d.reason));
        ck_assert_uint_eq(d.n, 0);
    } else {
        expect_recipients(c, &d);
    }
    if (!d.poison && c->source == PUSH_FROM_RETRY) {
        ck_assert_int_eq(d.retry.attempts, 2);
        ck_assert_uint_eq(d.retry_keylen, 6);
    }
    push_decision_clear(&d);
    if (h)
        rd_kafka_headers_destroy(h);
    free(payload);
    push_subs_free(subs);
}
END_TEST

/* A raw event's webhook-id is derived from its bron and event_id (values from
 * Python's uuid5 in PUSH_EVENT_ID_NAMESPACE): two partners using one event_id
 * never share it. */
START_TEST(raw_event_webhook_id_is_bron_plus_event_id) {
    const char *want[] = {"313e106d-e027-56f8-b346-be337bbb38a8",
                          "7e1faeb6-99d0-5874-a5c5-0d91b19b0ea9"};
    const char *bron[] = {"PO2801", "PO2806"};
    char path[1024];
    snprintf(path, sizeof path,
             "%s/schemas/examples/tlv/valid/02-afgegeven-sbo-rotterdam-woont-capelle.json",
             kh_test_source_dir());
    for (size_t i = 0; i < 2; i++) {
        json_t *j = json_load_file(path, 0, NULL);
        ck_assert_ptr_nonnull(j);
        json_t *b = json_object_get(json_object_get(j, "envelope"), "bron");
        json_object_set_new(b, "code", json_string(bron[i]));
        size_t len;
        char *wire = wire_of("tlv", j, &len);
        push_record r = {.source = PUSH_FROM_EVENT,
                         .payload = wire,
                         .len = len,
                         .event_type = kh_event_type_by_name("tlv")};
        push_decision d;
        push_process(schemas, NULL, &r, &d);
        ck_assert_msg(!d.poison, "%s", d.why);
        ck_assert_str_eq(d.id, want[i]);
        push_decision_clear(&d);
        free(wire);
    }
}
END_TEST

/* ---- offsets ------------------------------------------------------------------ */

static int64_t committed(push_offsets *o, const char *topic, int32_t part) {
    rd_kafka_topic_partition_list_t *l = push_offsets_committable(o, 1);
    int64_t v = -1;
    for (int i = 0; l && i < l->cnt; i++)
        if (strcmp(l->elems[i].topic, topic) == 0 && l->elems[i].partition == part)
            v = l->elems[i].offset;
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    return v;
}

START_TEST(offsets_advance_only_past_finished_records) {
    push_offsets *o = push_offsets_new();
    push_pending *p[5];
    for (int i = 0; i < 5; i++)
        p[i] = push_offsets_track(o, "t", 0, 10 + i);
    push_pending_ref(p[1]); /* record 11 has two deliveries */
    ck_assert_int_eq(committed(o, "t", 0), 10);
    push_pending_done(p[2]);
    push_pending_done(p[0]);
    ck_assert_int_eq(committed(o, "t", 0), 11);
    push_pending_done(p[1]);
    ck_assert_int_eq(committed(o, "t", 0), 11); /* one of its two deliveries is still open */
    push_pending_done(p[1]);
    ck_assert_int_eq(committed(o, "t", 0), 13);
    /* Only what changed is reported without `all`. */
    rd_kafka_topic_partition_list_t *l = push_offsets_committable(o, 0);
    ck_assert_ptr_null(l);
    /* An abandoned record is never finished: the offset stays before it. */
    push_pending_abandon(p[3]);
    push_pending_done(p[4]);
    ck_assert_int_eq(committed(o, "t", 0), 13);
    ck_assert_uint_eq(push_offsets_unfinished(o), 1);
    /* Revoked: the rest are orphans that may still be released safely. */
    push_pending *q = push_offsets_track(o, "t", 1, 0);
    push_pending_ref(q);
    push_offsets_revoke(o, "t", 1);
    ck_assert(push_pending_orphan(q));
    push_pending_done(q);
    push_pending_done(q);
    ck_assert_int_eq(committed(o, "t", 1), -1);
    push_offsets_free(o);
}
END_TEST

/* ---- partner queues -------------------------------------------------------- */

START_TEST(partner_queues_keep_order) {
    push_partners *ps = push_partners_new();
    push_partner *p = push_partners_get(ps, "GEMEENTE:GM0599");
    ck_assert_ptr_eq(p, push_partners_get(ps, "GEMEENTE:GM0599"));
    push_job *j[6];
    for (int i = 0; i < 6; i++) {
        j[i] = push_job_new(1000 + i);
        j[i]->due_ms = (int64_t[]){500, 300, 300, 900, 100, 300}[i];
    }
    for (int i = 0; i < 3; i++)
        push_partner_add_fresh(p, j[i]);
    ck_assert_int_eq(push_partner_oldest(p), 1000);
    push_job *cut = push_partner_cut_fresh(p, 1);
    ck_assert_ptr_eq(cut, j[1]);
    ck_assert_ptr_eq(cut->next, j[2]);
    ck_assert_uint_eq(p->nfresh, 1);
    ck_assert_ptr_eq(push_partner_pop_fresh(p), j[0]);
    /* Waiting jobs come out oldest first whatever their due time: by offset
     * within one topic partition, else by when push took them on; ties in
     * arrival order. */
    const struct {
        int32_t partition;
        int64_t offset;
    } at[] = {{0, 0}, {0, 40}, {0, 10}, {0, 30}, {1, 5}, {1, 2}};
    for (int i = 1; i < 6; i++) {
        j[i]->next = NULL;
        j[i]->origin_topic = kh_strdup("t");
        j[i]->origin_partition = at[i].partition;
        j[i]->origin_offset = at[i].offset;
        push_partner_add_waiting(p, j[i]);
    }
    const int order[] = {2, 3, 1, 5, 4};
    for (int i = 0; i < 5; i++)
        ck_assert_ptr_eq(push_partner_pop_waiting(p), j[order[i]]);
    ck_assert_ptr_null(push_partner_pop_waiting(p));
    for (int i = 0; i < 6; i++)
        push_job_free(j[i]);
    push_partners_free(ps);
}
END_TEST

/* A partner is behind while it has waiting jobs or jobs on their way
 * through the retry topic, until they are read back (or do not come back
 * in PUSH_TRANSIT_WAIT_MS); the failed attempt holds up the waiting ones. */
START_TEST(partner_behind_until_its_jobs_are_back) {
    push_partners *ps = push_partners_new();
    push_partner *p = push_partners_get(ps, "GEMEENTE:GM0599");
    push_job *failed = push_job_new(1000), *deferred = push_job_new(1000);
    snprintf(failed->id, sizeof failed->id, "a");
    snprintf(deferred->id, sizeof deferred->id, "b");
    const int64_t now = 5000;
    ck_assert(!push_partner_behind(p, now));
    push_partner_handed_off(p, failed, 1, now);
    push_partner_handed_off(p, deferred, 0, now);
    ck_assert(push_partner_behind(p, now) && push_partner_awaits_retry(p, now));
    push_partner_returned(p, deferred);
    ck_assert(push_partner_behind(p, now) && push_partner_awaits_retry(p, now));
    push_partner_returned(p, failed);
    ck_assert(!push_partner_behind(p, now) && !push_partner_awaits_retry(p, now));
    push_partner_handed_off(p, deferred, 0, now);
    ck_assert(push_partner_behind(p, now + PUSH_TRANSIT_WAIT_MS - 1));
    ck_assert(!push_partner_behind(p, now + PUSH_TRANSIT_WAIT_MS));
    push_partner_handed_off(p, failed, 1, now);
    ck_assert(!push_partner_awaits_retry(p, now + PUSH_TRANSIT_WAIT_MS));
    push_partner_forget_transit(p);
    ck_assert(!push_partner_behind(p, now));
    push_partner_add_waiting(p, failed);
    ck_assert(push_partner_behind(p, now) && !push_partner_awaits_retry(p, now));
    push_job_free(push_partner_pop_waiting(p));
    push_job_free(deferred);
    push_partners_free(ps);
}
END_TEST

/* The partners that may start a request take turns: first in, first out,
 * each once however often it is activated. */
START_TEST(partners_take_turns) {
    push_partners *ps = push_partners_new();
    push_partner *a = push_partners_get(ps, "GEMEENTE:GM0599");
    push_partner *b = push_partners_get(ps, "GEMEENTE:GM0518");
    push_partner *c = push_partners_get(ps, "SWV:PO2801");
    push_partners_activate(ps, a);
    push_partners_activate(ps, b);
    push_partners_activate(ps, a);
    push_partners_activate(ps, c);
    ck_assert_uint_eq(push_partners_active_count(ps), 3);
    ck_assert_ptr_eq(push_partners_pop_active(ps), a);
    push_partners_activate(ps, a); /* its turn again comes after the others */
    ck_assert_ptr_eq(push_partners_pop_active(ps), b);
    ck_assert_ptr_eq(push_partners_pop_active(ps), c);
    ck_assert_ptr_eq(push_partners_pop_active(ps), a);
    ck_assert_ptr_null(push_partners_pop_active(ps));
    ck_assert_uint_eq(push_partners_active_count(ps), 0);
    push_partners_free(ps);
}
END_TEST

/* A job whose outcome is written keeps only what its acknowledgements need. */
START_TEST(shed_job_keeps_its_bookkeeping) {
    push_job *j = push_job_new(1000);
    j->body = kh_strdup("{}");
    j->body_len = 2;
    j->value = kh_strdup("v");
    j->value_len = 1;
    j->origin_topic = kh_strdup("t");
    j->attempts = 2;
    push_job_shed(j);
    ck_assert_ptr_null(j->body);
    ck_assert_ptr_null(j->value);
    ck_assert_ptr_null(j->origin_topic);
    ck_assert_uint_eq(j->body_len + j->value_len, 0);
    ck_assert_int_eq(j->attempts, 2);
    push_job_shed(j); /* twice is harmless */
    push_job_free(j);
}
END_TEST

/* ---- records ---------------------------------------------------------------- */

START_TEST(retry_headers_round_trip) {
    kh_retry r = {.attempts = 3,
                  .since_ms = 1700000000000,
                  .first_attempt_ms = 1700000000100,
                  .last_attempt_ms = 1700000002000,
                  .due_ms = 1700000004000,
                  .last_status = 503,
                  .origin_partition = 2,
                  .origin_offset = 4711};
    snprintf(r.ontvanger, sizeof r.ontvanger, "GEMEENTE:GM0599");
    snprintf(r.origin_topic, sizeof r.origin_topic, "ketenhub.grensverkeer.v1");
    snprintf(r.last_error, sizeof r.last_error, "HTTP/1.1 503 Service Unavailable");
    rd_kafka_headers_t *h = kh_retry_headers(&r, "GM0599", 6);
    kh_retry back;
    const void *key;
    size_t keylen;
    char err[160];
    ck_assert_int_eq(kh_retry_parse(h, &back, &key, &keylen, err, sizeof err), 0);
    ck_assert_str_eq(back.ontvanger, r.ontvanger);
    ck_assert_int_eq(back.attempts, 3);
    ck_assert_int_eq(back.since_ms, r.since_ms);
    ck_assert_int_eq(back.first_attempt_ms, r.first_attempt_ms);
    ck_assert_int_eq(back.last_attempt_ms, r.last_attempt_ms);
    ck_assert_int_eq(back.due_ms, r.due_ms);
    ck_assert_int_eq(back.last_status, 503);
    ck_assert_int_eq(back.origin_partition, 2);
    ck_assert_str_eq(back.origin_topic, r.origin_topic);
    ck_assert_str_eq(back.last_error, r.last_error);
    ck_assert_int_eq(back.origin_offset, 4711);
    ck_assert_uint_eq(keylen, 6);
    ck_assert_str_eq(kh_retry_key(back.ontvanger), "GM0599");
    rd_kafka_headers_destroy(h);
    h = rd_kafka_headers_new(2);
    rd_kafka_header_add(h, "ontvanger", -1, "GEMEENTE:GM0599", -1);
    ck_assert_int_eq(kh_retry_parse(h, &back, &key, &keylen, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "push-origin-topic"));
    rd_kafka_headers_destroy(h);
}
END_TEST

START_TEST(aflevering_has_no_payload_and_fits_its_schema) {
    char long_error[600];
    memset(long_error, 'x', sizeof long_error - 1);
    long_error[sizeof long_error - 1] = '\0';
    push_aflevering a = {.melding_id = "2f0e5c1a-0000-4000-8000-000000000001",
                         .ontvanger = "SWV:PO2801",
                         .endpoint = "https://swv.example/in",
                         .attempts = 2,
                         .http_status = 503,
                         .first_attempt_ms = 1700000000000,
                         .last_attempt_ms = 1700000001000,
                         .outcome = "EXPIRED",
                         .error = long_error};
    char *v, err[256];
    size_t len;
    ck_assert_int_eq(push_aflevering_encode(schemas, &a, &v, &len, err, sizeof err), 0);
    const kh_schema *s;
    avro_value_t val;
    ck_assert_int_eq(kh_codec_decode(schemas, v, len, &s, &val, err, sizeof err), KH_DECODE_OK);
    json_t *j = kh_codec_to_json(s, &val, err, sizeof err);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "ontvanger"), "type")),
                     "SWV");
    ck_assert_str_eq(json_string_value(json_object_get(j, "outcome")), "EXPIRED");
    ck_assert_uint_eq(json_string_length(json_object_get(j, "error")), 256);
    ck_assert_str_eq(json_string_value(json_object_get(j, "first_attempt_at")),
                     "2023-11-14T22:13:20Z");
    json_decref(j);
    avro_value_decref(&val);
    free(v);
    a.outcome = "NO_SUBSCRIPTION";
    a.endpoint = NULL;
    a.attempts = 0;
    a.http_status = 0;
    a.first_attempt_ms = a.last_attempt_ms = 0;
    ck_assert_int_eq(push_aflevering_encode(schemas, &a, &v, &len, err, sizeof err), 0);
    free(v);
}
END_TEST

int main(void) {
    Suite *s = suite_create("push_units");
    TCase *tc = tcase_create("units");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, signature_matches_the_spec_vector);
    tcase_add_test(tc, bad_secrets_are_refused);
    tcase_add_test(tc, outcomes_are_classified);
    tcase_add_test(tc, backoff_doubles_with_jitter_and_honours_retry_after);
    tcase_add_test(tc, subscriptions_parse_and_look_up);
    tcase_add_test(tc, subscription_errors_name_each_field);
    tcase_add_test(tc, raw_events_name_their_addressees);
    tcase_add_test(tc, every_event_type_has_addressees_in_its_schema);
    tcase_add_test(tc, raw_event_webhook_id_is_bron_plus_event_id);
    tcase_add_loop_test(tc, records_go_to_whom_they_are_addressed, 0,
                        sizeof process_cases / sizeof process_cases[0]);
    tcase_add_test(tc, offsets_advance_only_past_finished_records);
    tcase_add_test(tc, partner_queues_keep_order);
    tcase_add_test(tc, partner_behind_until_its_jobs_are_back);
    tcase_add_test(tc, partners_take_turns);
    tcase_add_test(tc, shed_job_keeps_its_bookkeeping);
    tcase_add_test(tc, retry_headers_round_trip);
    tcase_add_test(tc, aflevering_has_no_payload_and_fits_its_schema);
    suite_add_tcase(s, tc);
    return kh_test_run(s);
}
