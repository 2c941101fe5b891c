/*
 * kh_schema — the Avro schemas of ketenhub, compiled into the binary.
 *
 * The `.avsc` files and the id manifest (`schemas/ids.tsv`) are embedded at
 * build time, so every program carries exactly the schemas it was built
 * with. Shared types (`schemas/avro/common.avsc`) are inlined into each
 * schema on first use, giving one self-contained Avro schema per event that
 * avro-c and a Schema Registry both accept (kh_schema_json).
 *
 * Each schema is also compiled into a kh_node tree that keeps what avro-c
 * drops: logical types (date, timestamp-millis, uuid) and the `maxLength`
 * field attribute. The codec walks that tree.
 *
 * Versions: the manifest gives every schema version its own id, forever.
 * Per name exactly one version is `current` (what producers write and
 * consumers see); older versions are `read-only`: writer schemas a record
 * may still carry, which kh_codec_decode resolves to the current version
 * (Avro schema resolution: fields by name, a field added since is null,
 * a field removed since is dropped, enum symbols by name). kh_schemas_open
 * refuses a manifest whose older version the current one cannot read.
 *
 * A kh_schemas set is immutable after kh_schemas_open and may be shared by
 * threads; every pointer it returns lives as long as the set.
 */
#ifndef KH_SCHEMA_H
#define KH_SCHEMA_H

#include "kh_embedded.h"

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

typedef enum kh_kind {
    KH_NULL,
    KH_BOOLEAN,
    KH_INT,
    KH_LONG,
    KH_FLOAT,
    KH_DOUBLE,
    KH_STRING,
    KH_BYTES,
    KH_RECORD,
    KH_ENUM,
    KH_ARRAY,
    KH_OPTIONAL /* union of null and one other type */
} kh_kind;

typedef enum kh_logical { KH_PLAIN, KH_DATE, KH_TIMESTAMP_MILLIS, KH_UUID } kh_logical;

typedef struct kh_node kh_node;

typedef struct kh_field {
    const char *name;
    const kh_node *type;
    size_t max_length; /* the field's maxLength attribute, 0 when absent */
    int optional;      /* has "default": null, so it may be left out */
} kh_field;

struct kh_node {
    kh_kind kind;
    kh_logical logical;
    const char *name; /* full name of a record or enum, else NULL */
    size_t nfields;   /* KH_RECORD */
    kh_field *fields;
    size_t nsymbols; /* KH_ENUM */
    const char **symbols;
    const kh_node *item; /* KH_ARRAY: the items; KH_OPTIONAL: the non-null type */
    int null_branch;     /* KH_OPTIONAL: index of "null" in the union (0 or 1) */
};

typedef struct kh_schemas kh_schemas;
typedef struct kh_schema kh_schema;

/* Compiles the embedded schemas. Returns 0, or -1 with err naming the file
 * and problem. The caller owns *out (kh_schemas_free). */
int kh_schemas_open(kh_schemas **out, char *err, size_t errlen);
/* The same from other files than the compiled-in ones (paths relative to
 * schemas/: "ids.tsv", "avro/common.avsc", ...; ends with path NULL), for
 * tests of evolution rules. The files must outlive the set. */
int kh_schemas_open_files(kh_schemas **out, const kh_embedded_file *files, char *err,
                          size_t errlen);
void kh_schemas_free(kh_schemas *all);

/* The current version of a name ("aanmelding"); NULL when unknown. */
const kh_schema *kh_schemas_by_name(const kh_schemas *all, const char *name);
/* Any version, current or read-only, by its id; NULL when unknown. */
const kh_schema *kh_schemas_by_id(const kh_schemas *all, int32_t id);
/* The topic the manifest gives schema `name` (before topic.prefix), or ""
 * when it names none: schemas/ids.tsv is the one home of topic names. */
const char *kh_schemas_topic(const kh_schemas *all, const char *name);
/* The current versions, one per name, in manifest order. */
size_t kh_schemas_count(const kh_schemas *all);
const kh_schema *kh_schemas_at(const kh_schemas *all, size_t i);
/* Every id of the manifest, current and read-only, in manifest order. */
size_t kh_schemas_id_count(const kh_schemas *all);
const kh_schema *kh_schemas_id_at(const kh_schemas *all, size_t i);

int32_t kh_schema_id(const kh_schema *s);
const char *kh_schema_name(const kh_schema *s);
const char *kh_schema_topic(const kh_schema *s);       /* the topic accepts every id of the name */
int kh_schema_current(const kh_schema *s);             /* 1 current, 0 read-only */
const kh_schema *kh_schema_reader(const kh_schema *s); /* the current version of its name */
const char *kh_schema_json(const kh_schema *s);        /* resolved, self-contained */
const kh_node *kh_schema_root(const kh_schema *s);
avro_schema_t kh_schema_avro(const kh_schema *s);

/* The field of a record node by name, or NULL; the index of an enum
 * node's symbol, or -1. */
const kh_field *kh_node_field(const kh_node *record, const char *name);
int kh_node_symbol(const kh_node *e, const char *symbol);

/* The text of another file under schemas/ compiled in with the schemas
 * ("openapi.json"), or NULL. Static storage. */
const char *kh_schemas_file(const char *path);

/* A fresh generic value of the schema; release it with avro_value_decref. */
int kh_schema_new_value(const kh_schema *s, avro_value_t *out);

#endif
