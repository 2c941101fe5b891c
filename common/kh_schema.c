/*
 * kh_schema — loading the embedded schemas: read the id manifest, inline the
 * shared types, let avro-c parse the result, and compile the kh_node tree.
 */
#include "kh_schema.h"

#include "kh_alloc.h"

#include "kh_embedded.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KH_NAMESPACE "nl.ketenhub"

struct kh_schema {
    int32_t id;
    char *name;
    char *topic;
    int current;             /* status `current` in the manifest */
    const kh_schema *reader; /* the current version of this name */
    char *json;
    avro_schema_t avro;
    avro_value_iface_t *iface;
    json_t *tree; /* the resolved schema JSON */
    const kh_node *root;
    void **allocs; /* every node, field and symbol array of the tree */
    size_t nallocs, capallocs;
};

struct kh_schemas {
    kh_schema *items; /* every version, in manifest order */
    size_t count;
    const kh_schema **current; /* the current version of each name */
    size_t ncurrent;
};

/* What one compilation needs: the schema being built, its named types so
 * far, and where to report. */
typedef struct compile_ctx {
    kh_schema *schema;
    json_t *names; /* full name -> integer index into nodes */
    kh_node **nodes;
    size_t nnodes;
    char *err;
    size_t errlen;
    const char *file;
} compile_ctx;

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *file_in(const kh_embedded_file *files, const char *path) {
    for (const kh_embedded_file *f = files; f->path; f++)
        if (strcmp(f->path, path) == 0)
            return f->text;
    return NULL;
}

const char *kh_schemas_file(const char *path) { return file_in(kh_embedded_files, path); }

static void *track(kh_schema *s, void *p) {
    if (s->nallocs == s->capallocs) {
        s->capallocs = s->capallocs ? s->capallocs * 2 : 32;
        s->allocs = kh_realloc(s->allocs, s->capallocs * sizeof *s->allocs);
    }
    s->allocs[s->nallocs++] = p;
    return p;
}

/* The full name of a named type given the enclosing namespace. */
static void full_name(const char *name, const char *ns, char *out, size_t len) {
    if (strchr(name, '.'))
        snprintf(out, len, "%s", name);
    else
        snprintf(out, len, "%s.%s", ns, name);
}

/* ---- Inlining shared types ------------------------------------------- */

/* Replaces references to shared types by their definitions on first use;
 * later references stay names, as Avro requires. */
static json_t *inline_types(json_t *type, const char *ns, json_t *shared, json_t *defined);

static json_t *inline_fields(json_t *fields, const char *ns, json_t *shared, json_t *defined) {
    json_t *out = json_array();
    size_t i;
    json_t *field;
    json_array_foreach(fields, i, field) {
        json_t *copy = json_deep_copy(field);
        json_t *t = inline_types(json_object_get(field, "type"), ns, shared, defined);
        json_object_set_new(copy, "type", t);
        json_array_append_new(out, copy);
    }
    return out;
}

static json_t *inline_types(json_t *type, const char *ns, json_t *shared, json_t *defined) {
    char name[128];
    if (json_is_string(type)) {
        full_name(json_string_value(type), ns, name, sizeof name);
        json_t *def = json_object_get(shared, name);
        if (!def || json_object_get(defined, name))
            return json_deep_copy(type);
        return inline_types(def, ns, shared, defined);
    }
    if (json_is_array(type)) {
        json_t *out = json_array();
        size_t i;
        json_t *branch;
        json_array_foreach(type, i, branch)
            json_array_append_new(out, inline_types(branch, ns, shared, defined));
        return out;
    }
    if (!json_is_object(type))
        return json_deep_copy(type);
    json_t *copy = json_deep_copy(type);
    const char *kind = json_string_value(json_object_get(type, "type"));
    const char *tname = json_string_value(json_object_get(type, "name"));
    const char *tns = json_string_value(json_object_get(type, "namespace"));
    const char *inner_ns = tns ? tns : ns;
    if (tname) {
        full_name(tname, inner_ns, name, sizeof name);
        json_object_set_new(defined, name, json_true());
    }
    if (kind && strcmp(kind, "record") == 0)
        json_object_set_new(copy, "fields",
                            inline_fields(json_object_get(type, "fields"), inner_ns, shared,
                                          defined));
    else if (kind && strcmp(kind, "array") == 0)
        json_object_set_new(copy, "items",
                            inline_types(json_object_get(type, "items"), inner_ns, shared,
                                         defined));
    return copy;
}

/* ---- Compiling the node tree ------------------------------------------ */

static const kh_node *compile_type(compile_ctx *c, json_t *type, const char *ns);

static kh_node *new_node(compile_ctx *c, kh_kind kind) {
    kh_node *n = track(c->schema, kh_calloc(1, sizeof *n));
    n->kind = kind;
    return n;
}

static const kh_node *primitive(compile_ctx *c, const char *name, kh_logical logical) {
    static const struct {
        const char *name;
        kh_kind kind;
    } prims[] = {
        {"null", KH_NULL},   {"boolean", KH_BOOLEAN}, {"int", KH_INT},       {"long", KH_LONG},
        {"float", KH_FLOAT}, {"double", KH_DOUBLE},   {"string", KH_STRING}, {"bytes", KH_BYTES},
    };
    for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++) {
        if (strcmp(prims[i].name, name) == 0) {
            kh_node *n = new_node(c, prims[i].kind);
            n->logical = logical;
            return n;
        }
    }
    return NULL;
}

static void register_name(compile_ctx *c, const char *name, kh_node *n) {
    c->nodes = kh_realloc(c->nodes, (c->nnodes + 1) * sizeof *c->nodes);
    c->nodes[c->nnodes] = n;
    json_object_set_new(c->names, name, json_integer((json_int_t)c->nnodes));
    c->nnodes++;
}

static const kh_node *compile_named_ref(compile_ctx *c, const char *ref, const char *ns) {
    const kh_node *n = primitive(c, ref, KH_PLAIN);
    if (n)
        return n;
    char name[128];
    full_name(ref, ns, name, sizeof name);
    json_t *idx = json_object_get(c->names, name);
    if (!idx) {
        fail(c->err, c->errlen, "%s: unknown type '%s'", c->file, name);
        return NULL;
    }
    return c->nodes[json_integer_value(idx)];
}

static kh_logical logical_of(json_t *type) {
    const char *l = json_string_value(json_object_get(type, "logicalType"));
    if (!l)
        return KH_PLAIN;
    if (strcmp(l, "date") == 0)
        return KH_DATE;
    if (strcmp(l, "timestamp-millis") == 0)
        return KH_TIMESTAMP_MILLIS;
    if (strcmp(l, "uuid") == 0)
        return KH_UUID;
    return KH_PLAIN;
}

static const kh_node *compile_union(compile_ctx *c, json_t *branches, const char *ns) {
    json_t *b0 = json_array_get(branches, 0), *b1 = json_array_get(branches, 1);
    int null0 = json_is_string(b0) && strcmp(json_string_value(b0), "null") == 0;
    int null1 = json_is_string(b1) && strcmp(json_string_value(b1), "null") == 0;
    if (json_array_size(branches) != 2 || null0 == null1) {
        fail(c->err, c->errlen, "%s: only unions of null and one type are supported", c->file);
        return NULL;
    }
    kh_node *n = new_node(c, KH_OPTIONAL);
    n->null_branch = null0 ? 0 : 1;
    n->item = compile_type(c, null0 ? b1 : b0, ns);
    return n->item ? n : NULL;
}

static const kh_node *compile_record(compile_ctx *c, json_t *type, const char *ns) {
    json_t *fields = json_object_get(type, "fields");
    kh_node *n = new_node(c, KH_RECORD);
    n->nfields = json_array_size(fields);
    n->fields = track(c->schema, kh_calloc(n->nfields, sizeof *n->fields));
    for (size_t i = 0; i < n->nfields; i++) {
        json_t *f = json_array_get(fields, i);
        kh_field *kf = &n->fields[i];
        kf->name = json_string_value(json_object_get(f, "name"));
        kf->max_length = (size_t)json_integer_value(json_object_get(f, "maxLength"));
        json_t *def = json_object_get(f, "default");
        kf->optional = def && json_is_null(def);
        kf->type = compile_type(c, json_object_get(f, "type"), ns);
        if (!kf->name || !kf->type)
            return NULL;
    }
    return n;
}

static const kh_node *compile_enum(compile_ctx *c, json_t *type) {
    json_t *symbols = json_object_get(type, "symbols");
    kh_node *n = new_node(c, KH_ENUM);
    n->nsymbols = json_array_size(symbols);
    n->symbols = track(c->schema, kh_calloc(n->nsymbols, sizeof *n->symbols));
    for (size_t i = 0; i < n->nsymbols; i++)
        n->symbols[i] = json_string_value(json_array_get(symbols, i));
    return n;
}

static const kh_node *compile_type(compile_ctx *c, json_t *type, const char *ns) {
    if (json_is_string(type))
        return compile_named_ref(c, json_string_value(type), ns);
    if (json_is_array(type))
        return compile_union(c, type, ns);
    const char *kind = json_string_value(json_object_get(type, "type"));
    if (!kind) {
        fail(c->err, c->errlen, "%s: type without a \"type\"", c->file);
        return NULL;
    }
    if (strcmp(kind, "array") == 0) {
        kh_node *n = new_node(c, KH_ARRAY);
        n->item = compile_type(c, json_object_get(type, "items"), ns);
        return n->item ? n : NULL;
    }
    if (strcmp(kind, "record") != 0 && strcmp(kind, "enum") != 0) {
        const kh_node *p = primitive(c, kind, logical_of(type));
        if (!p)
            fail(c->err, c->errlen, "%s: unsupported type '%s'", c->file, kind);
        return p;
    }
    const char *tns = json_string_value(json_object_get(type, "namespace"));
    char name[128];
    full_name(json_string_value(json_object_get(type, "name")), tns ? tns : ns, name, sizeof name);
    const kh_node *n = strcmp(kind, "enum") == 0 ? compile_enum(c, type)
                                                 : compile_record(c, type, tns ? tns : ns);
    if (n) {
        register_name(c, name, (kh_node *)n);
        ((kh_node *)n)->name = track(c->schema, kh_strdup(name));
    }
    return n;
}

/* ---- Loading ------------------------------------------------------------ */

static json_t *load_shared(const kh_embedded_file *files, char *err, size_t errlen) {
    const char *text = file_in(files, "avro/common.avsc");
    json_error_t jerr;
    json_t *list = text ? json_loads(text, 0, &jerr) : NULL;
    if (!json_is_array(list)) {
        json_decref(list);
        fail(err, errlen, "avro/common.avsc: missing or not a JSON array");
        return NULL;
    }
    json_t *shared = json_object();
    size_t i;
    json_t *def;
    json_array_foreach(list, i, def) {
        char name[128];
        const char *ns = json_string_value(json_object_get(def, "namespace"));
        full_name(json_string_value(json_object_get(def, "name")), ns ? ns : KH_NAMESPACE, name,
                  sizeof name);
        json_object_set(shared, name, def);
    }
    json_decref(list);
    return shared;
}

static int compile_schema(kh_schema *s, const char *text, const char *file, json_t *shared,
                          char *err, size_t errlen) {
    json_error_t jerr;
    json_t *raw = text ? json_loads(text, 0, &jerr) : NULL;
    if (!raw)
        return fail(err, errlen, "%s: %s", file, text ? jerr.text : "not embedded");
    json_t *defined = json_object();
    /* Field names and symbols of the tree point into this JSON: it lives as
     * long as the schema. */
    s->tree = inline_types(raw, KH_NAMESPACE, shared, defined);
    json_decref(defined);
    json_decref(raw);
    s->json = json_dumps(s->tree, JSON_COMPACT);
    if (avro_schema_from_json_length(s->json, strlen(s->json), &s->avro))
        return fail(err, errlen, "%s: avro-c rejects the schema: %s", file, avro_strerror());
    s->iface = avro_generic_class_from_schema(s->avro);
    if (!s->iface)
        return fail(err, errlen, "%s: %s", file, avro_strerror());
    compile_ctx c = {
        .schema = s, .names = json_object(), .err = err, .errlen = errlen, .file = file};
    s->root = compile_type(&c, s->tree, KH_NAMESPACE);
    json_decref(c.names);
    free(c.nodes);
    if (s->root && s->root->kind != KH_RECORD)
        return fail(err, errlen, "%s: the top-level type must be a record", file);
    return s->root ? 0 : -1;
}

/* Parses one manifest line "id<TAB>name<TAB>file<TAB>topic<TAB>status". */
static int parse_manifest_line(char *line, kh_schema *s, char *file, size_t filelen) {
    char *save = NULL;
    char *id = strtok_r(line, "\t", &save);
    char *name = strtok_r(NULL, "\t", &save);
    char *path = strtok_r(NULL, "\t", &save);
    char *topic = strtok_r(NULL, "\t", &save);
    char *status = strtok_r(NULL, "\t\r", &save);
    if (!id || !name || !path || !topic || !status || strtok_r(NULL, "\t\r", &save))
        return -1;
    if (strcmp(status, "current") != 0 && strcmp(status, "read-only") != 0)
        return -1;
    char *end;
    long v = strtol(id, &end, 10);
    if (*end || v <= 0 || v > INT32_MAX)
        return -1;
    s->id = (int32_t)v;
    s->name = kh_strdup(name);
    s->topic = kh_strdup(topic);
    s->current = strcmp(status, "current") == 0;
    snprintf(file, filelen, "%s", path);
    return 0;
}

static void schema_free(kh_schema *s) {
    for (size_t i = 0; i < s->nallocs; i++)
        free(s->allocs[i]);
    free(s->allocs);
    if (s->iface)
        avro_value_iface_decref(s->iface);
    if (s->avro)
        avro_schema_decref(s->avro);
    free(s->json);
    json_decref(s->tree);
    free(s->name);
    free(s->topic);
}

void kh_schemas_free(kh_schemas *all) {
    if (!all)
        return;
    for (size_t i = 0; i < all->count; i++)
        schema_free(&all->items[i]);
    free(all->items);
    free(all->current);
    free(all);
}

static int load_manifest(kh_schemas *all, const kh_embedded_file *files, json_t *shared, char *err,
                         size_t errlen) {
    const char *text = file_in(files, "ids.tsv");
    if (!text)
        return fail(err, errlen, "ids.tsv: not embedded");
    char *copy = kh_strdup(text), *save = NULL;
    int rc = 0, lineno = 0;
    for (char *line = strtok_r(copy, "\n", &save); line && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        all->items = kh_realloc(all->items, (all->count + 1) * sizeof *all->items);
        kh_schema *s = &all->items[all->count++];
        memset(s, 0, sizeof *s);
        char file[256];
        if (parse_manifest_line(line, s, file, sizeof file))
            rc =
                fail(err, errlen,
                     "ids.tsv:%d: expected id, name, file, topic and status (current or read-only)",
                     lineno);
        else
            rc = compile_schema(s, file_in(files, file), file, shared, err, errlen);
    }
    free(copy);
    return rc;
}

/* ---- Versions ------------------------------------------------------------ */

/* A dotted field path for messages ("verantwoordelijke_gemeente.reden"). */
typedef struct path_buf {
    char buf[160];
    size_t len;
} path_buf;

static size_t path_buf_push(path_buf *p, const char *name) {
    size_t saved = p->len;
    int w = snprintf(p->buf + p->len, sizeof p->buf - p->len, "%s%s", p->len ? "." : "", name);
    p->len = w < 0 ? p->len : strlen(p->buf);
    return saved;
}

static void path_buf_pop(path_buf *p, size_t saved) {
    p->len = saved;
    p->buf[saved] = '\0';
}

/* Can a record written with w be read as r by the resolution kh_codec
 * implements? Fields match by name; a field only r has must be optional
 * (default null); enum symbols match by name; everything else must be the
 * same type (no promotions). On -1, why names the place and the problem. */
static int resolvable(const kh_node *w, const kh_node *r, path_buf *at, char *why, size_t len);

static int resolvable_record(const kh_node *w, const kh_node *r, path_buf *at, char *why,
                             size_t len) {
    if (strcmp(w->name, r->name) != 0)
        return fail(why, len, "%s: record %s is now %s", at->buf, w->name, r->name);
    for (size_t j = 0; j < r->nfields; j++) {
        const kh_field *wf = kh_node_field(w, r->fields[j].name);
        size_t saved = path_buf_push(at, r->fields[j].name);
        int rc = 0;
        if (!wf && !r->fields[j].optional)
            rc = fail(why, len, "%s: added without \"default\": null", at->buf);
        else if (wf)
            rc = resolvable(wf->type, r->fields[j].type, at, why, len);
        path_buf_pop(at, saved);
        if (rc)
            return rc;
    }
    return 0;
}

static int resolvable(const kh_node *w, const kh_node *r, path_buf *at, char *why, size_t len) {
    if (w->kind != r->kind || w->logical != r->logical)
        return fail(why, len, "%s: the type changed", at->buf);
    switch (w->kind) {
    case KH_RECORD: return resolvable_record(w, r, at, why, len);
    case KH_ENUM:
        for (size_t i = 0; i < w->nsymbols; i++)
            if (kh_node_symbol(r, w->symbols[i]) < 0)
                return fail(why, len, "%s: symbol %s was removed", at->buf, w->symbols[i]);
        return 0;
    case KH_OPTIONAL:
    case KH_ARRAY: return resolvable(w->item, r->item, at, why, len);
    default: return 0;
    }
}

/* Checks the versions of the manifest: ids unique, one current version per
 * name, one topic per name, every older version resolvable to the current
 * one; links each version to its reader. */
static int link_versions(kh_schemas *all, char *err, size_t errlen) {
    for (size_t i = 0; i < all->count; i++) {
        kh_schema *s = &all->items[i];
        for (size_t k = 0; k < all->count; k++) {
            const kh_schema *o = &all->items[k];
            if (k < i && o->id == s->id)
                return fail(err, errlen, "ids.tsv: id %d is listed twice", (int)s->id);
            if (k != i && strcmp(o->name, s->name) == 0 && strcmp(o->topic, s->topic) != 0)
                return fail(err, errlen, "ids.tsv: %s has ids on two topics", s->name);
            if (o->current && strcmp(o->name, s->name) == 0) {
                if (s->reader)
                    return fail(err, errlen, "ids.tsv: %s has two current ids", s->name);
                s->reader = o;
            }
        }
        if (!s->reader)
            return fail(err, errlen, "ids.tsv: %s has no current id", s->name);
        path_buf at = {.buf = ""};
        char why[192];
        if (resolvable(s->root, s->reader->root, &at, why, sizeof why))
            return fail(err, errlen, "ids.tsv: %s id %d cannot be read as id %d: %s", s->name,
                        (int)s->id, (int)s->reader->id, why);
        if (s->current) {
            all->current = kh_realloc(all->current, (all->ncurrent + 1) * sizeof *all->current);
            all->current[all->ncurrent++] = s;
        }
    }
    return 0;
}

int kh_schemas_open_files(kh_schemas **out, const kh_embedded_file *files, char *err,
                          size_t errlen) {
    *out = NULL;
    json_t *shared = load_shared(files, err, errlen);
    if (!shared)
        return -1;
    kh_schemas *all = kh_calloc(1, sizeof *all);
    int rc = load_manifest(all, files, shared, err, errlen);
    json_decref(shared);
    if (rc == 0)
        rc = link_versions(all, err, errlen);
    if (rc) {
        kh_schemas_free(all);
        return -1;
    }
    *out = all;
    return 0;
}

int kh_schemas_open(kh_schemas **out, char *err, size_t errlen) {
    return kh_schemas_open_files(out, kh_embedded_files, err, errlen);
}

const kh_schema *kh_schemas_by_name(const kh_schemas *all, const char *name) {
    for (size_t i = 0; i < all->ncurrent; i++)
        if (strcmp(all->current[i]->name, name) == 0)
            return all->current[i];
    return NULL;
}

const char *kh_schemas_topic(const kh_schemas *all, const char *name) {
    const kh_schema *s = kh_schemas_by_name(all, name);
    return s ? kh_schema_topic(s) : "";
}

const kh_schema *kh_schemas_by_id(const kh_schemas *all, int32_t id) {
    for (size_t i = 0; i < all->count; i++)
        if (all->items[i].id == id)
            return &all->items[i];
    return NULL;
}

const kh_field *kh_node_field(const kh_node *record, const char *name) {
    for (size_t i = 0; i < record->nfields; i++)
        if (strcmp(record->fields[i].name, name) == 0)
            return &record->fields[i];
    return NULL;
}

int kh_node_symbol(const kh_node *e, const char *symbol) {
    for (size_t i = 0; i < e->nsymbols; i++)
        if (strcmp(e->symbols[i], symbol) == 0)
            return (int)i;
    return -1;
}

size_t kh_schemas_count(const kh_schemas *all) { return all->ncurrent; }
const kh_schema *kh_schemas_at(const kh_schemas *all, size_t i) { return all->current[i]; }
size_t kh_schemas_id_count(const kh_schemas *all) { return all->count; }
const kh_schema *kh_schemas_id_at(const kh_schemas *all, size_t i) { return &all->items[i]; }
int32_t kh_schema_id(const kh_schema *s) { return s->id; }
const char *kh_schema_name(const kh_schema *s) { return s->name; }
const char *kh_schema_topic(const kh_schema *s) { return s->topic; }
int kh_schema_current(const kh_schema *s) { return s->current; }
const kh_schema *kh_schema_reader(const kh_schema *s) { return s->reader; }
const char *kh_schema_json(const kh_schema *s) { return s->json; }
const kh_node *kh_schema_root(const kh_schema *s) { return s->root; }
avro_schema_t kh_schema_avro(const kh_schema *s) { return s->avro; }

int kh_schema_new_value(const kh_schema *s, avro_value_t *out) {
    return avro_generic_value_new(s->iface, out);
}
