/* What `stopwise tune` prints: the report's tables, its JSON object, and
 * `tune status`. Printing only; the work is in tune/. */
#ifndef SW_CLI_TUNE_PRINT_H
#define SW_CLI_TUNE_PRINT_H

#include "stopwise/store.h"
#include "stopwise/tune.h"

/* The families' table, the Pareto frontier and the chosen policy. */
void sw_cli_tune_print_report(const sw_tune_report *r, const char *task_key, int saved);
/* The report as one JSON line, with the task key, whether it was saved, the
 * store task of --runs (NULL if none), the curves' sources and the truncated
 * runs --allow-truncated let in ("truncated_runs": [{"run", "why"}]). */
void sw_cli_tune_print_json(const char *report_json, const char *task_key, int saved, const char *runs_task,
                            sw_curve *const *curves, size_t n, const sw_tune_truncated *truncated,
                            size_t n_truncated);
/* `tune status`: the tuned policy (NULL: none) and the online state (NULL:
 * none; state_json its JSON text). */
void sw_cli_tune_print_status(const char *key, const char *tuned_policy, const sw_online_state *os,
                              const char *state_json, int json);

#endif
