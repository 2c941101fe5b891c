/*
 * lag — `ketenhub lag`: per consumer group and partition the committed
 * offset, the high watermark, the lag in records and in seconds, and the
 * group's status (watch_lag's rules over two samples).
 */
#ifndef CLI_LAG_H
#define CLI_LAG_H

#include "kh_schema.h"

const char *cli_lag_usage(void);

/* argv[0] is "lag". Returns the exit status (see cli_kafka.h). */
int cli_lag_main(int argc, char **argv, const kh_schemas *schemas);

#endif
