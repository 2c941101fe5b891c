/*
 * topics — `ketenhub topics`: every ketenhub topic with its partitions,
 * offsets, records retained, retention and current rate.
 */
#ifndef CLI_TOPICS_H
#define CLI_TOPICS_H

#include "kh_schema.h"

const char *cli_topics_usage(void);

/* argv[0] is "topics". Returns the exit status (see cli_kafka.h). */
int cli_topics_main(int argc, char **argv, const kh_schemas *schemas);

#endif
