/*
 * ketenhub-devbroker — an in-memory Kafka-protocol broker, so the whole hub
 * runs on one machine with nothing installed.
 *
 * It is librdkafka's mock cluster (rdkafka_mock.h): N brokers listening on
 * 127.0.0.1, speaking enough of the Kafka protocol for our services
 * (idempotent and transactional producers, consumer groups with committed
 * offsets, topic auto-creation). We create the ketenhub topics, print the
 * bootstrap address and wait for signals.
 *
 * It is a demo and test convenience, never a store: each partition keeps only
 * the newest ~5 MiB / 100,000 message sets and silently drops older records,
 * and nothing is written to disk. The 2.0.2 mock also accepts transactions
 * without enforcing them (aborted records stay visible, TxnOffsetCommit is
 * not stored) and answers no admin requests (CreateTopics, DescribeConfigs).
 * Production, durability and exactly-once tests, and benchmarks use Apache
 * Kafka (deploy/kafka/).
 *
 * Signals: SIGTERM/SIGINT stop it (exit 0). SIGUSR1 takes every broker down,
 * SIGUSR2 brings them back: tests use this to simulate an unavailable cluster.
 */
#include "kh_log.h"
#include "kh_retry.h"
#include "kh_schema.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BROKERS 16
#define MAX_PARTITIONS 1024

/* Room for every topic of schemas/ids.tsv plus push's retry topic. */
#define MAX_TOPICS 16

/* The ketenhub topics created at start: every topic the schema manifest
 * (schemas/ids.tsv) names, and push's retry topic (kh_retry.h), which
 * carries no schema of its own. The names live in schemas. */
typedef struct topic_list {
    kh_schemas *schemas;
    const char *names[MAX_TOPICS];
    size_t count;
} topic_list;

#define WARNING                                                                        \
    "ketenhub-devbroker is an in-memory demo/test broker (librdkafka mock cluster). "  \
    "Each partition keeps only the newest ~5 MiB / 100,000 message sets and silently " \
    "drops older records (measured: of 200,000 acknowledged 100-byte records on a "    \
    "4-partition topic only 134,514 to 178,423 stayed readable, depending on "         \
    "batching); nothing is written to disk and everything is lost on exit. "           \
    "Transactions are accepted but not enforced: aborted records stay visible and "    \
    "offsets sent with a transaction are not stored. Never use it for production, "    \
    "durability or exactly-once tests, or benchmarks: use Apache Kafka "               \
    "(deploy/kafka/kafka.sh)."

/* Set only by the signal handlers; the main loop acts on them. want_down holds
 * the last of SIGUSR1 (1) and SIGUSR2 (0), so the newest signal wins. */
static volatile sig_atomic_t want_stop;
static volatile sig_atomic_t want_down;

struct options {
    int brokers;
    int partitions;
    const char *bootstrap_file;
};

/* Fills t from the compiled-in manifest. Returns 0, or -1 (said on stderr). */
static int load_topics(topic_list *t) {
    char err[512];
    memset(t, 0, sizeof *t);
    if (kh_schemas_open(&t->schemas, err, sizeof err)) {
        fprintf(stderr, "ketenhub-devbroker: cannot read the schema manifest: %s\n", err);
        return -1;
    }
    size_t n = kh_schemas_count(t->schemas);
    if (n + 1 > MAX_TOPICS) {
        fprintf(stderr,
                "ketenhub-devbroker: schemas/ids.tsv names %zu topics; MAX_TOPICS in "
                "devbroker/main.c has room for %d\n",
                n, MAX_TOPICS - 1);
        kh_schemas_free(t->schemas);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        t->names[t->count++] = kh_schema_topic(kh_schemas_at(t->schemas, i));
    t->names[t->count++] = KH_RETRY_TOPIC;
    return 0;
}

static void usage(FILE *out, const topic_list *topics) {
    fprintf(out,
            "Usage: ketenhub-devbroker [options]\n"
            "\n"
            "An in-memory Kafka-protocol broker (librdkafka's mock cluster) on 127.0.0.1\n"
            "for demos and tests. NOT a store: each partition keeps only the newest\n"
            "~5 MiB / 100,000 message sets, older records are silently dropped, nothing\n"
            "is written to disk. Transactions are accepted but not enforced (aborted\n"
            "records stay visible, offsets sent with a transaction are not stored), and\n"
            "admin requests (CreateTopics, DescribeConfigs) are not answered. Use Apache\n"
            "Kafka (deploy/kafka/kafka.sh) for production, durability and exactly-once\n"
            "tests, and benchmarks.\n"
            "\n"
            "Options:\n"
            "  --brokers N          number of brokers, 1..%d (default 3); each listens on\n"
            "                       its own random port on 127.0.0.1\n"
            "  --partitions N       partitions of each ketenhub topic, 1..%d (default 4);\n"
            "                       other topics are auto-created with 4 partitions\n"
            "  --bootstrap-file P   also write the bootstrap address (host:port,...) to\n"
            "                       file P, atomically, once the brokers listen; the file\n"
            "                       is removed again on a clean exit\n"
            "  -h, --help           show this help\n"
            "\n"
            "Topics created at start (replication factor min(3, brokers)):\n",
            MAX_BROKERS, MAX_PARTITIONS);
    for (size_t i = 0; i < topics->count; i++)
        fprintf(out, "  %s\n", topics->names[i]);
    fprintf(out, "\n"
                 "Output: the first line on stdout is \"bootstrap=127.0.0.1:PORT,...\".\n"
                 "Logs go to stderr, one JSON object per line.\n"
                 "\n"
                 "Signals:\n"
                 "  SIGTERM, SIGINT   stop and exit 0\n"
                 "  SIGUSR1           take all brokers down (connections are closed and\n"
                 "                    refused; the ports stay reserved)\n"
                 "  SIGUSR2           bring all brokers back up on the same ports\n"
                 "\n"
                 "Exit status: 0 stopped by a signal, 1 the cluster could not start, 2 usage.\n");
}

/* Parses a decimal int in [min, max] into *out; returns -1 when it is not one. */
static int parse_count(const char *name, const char *s, int min, int max, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "ketenhub-devbroker: --%s must be a number from %d to %d, not '%s'\n", name,
                min, max, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* Fills o from argv. Returns -1 when the program should exit at once with
 * *exit_status (after --help: 0; on a usage error: 2). */
static int parse_options(int argc, char **argv, const topic_list *topics, struct options *o,
                         int *exit_status) {
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"partitions", required_argument, NULL, 'p'},
        {"bootstrap-file", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, bad = 0;
    *exit_status = 2;
    while (!bad && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'b')
            bad = parse_count("brokers", optarg, 1, MAX_BROKERS, &o->brokers);
        else if (c == 'p')
            bad = parse_count("partitions", optarg, 1, MAX_PARTITIONS, &o->partitions);
        else if (c == 'f')
            o->bootstrap_file = optarg;
        else if (c == 'h') {
            usage(stdout, topics);
            *exit_status = 0;
            return -1;
        } else
            bad = -1; /* getopt_long has said what */
    }
    if (!bad && optind < argc) {
        fprintf(stderr, "ketenhub-devbroker: unexpected argument '%s'\n", argv[optind]);
        bad = -1;
    }
    if (bad)
        fprintf(stderr, "Try 'ketenhub-devbroker --help'.\n");
    return bad;
}

static void on_signal(int sig) {
    if (sig == SIGUSR1)
        want_down = 1;
    else if (sig == SIGUSR2)
        want_down = 0;
    else
        want_stop = 1;
}

static void install_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
}

/* librdkafka's warnings and errors in our log format; its notices (such as
 * "no bootstrap.servers" for the handle below, which never connects) are
 * debug chatter here. */
static void log_rdkafka(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    int ours = level <= 3 ? KH_LOG_ERROR : level == 4 ? KH_LOG_WARN : KH_LOG_DEBUG;
    kh_log(ours, buf, json_pack("{s:s}", "rdkafka_facility", fac));
}

/* The mock cluster needs a client handle to hang off; it never connects. */
static rd_kafka_t *new_handle(void) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_rdkafka);
    if (rd_kafka_conf_set(conf, "client.id", "ketenhub-devbroker", errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        kh_log_error("cannot configure the librdkafka handle", json_pack("{s:s}", "error", errstr));
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL)
        kh_log_error("cannot create the librdkafka handle", json_pack("{s:s}", "error", errstr));
    return rk;
}

/* Signals are blocked while librdkafka starts its threads, so they inherit
 * the blocked mask and every signal lands on the main thread. */
static rd_kafka_mock_cluster_t *start_cluster(int brokers) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rd_kafka_t *rk = new_handle();
    rd_kafka_mock_cluster_t *mc = rk ? rd_kafka_mock_cluster_new(rk, brokers) : NULL;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rk && mc == NULL) {
        kh_log_error("cannot create the mock cluster", NULL);
        rd_kafka_destroy(rk);
    }
    return mc;
}

/* librdkafka 2.0.2's mock thread drains its wake-up pipe after serving its
 * request queue, so a request queued in between loses its wake-up and waits
 * out the thread's 1 s poll timeout: seven topics created back to back took
 * 0-3 s. Letting the thread get back to poll() first makes that rare. */
static void pace(void) {
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static void stop_cluster(rd_kafka_mock_cluster_t *mc) {
    rd_kafka_t *rk = rd_kafka_mock_cluster_handle(mc);
    pace();
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
}

static int create_topics(rd_kafka_mock_cluster_t *mc, const topic_list *topics, int brokers,
                         int partitions) {
    int replication = brokers < 3 ? brokers : 3;
    for (size_t i = 0; i < topics->count; i++) {
        const char *name = topics->names[i];
        pace();
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, partitions, replication);
        if (err) {
            kh_log_error("cannot create topic",
                         json_pack("{s:s,s:s}", "topic", name, "error", rd_kafka_err2str(err)));
            return -1;
        }
    }
    return 0;
}

/* Written under a temporary name and renamed, so a script polling for the
 * file never reads half an address. */
static int write_bootstrap_file(const char *path, const char *bootstrap) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    int failed = fprintf(f, "%s\n", bootstrap) < 0;
    failed |= fclose(f) != 0;
    if (failed || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void set_brokers_down(rd_kafka_mock_cluster_t *mc, int brokers, int down) {
    for (int id = 1; id <= brokers; id++) {
        pace();
        rd_kafka_resp_err_t err = down ? rd_kafka_mock_broker_set_down(mc, id)
                                       : rd_kafka_mock_broker_set_up(mc, id);
        if (err)
            kh_log_error(down ? "cannot take broker down" : "cannot bring broker up",
                         json_pack("{s:i,s:s}", "broker", id, "error", rd_kafka_err2str(err)));
    }
    kh_log_warn(down ? "all brokers down (SIGUSR1): connections closed and refused"
                     : "all brokers up (SIGUSR2)",
                json_pack("{s:i}", "brokers", brokers));
}

/* Until SIGTERM/SIGINT. Polling the handle serves its log and error events
 * and is also the loop's 100 ms tick for noticing the signal flags. */
static void run(rd_kafka_mock_cluster_t *mc, int brokers) {
    rd_kafka_t *rk = rd_kafka_mock_cluster_handle(mc);
    int down = 0;
    while (!want_stop) {
        rd_kafka_poll(rk, 100);
        int wanted = want_down;
        if (wanted != down) {
            set_brokers_down(mc, brokers, wanted);
            down = wanted;
        }
    }
}

static void announce(const char *bootstrap, const struct options *o, const topic_list *topics) {
    printf("bootstrap=%s\n", bootstrap);
    fflush(stdout);
    kh_log_info("devbroker started",
                json_pack("{s:s,s:i,s:i,s:i,s:s?}", "bootstrap", bootstrap, "brokers", o->brokers,
                          "partitions", o->partitions, "topics", (int)topics->count,
                          "bootstrap_file", o->bootstrap_file));
}

static void warn_in_memory(void) {
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\n"
                        "  *****************************************************************\n"
                        "  *  WARNING: in-memory demo/test broker. It silently DROPS old    *\n"
                        "  *  records (keeps ~5 MiB / 100,000 message sets per partition),  *\n"
                        "  *  writes nothing to disk and forgets everything on exit, and    *\n"
                        "  *  does not enforce transactions (aborts stay visible).          *\n"
                        "  *  Never for production or durability tests: use Apache Kafka    *\n"
                        "  *  (deploy/kafka/kafka.sh).                                      *\n"
                        "  *****************************************************************\n"
                        "\n");
    kh_log_warn(WARNING, NULL);
}

/* From the cluster's start to its stop; returns the exit status. */
static int serve(const struct options *o, const topic_list *topics) {
    rd_kafka_mock_cluster_t *mc = start_cluster(o->brokers);
    if (mc == NULL)
        return 1;
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    if (create_topics(mc, topics, o->brokers, o->partitions) != 0) {
        stop_cluster(mc);
        return 1;
    }
    if (o->bootstrap_file && write_bootstrap_file(o->bootstrap_file, bootstrap) != 0) {
        kh_log_error("cannot write the bootstrap file",
                     json_pack("{s:s,s:s}", "path", o->bootstrap_file, "error", strerror(errno)));
        stop_cluster(mc);
        return 1;
    }
    announce(bootstrap, o, topics);

    run(mc, o->brokers);

    kh_log_info("devbroker stopping", NULL);
    if (o->bootstrap_file)
        unlink(o->bootstrap_file);
    stop_cluster(mc);
    kh_log_info("devbroker stopped", NULL);
    return 0;
}

int main(int argc, char **argv) {
    struct options o = {.brokers = 3, .partitions = 4, .bootstrap_file = NULL};
    topic_list topics;
    int status = 0;
    if (load_topics(&topics) != 0)
        return 1;
    if (parse_options(argc, argv, &topics, &o, &status) == 0) {
        kh_log_setup("devbroker", KH_LOG_INFO, STDERR_FILENO);
        warn_in_memory();
        install_handlers();
        status = serve(&o, &topics);
    }
    kh_schemas_free(topics.schemas);
    return status;
}
