/*
 * testlib — what service tests share: starting and stopping programs from
 * build/bin, an embedded broker per test, the real broker of `make test`,
 * waiting for HTTP endpoints, and reading topics back to count and compare.
 *
 * Every helper fails the running Check test (ck_assert) on error, so tests
 * stay short and a broken harness is never mistaken for a passing test.
 */
#ifndef KH_TESTLIB_H
#define KH_TESTLIB_H

#include <check.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Runs the suite (and frees it); EXIT_SUCCESS when every test passed. */
int kh_test_run(Suite *s);

/* The path of a program in build/bin (from KH_BIN_DIR); static buffer. */
const char *kh_test_bin(const char *program);

/* The repository root (KH_SOURCE_DIR). */
const char *kh_test_source_dir(void);

/* Starts a program with extra environment entries ("KEY=value", NULL-ended,
 * may be NULL) added to ours. stdout/stderr go to log_path when not NULL.
 * The program is killed when the test process dies. */
pid_t kh_test_spawn(const char *const argv[], const char *const env[], const char *log_path);

/* Sends sig, waits up to timeout_ms, SIGKILLs after that. Returns the exit
 * status (0-255), or 128 + signal when it died of one. */
int kh_test_stop(pid_t pid, int sig, int timeout_ms);

/* A fresh ketenhub-devbroker; writes its bootstrap into bootstrap. */
pid_t kh_test_devbroker(char *bootstrap, size_t len);

/* The real Apache Kafka of `make test` (KH_KAFKA_BOOTSTRAP); fails the test
 * with instructions when it is not set. */
const char *kh_test_kafka(void);

/* A prefix unique to this process and call, for topic.prefix and group ids:
 * "t<pid>x<n>." */
const char *kh_test_unique_prefix(char *buf, size_t len);

/* Polls GET http://127.0.0.1:<port><path> until it answers `status`, at
 * most timeout_ms. Returns 0 or fails the test. */
int kh_test_wait_http(int port, const char *path, long status, int timeout_ms);

/* A request to http://127.0.0.1:<port><path> (5 s timeout). Returns the
 * status (0 when there was no answer); *body, when body is not NULL, is the
 * answer's body (caller frees; NULL when empty). */
long kh_test_http(int port, const char *method, const char *path, char **body);

/* A free TCP port on 127.0.0.1 (bound and released; good enough for tests). */
int kh_test_free_port(void);

/* 1 when the file at path (which must exist) holds needle, else 0. */
int kh_test_file_contains(const char *path, const char *needle);

/* A producer / read_committed consumer on bootstrap, for tests. */
rd_kafka_t *kh_test_producer(const char *bootstrap);

/* Calls fn for every record of topic from the beginning until no record has
 * arrived for idle_ms (or total_ms passed). Returns the number of records.
 * fn may be NULL to only count. */
typedef void (*kh_test_record_fn)(const rd_kafka_message_t *m, void *ud);
size_t kh_test_read_topic(const char *bootstrap, const char *topic, int idle_ms, int total_ms,
                          kh_test_record_fn fn, void *ud);

/* The same, but the idle time only counts once `expect` records were read:
 * a loaded machine may pause longer than idle_ms before the last of them
 * arrive, and stopping then would miss records that are there. */
size_t kh_test_read_topic_expect(const char *bootstrap, const char *topic, size_t expect,
                                 int idle_ms, int total_ms, kh_test_record_fn fn, void *ud);

/* Creates a topic with n partitions on the real broker (Admin API). */
void kh_test_create_topic(const char *bootstrap, const char *topic, int partitions);

#endif
