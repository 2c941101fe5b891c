/*
 * fuzz_codec — libFuzzer target for the paths that take untrusted bytes:
 * partner JSON through schema, rules and encoding (first byte even), and
 * Kafka record values through the wire-format decoder (first byte odd).
 *
 * Properties checked beyond "no crash, no sanitizer report": an event that
 * encodes decodes again, and its canonical JSON encodes to the same bytes.
 */
#include "kh_codec.h"
#include "kh_event.h"
#include "kh_intake.h"
#include "kh_ref.h"
#include "kh_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kh_schemas *schemas;
static kh_ref *ref;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    char err[512];
    const char *dir = getenv("KETENHUB_REFERENCE_DIR");
    if (kh_schemas_open(&schemas, err, sizeof err) ||
        kh_ref_load(dir ? dir : KH_DEFAULT_REFERENCE_DIR, &ref, err, sizeof err)) {
        fprintf(stderr, "fuzz_codec: %s\n", err);
        abort();
    }
    return 0;
}

/* Decoding must never fail on what encoding produced, and re-encoding the
 * canonical JSON must give the same bytes. */
static void check_round_trip(const kh_event_type *t, const char *wire, size_t len) {
    char err[256];
    const kh_schema *which;
    avro_value_t value;
    if (kh_codec_decode(schemas, wire, len, &which, &value, err, sizeof err) != KH_DECODE_OK)
        abort();
    json_t *back = kh_codec_to_json(which, &value, err, sizeof err);
    avro_value_decref(&value);
    if (!back)
        abort();
    kh_problems p;
    kh_problems_init(&p);
    char *again = NULL;
    size_t again_len = 0;
    /* The rules ran at the same clock reading, so only the schema can differ. */
    const kh_schema *s = kh_schemas_by_name(schemas, t->name);
    avro_value_t v2;
    kh_schema_new_value(s, &v2);
    if (kh_codec_from_json(s, back, &v2, &p) ||
        kh_codec_encode(s, &v2, &again, &again_len, err, sizeof err))
        abort();
    if (again_len != len || memcmp(again, wire, len) != 0)
        abort();
    free(again);
    avro_value_decref(&v2);
    json_decref(back);
}

static void fuzz_json(const uint8_t *data, size_t size) {
    kh_problems p;
    kh_problems_init(&p);
    json_t *ev = kh_codec_parse((const char *)data, size, &p);
    if (!ev)
        return;
    for (size_t i = 0; i < kh_event_type_count(); i++) {
        const kh_event_type *t = kh_event_type_at(i);
        char *wire = NULL;
        size_t len = 0;
        kh_problems_init(&p);
        if (kh_intake_encode(schemas, t, ev, ref, 1780000000000LL, &wire, &len, &p) == 0) {
            check_round_trip(t, wire, len);
            free(wire);
        }
    }
    json_decref(ev);
}

static void fuzz_wire(const uint8_t *data, size_t size) {
    char err[256];
    const kh_schema *which;
    avro_value_t value;
    if (kh_codec_decode(schemas, data, size, &which, &value, err, sizeof err) != KH_DECODE_OK)
        return;
    json_t *j = kh_codec_to_json(which, &value, err, sizeof err);
    json_decref(j);
    avro_value_decref(&value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        fuzz_json(data + 1, size - 1);
    else
        fuzz_wire(data + 1, size - 1);
    return 0;
}
