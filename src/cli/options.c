/* The table-driven option parser shared by every command. */
#include "cli/options.h"

#include "stopwise/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find(const sw_cli_command *cmd, const char *name, size_t len)
{
    for (int i = 0; i < cmd->n_options; i++)
        if (strlen(cmd->options[i].name) == len && !strncmp(cmd->options[i].name, name, len)) return i;
    return -1;
}

static int index_of(const sw_cli_args *a, const char *name)
{
    int i = find(a->cmd, name, strlen(name));
    if (i < 0) {
        fprintf(stderr, "stopwise: internal error: no option --%s in '%s'\n", name, a->cmd->name);
        abort();
    }
    return i;
}

static const char *kind_expect(sw_cli_kind k)
{
    switch (k) {
    case SW_CLI_INT: return "a whole number";
    case SW_CLI_DOUBLE: return "a number";
    case SW_CLI_TOKENS: return "a token count such as 20M, 500k or 1000000";
    default: return "a value";
    }
}

static int check_value(const sw_cli_command *cmd, const sw_cli_option *o, const char *v)
{
    long long i;
    double d;
    uint64_t t;
    int ok = 1;
    if (o->kind == SW_CLI_INT) ok = sw_parse_int(v, -(1LL << 62), 1LL << 62, &i) == SW_OK;
    else if (o->kind == SW_CLI_DOUBLE) ok = sw_parse_double(v, &d) == SW_OK;
    else if (o->kind == SW_CLI_TOKENS) ok = sw_parse_tokens(v, &t) == SW_OK;
    if (!ok) {
        fprintf(stderr, "stopwise %s: --%s expects %s, got '%s'\n", cmd->name, o->name, kind_expect(o->kind), v);
        return 0;
    }
    return 1;
}

void sw_cli_args_free(sw_cli_args *a)
{
    free(a->positional);
    a->positional = NULL;
    for (int i = 0; i < SW_CLI_MAX_OPTIONS; i++) {
        free(a->multi[i]);
        a->multi[i] = NULL;
        a->multi_cap[i] = 0;
    }
}

/* Keeps one more value of a MULTI or LIST option (0, or 2 after a message). */
static int add_value(const sw_cli_command *cmd, sw_cli_args *out, int i, const char *v)
{
    const sw_cli_option *o = &cmd->options[i];
    if (o->kind == SW_CLI_MULTI && out->given[i] >= SW_CLI_MAX_MULTI) {
        fprintf(stderr, "stopwise %s: --%s given too often\n", cmd->name, o->name);
        return 2;
    }
    if (SW_ARRAY_RESERVE(out->multi[i], out->multi_cap[i], (size_t)out->given[i] + 1)) {
        fprintf(stderr, "stopwise %s: out of memory\n", cmd->name);
        return 2;
    }
    out->multi[i][out->given[i]] = v;
    return 0;
}

/* An argument a list takes: anything but an option ("-" alone is a value). */
static int is_value(const char *arg) { return arg[0] != '-' || arg[1] == 0; }

int sw_cli_parse(const sw_cli_command *cmd, int argc, char **argv, sw_cli_args *out)
{
    memset(out, 0, sizeof *out);
    out->cmd = cmd;
    out->positional = calloc((size_t)argc + 1, sizeof *out->positional);
    for (int i = 0; i < cmd->n_options; i++) out->value[i] = cmd->options[i].defval;
    int only_positional = 0;
    for (int k = 1; k < argc; k++) {
        const char *arg = argv[k];
        if (only_positional || arg[0] != '-' || arg[1] == 0) {
            out->positional[out->n_positional++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_positional = 1;
            continue;
        }
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            sw_cli_print_help(cmd, stdout);
            return 0;
        }
        if (strncmp(arg, "--", 2)) {
            fprintf(stderr, "stopwise %s: unknown option '%s' (options are long: --name)\n", cmd->name, arg);
            return 2;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        int i = find(cmd, name, eq ? (size_t)(eq - name) : strlen(name));
        if (i < 0) {
            fprintf(stderr, "stopwise %s: unknown option '%s'; see 'stopwise %s --help'\n", cmd->name, arg, cmd->name);
            return 2;
        }
        const sw_cli_option *o = &cmd->options[i];
        const char *v = NULL;
        if (o->kind == SW_CLI_FLAG) {
            if (eq) {
                fprintf(stderr, "stopwise %s: --%s takes no value\n", cmd->name, o->name);
                return 2;
            }
            v = "1";
        } else if (eq) {
            v = eq + 1;
        } else if (k + 1 < argc) {
            v = argv[++k];
        } else {
            fprintf(stderr, "stopwise %s: --%s needs %s %s\n", cmd->name, o->name,
                    kind_expect(o->kind), o->metavar ? o->metavar : "");
            return 2;
        }
        if (!check_value(cmd, o, v)) return 2;
        if ((o->kind == SW_CLI_MULTI || o->kind == SW_CLI_LIST) && add_value(cmd, out, i, v)) return 2;
        out->given[i]++;
        out->value[i] = v;
        while (o->kind == SW_CLI_LIST && k + 1 < argc && is_value(argv[k + 1])) {
            v = argv[++k];
            if (add_value(cmd, out, i, v)) return 2;
            out->given[i]++;
            out->value[i] = v;
        }
    }
    if (out->n_positional < cmd->min_positional ||
        (cmd->max_positional >= 0 && out->n_positional > cmd->max_positional)) {
        fprintf(stderr, "stopwise %s: wrong number of arguments\nusage: %s\n", cmd->name, cmd->usage);
        return 2;
    }
    return -1;
}

void sw_cli_print_options(const sw_cli_command *cmd, void *file)
{
    FILE *f = file;
    if (cmd->n_options) fprintf(f, "\noptions:\n");
    for (int i = 0; i < cmd->n_options; i++) {
        const sw_cli_option *o = &cmd->options[i];
        char head[128];
        snprintf(head, sizeof head, "--%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
        fprintf(f, "  %-24s ", head);
        /* indent continuation lines of the help under its first line */
        for (const char *p = o->help; *p; p++) {
            fputc(*p, f);
            if (*p == '\n') fprintf(f, "  %-24s ", "");
        }
        if (o->defval && o->kind != SW_CLI_FLAG) fprintf(f, " (default: %s)", o->defval);
        fputc('\n', f);
    }
    fprintf(f, "  %-24s %s\n", "--help", "print this help and exit");
}

void sw_cli_print_help(const sw_cli_command *cmd, void *file)
{
    FILE *f = file;
    fprintf(f, "stopwise %s: %s\n\nusage: %s\n", cmd->name, cmd->synopsis, cmd->usage);
    sw_cli_print_options(cmd, f);
    if (cmd->details) fprintf(f, "\n%s\n", cmd->details);
}

const char *sw_cli_str(const sw_cli_args *a, const char *name) { return a->value[index_of(a, name)]; }
int sw_cli_flag(const sw_cli_args *a, const char *name) { return a->given[index_of(a, name)] > 0; }
int sw_cli_given(const sw_cli_args *a, const char *name) { return a->given[index_of(a, name)]; }

long long sw_cli_int(const sw_cli_args *a, const char *name)
{
    long long v = 0;
    const char *s = sw_cli_str(a, name);
    if (s) sw_parse_int(s, -(1LL << 62), 1LL << 62, &v);
    return v;
}

double sw_cli_double(const sw_cli_args *a, const char *name)
{
    double v = 0;
    const char *s = sw_cli_str(a, name);
    if (s) sw_parse_double(s, &v);
    return v;
}

uint64_t sw_cli_tokens(const sw_cli_args *a, const char *name)
{
    uint64_t v = 0;
    const char *s = sw_cli_str(a, name);
    if (s) sw_parse_tokens(s, &v);
    return v;
}

int sw_cli_multi(const sw_cli_args *a, const char *name, const char ***values)
{
    int i = index_of(a, name);
    *values = a->multi[i];
    return a->multi[i] ? a->given[i] : 0;
}

int sw_cli_fail(const char *cmd, int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "stopwise %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}
