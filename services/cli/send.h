/*
 * send — `ketenhub send <event> <file.json>`: one event through
 * ketenhub-ingest, as a partner system sends it, with the API key from
 * the environment; prints the answer or the problem.
 */
#ifndef CLI_SEND_H
#define CLI_SEND_H

const char *cli_send_usage(void);

/* argv[0] is "send". Returns the exit status (see cli_kafka.h). */
int cli_send_main(int argc, char **argv);

#endif
