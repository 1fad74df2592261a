/* The report of a finished search: the best configuration as a train
 * command with its EM over seeds, each dimension's importance, and the
 * trials table; as text or as one JSON object. */
#include "cli/search.h"
#include "data/json_num.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A trial's configuration from its stored point (cfg zeroed on failure). */
static int config_of(const sw_space *sp, const sw_store_search_trial *t, sw_space_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    size_t d = sw_space_n_dims(sp);
    double *p = malloc((d ? d : 1) * sizeof *p);
    json_error_t je;
    json_t *a = json_loads(t->point ? t->point : "", 0, &je);
    int ok = p && json_is_array(a) && json_array_size(a) == d;
    for (size_t j = 0; ok && j < d; j++) p[j] = json_number_value(json_array_get(a, j));
    json_decref(a);
    sw_error err;
    if (ok) ok = sw_space_config_make(sp, p, d, cfg, &err) == SW_OK;
    free(p);
    return ok;
}

/* A value as a shell word: bare when safe, else single-quoted. */
static void print_word(FILE *f, const char *v)
{
    if (*v && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,:/@%") == strlen(v)) {
        fputs(v, f);
        return;
    }
    fputc('\'', f);
    for (const char *c = v; *c; c++) {
        if (*c == '\'') fputs("'\\''", f);
        else fputc(*c, f);
    }
    fputc('\'', f);
}

/* "stopwise train --data .. --budget B --seed S" for a configuration. */
static char *command_of(const sw_cli_search_summary *s, const sw_space_config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fputs("stopwise train", f);
    for (size_t i = 0; i < cfg->n_options; i++) {
        int flag = sw_cli_search_flag_value(cfg->values[i]);
        const sw_cli_command *train = sw_cmd_train_command();
        int is_flag = 0;
        for (int k = 0; k < train->n_options; k++)
            if (!strcmp(train->options[k].name, cfg->names[i])) is_flag = train->options[k].kind == SW_CLI_FLAG;
        if (is_flag && flag != 1) continue;
        fprintf(f, " --%s", cfg->names[i]);
        if (is_flag) continue;
        fputc(' ', f);
        print_word(f, cfg->values[i]);
    }
    char tok[32];
    fprintf(f, " --budget %s --seed %llu", sw_format_tokens_exact(s->settings->budget, 3, tok, sizeof tok),
            (unsigned long long)s->settings->seed);
    if (s->settings->pruner.kind == SW_PRUNER_POLICY) {
        fputs(" --stop ", f);
        print_word(f, s->settings->pruner.policy);
    }
    fclose(f);
    return buf;
}

static void seed_stats(const sw_cli_search_summary *s, int test, double *mean, double *sd, size_t *n)
{
    double sum = 0, ss = 0;
    *n = 0;
    for (size_t i = 0; i < s->n_seeds; i++) {
        double v = test ? s->seeds[i].test_em : s->seeds[i].val_em;
        if (v != v) continue;
        sum += v;
        (*n)++;
    }
    *mean = *n ? sum / (double)*n : NAN;
    for (size_t i = 0; i < s->n_seeds; i++) {
        double v = test ? s->seeds[i].test_em : s->seeds[i].val_em;
        if (v == v) ss += (v - *mean) * (v - *mean);
    }
    *sd = *n > 1 ? sqrt(ss / (double)(*n - 1)) : 0;
}

static const char *em(double v, char *buf, size_t cap)
{
    if (v != v) snprintf(buf, cap, "-");
    else sw_snprintf(buf, cap, "%.2f", v);
    return buf;
}

void sw_cli_search_print_human(const sw_cli_search_summary *s)
{
    size_t count[SW_STORE_TRIAL_STATE_COUNT] = {0};
    uint64_t spent = 0;
    for (size_t i = 0; i < s->n_trials; i++) {
        count[s->trials[i].state]++;
        spent += s->trials[i].spent;
    }
    char tok[32], a[32], b[32], sampler[128], pruner[SW_PRUNER_POLICY_MAX + 64];
    sw_sampler_format(&s->settings->sampler, sampler, sizeof sampler);
    sw_pruner_format(&s->settings->pruner, pruner, sizeof pruner);
    printf("study       %s (%s)\n", s->study, s->store);
    printf("settings    sampler %s, pruner %s, %s tokens per trial, seed %llu\n", sampler, pruner,
           sw_format_tokens(s->settings->budget, tok, sizeof tok), (unsigned long long)s->settings->seed);
    printf("trials      %zu: %zu completed, %zu pruned, %zu failed; %s tokens (%.1f full trials' worth)\n", s->n_trials,
           count[SW_STORE_TRIAL_COMPLETED], count[SW_STORE_TRIAL_PRUNED], count[SW_STORE_TRIAL_FAILED],
           sw_format_tokens(spent, tok, sizeof tok), (double)spent / (double)s->settings->budget);
    if (s->best >= 0) {
        const sw_store_search_trial *t = &s->trials[s->best];
        printf("best        trial %lld: val EM %s, test EM %s, %s tokens\n", (long long)t->number, em(t->val_em, a, sizeof a),
               em(t->test_em, b, sizeof b), sw_format_tokens(t->tokens, tok, sizeof tok));
        sw_space_config cfg;
        if (config_of(s->space, t, &cfg)) {
            char *cmd = command_of(s, &cfg);
            if (cmd) printf("            %s\n", cmd);
            free(cmd);
            sw_space_config_clear(&cfg);
        }
        if (s->n_seeds > 1) {
            double mt, st, mv, sv;
            size_t nt, nv;
            seed_stats(s, 1, &mt, &st, &nt);
            seed_stats(s, 0, &mv, &sv, &nv);
            printf("seeds       test EM %.2f +- %.2f, val EM %.2f +- %.2f over %zu seeds (", mt, st, mv, sv, nt);
            for (size_t i = 0; i < s->n_seeds; i++)
                printf("%s%llu: %s", i ? ", " : "", (unsigned long long)s->seeds[i].seed, em(s->seeds[i].test_em, a, sizeof a));
            printf(")\n");
        }
    } else {
        printf("best        none: no trial trained to its end\n");
    }
    if (s->importance) {
        size_t d = sw_space_n_dims(s->space);
        printf("importance ");
        /* largest first */
        int *done = calloc(d ? d : 1, sizeof *done);
        for (size_t k = 0; done && k < d; k++) {
            size_t best = d;
            for (size_t j = 0; j < d; j++)
                if (!done[j] && (best == d || s->importance[j] > s->importance[best])) best = j;
            done[best] = 1;
            printf("%s %s %.0f%%", k ? "," : "", sw_space_dim_name(s->space, best), 100 * s->importance[best]);
        }
        free(done);
        printf("\n");
    }
    /* the table: one column per dimension, as wide as its widest value */
    size_t d = sw_space_n_dims(s->space);
    sw_space_config *cfgs = calloc(s->n_trials ? s->n_trials : 1, sizeof *cfgs);
    int *width = calloc(d ? d : 1, sizeof *width);
    if (!cfgs || !width) {
        free(cfgs);
        free(width);
        return;
    }
    for (size_t j = 0; j < d; j++) width[j] = (int)strlen(sw_space_dim_name(s->space, j));
    for (size_t i = 0; i < s->n_trials; i++)
        if (config_of(s->space, &s->trials[i], &cfgs[i]))
            for (size_t j = 0; j < d; j++)
                if ((int)strlen(cfgs[i].dim_values[j]) > width[j]) width[j] = (int)strlen(cfgs[i].dim_values[j]);
    printf("\n%5s  %-9s %5s %8s %8s %5s %7s %7s", "#", "STATE", "TRIES", "TOKENS", "SPENT", "DEPTH", "VAL EM", "TEST EM");
    for (size_t j = 0; j < d; j++) printf("  %-*s", width[j] > 40 ? 40 : width[j], sw_space_dim_name(s->space, j));
    printf("\n");
    for (size_t i = 0; i < s->n_trials; i++) {
        const sw_store_search_trial *t = &s->trials[i];
        char sp[32];
        printf("%5lld  %-9s %5lld %8s %8s %5lld %7s %7s", (long long)t->number, sw_store_trial_state_str(t->state),
               (long long)t->tries, sw_format_tokens(t->tokens, tok, sizeof tok), sw_format_tokens(t->spent, sp, sizeof sp),
               (long long)t->depth, em(t->value, a, sizeof a), em(t->test_em, b, sizeof b));
        for (size_t j = 0; j < d; j++)
            printf("  %-*.40s", width[j] > 40 ? 40 : width[j], cfgs[i].dim_values ? cfgs[i].dim_values[j] : "?");
        printf("\n");
    }
    for (size_t i = 0; i < s->n_trials; i++) sw_space_config_clear(&cfgs[i]);
    free(cfgs);
    free(width);
}

static json_t *jstr(const char *s) { return s ? json_string(s) : json_null(); }

void sw_cli_search_print_json(const sw_cli_search_summary *s)
{
    json_t *o = json_object(), *trials = json_array();
    json_object_set_new(o, "study", json_string(s->study));
    json_object_set_new(o, "store", json_string(s->store));
    char *settings = sw_search_settings_json(s->settings), *space = sw_space_format(s->space);
    json_error_t je;
    json_t *js = settings ? json_loads(settings, 0, &je) : NULL;
    json_object_set_new(o, "settings", js ? js : json_null());
    json_object_set_new(o, "space", jstr(space));
    free(settings);
    free(space);
    uint64_t spent = 0;
    for (size_t i = 0; i < s->n_trials; i++) {
        const sw_store_search_trial *t = &s->trials[i];
        spent += t->spent;
        json_t *row = json_object();
        json_object_set_new(row, "number", json_integer(t->number));
        json_object_set_new(row, "state", json_string(sw_store_trial_state_str(t->state)));
        json_t *params = t->params ? json_loads(t->params, 0, &je) : NULL;
        json_object_set_new(row, "params", params ? params : json_null());
        json_object_set_new(row, "tries", json_integer(t->tries));
        json_object_set_new(row, "worker", jstr(t->worker));
        json_object_set_new(row, "run_id", t->run_id > 0 ? json_integer(t->run_id) : json_null());
        json_object_set_new(row, "bracket", json_integer(t->bracket));
        json_object_set_new(row, "depth", json_integer(t->depth));
        json_object_set_new(row, "value", sw_json_num(t->value));
        json_object_set_new(row, "val_em", sw_json_num(t->val_em));
        json_object_set_new(row, "test_em", sw_json_num(t->test_em));
        json_object_set_new(row, "tokens", json_integer((json_int_t)t->tokens));
        json_object_set_new(row, "spent", json_integer((json_int_t)t->spent));
        json_object_set_new(row, "reason", jstr(t->reason));
        json_object_set_new(row, "started", sw_json_num(t->started));
        json_object_set_new(row, "ended", sw_json_num(t->ended));
        json_array_append_new(trials, row);
    }
    json_object_set_new(o, "tokens", json_integer((json_int_t)spent));
    if (s->best >= 0) {
        const sw_store_search_trial *t = &s->trials[s->best];
        json_t *b = json_object();
        json_object_set_new(b, "number", json_integer(t->number));
        json_t *params = t->params ? json_loads(t->params, 0, &je) : NULL;
        json_object_set_new(b, "params", params ? params : json_null());
        json_object_set_new(b, "val_em", sw_json_num(t->val_em));
        json_object_set_new(b, "test_em", sw_json_num(t->test_em));
        sw_space_config cfg;
        if (config_of(s->space, t, &cfg)) {
            char *cmd = command_of(s, &cfg);
            json_object_set_new(b, "command", jstr(cmd));
            free(cmd);
            sw_space_config_clear(&cfg);
        }
        json_t *seeds = json_array();
        for (size_t i = 0; i < s->n_seeds; i++) {
            json_t *r = json_object();
            json_object_set_new(r, "seed", json_integer((json_int_t)s->seeds[i].seed));
            json_object_set_new(r, "run_id", s->seeds[i].run_id >= 0 ? json_integer(s->seeds[i].run_id) : json_null());
            json_object_set_new(r, "status", json_string(s->seeds[i].status));
            json_object_set_new(r, "val_em", sw_json_num(s->seeds[i].val_em));
            json_object_set_new(r, "test_em", sw_json_num(s->seeds[i].test_em));
            json_array_append_new(seeds, r);
        }
        json_object_set_new(b, "seeds", seeds);
        double m, sd;
        size_t n;
        seed_stats(s, 1, &m, &sd, &n);
        json_object_set_new(b, "test_em_mean", sw_json_num(m));
        json_object_set_new(b, "test_em_sd", sw_json_num(sd));
        seed_stats(s, 0, &m, &sd, &n);
        json_object_set_new(b, "val_em_mean", sw_json_num(m));
        json_object_set_new(b, "val_em_sd", sw_json_num(sd));
        json_object_set_new(o, "best", b);
    } else {
        json_object_set_new(o, "best", json_null());
    }
    if (s->importance) {
        json_t *imp = json_object();
        for (size_t j = 0; j < sw_space_n_dims(s->space); j++)
            json_object_set_new(imp, sw_space_dim_name(s->space, j), sw_json_num(s->importance[j]));
        json_object_set_new(o, "importance", imp);
    } else {
        json_object_set_new(o, "importance", json_null());
    }
    json_object_set_new(o, "trials", trials);
    char *text = json_dumps(o, JSON_COMPACT);
    puts(text ? text : "{}");
    free(text);
    json_decref(o);
}
