/*
 * kh_embedded — the files under schemas/ as compiled into the library by
 * common/embed.cmake. The table is internal to kh_schema; the type is also
 * how a test hands kh_schemas_open_files schemas of its own.
 */
#ifndef KH_EMBEDDED_H
#define KH_EMBEDDED_H

typedef struct kh_embedded_file {
    const char *path; /* relative to schemas/, e.g. "avro/tlv.avsc" */
    const char *text;
} kh_embedded_file;

/* Terminated by an entry with path NULL. */
extern const kh_embedded_file kh_embedded_files[];

#endif
