/*
 * e2e_hub — the whole hub as processes on the real Apache Kafka of
 * `make test`: ketenhub-ingest, -route and -push, two kh-test-receiver
 * partner endpoints (gemeenten on one, every other organisation on the
 * other), every organisation of the reference data a partner with a key
 * and a subscription (made by `ketenhub simulate --write-partners
 * --write-subscriptions`), and `ketenhub simulate` as the partners' traffic.
 * Helpers fail the running Check test on error. Programs die with the test.
 */
#ifndef E2E_HUB_H
#define E2E_HUB_H

#include <stddef.h>
#include <sys/types.h>

enum { E2E_INGEST, E2E_ROUTE, E2E_PUSH, E2E_SERVICES };

typedef struct e2e_hub {
    char bootstrap[256];
    char prefix[64];        /* topic.prefix and group ids */
    char dir[128];          /* files and logs of this hub */
    int port[E2E_SERVICES]; /* HTTP/ops port of each service */
    pid_t pid[E2E_SERVICES];
    int runs[E2E_SERVICES]; /* starts so far (log file names) */
    int recv_port[2];
    pid_t recv[2];
    char refdir[160]; /* ingest's and route's reference.dir; "" the compiled-in one */
} e2e_hub;

/* Topics, partners, keys, subscriptions and receivers; no service yet. */
void e2e_hub_init(e2e_hub *h);

/* Copies deploy/reference to "<dir>/reference" and makes it ingest's and
 * route's reference.dir (route reloading on SIGHUP only, so a test decides
 * when a changed file counts). Before the services start. */
void e2e_reference_copy(e2e_hub *h);

/* Starts (again) one service and waits until it is ready. */
void e2e_start(e2e_hub *h, int service);

/* Stops one service with sig (SIGKILL: a crash); returns its exit status. */
int e2e_stop(e2e_hub *h, int service, int sig);

/* Stops everything and, when keep is 0, removes the hub's files. */
void e2e_hub_done(e2e_hub *h, int keep);

/* A file of the hub: "<dir>/<name>" (static buffer per slot 0-3). */
const char *e2e_path(const e2e_hub *h, const char *name, int slot);

/* The full topic name under the hub's prefix (static buffer per slot 0-3). */
const char *e2e_topic(const e2e_hub *h, const char *topic, int slot);

/* Starts `ketenhub simulate` sending `events` events of seed with 5% invalid
 * to ingest, writing expect.json and results.jsonl. */
pid_t e2e_simulate(e2e_hub *h, unsigned long seed, unsigned long events);

/* The same with the reference data of refdir (NULL: the CLI's default) and
 * the files named expect-<tag>.json, results-<tag>.jsonl, simulate-<tag>.log. */
pid_t e2e_simulate_phase(e2e_hub *h, unsigned long seed, unsigned long events, const char *refdir,
                         const char *tag);

/* Waits for a process to exit (at most ms); returns its exit status. */
int e2e_wait_exit(pid_t pid, int ms);

/* Lines in a file (0 when missing). */
size_t e2e_lines(const char *path);

/* The 2xx answers both receivers gave. */
long e2e_delivered(const e2e_hub *h);

/* The receiver path of a "TYPE:CODE" and the receiver it is on (0 or 1). */
int e2e_receiver_of(const char *org);

/* Sets a receiver rule (path, mode) on the receiver of org. */
void e2e_receiver_rule(const e2e_hub *h, const char *org, const char *mode);

/* Stops the Apache Kafka broker of tests/with-kafka.sh (its pid and command
 * line from $KH_KAFKA_STATE), keeps it down for down_ms, starts it again on
 * the same data directory and port (recording the new pid where kafka.sh
 * stop finds it) and waits until it answers metadata requests. */
void e2e_broker_restart(const e2e_hub *h, int down_ms);

long long e2e_now_ms(void);
void e2e_sleep_ms(int ms);

#endif
