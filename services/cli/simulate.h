/*
 * simulate — `ketenhub simulate`: realistic, reproducible traffic for the
 * regions of the reference data, sent through ingest with each partner's
 * own key or written to a file, with the meldingen it must give.
 */
#ifndef CLI_SIMULATE_H
#define CLI_SIMULATE_H

/* argv[0] is "simulate"; refdir is the reference data unless -r names
 * another. Returns the exit status (0 every answer as
 * expected, 1 an answer differed or an event could not be delivered, 2 usage
 * or setup). */
int cli_simulate_main(int argc, char **argv, const char *refdir);

/* The usage text of the subcommand, for `ketenhub --help`. */
const char *cli_simulate_usage(void);

#endif
