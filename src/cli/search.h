/* stopwise search: what cmd_search.c shares with its helpers: the check of
 * a space against train's option table (search_space.c), the runner that
 * trains a trial's segment as a `stopwise train` child process
 * (search_runner.c) and the report (search_report.c). */
#ifndef SW_CLI_SEARCH_H
#define SW_CLI_SEARCH_H

#include "cli/options.h"
#include "stopwise/search.h"
#include "stopwise/store.h"

/* train's option table (cmd_train.c). */
const sw_cli_command *sw_cmd_train_command(void);

/* Checks every option of the space against train's table: a train option,
 * not one the search sets itself, values of the option's kind; `data` set;
 * no `stop` with the policy pruner; and the argv of three sample points
 * parsed by train's own parser. Prints "stopwise search: FILE:LINE: ..." and
 * returns 2 on the first problem, 0 when the space is good. */
int sw_cli_search_check_space(const sw_space *sp, const sw_search_settings *set);

/* The runner's settings (sw_search_runner.user). */
typedef struct sw_cli_search_runner {
    const char *store;  /* the store location, given to each child (in its environment, so a
                           password never shows in the process list) */
    const char *root;   /* the trials' folders go in it */
    int threads;        /* each trial's --threads */
} sw_cli_search_runner;

/* sw_search_runner.run: starts `stopwise train` (this very binary) with the
 * segment's options, heartbeats while it trains, and reads its --json result
 * and curve.csv. The child dies with the worker (PR_SET_PDEATHSIG). */
sw_status sw_cli_search_run(void *user, const sw_search_segment *seg, sw_search_beat_fn beat, void *beat_ctx,
                            sw_search_segment_result *out, sw_error *err);

/* The train argv of a segment (argv[0] "stopwise", argv[1] "train", NULL
 * at argv[*argc]); malloc'd strings, freed by sw_cli_search_argv_free. NULL
 * when out of memory. */
char **sw_cli_search_argv(const sw_search_segment *seg, const char *dir, int threads, int *argc);
void sw_cli_search_argv_free(char **argv);
/* 1 when a flag option's value turns it on, 0 off, -1 neither. */
int sw_cli_search_flag_value(const char *v);

/* What the report shows of the finished study (filled by cmd_search.c). */
typedef struct sw_cli_search_seed {
    uint64_t seed;
    int64_t run_id;
    double val_em, test_em;
    char status[16];
} sw_cli_search_seed;

typedef struct sw_cli_search_summary {
    const char *study, *store;
    const sw_space *space;
    const sw_search_settings *settings;
    const sw_store_search_trial *trials;
    size_t n_trials;
    int best;                         /* index into trials, -1: none completed */
    const sw_cli_search_seed *seeds;  /* the best configuration on every seed */
    size_t n_seeds;
    const double *importance;         /* per dimension, or NULL (too few trials) */
} sw_cli_search_summary;

void sw_cli_search_print_human(const sw_cli_search_summary *s);
void sw_cli_search_print_json(const sw_cli_search_summary *s);

#endif
