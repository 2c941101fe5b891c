/*
 * kh_config — service configuration: `key = value` files plus environment
 * overrides.
 *
 * File format: one `key = value` per line; whitespace around key and value
 * is trimmed; blank lines and lines whose first non-blank character is `#`
 * are ignored. There are no inline comments and no quoting: everything after
 * the first `=` is the value, so secrets may contain `#` and `=`. Keys are
 * made of letters, digits, `.`, `_` and `-`.
 *
 * Precedence, highest first: the environment, then values from
 * kh_config_set() and files (whichever came last), then the caller's
 * default. Key `kafka.bootstrap.servers` is overridden by environment
 * variable `KETENHUB_KAFKA_BOOTSTRAP_SERVERS`: `KETENHUB_` + the key in upper
 * case with `.` and `-` turned into `_`. An empty variable counts as unset.
 *
 * The KETENHUB_* environment is read once, by kh_config_new(), so a config
 * is a stable snapshot: later setenv() calls are not seen.
 *
 * A kh_config is not synchronised: fill it at startup, then any number of
 * threads may read it concurrently as long as nobody changes it.
 */
#ifndef KH_CONFIG_H
#define KH_CONFIG_H

#include <stddef.h>

typedef struct kh_config kh_config;

/* A config with no file values, holding a snapshot of the KETENHUB_*
 * environment. Free with kh_config_free(). */
kh_config *kh_config_new(void);

/* Reads a config file into c; may be called for several files, a later value
 * for a key replaces an earlier one. Returns 0, or -1 with a message in err:
 * the file cannot be read (`path: reason`), or a line is malformed
 * (`path:line: ...`; the line itself is not quoted, it may hold a secret).
 * On error c keeps the values of the lines read before the bad one. */
int kh_config_load_file(kh_config *c, const char *path, char *err, size_t errlen);

/* Sets key to a copy of value, replacing any file or earlier value (an
 * environment override still wins). Returns 0, or -1 when key is not a valid
 * key. */
int kh_config_set(kh_config *c, const char *key, const char *value);

/* Parses `key=value` (as given to a `--set key=value` option; whitespace
 * around both trimmed) and sets it. Returns 0, or -1 with a message in err. */
int kh_config_set_arg(kh_config *c, const char *arg, char *err, size_t errlen);

/* The value of key: the environment override, else the set/file value, else
 * def. The returned string belongs to c (or is def) and stays valid until c
 * is freed or the key is set or loaded again. */
const char *kh_config_get(const kh_config *c, const char *key, const char *def);

/* The value of key as a decimal integer (leading `+`/`-` allowed, nothing
 * after the digits), or def when the key has no value. Returns 0 with *out
 * set, or -1 with a message naming the key in err when the value is not an
 * integer or out of range; *out is then untouched. */
int kh_config_get_int(const kh_config *c, const char *key, long long def, long long *out, char *err,
                      size_t errlen);

/* The value of key as a boolean: true/yes/1 or false/no/0, in any case; def
 * when the key has no value. Returns 0 with *out set to 1 or 0, or -1 with a
 * message naming the key in err; *out is then untouched. */
int kh_config_get_bool(const kh_config *c, const char *key, int def, int *out, char *err,
                       size_t errlen);

/* Calls fn once for every key starting with prefix, with its effective
 * value. Keys come from the set/file values and from the KETENHUB_*
 * environment, which maps back to a key in lower case with `_` turned into
 * `.` (KETENHUB_KAFKA_SECURITY_PROTOCOL -> kafka.security.protocol). When a
 * variable overrides a file key, the file's spelling of the key is reported
 * with the environment's value. Order: file/set keys in the order first
 * defined, then environment-only keys. The strings passed to fn are only
 * valid during the call. */
void kh_config_each(const kh_config *c, const char *prefix,
                    void (*fn)(const char *key, const char *value, void *ud), void *ud);

/* Frees c and every string it returned. NULL is allowed. */
void kh_config_free(kh_config *c);

#endif
