/*
 * kh_embedded — the files under schemas/ as compiled into the library by
 * common/embed.cmake. Internal to kh_schema.
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
