/*
 * topics_acl — `ketenhub topics acls`: every service's Kafka ACLs, derived
 * from deploy/topics.tsv (who produces and consumes each topic) and
 * deploy/principals.tsv (principal, group, transactional ids), so the ACLs,
 * the README's table and the Strimzi KafkaUsers cannot drift apart. Prints
 * them: one per line (principal, operation, resource type, pattern, name;
 * what deploy/kafka/acls.sh creates), as a Markdown table, or as kafka-acls
 * arguments. librdkafka 2.0.2 cannot create transactional-id ACLs, so
 * creating them is left to Kafka's own admin client.
 */
#ifndef CLI_TOPICS_ACL_H
#define CLI_TOPICS_ACL_H

#include "kh_schema.h"

/* argv[0] is "acls". Exit status 0, or 2 on a usage or file error. */
int cli_topics_acls_main(int argc, char **argv, const kh_schemas *schemas);

#endif
