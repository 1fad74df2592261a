/* stopwise runs: one file per subcommand (runs_ls.c, runs_show.c,
 * runs_compare.c, runs_export.c, runs_rm.c, runs_import.c), each with its
 * own option table;
 * cmd_runs.c dispatches. What they share is declared here and lives in
 * runs_common.c (store, ids, JSON and text forms) and runs_csv.c (CSV). */
#ifndef SW_CLI_RUNS_H
#define SW_CLI_RUNS_H

#include "cli/options.h"
#include "data/json_num.h"
#include "stopwise/store.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* The options every subcommand takes, last in its table. */
#define SW_RUNS_STORE_OPTIONS                                                                    \
    {"store", SW_CLI_STRING, "PATH|URL", "$STOPWISE_STORE or ./stopwise.db",                    \
     "the store: an SQLite file, or a postgresql:// URL"},                                       \
    {                                                                                            \
        "json", SW_CLI_FLAG, NULL, NULL, "print one JSON object on stdout instead of text"       \
    }

#define SW_RUNS_MAX_COMPARE 16

/* A subcommand: its table and what runs it after parsing. */
typedef struct sw_runs_sub {
    const sw_cli_command *cmd;
    int (*run)(const sw_cli_args *a); /* returns the exit code */
} sw_runs_sub;

extern const sw_runs_sub sw_runs_ls, sw_runs_show, sw_runs_compare, sw_runs_export, sw_runs_rm, sw_runs_import;

/* Opens the store of --store (else $STOPWISE_STORE, else ./stopwise.db) for
 * reading; on failure prints the error, sets *code and returns NULL. */
sw_store *sw_runs_open_store(const sw_cli_args *a, const char *cmd, int *code);
/* A positive run id, else prints the error and returns 2. */
int sw_runs_parse_id(const char *cmd, const char *text, int64_t *id);
/* Prints the store's last error; returns the exit code for st. */
int sw_runs_store_fail(const char *cmd, sw_store *s, sw_status st);
/* Unix seconds as ISO 8601 UTC ("-" for NaN) in buf; returns buf. */
char *sw_runs_iso(double t, char *buf, size_t len);
/* "%.2f", or "-" when not finite; returns buf. */
const char *sw_runs_em_text(double em, char *buf, size_t len);
/* Why a run stopped, "rule: reason", naming the rule once (the trainer's
 * reasons already begin with it); "" when the run has neither. */
const char *sw_runs_stop_text(const sw_store_run *r, char *buf, size_t len);
json_t *sw_runs_jstr(const char *s);
/* Prints o indented on stdout and releases it. */
void sw_runs_print_json(json_t *o);

/* What a curve says in brief. */
typedef struct sw_runs_summary {
    size_t n;
    uint64_t first_tokens, last_tokens;
    int has_best;
    size_t best_at;
    double best_em, last_em, wall_s;
    uint64_t best_tokens;
    int64_t best_step;
} sw_runs_summary;

sw_runs_summary sw_runs_summarize(const sw_store_curve *c);
json_t *sw_runs_summary_json(const sw_runs_summary *m);
/* The run as a new JSON object; with_config adds the config (parsed when it is JSON). */
json_t *sw_runs_run_json(const sw_store_run *r, int with_config);
json_t *sw_runs_kv_json(const sw_store_kv *kv, size_t n);

/* Everything show and compare print about one run; owns its members. */
typedef struct sw_runs_detail {
    sw_store_run run;
    sw_runs_summary sum;
    sw_store_kv *tags, *params;
    size_t n_tags, n_params;
    sw_store_artifact *arts;
    size_t n_arts;
} sw_runs_detail;

/* Parses the positional ids (at most SW_RUNS_MAX_COMPARE), opens the store
 * into *s and loads d[0..n). Returns 0, or the exit code after printing the
 * error (then nothing is left open). */
int sw_runs_details_load(const sw_cli_args *a, const char *cmd, sw_store **s, sw_runs_detail *d);
void sw_runs_details_free(sw_store *s, sw_runs_detail *d, int n);
json_t *sw_runs_detail_json(const sw_runs_detail *d);

/* CSV (RFC 4180): one field after a comma unless first, quoted when needed;
 * a number in the C locale (empty when NaN); an integer. */
void sw_runs_csv_field(FILE *f, const char *s, int first);
void sw_runs_csv_num(FILE *f, double d);
void sw_runs_csv_int(FILE *f, long long v);
/* runs in the given order, with a header line. */
void sw_runs_csv_runs(FILE *f, const sw_store_run *runs, size_t n);
/* Curves: the fixed columns plus the union of the other metric names, sorted. */
void sw_runs_csv_curves(FILE *f, const sw_store_curve *curves, size_t nc);

#endif
