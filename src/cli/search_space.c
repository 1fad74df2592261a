/* A search space checked against train's option table, so that a space
 * that cannot train fails before the first trial, naming its file and line. */
#include "cli/search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Options the search sets for every trial, and what to use instead. */
static const struct {
    const char *name, *instead;
} reserved[] = {
    {"budget", "set each trial's budget with search --budget"},
    {"seed", "the trials' seed is search --seed (and --seeds for the best configuration)"},
    {"threads", "set each trial's threads with search --threads"},
    {"out", "each trial gets a folder under search --out"},
    {"store", "every trial is recorded in the search's store (search --store)"},
    {"no-store", "every trial is recorded in the search's store (search --store)"},
    {"name", "the search names each trial's run STUDY#NUMBER"},
    {"json", "the search reads each trial's result itself"},
    {"quiet", "the search reads each trial's result itself"},
    {"resume", "the search pauses and resumes trials itself"},
    {"stop-after", "the search pauses trials at its pruner's decision points"},
    {"online", "production retraining (--online) has no place in a search"},
};

static int fail(const sw_space *sp, int line, const char *fmt, const char *a, const char *b)
{
    char what[1400];
    snprintf(what, sizeof what, fmt, a ? a : "", b ? b : "");
    if (line > 0) fprintf(stderr, "stopwise search: %s:%d: %s\n", sw_space_source(sp), line, what);
    else fprintf(stderr, "stopwise search: %s: %s\n", sw_space_source(sp), what);
    return 2;
}

/* 1 if text is a value of the option's kind. */
static int value_ok(sw_cli_kind kind, const char *text)
{
    long long i;
    double d;
    uint64_t t;
    switch (kind) {
    case SW_CLI_INT: return sw_parse_int(text, -(1LL << 62), 1LL << 62, &i) == SW_OK;
    case SW_CLI_DOUBLE: return sw_parse_double(text, &d) == SW_OK;
    case SW_CLI_TOKENS: return sw_parse_tokens(text, &t) == SW_OK;
    case SW_CLI_FLAG: return sw_cli_search_flag_value(text) >= 0;
    default: return 1;
    }
}

static const char *kind_words(sw_cli_kind kind)
{
    switch (kind) {
    case SW_CLI_INT: return "a whole number";
    case SW_CLI_DOUBLE: return "a number";
    case SW_CLI_TOKENS: return "a token count (k, M, G suffixes)";
    case SW_CLI_FLAG: return "true or false";
    default: return "text";
    }
}

/* A dimension that is itself the option: its domain must suit the kind. */
static int check_dim(const sw_space *sp, const sw_cli_option *o, int d)
{
    int line = sw_space_dim_line(sp, (size_t)d);
    sw_dim_kind k = sw_space_dim_kind(sp, (size_t)d);
    if (k == SW_DIM_CHOICE) {
        for (size_t c = 0; c < sw_space_dim_n_choices(sp, (size_t)d); c++)
            if (!value_ok(o->kind, sw_space_dim_choice(sp, (size_t)d, c))) {
                char want[200];
                snprintf(want, sizeof want, "%s takes %s", o->name, kind_words(o->kind));
                return fail(sp, line, "choice item '%s': %s", sw_space_dim_choice(sp, (size_t)d, c), want);
            }
        return 0;
    }
    if (o->kind == SW_CLI_FLAG) return fail(sp, line, "%s is a flag: use choice(true, false)", o->name, NULL);
    if (k == SW_DIM_RANGE && (o->kind == SW_CLI_INT || o->kind == SW_CLI_TOKENS))
        return fail(sp, line, "%s takes %s: use int(LO, HI)", o->name, kind_words(o->kind));
    if (o->kind == SW_CLI_TOKENS && sw_space_dim_lo(sp, (size_t)d) < 0)
        return fail(sp, line, "%s is a token count: the bounds must be 0 or more", o->name, NULL);
    return 0;
}

/* Three configurations (all coordinates low, middle, high) through train's
 * own parser: catches a template that fills an option with the wrong kind. */
static int check_points(const sw_space *sp, const sw_search_settings *set)
{
    size_t d = sw_space_n_dims(sp);
    double *p = malloc((d ? d : 1) * sizeof *p);
    if (!p) return fail(sp, 0, "out of memory", NULL, NULL);
    static const double at[] = {0.0, 0.5, 0.999999};
    int code = 0;
    for (size_t k = 0; !code && k < 3; k++) {
        for (size_t j = 0; j < d; j++) p[j] = at[k];
        sw_space_config cfg;
        sw_error err;
        if (sw_space_config_make(sp, p, d, &cfg, &err)) {
            code = fail(sp, 0, "%s", err.msg, NULL);
            break;
        }
        sw_search_segment seg = {.study = "check", .config = &cfg, .seed = set->seed, .budget = set->budget};
        int argc;
        char **argv = sw_cli_search_argv(&seg, "check", 1, &argc);
        if (argv) {
            sw_cli_args a;
            int rc = sw_cli_parse(sw_cmd_train_command(), argc - 1, argv + 1, &a);
            sw_cli_args_free(&a);
            if (rc >= 0) code = fail(sp, 0, "train refuses the options of the configuration %s (above)", cfg.params_json, NULL);
        }
        sw_cli_search_argv_free(argv);
        sw_space_config_clear(&cfg);
    }
    free(p);
    return code;
}

int sw_cli_search_check_space(const sw_space *sp, const sw_search_settings *set)
{
    const sw_cli_command *train = sw_cmd_train_command();
    for (size_t i = 0; i < sw_space_n_options(sp); i++) {
        const char *name = sw_space_option_name(sp, i);
        int line = sw_space_option_line(sp, i);
        for (size_t r = 0; r < sizeof reserved / sizeof *reserved; r++)
            if (!strcmp(name, reserved[r].name)) return fail(sp, line, "%s is the search's: %s", name, reserved[r].instead);
        const sw_cli_option *o = NULL;
        for (int k = 0; k < train->n_options; k++)
            if (!strcmp(train->options[k].name, name)) o = &train->options[k];
        if (!o)
            return fail(sp, line,
                        "'%s' is not a train option (see stopwise train --help), and no line uses it as {%s}", name,
                        name);
        int d = sw_space_option_dim(sp, i);
        if (d >= 0 && check_dim(sp, o, d)) return 2;
        const char *text = sw_space_option_text(sp, i);
        if (text && !strchr(text, '{') && !value_ok(o->kind, text)) {
            char want[200];
            snprintf(want, sizeof want, "%s takes %s", name, kind_words(o->kind));
            return fail(sp, line, "'%s': %s", text, want);
        }
        if (!strcmp(name, "stop") && set->pruner.kind == SW_PRUNER_POLICY)
            return fail(sp, line, "the policy pruner sets every trial's stop (pruner policy:POLICY): drop this line, "
                                  "or use another pruner", NULL, NULL);
    }
    if (sw_space_find_option(sp, "data") < 0)
        return fail(sp, 0, "no data = SPEC line: every trial needs train's --data", NULL, NULL);
    return check_points(sp, set);
}
