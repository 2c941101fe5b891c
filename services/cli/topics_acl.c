/*
 * topics_acl — derives the ACLs of each service from the topics and
 * principals files and prints or creates them (see topics_acl.h).
 *
 * The rules: a producer of a topic gets WRITE on it, a consumer READ (both
 * imply DESCRIBE; since Kafka 2.8 WRITE on a topic also allows the
 * idempotent producer's InitProducerId); a service's group gets READ (to
 * join and commit), its transactional ids WRITE, and the groups it may
 * watch DESCRIBE. A name ending in `*` is a PREFIXED pattern.
 */
#include "topics_acl.h"

#include "kh_config.h"
#include "kh_log.h"
#include "topics_file.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACLS_MAX 256

/* Kafka's names; librdkafka 2.0.2 has no transactional-id resource type,
 * so the ACLs are printed for a tool that has (deploy/kafka/acls.sh). */
typedef enum { OP_READ, OP_WRITE, OP_DESCRIBE } acl_op;
typedef enum { RES_TOPIC, RES_GROUP, RES_TXN } acl_res;

typedef struct acl {
    const char *principal;
    acl_op op;
    acl_res type;
    int prefixed;
    char name[256];
} acl;

typedef struct acl_set {
    acl a[ACLS_MAX];
    int n;
} acl_set;

typedef struct acl_opts {
    const char *file, *principals;
    int markdown, kafka;
    kh_config *config;
} acl_opts;

static void acl_add(acl_set *s, const char *principal, acl_op op, acl_res type, const char *prefix,
                    const char *name) {
    if (!strcmp(name, "-") || s->n == ACLS_MAX)
        return;
    acl *a = &s->a[s->n++];
    size_t len = strlen(name);
    int prefixed = len > 0 && name[len - 1] == '*';
    a->principal = principal;
    a->op = op;
    a->type = type;
    a->prefixed = prefixed;
    snprintf(a->name, sizeof a->name, "%s%.*s", prefix, (int)(prefixed ? len - 1 : len), name);
}

/* The ACLs of one service; topics carry prefix, groups and ids do not. */
static void acls_of(acl_set *s, const tf_principal *p, const tf_topics *t, const char *prefix) {
    for (int i = 0; i < t->n; i++) {
        if (tf_in_list(t->t[i].producers, p->service))
            acl_add(s, p->principal, OP_WRITE, RES_TOPIC, prefix, t->t[i].name);
        if (tf_in_list(t->t[i].consumers, p->service))
            acl_add(s, p->principal, OP_READ, RES_TOPIC, prefix, t->t[i].name);
    }
    acl_add(s, p->principal, OP_READ, RES_GROUP, "", p->group);
    acl_add(s, p->principal, OP_WRITE, RES_TXN, "", p->txn);
    acl_add(s, p->principal, OP_DESCRIBE, RES_GROUP, "", p->describe_groups);
}

static const char *op_name(acl_op op) {
    return op == OP_WRITE ? "Write" : op == OP_READ ? "Read" : "Describe";
}

static const char *type_name(acl_res t) {
    return t == RES_TOPIC ? "topic" : t == RES_GROUP ? "group" : "transactional-id";
}

static void print_lines(const acl_set *s, int kafka_args) {
    for (int i = 0; i < s->n; i++) {
        const acl *a = &s->a[i];
        int prefixed = a->prefixed;
        if (kafka_args)
            printf("--add --allow-principal %s --operation %s --%s %s --resource-pattern-type %s\n",
                   a->principal, op_name(a->op), type_name(a->type), a->name,
                   prefixed ? "prefixed" : "literal");
        else
            printf("%s\t%s\t%s\t%s\t%s\n", a->principal, op_name(a->op), type_name(a->type),
                   prefixed ? "prefixed" : "literal", a->name);
    }
}

/* The topics of one service in one role, as a Markdown cell. */
static void md_topics(const tf_topics *t, const char *service, int writes) {
    int any = 0;
    for (int i = 0; i < t->n; i++)
        if (tf_in_list(writes ? t->t[i].producers : t->t[i].consumers, service)) {
            printf("%s`%s`", any ? ", " : " ", t->t[i].name);
            any = 1;
        }
    printf(any ? " |" : " — |");
}

static void md_name(const char *name) {
    size_t len = strlen(name);
    if (!strcmp(name, "-"))
        printf(" — |");
    else if (name[len - 1] == '*')
        printf(" `%.*s` (prefix) |", (int)len - 1, name);
    else
        printf(" `%s` |", name);
}

static void print_markdown(const tf_principals *p, const tf_topics *t) {
    printf(
        "| service | principal | reads (Read) | writes (Write) | group (Read) | transactional id "
        "(Write) | describes groups |\n|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < p->n; i++) {
        printf("| %s | `%s` |", p->p[i].service, p->p[i].principal);
        md_topics(t, p->p[i].service, 0);
        md_topics(t, p->p[i].service, 1);
        md_name(p->p[i].group);
        md_name(p->p[i].txn);
        md_name(p->p[i].describe_groups);
        printf("\n");
    }
}

static int acl_parse(int argc, char **argv, acl_opts *o) {
    static const struct option opts[] = {{"file", required_argument, NULL, 'f'},
                                         {"principals", required_argument, NULL, 'p'},
                                         {"markdown", no_argument, NULL, 'm'},
                                         {"kafka", no_argument, NULL, 'k'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"set", required_argument, NULL, 's'},
                                         {NULL, 0, NULL, 0}};
    char err[512];
    int opt, rc = 0;
    optind = 1;
    while (rc == 0 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'f': o->file = optarg; break;
        case 'p': o->principals = optarg; break;
        case 'm': o->markdown = 1; break;
        case 'k': o->kafka = 1; break;
        case 'c': rc = kh_config_load_file(o->config, optarg, err, sizeof err); break;
        case 's': rc = kh_config_set_arg(o->config, optarg, err, sizeof err); break;
        default: return -1;
        }
        if (rc)
            fprintf(stderr, "ketenhub: %s\n", err);
    }
    if (rc == 0 && optind != argc) {
        fprintf(stderr, "ketenhub: topics acls: unexpected argument '%s'\n", argv[optind]);
        rc = -1;
    }
    return rc;
}

int cli_topics_acls_main(int argc, char **argv, const kh_schemas *schemas) {
    acl_opts o = {.file = KH_DEFAULT_TOPICS_FILE,
                  .principals = KH_DEFAULT_PRINCIPALS_FILE,
                  .config = kh_config_new()};
    tf_topics t;
    tf_principals p;
    acl_set s = {.n = 0};
    char err[512];
    int rc = acl_parse(argc, argv, &o) ? 2 : 0;
    if (rc == 0 && (tf_load_topics(o.file, &t, err, sizeof err) ||
                    tf_load_principals(o.principals, &p, err, sizeof err) ||
                    tf_check(&t, &p, schemas, err, sizeof err))) {
        fprintf(stderr, "ketenhub: %s\n", err);
        rc = 2;
    }
    kh_log_setup("cli", KH_LOG_WARN, 2);
    const char *prefix = kh_config_get(o.config, "topic.prefix", "");
    for (int i = 0; rc == 0 && i < p.n; i++)
        acls_of(&s, &p.p[i], &t, prefix);
    if (rc == 0 && o.markdown)
        print_markdown(&p, &t);
    else if (rc == 0)
        print_lines(&s, o.kafka);
    kh_config_free(o.config);
    return rc;
}
