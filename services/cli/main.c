/*
 * ketenhub — the command-line tool: check an event before sending it, look
 * at the schemas the hub speaks, and list and replay dead letters.
 *
 *   ketenhub validate [-r DIR] <event> <file.json | ->
 *   ketenhub schema [<name> | <id>]
 *   ketenhub deadletters list [options]
 *   ketenhub deadletters replay (--all | --partner TYPE:CODE) [options]
 *   ketenhub simulate [options]
 *   ketenhub topics | tail <topic> | lag | send <event> <file.json>  (see their files)
 *   ketenhub topics apply [options] | topics acls [options]
 */
#include "deadletters.h"
#include "kh_codec.h"
#include "kh_event.h"
#include "kh_file.h"
#include "kh_intake.h"
#include "kh_ref.h"
#include "kh_schema.h"
#include "kh_time.h"
#include "lag.h"
#include "send.h"
#include "simulate.h"
#include "tail.h"
#include "topics.h"
#include "topics_acl.h"
#include "topics_apply.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_LIMIT (1024 * 1024)

static void usage(FILE *out) {
    fprintf(
        out,
        "Usage: ketenhub <command> [options]\n"
        "\n"
        "Commands:\n"
        "  validate [-r DIR] <event> <file.json|->\n"
        "      Check one event in natural JSON against its schema and the domain rules\n"
        "      (elfproef, codes known at the event date, dates, age) and encode it.\n"
        "      Prints \"OK <n> bytes\" and exits 0, or one line per failing field\n"
        "      (\"<json-pointer>: <detail> (<reason>)\") and exits 1.\n"
        "      <event> is one of: aanmelding, tlv, beschikking, verwijzing.\n"
        "      -r DIR   reference data directory (default: $KETENHUB_REFERENCE_DIR,\n"
        "               else %s)\n"
        "  schema [<name> | <id>]\n"
        "      Without a name: list every schema id with its name, topic and status\n"
        "      (current: what producers write; read-only: an older version still read).\n"
        "      With a name: print its current resolved, self-contained Avro schema;\n"
        "      with an id: that version's.\n"
        "%s%s%s%s%s%s%s"
        "\n"
        "Exit status: 0 success, 1 the input was rejected (validate, send), a dead letter could\n"
        "not be replayed, an answer to a simulated event was not the expected one (simulate),\n"
        "or a group is STALL or ERR (lag); 2 usage or setup error (also: Kafka or ingest\n"
        "unreachable, unknown topic).\n",
        KH_DEFAULT_REFERENCE_DIR, cli_deadletters_usage(), cli_simulate_usage(), cli_topics_usage(),
        cli_tail_usage(), cli_lag_usage(), cli_send_usage(), cli_topics_apply_usage());
}

static char *read_input(const char *path, size_t *len) {
    char err[512];
    char *text = kh_file_read(path, INPUT_LIMIT, len, err, sizeof err);
    if (!text)
        fprintf(stderr, "ketenhub: %s\n", err);
    return text;
}

static void print_problems(const kh_problems *p) {
    char out[KH_PROBLEM_MAX * (KH_POINTER_LEN + KH_DETAIL_LEN + 32)];
    fputs(kh_problems_format(p, out, sizeof out), stdout);
}

static int validate(const kh_schemas *all, const char *refdir, const char *event,
                    const char *path) {
    const kh_event_type *t = kh_event_type_by_name(event);
    if (!t) {
        fprintf(stderr,
                "ketenhub: unknown event type '%s' (aanmelding, tlv, beschikking, verwijzing)\n",
                event);
        return 2;
    }
    char err[512];
    kh_ref *ref;
    if (kh_ref_load(refdir, &ref, err, sizeof err)) {
        fprintf(stderr, "ketenhub: reference data: %s\n", err);
        return 2;
    }
    size_t len;
    char *text = read_input(path, &len);
    if (!text) {
        kh_ref_free(ref);
        return 2;
    }
    kh_problems p;
    kh_problems_init(&p);
    json_t *ev = kh_codec_parse(text, len, &p);
    char *wire = NULL;
    size_t wire_len = 0;
    int rc = ev ? kh_intake_encode(all, t, ev, ref, kh_now_millis(), &wire, &wire_len, &p) : -1;
    if (rc == 0)
        printf("OK %zu bytes\n", wire_len);
    else
        print_problems(&p);
    free(wire);
    json_decref(ev);
    free(text);
    kh_ref_free(ref);
    return rc == 0 ? 0 : 1;
}

static int schema(const kh_schemas *all, const char *name) {
    if (!name) {
        for (size_t i = 0; i < kh_schemas_id_count(all); i++) {
            const kh_schema *s = kh_schemas_id_at(all, i);
            printf("%d\t%s\t%s\t%s\n", kh_schema_id(s), kh_schema_name(s), kh_schema_topic(s),
                   kh_schema_current(s) ? "current" : "read-only");
        }
        return 0;
    }
    char *end;
    long id = strtol(name, &end, 10);
    const kh_schema *s = *end == '\0' && id > 0 && id <= INT32_MAX
                             ? kh_schemas_by_id(all, (int32_t)id)
                             : kh_schemas_by_name(all, name);
    if (!s) {
        fprintf(stderr,
                "ketenhub: no schema named or numbered '%s'; `ketenhub schema` lists them\n", name);
        return 2;
    }
    puts(kh_schema_json(s));
    return 0;
}

/* The subcommands that need the schemas, each in its own file. A row with
 * a `sub` word ("topics apply") is matched before the plain one. */
typedef struct schema_command {
    const char *name, *sub;
    int (*run)(int argc, char **argv, const kh_schemas *all);
} schema_command;

static const schema_command schema_commands[] = {
    {"deadletters", NULL, cli_deadletters_main},
    {"topics", "apply", cli_topics_apply_main},
    {"topics", "acls", cli_topics_acls_main},
    {"topics", NULL, cli_topics_main},
    {"tail", NULL, cli_tail_main},
    {"lag", NULL, cli_lag_main},
};

static const schema_command *find_schema_command(int argc, char **argv) {
    for (size_t i = 0; i < sizeof schema_commands / sizeof schema_commands[0]; i++) {
        const schema_command *c = &schema_commands[i];
        if (strcmp(argv[1], c->name) == 0 &&
            (!c->sub || (argc > 2 && strcmp(argv[2], c->sub) == 0)))
            return c;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *command = argv[1];
    char err[512];
    kh_schemas *all;
    if (strcmp(command, "send") == 0)
        return cli_send_main(argc - 1, argv + 1);
    const schema_command *sub = find_schema_command(argc, argv);
    if (sub) {
        if (kh_schemas_open(&all, err, sizeof err)) {
            fprintf(stderr, "ketenhub: schemas: %s\n", err);
            return 2;
        }
        int rc = sub->sub ? sub->run(argc - 2, argv + 2, all) : sub->run(argc - 1, argv + 1, all);
        kh_schemas_free(all);
        return rc;
    }
    const char *refdir = getenv("KETENHUB_REFERENCE_DIR");
    if (!refdir)
        refdir = KH_DEFAULT_REFERENCE_DIR;
    if (strcmp(command, "simulate") == 0)
        return cli_simulate_main(argc - 1, argv + 1, refdir);
    int opt;
    optind = 2;
    while ((opt = getopt(argc, argv, "r:h")) != -1) {
        if (opt == 'r') {
            refdir = optarg;
        } else {
            usage(opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (kh_schemas_open(&all, err, sizeof err)) {
        fprintf(stderr, "ketenhub: schemas: %s\n", err);
        return 2;
    }
    int rc;
    if (strcmp(command, "validate") == 0 && argc - optind == 2)
        rc = validate(all, refdir, argv[optind], argv[optind + 1]);
    else if (strcmp(command, "schema") == 0 && argc - optind <= 1)
        rc = schema(all, argc > optind ? argv[optind] : NULL);
    else {
        usage(stderr);
        rc = 2;
    }
    kh_schemas_free(all);
    return rc;
}
