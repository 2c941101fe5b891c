/*
 * kh_service — program start-up and shutdown shared by all services.
 */
#include "kh_service.h"

#include "kh_alloc.h"
#include "kh_kafka.h"
#include "kh_log.h"

#include <getopt.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t kh_service_stop;
volatile sig_atomic_t kh_service_reload;

static void on_stop(int sig) {
    (void)sig;
    kh_service_stop = 1;
}

static void on_hup(int sig) {
    (void)sig;
    kh_service_reload = 1;
}

static void install_signals(void) {
    struct sigaction sa = {0};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN; /* a partner closing its socket must not kill us */
    sigaction(SIGPIPE, &sa, NULL);
}

static void print_usage(const char *usage) {
    printf(
        "%s\n"
        "Common options:\n"
        "  -c, --config FILE     read configuration from FILE (key = value lines; repeatable)\n"
        "  -s, --set KEY=VALUE   set one configuration key (after the files)\n"
        "  -h, --help            this text\n"
        "Every key can also be set by environment: KETENHUB_ + the key in upper case with\n"
        "'.' and '-' as '_' (log.level -> KETENHUB_LOG_LEVEL); the environment wins.\n"
        "Common keys:\n"
        "  log.level     debug | info | warn | error (default info); logs are JSON lines on "
        "stderr\n"
        "  ops.listen    host:port for /healthz, /readyz and /metrics\n"
        "  topic.prefix  prepended to every topic name (default empty)\n"
        "  startup.kafka_check_ms  at start, wait this long for Kafka to accept the credentials\n"
        "                and TLS settings; a refused login ends the start (default 10000, 0: no "
        "check)\n"
        "  kafka.*       handed to librdkafka without the prefix (kafka.bootstrap.servers, TLS, "
        "SASL)\n"
        "Signals: SIGTERM/SIGINT finish in-flight work and exit 0; SIGHUP reloads the service's "
        "data files\n"
        "(reference data; partners or subscriptions where the service has them).\n",
        usage);
}

/* Reports why the program cannot start and frees what init made. */
static int init_failed(kh_service *svc, const char *why) {
    fprintf(stderr, "ketenhub-%s: %s\n", svc->name, why);
    kh_service_shutdown(svc);
    return -1;
}

int kh_service_init(kh_service *svc, const char *name, const char *usage, int argc, char **argv) {
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"set", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char err[512];
    /* jansson's allocations follow kh_alloc's policy too: abort with a log
     * line instead of a NULL that would surface as a parse error. */
    json_set_alloc_funcs(kh_malloc, free);
    memset(svc, 0, sizeof *svc);
    svc->name = name;
    svc->config = kh_config_new();
    svc->metrics = kh_metrics_new();
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:s:h", options, NULL)) != -1) {
        int rc = 0;
        if (opt == 'h') {
            print_usage(usage);
            kh_service_shutdown(svc);
            return 1;
        }
        if (opt == 'c')
            rc = kh_config_load_file(svc->config, optarg, err, sizeof err);
        else if (opt == 's')
            rc = kh_config_set_arg(svc->config, optarg, err, sizeof err);
        else
            return init_failed(svc, "see --help");
        if (rc)
            return init_failed(svc, err);
    }
    if (optind < argc)
        return init_failed(svc, "unexpected argument; see --help");
    int level = kh_log_level_parse(kh_config_get(svc->config, "log.level", "info"));
    if (level < 0)
        return init_failed(svc, "log.level must be debug, info, warn or error");
    kh_log_setup(name, level, STDERR_FILENO);
    install_signals();
    return 0;
}

int kh_service_start_ops(kh_service *svc, const char *default_listen, kh_ops_ready_fn ready,
                         void *ud) {
    char err[256];
    const char *listen = kh_config_get(svc->config, "ops.listen", default_listen);
    svc->ops = kh_ops_start(listen, svc->metrics, ready, ud, err, sizeof err);
    if (!svc->ops) {
        kh_log_error("cannot start the ops endpoint", json_pack("{s:s}", "error", err));
        return -1;
    }
    kh_log_info("ops endpoint listening",
                json_pack("{s:s,s:i}", "listen", listen, "port", kh_ops_port(svc->ops)));
    return 0;
}

int kh_service_int(kh_service *svc, const char *key, long long def, long long *out) {
    char err[256];
    if (kh_config_get_int(svc->config, key, def, out, err, sizeof err) == 0)
        return 0;
    kh_log_error("bad configuration", json_pack("{s:s}", "error", err));
    return -1;
}

int kh_service_kafka_check(kh_service *svc) {
    long long ms;
    char err[512];
    if (kh_service_int(svc, "startup.kafka_check_ms", 10000, &ms))
        return -1;
    if (ms <= 0 || kh_kafka_check_credentials(svc->config, ms > INT32_MAX ? INT32_MAX : (int)ms,
                                              err, sizeof err) == 0)
        return 0;
    kh_log_error("cannot start: Kafka refused the connection", json_pack("{s:s}", "error", err));
    return -1;
}

int kh_service_bool(kh_service *svc, const char *key, int def, int *out) {
    char err[256];
    if (kh_config_get_bool(svc->config, key, def, out, err, sizeof err) == 0)
        return 0;
    kh_log_error("bad configuration", json_pack("{s:s}", "error", err));
    return -1;
}

const char *kh_service_topic(const kh_service *svc, const char *topic, char *buf, size_t len) {
    snprintf(buf, len, "%s%s", kh_config_get(svc->config, "topic.prefix", ""), topic);
    return buf;
}

const char *kh_service_schema_topic(const kh_service *svc, const kh_schemas *schemas,
                                    const char *name, char *buf, size_t len) {
    const kh_schema *s = kh_schemas_by_name(schemas, name);
    if (!s) {
        kh_log_error("cannot start",
                     json_pack("{s:s,s:s}", "error",
                               "schemas/ids.tsv names no topic for this schema", "schema", name));
        return NULL;
    }
    return kh_service_topic(svc, kh_schema_topic(s), buf, len);
}

void kh_service_shutdown(kh_service *svc) {
    kh_ops_stop(svc->ops);
    kh_metrics_free(svc->metrics);
    kh_config_free(svc->config);
    svc->ops = NULL;
    svc->metrics = NULL;
    svc->config = NULL;
}
