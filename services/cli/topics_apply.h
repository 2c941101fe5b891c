/*
 * topics_apply — `ketenhub topics apply`: makes the Kafka cluster's topics
 * what deploy/topics.tsv declares, through librdkafka's admin API
 * (Metadata, CreateTopics, DescribeConfigs, AlterConfigs, CreatePartitions).
 * Creates missing topics, shows every difference in partitions,
 * replication factor and the managed configuration (min.insync.replicas,
 * retention.ms, cleanup.policy), applies configuration differences and
 * partition growth only with --alter, and refuses to shrink partitions.
 * Idempotent: a second run finds nothing to do. Honours topic.prefix.
 */
#ifndef CLI_TOPICS_APPLY_H
#define CLI_TOPICS_APPLY_H

#include "kh_schema.h"

/* The usage lines of `topics apply` and `topics acls`, for ketenhub --help. */
const char *cli_topics_apply_usage(void);

/* argv[0] is "apply". Exit status: 0 the cluster matches the file (after
 * creating and altering), 1 differences remain (--dry-run, no --alter, a
 * refused change, a failed request), 2 usage or setup error. */
int cli_topics_apply_main(int argc, char **argv, const kh_schemas *schemas);

#endif
