/*
 * kh_codec — converting events between natural JSON, avro-c generic values
 * and the Confluent wire format, driven by the compiled kh_node tree.
 */
#include "kh_codec.h"

#include "kh_alloc.h"
#include "kh_bsn.h"
#include "kh_time.h"
#include "kh_uuid.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest string any field may hold when its schema sets no maxLength. */
#define KH_DEFAULT_MAX_LENGTH 4096

/* A JSON pointer under construction: appended on the way down, cut back on
 * the way up. */
typedef struct path {
    char buf[KH_POINTER_LEN];
    size_t len;
} path;

static size_t path_push(path *pt, const char *token) {
    size_t saved = pt->len;
    if (pt->len + 1 < sizeof pt->buf)
        pt->buf[pt->len++] = '/';
    for (const char *c = token; *c && pt->len + 2 < sizeof pt->buf; c++) {
        if (*c == '~' || *c == '/') { /* RFC 6901 escapes */
            pt->buf[pt->len++] = '~';
            pt->buf[pt->len++] = *c == '~' ? '0' : '1';
        } else {
            pt->buf[pt->len++] = *c;
        }
    }
    pt->buf[pt->len] = '\0';
    return saved;
}

static size_t path_push_index(path *pt, size_t i) {
    char token[24];
    snprintf(token, sizeof token, "%zu", i);
    return path_push(pt, token);
}

static void path_pop(path *pt, size_t saved) {
    pt->len = saved;
    pt->buf[saved] = '\0';
}

/* ---- JSON text ------------------------------------------------------------ */

json_t *kh_codec_parse(const char *text, size_t len, kh_problems *p) {
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc)
        return doc;
    if (json_error_code(&jerr) == json_error_invalid_utf8)
        kh_problems_add(p, "", KH_R_ENCODING, "invalid UTF-8 at line %d, column %d (byte %d)",
                        jerr.line, jerr.column, jerr.position);
    else
        kh_problems_add(p, "", KH_R_SYNTAX, "%s at line %d, column %d", jerr.text, jerr.line,
                        jerr.column);
    /* jansson quotes the text near the fault, which is the partner's data. */
    if (p->count)
        kh_bsn_mask(p->items[p->count - 1].detail);
    return NULL;
}

/* ---- JSON -> Avro ------------------------------------------------------------ */

typedef struct put_ctx {
    path pt;
    kh_problems *p;
} put_ctx;

static int put(put_ctx *c, const kh_node *n, size_t max_length, const json_t *j, avro_value_t *v);

static const char *json_kind(const json_t *j) {
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static int type_error(put_ctx *c, const char *expected, const json_t *j) {
    kh_problems_add(c->p, c->pt.buf, KH_R_TYPE, "expected %s, got %s", expected, json_kind(j));
    return -1;
}

static int avro_error(put_ctx *c) {
    kh_problems_add(c->p, c->pt.buf, KH_R_FORMAT, "cannot store value: %s", avro_strerror());
    return -1;
}

/* Code points in a UTF-8 string (jansson has already checked validity). */
static size_t utf8_length(const char *s, size_t bytes) {
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

static int put_string(put_ctx *c, const kh_node *n, size_t max_length, const json_t *j,
                      avro_value_t *v) {
    if (!json_is_string(j))
        return type_error(c, "a string", j);
    const char *s = json_string_value(j);
    size_t bytes = json_string_length(j);
    size_t limit = max_length ? max_length : KH_DEFAULT_MAX_LENGTH;
    if (memchr(s, '\0', bytes)) {
        kh_problems_add(c->p, c->pt.buf, KH_R_FORMAT, "contains a NUL character");
        return -1;
    }
    if (utf8_length(s, bytes) > limit) {
        kh_problems_add(c->p, c->pt.buf, KH_R_TOO_LONG, "longer than %zu characters", limit);
        return -1;
    }
    if (n->logical == KH_UUID && !kh_uuid_valid(s, bytes)) {
        kh_problems_add(c->p, c->pt.buf, KH_R_FORMAT,
                        "expected a UUID like 0b6f6c1e-6d3e-4c1a-9a53-2f1f0d3c9b7e");
        return -1;
    }
    return avro_value_set_string_len(v, s, bytes + 1) ? avro_error(c) : 0;
}

static int put_int(put_ctx *c, const kh_node *n, const json_t *j, avro_value_t *v) {
    int32_t days;
    if (n->logical == KH_DATE) {
        if (!json_is_string(j))
            return type_error(c, "a date string YYYY-MM-DD", j);
        if (kh_date_parse(json_string_value(j), &days)) {
            kh_problems_add(c->p, c->pt.buf, KH_R_FORMAT, "expected a real date as YYYY-MM-DD");
            return -1;
        }
        return avro_value_set_int(v, days) ? avro_error(c) : 0;
    }
    if (!json_is_integer(j))
        return type_error(c, "an integer", j);
    json_int_t i = json_integer_value(j);
    if (i < INT32_MIN || i > INT32_MAX) {
        kh_problems_add(c->p, c->pt.buf, KH_R_RANGE, "outside the 32-bit integer range");
        return -1;
    }
    return avro_value_set_int(v, (int32_t)i) ? avro_error(c) : 0;
}

static int put_long(put_ctx *c, const kh_node *n, const json_t *j, avro_value_t *v) {
    int64_t ms;
    if (n->logical == KH_TIMESTAMP_MILLIS) {
        if (!json_is_string(j))
            return type_error(c, "an RFC 3339 timestamp string", j);
        if (kh_ts_parse(json_string_value(j), &ms)) {
            kh_problems_add(c->p, c->pt.buf, KH_R_FORMAT,
                            "expected an RFC 3339 timestamp like 2026-03-01T08:30:00Z");
            return -1;
        }
        return avro_value_set_long(v, ms) ? avro_error(c) : 0;
    }
    if (!json_is_integer(j))
        return type_error(c, "an integer", j);
    return avro_value_set_long(v, json_integer_value(j)) ? avro_error(c) : 0;
}

static int put_bytes(put_ctx *c, const json_t *j, avro_value_t *v) {
    if (!json_is_string(j))
        return type_error(c, "a base64 string", j);
    size_t n;
    unsigned char *buf = kh_codec_base64_decode(json_string_value(j), json_string_length(j), &n);
    if (!buf) {
        kh_problems_add(c->p, c->pt.buf, KH_R_FORMAT, "expected base64");
        return -1;
    }
    int rc = avro_value_set_bytes(v, buf, n) ? avro_error(c) : 0;
    free(buf);
    return rc;
}

static int put_enum(put_ctx *c, const kh_node *n, const json_t *j, avro_value_t *v) {
    if (!json_is_string(j))
        return type_error(c, "a string", j);
    for (size_t i = 0; i < n->nsymbols; i++)
        if (strcmp(n->symbols[i], json_string_value(j)) == 0)
            return avro_value_set_enum(v, (int)i) ? avro_error(c) : 0;
    char allowed[KH_DETAIL_LEN] = "";
    size_t used = 0;
    for (size_t i = 0; i < n->nsymbols && used < sizeof allowed; i++) {
        int w = snprintf(allowed + used, sizeof allowed - used, "%s%s", i ? ", " : "",
                         n->symbols[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    kh_problems_add(c->p, c->pt.buf, KH_R_ENUM, "must be one of %s", allowed);
    return -1;
}

static int put_optional(put_ctx *c, const kh_node *n, size_t max_length, const json_t *j,
                        avro_value_t *v) {
    avro_value_t branch;
    if (!j || json_is_null(j)) {
        if (avro_value_set_branch(v, n->null_branch, &branch))
            return avro_error(c);
        return avro_value_set_null(&branch) ? avro_error(c) : 0;
    }
    if (avro_value_set_branch(v, 1 - n->null_branch, &branch))
        return avro_error(c);
    return put(c, n->item, max_length, j, &branch);
}

static int put_record(put_ctx *c, const kh_node *n, const json_t *j, avro_value_t *v) {
    if (!json_is_object(j))
        return type_error(c, "an object", j);
    int rc = 0;
    for (size_t i = 0; i < n->nfields; i++) {
        const kh_field *f = &n->fields[i];
        const json_t *fj = json_object_get(j, f->name);
        size_t saved = path_push(&c->pt, f->name);
        avro_value_t child;
        if (avro_value_get_by_index(v, i, &child, NULL)) {
            rc = avro_error(c);
        } else if (!fj && !f->optional) {
            kh_problems_add(c->p, c->pt.buf, KH_R_REQUIRED, "required field is missing");
            rc = -1;
        } else if (fj && json_is_null(fj) && !f->optional) {
            rc |= type_error(c, "a value", fj);
        } else if (put(c, f->type, f->max_length, fj, &child)) {
            rc = -1;
        }
        path_pop(&c->pt, saved);
    }
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)j, key, val) {
        int known = 0;
        for (size_t i = 0; i < n->nfields && !known; i++)
            known = strcmp(n->fields[i].name, key) == 0;
        if (!known) {
            size_t saved = path_push(&c->pt, key);
            kh_problems_add(c->p, c->pt.buf, KH_R_UNKNOWN_FIELD, "not a field of %s", n->name);
            path_pop(&c->pt, saved);
            rc = -1;
        }
    }
    return rc;
}

static int put_array(put_ctx *c, const kh_node *n, size_t max_length, const json_t *j,
                     avro_value_t *v) {
    if (!json_is_array(j))
        return type_error(c, "an array", j);
    int rc = 0;
    size_t i;
    const json_t *item;
    json_array_foreach(j, i, item) {
        avro_value_t child;
        size_t saved = path_push_index(&c->pt, i);
        if (avro_value_append(v, &child, NULL))
            rc = avro_error(c);
        else if (put(c, n->item, max_length, item, &child))
            rc = -1;
        path_pop(&c->pt, saved);
    }
    return rc;
}

static int put(put_ctx *c, const kh_node *n, size_t max_length, const json_t *j, avro_value_t *v) {
    switch (n->kind) {
    case KH_OPTIONAL: return put_optional(c, n, max_length, j, v);
    case KH_RECORD: return put_record(c, n, j, v);
    case KH_ARRAY: return put_array(c, n, max_length, j, v);
    case KH_ENUM: return put_enum(c, n, j, v);
    case KH_STRING: return put_string(c, n, max_length, j, v);
    case KH_INT: return put_int(c, n, j, v);
    case KH_LONG: return put_long(c, n, j, v);
    case KH_BYTES: return put_bytes(c, j, v);
    case KH_BOOLEAN:
        if (!json_is_boolean(j))
            return type_error(c, "true or false", j);
        return avro_value_set_boolean(v, json_is_true(j)) ? avro_error(c) : 0;
    case KH_FLOAT:
    case KH_DOUBLE:
        if (!json_is_number(j))
            return type_error(c, "a number", j);
        return (n->kind == KH_FLOAT ? avro_value_set_float(v, (float)json_number_value(j))
                                    : avro_value_set_double(v, json_number_value(j)))
                   ? avro_error(c)
                   : 0;
    case KH_NULL:
        if (!json_is_null(j))
            return type_error(c, "null", j);
        return avro_value_set_null(v) ? avro_error(c) : 0;
    }
    return type_error(c, "a supported type", j);
}

int kh_codec_from_json(const kh_schema *s, const json_t *in, avro_value_t *out, kh_problems *p) {
    put_ctx c = {.p = p};
    avro_value_reset(out);
    return put(&c, kh_schema_root(s), 0, in, out);
}

/* ---- Avro -> JSON -------------------------------------------------------- */

static json_t *get(const kh_node *n, avro_value_t *v);

static json_t *get_record(const kh_node *n, avro_value_t *v) {
    json_t *obj = json_object();
    for (size_t i = 0; i < n->nfields; i++) {
        avro_value_t child;
        if (avro_value_get_by_index(v, i, &child, NULL)) {
            json_decref(obj);
            return NULL;
        }
        json_t *fj = get(n->fields[i].type, &child);
        if (!fj) {
            json_decref(obj);
            return NULL;
        }
        if (json_is_null(fj) && n->fields[i].type->kind == KH_OPTIONAL)
            json_decref(fj); /* canonical form leaves absent optionals out */
        else
            json_object_set_new(obj, n->fields[i].name, fj);
    }
    return obj;
}

static json_t *get_array(const kh_node *n, avro_value_t *v) {
    size_t count;
    if (avro_value_get_size(v, &count))
        return NULL;
    json_t *arr = json_array();
    for (size_t i = 0; i < count; i++) {
        avro_value_t child;
        json_t *cj = avro_value_get_by_index(v, i, &child, NULL) ? NULL : get(n->item, &child);
        if (!cj) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, cj);
    }
    return arr;
}

static json_t *get_scalar(const kh_node *n, avro_value_t *v) {
    char buf[KH_TS_LEN];
    const char *str;
    const void *bytes;
    size_t size;
    int32_t i;
    int64_t l;
    int b, e;
    float f;
    double d;
    switch (n->kind) {
    case KH_STRING:
        return avro_value_get_string(v, &str, &size) ? NULL
                                                     : json_stringn(str, size ? size - 1 : 0);
    case KH_INT:
        if (avro_value_get_int(v, &i))
            return NULL;
        return n->logical == KH_DATE ? json_string(kh_date_format(i, buf)) : json_integer(i);
    case KH_LONG:
        if (avro_value_get_long(v, &l))
            return NULL;
        return n->logical == KH_TIMESTAMP_MILLIS ? json_string(kh_ts_format(l, buf))
                                                 : json_integer(l);
    case KH_BOOLEAN: return avro_value_get_boolean(v, &b) ? NULL : json_boolean(b);
    case KH_ENUM:
        if (avro_value_get_enum(v, &e) || e < 0 || (size_t)e >= n->nsymbols)
            return NULL;
        return json_string(n->symbols[e]);
    case KH_FLOAT: return avro_value_get_float(v, &f) ? NULL : json_real(f);
    case KH_DOUBLE: return avro_value_get_double(v, &d) ? NULL : json_real(d);
    case KH_BYTES:
        return avro_value_get_bytes(v, &bytes, &size) ? NULL : kh_codec_bytes_json(bytes, size);
    default: return json_null();
    }
}

unsigned char *kh_codec_base64_decode(const char *b64, size_t len, size_t *out_len) {
    if (len % 4 != 0 || len > INT32_MAX)
        return NULL;
    unsigned char *buf = kh_malloc(len / 4 * 3 + 1);
    int n = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    /* EVP_DecodeBlock counts padding as zero bytes; take them off again. */
    for (size_t k = len; k > 0 && b64[k - 1] == '='; k--)
        n--;
    *out_len = (size_t)n;
    return buf;
}

json_t *kh_codec_bytes_json(const void *data, size_t len) {
    if (!data)
        return json_null();
    char *b64 = kh_malloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, data, (int)len);
    json_t *s = json_string(b64);
    free(b64);
    return s;
}

static json_t *get(const kh_node *n, avro_value_t *v) {
    switch (n->kind) {
    case KH_RECORD: return get_record(n, v);
    case KH_ARRAY: return get_array(n, v);
    case KH_OPTIONAL: {
        int disc;
        avro_value_t branch;
        if (avro_value_get_discriminant(v, &disc) || avro_value_get_current_branch(v, &branch))
            return NULL;
        return disc == n->null_branch ? json_null() : get(n->item, &branch);
    }
    default: return get_scalar(n, v);
    }
}

json_t *kh_codec_to_json(const kh_schema *s, avro_value_t *in, char *err, size_t errlen) {
    json_t *out = get(kh_schema_root(s), in);
    if (!out)
        snprintf(err, errlen, "value does not match schema %s: %s", kh_schema_name(s),
                 avro_strerror());
    return out;
}

/* ---- Wire format ----------------------------------------------------------- */

int kh_codec_encode(const kh_schema *s, avro_value_t *in, char **out, size_t *outlen, char *err,
                    size_t errlen) {
    size_t size;
    if (avro_value_sizeof(in, &size)) {
        snprintf(err, errlen, "cannot size value: %s", avro_strerror());
        return -1;
    }
    char *buf = kh_malloc(KH_WIRE_HEADER + size);
    uint32_t id = (uint32_t)kh_schema_id(s);
    buf[0] = 0;
    buf[1] = (char)(id >> 24);
    buf[2] = (char)(id >> 16);
    buf[3] = (char)(id >> 8);
    buf[4] = (char)id;
    avro_writer_t w = avro_writer_memory(buf + KH_WIRE_HEADER, (int64_t)size);
    int rc = avro_value_write(w, in);
    avro_writer_free(w);
    if (rc) {
        free(buf);
        snprintf(err, errlen, "cannot encode value: %s", avro_strerror());
        return -1;
    }
    *out = buf;
    *outlen = KH_WIRE_HEADER + size;
    return 0;
}

int64_t kh_codec_schema_id(const void *data, size_t len) {
    const unsigned char *b = data;
    if (len < KH_WIRE_HEADER || b[0] != 0)
        return -1;
    return (int64_t)((uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4]);
}

/* A bounded reader over the Avro binary payload. */
typedef struct reader {
    const unsigned char *p, *end;
    char *err;
    size_t errlen;
} reader;

static int bad(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(reader *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int read_long(reader *r, int64_t *out) {
    uint64_t acc = 0;
    *out = 0; /* defined on every path, so optimisers see no uninitialised use */
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p == r->end)
            return bad(r, "truncated varint");
        unsigned char b = *r->p++;
        acc |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(acc >> 1) ^ -(int64_t)(acc & 1);
            return 0;
        }
    }
    return bad(r, "varint longer than 10 bytes");
}

static int read_length(reader *r, size_t *len) {
    int64_t n;
    *len = 0;
    if (read_long(r, &n))
        return -1;
    if (n < 0 || (uint64_t)n > (uint64_t)(r->end - r->p))
        return bad(r, "length %lld exceeds the %zu bytes left", (long long)n,
                   (size_t)(r->end - r->p));
    *len = (size_t)n;
    return 0;
}

/* Reading walks the writer's schema (the record's id) and the reader's (the
 * current version of that name) side by side: the same node when the record
 * carries the current id, else the Avro resolution kh_schemas_open checked
 * to be possible (kh_schema.h). */
static int read_value(reader *r, const kh_node *w, const kh_node *n, avro_value_t *v);
static int skip_value(reader *r, const kh_node *w);

static int read_fixed(reader *r, void *out, size_t n) {
    if ((size_t)(r->end - r->p) < n)
        return bad(r, "truncated value");
    memcpy(out, r->p, n);
    r->p += n;
    return 0;
}

/* The item count of the next array block, 0 at the end of the array. */
static int read_block(reader *r, int64_t *count) {
    if (read_long(r, count))
        return -1;
    if (*count < 0) { /* a negative count is followed by the block's byte size */
        int64_t bytes;
        if (*count == INT64_MIN)
            return bad(r, "array block count out of range");
        if (read_long(r, &bytes))
            return -1;
        *count = -*count;
    }
    if (*count > r->end - r->p) /* every item takes at least one byte */
        return bad(r, "array block of %lld items exceeds the record", (long long)*count);
    return 0;
}

/* v is NULL when the array is skipped. */
static int read_array(reader *r, const kh_node *w, const kh_node *n, avro_value_t *v) {
    for (;;) {
        int64_t count;
        if (read_block(r, &count))
            return -1;
        if (count == 0)
            return 0;
        for (int64_t i = 0; i < count; i++) {
            avro_value_t child;
            if (!v ? skip_value(r, w->item)
                   : avro_value_append(v, &child, NULL) || read_value(r, w->item, n->item, &child))
                return -1;
        }
    }
}

static int read_scalar(reader *r, const kh_node *n, avro_value_t *v) {
    int64_t l;
    size_t len;
    float f;
    double d;
    switch (n->kind) {
    case KH_INT:
        if (read_long(r, &l))
            return -1;
        if (l < INT32_MIN || l > INT32_MAX)
            return bad(r, "int out of range");
        return avro_value_set_int(v, (int32_t)l);
    case KH_LONG: return read_long(r, &l) ? -1 : avro_value_set_long(v, l);
    case KH_BOOLEAN:
        if (r->p == r->end || *r->p > 1)
            return bad(r, "bad boolean");
        return avro_value_set_boolean(v, *r->p++);
    case KH_STRING:
    case KH_BYTES: {
        if (read_length(r, &len))
            return -1;
        const char *s = (const char *)r->p;
        r->p += len;
        if (n->kind == KH_BYTES)
            return avro_value_set_bytes(v, (void *)s, len);
        if (memchr(s, '\0', len))
            return bad(r, "string contains NUL");
        /* avro-c wants the terminator inside the size it copies. */
        char *copy = kh_malloc(len + 1);
        memcpy(copy, s, len);
        copy[len] = '\0';
        int rc = avro_value_set_string_len(v, copy, len + 1);
        free(copy);
        return rc;
    }
    case KH_FLOAT: return read_fixed(r, &f, 4) ? -1 : avro_value_set_float(v, f);
    case KH_DOUBLE: return read_fixed(r, &d, 8) ? -1 : avro_value_set_double(v, d);
    case KH_NULL: return avro_value_set_null(v);
    default: return bad(r, "unsupported type");
    }
}

/* Reads past a value of a field the reader no longer has, with the bounds,
 * union, enum and boolean checks of read_value, so a record truncated or
 * corrupt inside a dropped field is still poison. */
static int skip_value(reader *r, const kh_node *w) {
    int64_t l;
    size_t len;
    unsigned char scratch[8] = {0};
    switch (w->kind) {
    case KH_RECORD:
        for (size_t i = 0; i < w->nfields; i++)
            if (skip_value(r, w->fields[i].type))
                return -1;
        return 0;
    case KH_ARRAY: return read_array(r, w, NULL, NULL);
    case KH_OPTIONAL:
        if (read_long(r, &l))
            return -1;
        if (l != 0 && l != 1)
            return bad(r, "union branch %lld out of range", (long long)l);
        return l == w->null_branch ? 0 : skip_value(r, w->item);
    case KH_ENUM:
        if (read_long(r, &l))
            return -1;
        return l < 0 || (uint64_t)l >= w->nsymbols ? bad(r, "enum index out of range") : 0;
    case KH_INT:
    case KH_LONG: return read_long(r, &l);
    case KH_BOOLEAN:
        if (read_fixed(r, scratch, 1))
            return -1;
        return scratch[0] > 1 ? bad(r, "bad boolean") : 0;
    case KH_STRING:
    case KH_BYTES:
        if (read_length(r, &len))
            return -1;
        r->p += len;
        return 0;
    case KH_FLOAT:
    case KH_DOUBLE: return read_fixed(r, scratch, w->kind == KH_FLOAT ? 4 : 8);
    case KH_NULL: return 0;
    }
    return bad(r, "unsupported type");
}

/* A record field by field of the writer: into the reader's field of that
 * name, or skipped when the reader has none; then the reader's fields the
 * writer lacks, optional by kh_schemas_open's check, are null. */
static int read_record(reader *r, const kh_node *w, const kh_node *n, avro_value_t *v) {
    avro_value_t child, branch;
    for (size_t i = 0; i < w->nfields; i++) {
        const kh_field *wf = &w->fields[i];
        const kh_field *nf = w == n ? wf : kh_node_field(n, wf->name);
        if (!nf ? skip_value(r, wf->type)
                : avro_value_get_by_index(v, (size_t)(nf - n->fields), &child, NULL) ||
                      read_value(r, wf->type, nf->type, &child))
            return -1;
    }
    for (size_t j = 0; j < n->nfields && w != n; j++) {
        const kh_field *nf = &n->fields[j];
        if (kh_node_field(w, nf->name))
            continue;
        if (nf->type->kind != KH_OPTIONAL)
            return bad(r, "field %s has no default", nf->name);
        if (avro_value_get_by_index(v, j, &child, NULL) ||
            avro_value_set_branch(&child, nf->type->null_branch, &branch) ||
            avro_value_set_null(&branch))
            return -1;
    }
    return 0;
}

static int read_value(reader *r, const kh_node *w, const kh_node *n, avro_value_t *v) {
    int64_t idx;
    avro_value_t child;
    if (w->kind != n->kind)
        return bad(r, "writer and reader types differ");
    switch (n->kind) {
    case KH_RECORD: return read_record(r, w, n, v);
    case KH_ENUM:
        if (read_long(r, &idx))
            return -1;
        if (idx < 0 || (uint64_t)idx >= w->nsymbols)
            return bad(r, "enum index %lld out of range for %s", (long long)idx, w->name);
        if (w != n && (idx = kh_node_symbol(n, w->symbols[idx])) < 0)
            return bad(r, "enum symbol unknown to the reader");
        return avro_value_set_enum(v, (int)idx);
    case KH_OPTIONAL:
        if (read_long(r, &idx))
            return -1;
        if (idx != 0 && idx != 1)
            return bad(r, "union branch %lld out of range", (long long)idx);
        if (idx == w->null_branch)
            return avro_value_set_branch(v, n->null_branch, &child) || avro_value_set_null(&child);
        return avro_value_set_branch(v, 1 - n->null_branch, &child) ||
               read_value(r, w->item, n->item, &child);
    case KH_ARRAY: return read_array(r, w, n, v);
    default: return read_scalar(r, n, v);
    }
}

kh_decode_status kh_codec_decode(const kh_schemas *all, const void *data, size_t len,
                                 const kh_schema **which, avro_value_t *out, char *err,
                                 size_t errlen) {
    int64_t id = kh_codec_schema_id(data, len);
    if (id < 0) {
        snprintf(err, errlen, "not in the wire format: %s",
                 len < KH_WIRE_HEADER ? "shorter than the 5-byte header" : "magic byte is not 0");
        return KH_DECODE_BAD_MAGIC;
    }
    const kh_schema *s = kh_schemas_by_id(all, (int32_t)id);
    if (!s) {
        snprintf(err, errlen, "unknown schema id %lld", (long long)id);
        return KH_DECODE_UNKNOWN_ID;
    }
    const kh_schema *current = kh_schema_reader(s);
    if (kh_schema_new_value(current, out)) {
        snprintf(err, errlen, "cannot allocate a value: %s", avro_strerror());
        return KH_DECODE_UNDECODABLE;
    }
    const unsigned char *b = data;
    char why[128] = "avro-c refused a value";
    reader r = {.p = b + KH_WIRE_HEADER, .end = b + len, .err = why, .errlen = sizeof why};
    int rc = read_value(&r, kh_schema_root(s), kh_schema_root(current), out);
    if (rc == 0 && r.p != r.end)
        rc = bad(&r, "%zu trailing bytes", (size_t)(r.end - r.p));
    if (rc) {
        snprintf(err, errlen, "payload does not match schema %s (id %lld): %s", kh_schema_name(s),
                 (long long)id, why);
        avro_value_decref(out);
        return KH_DECODE_UNDECODABLE;
    }
    *which = current;
    return KH_DECODE_OK;
}
