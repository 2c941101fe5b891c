/*
 * topics_apply — `ketenhub topics apply`: compares the cluster's topics
 * with deploy/topics.tsv and creates or alters them (see topics_apply.h).
 * The plan (one line per topic) is made first from Metadata and
 * DescribeConfigs; only then are the admin requests sent, one batch each.
 */
#include "topics_apply.h"

#include "kh_config.h"
#include "kh_kafka.h"
#include "kh_log.h"
#include "kh_time.h"
#include "topics_file.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The topic configurations this tool manages; others are left alone. */
#define MANAGED 3
static const char *const managed[MANAGED] = {"min.insync.replicas", "retention.ms",
                                             "cleanup.policy"};

typedef struct ta_opts {
    const char *file;
    int dry_run, alter, rf;
    long long timeout_ms;
    kh_config *config;
} ta_opts;

/* One topic: what the file wants, what the cluster has, what to do. */
typedef struct ta_topic {
    tf_topic want;  /* replication/min_isr after --replication-factor */
    char name[256]; /* with topic.prefix */
    int exists, partitions, replication;
    char have[MANAGED][64];
    int create, grow, alter_cfg, refused;
} ta_topic;

typedef struct ta_plan {
    ta_topic t[TF_TOPICS_MAX];
    int n, failed;
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    const ta_opts *o;
} ta_plan;

const char *cli_topics_apply_usage(void) {
    return "  topics apply [--file FILE] [--dry-run] [--alter] [--replication-factor N]\n"
           "               [--config FILE] [--set KEY=VALUE] [--timeout-ms N]\n"
           "      Make the cluster's topics what FILE (default deploy/topics.tsv) declares:\n"
           "      create missing topics, print every difference in partitions, replication\n"
           "      and min.insync.replicas, retention.ms, cleanup.policy, one line per topic\n"
           "      (ok, create, alter, differs, refused). --alter applies configuration\n"
           "      differences and adds partitions; partitions are never removed (Kafka cannot,\n"
           "      and the key-to-partition map would change). --dry-run sends no change.\n"
           "      --replication-factor N: for a cluster of fewer brokers (development): N\n"
           "      copies, min.insync.replicas at most N-1 (at least 1). topic.prefix is\n"
           "      prepended to every name. Exit 0 when the cluster matches, 1 when differences\n"
           "      remain.\n"
           "  topics acls [--markdown | --kafka] [--file FILE] [--principals FILE]\n"
           "               [--config FILE] [--set KEY=VALUE]\n"
           "      Print the ACLs of every service, derived from the topics file and\n"
           "      deploy/principals.tsv: one per line (principal, operation, resource type,\n"
           "      literal|prefixed, name; topic names with topic.prefix), as a Markdown table,\n"
           "      or as kafka-acls arguments. deploy/kafka/acls.sh creates them.\n";
}

static int ta_parse(int argc, char **argv, ta_opts *o) {
    static const struct option opts[] = {{"file", required_argument, NULL, 'f'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"alter", no_argument, NULL, 'a'},
                                         {"replication-factor", required_argument, NULL, 'r'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"set", required_argument, NULL, 's'},
                                         {"timeout-ms", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    char err[512];
    int opt, rc = 0;
    optind = 1;
    while (rc == 0 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'f': o->file = optarg; break;
        case 'n': o->dry_run = 1; break;
        case 'a': o->alter = 1; break;
        case 'r':
            o->rf = atoi(optarg);
            rc = o->rf < 1 ? -1 : 0;
            break;
        case 'c': rc = kh_config_load_file(o->config, optarg, err, sizeof err); break;
        case 's': rc = kh_config_set_arg(o->config, optarg, err, sizeof err); break;
        case 't':
            o->timeout_ms = atoll(optarg);
            rc = o->timeout_ms < 1 ? -1 : 0;
            break;
        default: return -1;
        }
        if (rc && (opt == 'c' || opt == 's'))
            fprintf(stderr, "ketenhub: %s\n", err);
        else if (rc)
            fprintf(stderr, "ketenhub: --%s wants a positive number\n",
                    opt == 'r' ? "replication-factor" : "timeout-ms");
    }
    if (rc == 0 && optind != argc) {
        fprintf(stderr, "ketenhub: topics apply: unexpected argument '%s'\n", argv[optind]);
        rc = -1;
    }
    return rc;
}

static void want_value(const tf_topic *t, int i, char *buf, size_t len) {
    if (i == 0)
        snprintf(buf, len, "%d", t->min_isr);
    else if (i == 1)
        snprintf(buf, len, "%lld", t->retention_ms);
    else
        snprintf(buf, len, "%s", t->cleanup);
}

/* Fills the plan's rows from the file, with prefix and --replication-factor. */
static void plan_rows(ta_plan *p, const tf_topics *file, const char *prefix) {
    p->n = file->n;
    for (int i = 0; i < file->n; i++) {
        ta_topic *t = &p->t[i];
        memset(t, 0, sizeof *t);
        t->want = file->t[i];
        snprintf(t->name, sizeof t->name, "%s%s", prefix, file->t[i].name);
        if (p->o->rf) {
            int cap = p->o->rf > 1 ? p->o->rf - 1 : 1;
            t->want.replication = p->o->rf;
            if (t->want.min_isr > cap)
                t->want.min_isr = cap;
        }
    }
}

static ta_topic *plan_find(ta_plan *p, const char *name) {
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->t[i].name, name))
            return &p->t[i];
    return NULL;
}

/* Which topics exist, with their partition count and replication factor. */
static int plan_metadata(ta_plan *p, char *err, size_t errlen) {
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(p->rk, 1, NULL, &md, (int)p->o->timeout_ms);
    if (e) {
        snprintf(err, errlen, "metadata: %s", rd_kafka_err2str(e));
        return -1;
    }
    for (int i = 0; i < md->topic_cnt; i++) {
        ta_topic *t = plan_find(p, md->topics[i].topic);
        if (!t || md->topics[i].err)
            continue;
        t->exists = 1;
        t->partitions = md->topics[i].partition_cnt;
        t->replication = md->topics[i].partition_cnt ? md->topics[i].partitions[0].replica_cnt : 0;
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}

/* Waits for the result of the admin request just sent on p->q. */
static rd_kafka_event_t *admin_wait(ta_plan *p, const char *what, char *err, size_t errlen) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(p->q, (int)p->o->timeout_ms + 5000);
    if (!ev) {
        snprintf(err, errlen, "%s: no answer within %lld ms", what, p->o->timeout_ms);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        snprintf(err, errlen, "%s: %s", what, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static rd_kafka_AdminOptions_t *admin_options(ta_plan *p, rd_kafka_admin_op_t op) {
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(p->rk, op);
    char why[256];
    rd_kafka_AdminOptions_set_request_timeout(ao, (int)p->o->timeout_ms, why, sizeof why);
    rd_kafka_AdminOptions_set_operation_timeout(ao, (int)p->o->timeout_ms, why, sizeof why);
    return ao;
}

/* Records the current values of the managed keys of one described topic. */
static void took_configs(ta_plan *p, const rd_kafka_ConfigResource_t *r) {
    ta_topic *t = plan_find(p, rd_kafka_ConfigResource_name(r));
    if (!t || rd_kafka_ConfigResource_error(r))
        return;
    size_t n;
    const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(r, &n);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < MANAGED; k++)
            if (!strcmp(rd_kafka_ConfigEntry_name(e[i]), managed[k]))
                snprintf(t->have[k], sizeof t->have[k], "%s",
                         rd_kafka_ConfigEntry_value(e[i]) ? rd_kafka_ConfigEntry_value(e[i]) : "");
}

static int plan_configs(ta_plan *p, char *err, size_t errlen) {
    rd_kafka_ConfigResource_t *res[TF_TOPICS_MAX];
    size_t n = 0;
    for (int i = 0; i < p->n; i++)
        if (p->t[i].exists)
            res[n++] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, p->t[i].name);
    if (n == 0)
        return 0;
    rd_kafka_AdminOptions_t *ao = admin_options(p, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(p->rk, res, n, ao, p->q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_ConfigResource_destroy_array(res, n);
    rd_kafka_event_t *ev = admin_wait(p, "describe configs", err, errlen);
    if (!ev)
        return -1;
    size_t cnt;
    const rd_kafka_ConfigResource_t **r =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &cnt);
    for (size_t i = 0; i < cnt; i++)
        took_configs(p, r[i]);
    rd_kafka_event_destroy(ev);
    return 0;
}

/* The differences of one existing topic, printed; sets what to do. */
static void decide_existing(ta_plan *p, ta_topic *t) {
    const char *mode = p->o->dry_run ? "would alter" : p->o->alter ? "alter" : "differs";
    const char *hint = p->o->alter || p->o->dry_run ? "" : " (--alter applies it)";
    int any = 0;
    if (t->partitions > t->want.partitions) {
        printf("refused\t%s\tpartitions %d -> %d: Kafka cannot remove partitions, and fewer would "
               "move "
               "keys to other partitions (a child's events out of order); keep %d or recreate the "
               "topic\n",
               t->name, t->partitions, t->want.partitions, t->partitions);
        t->refused = any = 1;
    } else if (t->partitions < t->want.partitions) {
        printf("%s\t%s\tpartitions %d -> %d%s\n", mode, t->name, t->partitions, t->want.partitions,
               hint);
        t->grow = any = 1;
    }
    if (t->replication != t->want.replication) {
        printf("refused\t%s\treplication factor %d -> %d: changing it is a partition reassignment "
               "(kafka-reassign-partitions or Strimzi's KafkaTopic), not this tool\n",
               t->name, t->replication, t->want.replication);
        t->refused = any = 1;
    }
    for (int k = 0; k < MANAGED; k++) {
        char want[64];
        want_value(&t->want, k, want, sizeof want);
        if (strcmp(t->have[k], want) != 0) {
            printf("%s\t%s\t%s %s -> %s%s\n", mode, t->name, managed[k], t->have[k], want, hint);
            t->alter_cfg = any = 1;
        }
    }
    if (!any)
        printf("ok\t%s\n", t->name);
}

static void plan_decide(ta_plan *p) {
    for (int i = 0; i < p->n; i++) {
        ta_topic *t = &p->t[i];
        if (t->exists) {
            decide_existing(p, t);
            continue;
        }
        t->create = 1;
        printf("%s\t%s\tpartitions %d, replication %d, min.insync.replicas %d, retention.ms %lld, "
               "cleanup.policy %s\n",
               p->o->dry_run ? "would create" : "create", t->name, t->want.partitions,
               t->want.replication, t->want.min_isr, t->want.retention_ms, t->want.cleanup);
    }
}

/* Prints the per-topic errors of an admin result; counts them as failed. */
static void topic_results(ta_plan *p, const rd_kafka_topic_result_t **r, size_t n,
                          const char *what) {
    for (size_t i = 0; i < n; i++)
        if (rd_kafka_topic_result_error(r[i])) {
            printf("failed\t%s\t%s: %s\n", rd_kafka_topic_result_name(r[i]), what,
                   rd_kafka_topic_result_error_string(r[i]));
            p->failed++;
        }
}

static int run_create(ta_plan *p, char *err, size_t errlen) {
    rd_kafka_NewTopic_t *nt[TF_TOPICS_MAX];
    size_t n = 0;
    for (int i = 0; i < p->n; i++) {
        ta_topic *t = &p->t[i];
        if (!t->create)
            continue;
        nt[n] = rd_kafka_NewTopic_new(t->name, t->want.partitions, t->want.replication, err,
                                      errlen);
        for (int k = 0; nt[n] && k < MANAGED; k++) {
            char v[64];
            want_value(&t->want, k, v, sizeof v);
            rd_kafka_NewTopic_set_config(nt[n], managed[k], v);
        }
        if (nt[n])
            n++;
    }
    if (n == 0)
        return 0;
    rd_kafka_AdminOptions_t *ao = admin_options(p, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(p->rk, nt, n, ao, p->q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewTopic_destroy_array(nt, n);
    rd_kafka_event_t *ev = admin_wait(p, "create topics", err, errlen);
    if (!ev)
        return -1;
    size_t cnt;
    const rd_kafka_topic_result_t **r =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    topic_results(p, r, cnt, "create");
    rd_kafka_event_destroy(ev);
    return 0;
}

static int run_grow(ta_plan *p, char *err, size_t errlen) {
    rd_kafka_NewPartitions_t *np[TF_TOPICS_MAX];
    size_t n = 0;
    for (int i = 0; i < p->n; i++)
        if (p->t[i].grow && !p->t[i].refused)
            np[n++] = rd_kafka_NewPartitions_new(p->t[i].name, (size_t)p->t[i].want.partitions, err,
                                                 errlen);
    if (n == 0)
        return 0;
    rd_kafka_AdminOptions_t *ao = admin_options(p, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
    rd_kafka_CreatePartitions(p->rk, np, n, ao, p->q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewPartitions_destroy_array(np, n);
    rd_kafka_event_t *ev = admin_wait(p, "create partitions", err, errlen);
    if (!ev)
        return -1;
    size_t cnt;
    const rd_kafka_topic_result_t **r =
        rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &cnt);
    topic_results(p, r, cnt, "add partitions");
    rd_kafka_event_destroy(ev);
    return 0;
}

static int run_alter(ta_plan *p, char *err, size_t errlen) {
    rd_kafka_ConfigResource_t *res[TF_TOPICS_MAX];
    size_t n = 0;
    for (int i = 0; i < p->n; i++) {
        if (!p->t[i].alter_cfg)
            continue;
        res[n] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, p->t[i].name);
        for (int k = 0; k < MANAGED; k++) {
            char v[64];
            want_value(&p->t[i].want, k, v, sizeof v);
            rd_kafka_ConfigResource_set_config(res[n], managed[k], v);
        }
        n++;
    }
    if (n == 0)
        return 0;
    rd_kafka_AdminOptions_t *ao = admin_options(p, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
    rd_kafka_AlterConfigs(p->rk, res, n, ao, p->q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_ConfigResource_destroy_array(res, n);
    rd_kafka_event_t *ev = admin_wait(p, "alter configs", err, errlen);
    if (!ev)
        return -1;
    size_t cnt;
    const rd_kafka_ConfigResource_t **r =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &cnt);
    for (size_t i = 0; i < cnt; i++)
        if (rd_kafka_ConfigResource_error(r[i])) {
            printf("failed\t%s\talter configs: %s\n", rd_kafka_ConfigResource_name(r[i]),
                   rd_kafka_ConfigResource_error_string(r[i]));
            p->failed++;
        }
    rd_kafka_event_destroy(ev);
    return 0;
}

/* 1 when anything still differs after the run. */
static int plan_remains(const ta_plan *p) {
    for (int i = 0; i < p->n; i++) {
        const ta_topic *t = &p->t[i];
        if (t->refused || (p->o->dry_run && (t->create || t->grow || t->alter_cfg)) ||
            (!p->o->alter && (t->grow || t->alter_cfg)))
            return 1;
    }
    return p->failed > 0;
}

/* 1 when the cluster shows what was sent for topic t (or nothing was). */
static int settled(const ta_plan *p, const ta_topic *t) {
    if (t->create || (p->o->alter && t->grow && !t->refused))
        if (!t->exists || t->partitions != t->want.partitions)
            return 0;
    for (int k = 0; k < MANAGED && (t->create || (p->o->alter && t->alter_cfg)); k++) {
        char want[64];
        want_value(&t->want, k, want, sizeof want);
        if (strcmp(t->have[k], want) != 0)
            return 0;
    }
    return 1;
}

/* A change acknowledged by the controller reaches the brokers' metadata a
 * moment later: reads the cluster again until it shows every change, so
 * the next run (or a service starting next) finds the topics as applied. */
static int plan_wait(ta_plan *p, char *err, size_t errlen) {
    int64_t deadline = kh_now_millis() + p->o->timeout_ms;
    for (;;) {
        int pending = 0;
        for (int i = 0; i < p->n; i++) {
            p->t[i].exists = 0;
            memset(p->t[i].have, 0, sizeof p->t[i].have);
        }
        if (plan_metadata(p, err, errlen) || plan_configs(p, err, errlen))
            return -1;
        for (int i = 0; i < p->n; i++)
            pending += !settled(p, &p->t[i]);
        if (!pending)
            return 0;
        if (kh_now_millis() > deadline) {
            snprintf(err, errlen, "%d topics do not show the change after %lld ms", pending,
                     p->o->timeout_ms);
            return -1;
        }
        usleep(200 * 1000);
    }
}

static int plan_run(ta_plan *p, char *err, size_t errlen) {
    if (plan_metadata(p, err, errlen) || plan_configs(p, err, errlen))
        return 2;
    plan_decide(p);
    if (!p->o->dry_run &&
        (run_create(p, err, errlen) ||
         (p->o->alter && (run_grow(p, err, errlen) || run_alter(p, err, errlen)))))
        return 2;
    if (!p->o->dry_run && !p->failed && plan_wait(p, err, errlen))
        return 2;
    return plan_remains(p);
}

static int ta_load(const ta_opts *o, const kh_schemas *schemas, tf_topics *file) {
    char err[512];
    if (tf_load_topics(o->file, file, err, sizeof err) ||
        tf_check(file, NULL, schemas, err, sizeof err)) {
        fprintf(stderr, "ketenhub: %s\n", err);
        return -1;
    }
    return 0;
}

int cli_topics_apply_main(int argc, char **argv, const kh_schemas *schemas) {
    ta_opts o = {.file = KH_DEFAULT_TOPICS_FILE, .timeout_ms = 30000, .config = kh_config_new()};
    tf_topics file;
    ta_plan plan = {.o = &o};
    char err[512];
    int rc = ta_parse(argc, argv, &o) || ta_load(&o, schemas, &file) ? 2 : 0;
    kh_log_setup("cli", KH_LOG_WARN, 2);
    /* A consumer handle that never joins its group: an idempotent producer
     * would ask for a producer id, which needs Write on some topic. */
    if (rc == 0 && !(plan.rk = kh_kafka_consumer_new(o.config, "ketenhub-cli-topics", NULL, NULL,
                                                     err, sizeof err))) {
        fprintf(stderr, "ketenhub: %s\n", err);
        rc = 2;
    }
    if (rc == 0) {
        plan_rows(&plan, &file, kh_config_get(o.config, "topic.prefix", ""));
        plan.q = rd_kafka_queue_new(plan.rk);
        rc = plan_run(&plan, err, sizeof err);
        if (rc == 2)
            fprintf(stderr, "ketenhub: %s\n", err);
        rd_kafka_queue_destroy(plan.q);
        rd_kafka_consumer_close(plan.rk);
        rd_kafka_destroy(plan.rk);
    }
    kh_config_free(o.config);
    return rc;
}
