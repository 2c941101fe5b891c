/*
 * tail — `ketenhub tail <topic>`: the records of a topic decoded as JSON
 * lines, the BSN masked unless --reveal (which writes an audit line).
 */
#ifndef CLI_TAIL_H
#define CLI_TAIL_H

#include "kh_schema.h"

const char *cli_tail_usage(void);

/* argv[0] is "tail". Returns the exit status (see cli_kafka.h). */
int cli_tail_main(int argc, char **argv, const kh_schemas *schemas);

#endif
