/*
 * topics_file — reads deploy/topics.tsv (every ketenhub topic with its
 * partitions, replication, min.insync.replicas, retention, cleanup policy,
 * producers and consumers) and deploy/principals.tsv (each service's Kafka
 * principal, group and transactional ids), and checks them against the
 * schema manifest: `ketenhub topics apply` and `ketenhub topics acls` work
 * from what this module loads. The formats are described in the files.
 *
 * Everything lives in the caller's structs (no allocation); messages name
 * the file and line.
 */
#ifndef CLI_TOPICS_FILE_H
#define CLI_TOPICS_FILE_H

#include "kh_schema.h"

#include <stddef.h>

#define TF_TOPICS_MAX 64
#define TF_PRINCIPALS_MAX 16
#define TF_NAME_LEN 200
#define TF_LIST_LEN 160

typedef struct tf_topic {
    char name[TF_NAME_LEN]; /* before topic.prefix */
    int partitions, replication, min_isr;
    long long retention_ms; /* -1: forever */
    char cleanup[24];       /* delete | compact | compact,delete */
    char key[64];
    char producers[TF_LIST_LEN], consumers[TF_LIST_LEN]; /* "a,b" or "-" */
} tf_topic;

typedef struct tf_topics {
    tf_topic t[TF_TOPICS_MAX];
    int n;
} tf_topics;

typedef struct tf_principal {
    char service[32];
    char principal[128];
    char group[128], txn[128], describe_groups[128]; /* "-" none; trailing '*': a prefix */
} tf_principal;

typedef struct tf_principals {
    tf_principal p[TF_PRINCIPALS_MAX];
    int n;
} tf_principals;

/* Load the files; 0, or -1 with "file:line: what is wrong" in err. */
int tf_load_topics(const char *path, tf_topics *out, char *err, size_t errlen);
int tf_load_principals(const char *path, tf_principals *out, char *err, size_t errlen);

/* Checks that every topic of the manifest and push's retry topic has a row,
 * that the event topics share one partition count (co-partitioning), and
 * that every service named in a producers/consumers column has a principal.
 * 0, or -1 with the first problem in err. principals may be NULL. */
int tf_check(const tf_topics *t, const tf_principals *principals, const kh_schemas *all, char *err,
             size_t errlen);

/* 1 when service is one of the comma-separated list. */
int tf_in_list(const char *list, const char *service);

const tf_topic *tf_find(const tf_topics *t, const char *name);

#endif
