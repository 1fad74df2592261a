/* The options replay, tune and runs import share for reading curve CSVs that
 * other tools wrote (docs/STOPPING.md, "Curves from other tools"; the
 * mapping itself is sw_curve_read_csv_with in stop/). */
#ifndef SW_CLI_CURVE_OPTIONS_H
#define SW_CLI_CURVE_OPTIONS_H

#include "cli/options.h"
#include "stopwise/stop.h"

/* The table entries, placed in each command's option table. */
#define SW_CLI_CURVE_OPTIONS                                                                                     \
    {"format", SW_CLI_STRING, "NAME", "auto",                                                                    \
     "the curve CSVs' format: auto (from the header), native (stopwise's), keras\n"                              \
     "(CSVLogger), lightning (CSVLogger metrics.csv), mlflow (metric history), wandb\n"                          \
     "(run history or panel export) or tensorboard (Wall time,Step,Value)"},                                     \
        {"x", SW_CLI_STRING, "step|epoch|tokens", "keras: epoch, others: step",                                  \
         "what places a row of another tool's CSV: its step, its epoch or a tokens column;\n"                    \
         "tokens = round((x + e) x N), e = 1 for Keras' and Lightning's epoch (numbered\n"                       \
         "from 0, at the epoch's end), else 0; rows of one x merge"},                                            \
        {"x-column", SW_CLI_STRING, "NAME", NULL,                                                                \
         "the column holding x (default by format: epoch, step, _step, Step, tokens)"},                          \
        {"tokens-per-step", SW_CLI_TOKENS, "N", "1",                                                             \
         "N above: training tokens per unit of x (per step, or per epoch with --x epoch);\n"                     \
         "without it the x axis itself counts as tokens"},                                                       \
        {"metric", SW_CLI_STRING, "NAME", NULL,                                                                  \
         "the column read as the monitored metric (val_em); by default the one validation\n"                     \
         "accuracy column: val_acc, val_accuracy, val/acc, eval/accuracy, ... (TensorBoard: Value)"},            \
        {"mode", SW_CLI_STRING, "max|min", "by name",                                                            \
         "whether the metric is better larger or smaller (by name: min for a name ending\n"                     \
         "in loss, else max); a min metric read into a max column is negated:\n"                                 \
         "val_em = -loss, and EM lost is then in loss units"},                                                   \
        {"scale", SW_CLI_DOUBLE, "K", "1",                                                                        \
         "multiply the metric by K (100 reads an accuracy in [0, 1] as EM in percent)"},                         \
    {                                                                                                            \
        "source-run", SW_CLI_STRING, "ID", NULL,                                                                 \
            "in a CSV of several runs (MLflow's run_id, a W&B panel's 'RUN - METRIC'):\n"                        \
            "the run to read"                                                                                    \
    }

/* Reads the options above into o (sw_curve_csv_options_default first; the
 * target is the caller's). Returns -1, or 2 after printing the error. */
int sw_cli_curve_options(const char *cmd, const sw_cli_args *a, sw_curve_csv_options *o);
/* 1 when any of the options above was given. */
int sw_cli_curve_options_given(const sw_cli_args *a);

/* Notes already printed (each once per command, not once per file). */
typedef struct sw_cli_curve_notes {
    int negated, fraction;
} sw_cli_curve_notes;

/* Reads one curve (sw_curve_read_csv_with) and prints on stderr what a user
 * should know about the mapping: a metric negated into the target, an
 * accuracy in [0, 1] read into val_em (EM is in percent). */
sw_status sw_cli_curve_read(const char *cmd, const char *path, const sw_curve_csv_options *o, sw_cli_curve_notes *notes,
                            sw_curve **out, sw_curve_csv_info *info, sw_error *err);

#endif
