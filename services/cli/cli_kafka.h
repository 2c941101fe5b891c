/*
 * cli_kafka — what the read-only subcommands (topics, tail, lag) share:
 * their common options (--config, --set, --json, --timeout-ms), the
 * ketenhub topic names with topic.prefix, a throw-away reader that never
 * commits, and partition counts and watermarks. Exit codes of every
 * subcommand: 0 success; 1 the answer is bad news (lag: a group is STALL
 * or ERR; send: ingest rejected the event); 2 usage or setup error (bad
 * option, unknown topic, Kafka or ingest unreachable).
 */
#ifndef CLI_KAFKA_H
#define CLI_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "kh_config.h"
#include "kh_schema.h"

#define CLI_MAX_TOPICS 8
#define CLI_MAX_PARTITIONS 64

/* The common options: --config FILE, --set KEY=VALUE, --json,
 * --timeout-ms N. */
typedef struct cli_common {
    kh_config *config; /* owned; kh_config_free */
    int json;
    long long timeout_ms;
} cli_common;

/* Handles one common option (getopt_long's opt and optarg): 1 when it was
 * one and went well, 0 when opt is not a common option, -1 after printing
 * an error. Option values: 'c' config, 's' set, 'j' json, 't' timeout. */
int cli_common_option(cli_common *c, int opt, const char *arg);

/* Prints "ketenhub: <message>" on stderr; returns 2, the usage exit code. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The ketenhub topics: the manifest's plus the push retry topic, short
 * names (without topic.prefix). Returns the count (<= CLI_MAX_TOPICS). */
size_t cli_topics(const kh_schemas *schemas, const char *names[CLI_MAX_TOPICS]);

/* Resolves a topic argument ("tlv", "grensverkeer", "push.retry",
 * "ketenhub.tlv.v1") to its full name with topic.prefix. Returns 0, or -1
 * after printing the topics there are. */
int cli_topic_resolve(const kh_schemas *schemas, const kh_config *c, const char *arg, char *full,
                      size_t len);

/* A consumer that reports partition EOF, never commits and belongs to a
 * group of its own; NULL after printing the error. */
rd_kafka_t *cli_reader(const kh_config *c);

/* Partitions of topic, 0 when it does not exist, -1 after printing. */
int cli_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms);

#endif
