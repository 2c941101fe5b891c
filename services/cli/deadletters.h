/*
 * deadletters — the `ketenhub deadletters` subcommand (list and replay).
 */
#ifndef CLI_DEADLETTERS_H
#define CLI_DEADLETTERS_H

#include "kh_schema.h"

/* The subcommand's part of `ketenhub --help`. */
const char *cli_deadletters_usage(void);

/* Runs `deadletters <list|replay> [options]` (argv[0] is "deadletters").
 * Returns the exit status: 0, 1 when a replay failed, 2 on usage or setup
 * errors. */
int cli_deadletters_main(int argc, char **argv, const kh_schemas *schemas);

#endif
