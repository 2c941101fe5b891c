/*
 * kh_file — reading a whole file (or stdin) into memory, with a size limit
 * and an error message that names the file and says what went wrong.
 *
 * Used for configuration, partners, subscriptions, reference data and the
 * CLI's input. Thread-safe.
 */
#ifndef KH_FILE_H
#define KH_FILE_H

#include <stddef.h>

/* Reads path ("-" is stdin) into a new NUL-terminated buffer, which the
 * caller frees; *len (if not NULL) gets the byte count without the NUL.
 * limit is the largest size accepted (0: no limit). Returns NULL with a
 * message in err ("FILE: cannot open: REASON", "FILE: larger than N bytes",
 * "FILE: read error: REASON") when the file cannot be read whole. */
char *kh_file_read(const char *path, size_t limit, size_t *len, char *err, size_t errlen);

#endif
