/* One table drives each command: its options, defaults, help text and parsing
 * come from a single sw_cli_option array, so usage cannot drift from parser. */
#ifndef SW_CLI_OPTIONS_H
#define SW_CLI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

typedef enum sw_cli_kind {
    SW_CLI_FLAG,   /* present or not; takes no value                          */
    SW_CLI_STRING, /* any text                                                */
    SW_CLI_INT,    /* a whole number, checked with strtoll                    */
    SW_CLI_DOUBLE, /* a finite number, checked with strtod                    */
    SW_CLI_TOKENS, /* a token count, with k, M or G suffix                    */
    SW_CLI_MULTI,  /* text, may be repeated; the values are kept in order     */
    SW_CLI_LIST    /* one or more values: every argument after the flag up to
                      the next one that starts with '-', so that a shell glob
                      after the flag works; may be repeated; the values are
                      kept in order, as SW_CLI_MULTI's                        */
} sw_cli_kind;

typedef struct sw_cli_option {
    const char *name;     /* long name without the dashes: "budget"           */
    sw_cli_kind kind;
    const char *metavar;  /* shown in usage: "N", "SPEC" (NULL for flags)     */
    const char *defval;   /* default as text, or NULL for none                */
    const char *help;     /* one or more lines; may state formulas            */
} sw_cli_option;

typedef struct sw_cli_command {
    const char *name;      /* "train"                                         */
    const char *synopsis;  /* "train a model on a dataset"                    */
    const char *usage;     /* "stopwise train --data SPEC [options]"          */
    const char *details;   /* paragraphs printed after the options, or NULL   */
    const sw_cli_option *options;
    int n_options;
    int min_positional, max_positional; /* max -1 = unbounded                */
} sw_cli_command;

#define SW_CLI_MAX_OPTIONS 64
#define SW_CLI_MAX_MULTI 256 /* repeats of one SW_CLI_MULTI option (a list has no limit) */

typedef struct sw_cli_args {
    const sw_cli_command *cmd;
    const char *value[SW_CLI_MAX_OPTIONS]; /* given value, else the default  */
    int given[SW_CLI_MAX_OPTIONS];         /* values given (MULTI, LIST) or times given */
    const char **multi[SW_CLI_MAX_OPTIONS];/* MULTI and LIST values (argv's), malloc'd */
    size_t multi_cap[SW_CLI_MAX_OPTIONS];
    const char **positional;               /* malloc'd */
    int n_positional;
} sw_cli_args;

/* Parses argv (argv[0] is the command name). Returns -1 when parsing succeeded
 * and the command should run, else an exit code: 0 after printing --help,
 * 2 after printing a usage error to stderr. Either way release *out with
 * sw_cli_args_free afterwards. */
int sw_cli_parse(const sw_cli_command *cmd, int argc, char **argv, sw_cli_args *out);
/* Frees what parse allocated (positional and the values lists); the strings
 * are argv's. Safe to call twice. */
void sw_cli_args_free(sw_cli_args *a);
void sw_cli_print_help(const sw_cli_command *cmd, void *file /* FILE * */);
/* Only the "options:" block of the help (every option with its default). */
void sw_cli_print_options(const sw_cli_command *cmd, void *file /* FILE * */);

/* Accessors by option name; the option must exist in the table (a missing
 * name is a programming error and aborts). Values were validated by parse. */
const char *sw_cli_str(const sw_cli_args *a, const char *name); /* NULL if unset */
int sw_cli_flag(const sw_cli_args *a, const char *name);
int sw_cli_given(const sw_cli_args *a, const char *name);
long long sw_cli_int(const sw_cli_args *a, const char *name);
double sw_cli_double(const sw_cli_args *a, const char *name);
uint64_t sw_cli_tokens(const sw_cli_args *a, const char *name);
/* The values of a SW_CLI_MULTI or SW_CLI_LIST option in order; returns the
 * count (*values may be NULL when it is 0). */
int sw_cli_multi(const sw_cli_args *a, const char *name, const char ***values);

/* Prints "stopwise CMD: message" to stderr and returns `code`. */
int sw_cli_fail(const char *cmd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
