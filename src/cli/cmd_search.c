/* stopwise search: a recipe search over train options with pruning counted
 * in tokens, run by any number of workers that share a study in the store.
 * The work is search/'s (sw_search_work); this file parses options, checks
 * the space, starts the workers' runner and prints the report. */
#include "cli/commands.h"
#include "cli/search.h"
#include "stopwise/data.h"
#include "stopwise/store.h"
#include "stopwise/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const sw_cli_option options[] = {
    {"space", SW_CLI_STRING, "FILE", NULL,
     "the search space: one NAME = VALUE per line, NAME a train option or a\n"
     "variable used as {NAME}; VALUE text or a domain: choice(A, B, ..),\n"
     "range(LO, HI[, log]), int(LO, HI[, log]) (docs/SEARCH.md)"},
    {"study", SW_CLI_STRING, "NAME", "the space file's name",
     "the study in the store; a study that exists with another space (or other\n"
     "settings) is refused"},
    {"store", SW_CLI_STRING, "PATH|URL", "$STOPWISE_STORE or ./stopwise.db",
     "the store the study and every trial's run go to: an SQLite file (workers on\n"
     "one machine) or a postgresql:// URL (workers on many)"},
    {"worker", SW_CLI_FLAG, NULL, NULL,
     "join the study as one more worker: run its trials until none is left, without\n"
     "the report; without --space the study's own space and settings are used"},
    {"sampler", SW_CLI_STRING, "SPEC", "tpe",
     "random | halton (scrambled Halton, low discrepancy) |\n"
     "tpe[:startup=10,gamma=0.2,candidates=24] (Parzen estimators of the best\n"
     "ceil(gamma n) trials against the rest; the first `startup` trials are Halton's)"},
    {"pruner", SW_CLI_STRING, "SPEC", "asha",
     "none | asha[:eta=3,min=TOKENS] (rungs r eta^k, r = min or budget/eta^3: go on\n"
     "iff among the best floor(n/eta) at the rung) | hyperband[:eta=3,min=TOKENS]\n"
     "(brackets of asha starting at r eta^s) | median[:startup=5,warmup=T,every=T]\n"
     "(below the finished trials' median at the same tokens; every = budget/8) |\n"
     "policy[:POLICY] (each trial stops by POLICY, default auto, and is pruned when\n"
     "its forecast best EM by the budget cannot reach the best finished trial)"},
    {"budget", SW_CLI_TOKENS, "TOKENS", "auto",
     "each trial's training tokens, the pruners' maximum; auto: train's default for\n"
     "the space's data (50 epochs, at most 20M)"},
    {"trials", SW_CLI_INT, "N", "20", "at most N trials (0: no limit, --total decides)"},
    {"total", SW_CLI_TOKENS, "TOKENS", "0",
     "no new trial once the trials have spent this many tokens (0: no limit); trials\n"
     "under way still finish"},
    {"seed", SW_CLI_INT, "N", "1", "the samplers' seed and every trial's training seed"},
    {"seeds", SW_CLI_INT, "K", "0",
     "re-train the best configuration on K more seeds (seed+1 .. seed+K) to its end and\n"
     "report its EM over all 1+K seeds (mean +- sd)"},
    {"threads", SW_CLI_INT, "N", "1",
     "threads of each trial's training: fixed, so that a trial trains the same bits\n"
     "whichever worker runs it"},
    {"out", SW_CLI_STRING, "DIR", "runs/search-STUDY",
     "the trials' run folders: DIR/trial-N (DIR/trial-N.T for try T)"},
    {"stale-after", SW_CLI_DOUBLE, "S", "60",
     "a running trial whose worker has not heartbeaten for S seconds is re-queued\n"
     "(its worker died); workers heartbeat every min(S/4, 15) s"},
    {"max-tries", SW_CLI_INT, "N", "3", "a trial is tried at most N times (re-queued when its worker dies), then failed"},
    {"quiet", SW_CLI_FLAG, NULL, NULL, "no progress lines on stderr"},
    {"json", SW_CLI_FLAG, NULL, NULL, "print the report as one JSON object on stdout"},
};

static const sw_cli_command command = {
    .name = "search",
    .synopsis = "search train options, ending weak trials early in tokens, with any number of workers",
    .usage = "stopwise search --space FILE [--study NAME] [--store PATH|URL] [options]\n"
             "       stopwise search --study NAME --store PATH|URL --worker      (one more worker)",
    .details =
        "A trial is one `stopwise train` with the space's options, --budget and --seed; it\n"
        "pauses at the pruner's decision points (train --stop-after, then --resume), where\n"
        "its value, the best validation EM so far, is compared with the other trials'.\n"
        "Workers claim trials from the store (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: its\n"
        "write lock) and heartbeat; a trial whose worker died is re-queued, and failed after\n"
        "--max-tries. The report: the best configuration with its EM over seeds, each\n"
        "dimension's importance (epsilon-squared of the trials' ranks grouped by the\n"
        "dimension's value, normalised) and the trials table. `stopwise runs ls --study NAME`\n"
        "lists the trials' runs.\n"
        "Exit codes: 0 success, 1 runtime failure, 2 bad input (a malformed space names\n"
        "its file and line; a study that exists with another space is refused).",
    .options = options,
    .n_options = (int)(sizeof options / sizeof *options),
    .min_positional = 0,
    .max_positional = 0,
};

static void log_line(const char *line, void *user)
{
    const char *worker = user;
    fprintf(stderr, "stopwise search [%s]: %s\n", worker, line);
}

/* The study's default name: the space file's name without folder and
 * extension. */
static void study_from_path(const char *path, char *buf, size_t cap)
{
    const char *base = strrchr(path, '/');
    snprintf(buf, cap, "%s", base ? base + 1 : path);
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf) *dot = 0;
}

static int settings_from_options(const sw_cli_args *a, const sw_space *sp, sw_search_settings *set)
{
    sw_error err;
    memset(set, 0, sizeof *set);
    if (sw_sampler_parse(sw_cli_str(a, "sampler"), &set->sampler, &err)) return sw_cli_fail("search", 2, "--sampler %s", err.msg);
    if (sw_pruner_parse(sw_cli_str(a, "pruner"), &set->pruner, &err)) return sw_cli_fail("search", 2, "--pruner %s", err.msg);
    long long trials = sw_cli_int(a, "trials"), seed = sw_cli_int(a, "seed"), tries = sw_cli_int(a, "max-tries");
    if (trials < 0) return sw_cli_fail("search", 2, "--trials expects 0 or more, got %lld", trials);
    if (seed < 0) return sw_cli_fail("search", 2, "--seed expects 0 or more, got %lld", seed);
    if (tries < 1) return sw_cli_fail("search", 2, "--max-tries expects 1 or more, got %lld", tries);
    set->max_trials = trials;
    set->seed = (uint64_t)seed;
    set->max_tries = (int)tries;
    set->total = sw_cli_tokens(a, "total");
    if (!set->max_trials && !set->total) return sw_cli_fail("search", 2, "a search needs an end: --trials N or --total TOKENS");
    if (sw_cli_given(a, "budget")) {
        set->budget = sw_cli_tokens(a, "budget");
        if (!set->budget) return sw_cli_fail("search", 2, "--budget must be positive");
        return 0;
    }
    int d = sw_space_find_option(sp, "data");
    const char *data = d >= 0 ? sw_space_option_text(sp, (size_t)d) : NULL;
    if (!data || strchr(data, '{'))
        return sw_cli_fail("search", 2, "--budget TOKENS is needed: the space's data is not one fixed dataset");
    sw_data_options dopt = sw_data_default_options();
    sw_status st = sw_train_default_budget(data, &dopt, &set->budget, &err);
    if (st) return sw_cli_fail("search", sw_status_exit_code(st), "%s", err.msg);
    return 0;
}

/* The best completed trial (highest value; the lower number on ties). */
static int best_trial(const sw_store_search_trial *t, size_t n)
{
    int best = -1;
    for (size_t i = 0; i < n; i++)
        if (t[i].state == SW_STORE_TRIAL_COMPLETED && t[i].value == t[i].value && (best < 0 || t[i].value > t[best].value))
            best = (int)i;
    return best;
}

/* The best configuration on seeds seed+1 .. seed+K, each trained to its end;
 * seeds[0] is the trial's own run. */
static int rerun_seeds(sw_store *s, int64_t study_id, const char *study, const sw_space *sp,
                       const sw_search_settings *set, const sw_cli_search_runner *rn, const sw_store_search_trial *best,
                       long long k, sw_cli_search_seed *seeds, int quiet)
{
    seeds[0] = (sw_cli_search_seed){set->seed, best->run_id, best->val_em, best->test_em, "completed"};
    size_t d = sw_space_n_dims(sp);
    double *p = malloc((d ? d : 1) * sizeof *p);
    sw_error err;
    if (!p || sw_search_trial_point(best, d, p, &err)) {
        free(p);
        return sw_cli_fail("search", 1, "the best trial's point is unreadable");
    }
    sw_space_config cfg;
    sw_status st = sw_space_config_make(sp, p, d, &cfg, &err);
    free(p);
    if (st) return sw_cli_fail("search", sw_status_exit_code(st), "%s", err.msg);
    int code = 0;
    for (long long i = 1; i <= k && !code; i++) {
        char label[64];
        uint64_t seed = set->seed + (uint64_t)i;
        snprintf(label, sizeof label, "best-seed-%llu", (unsigned long long)seed);
        sw_search_segment seg = {.study = study, .number = best->number, .attempt = 1, .config = &cfg, .seed = seed,
                                 .budget = set->budget,
                                 .stop = set->pruner.kind == SW_PRUNER_POLICY ? set->pruner.policy : NULL,
                                 .eval_every = sw_search_eval_every(set, (int)best->bracket), .label = label};
        sw_search_segment_result r = {0};
        if (!quiet) fprintf(stderr, "stopwise search: the best configuration (trial %lld) on seed %llu\n",
                            (long long)best->number, (unsigned long long)seed);
        st = sw_cli_search_run((void *)rn, &seg, NULL, NULL, &r, &err);
        if (st) code = sw_cli_fail("search", sw_status_exit_code(st), "%s", err.msg);
        else {
            seeds[i] = (sw_cli_search_seed){seed, r.run_id, r.best_val_em, r.test_em, ""};
            snprintf(seeds[i].status, sizeof seeds[i].status, "%s", r.status);
            if (r.run_id >= 0) {
                char num[32];
                snprintf(num, sizeof num, "%lld", (long long)best->number);
                sw_store_trial_add(s, study_id, r.run_id, NULL);
                sw_store_tag_set(s, r.run_id, "study", study);
                sw_store_tag_set(s, r.run_id, "trial", num);
                snprintf(num, sizeof num, "%llu", (unsigned long long)seed);
                sw_store_tag_set(s, r.run_id, "seed", num);
            }
        }
        free(r.curve_tokens);
        free(r.curve_em);
    }
    sw_space_config_clear(&cfg);
    return code;
}

static int report(sw_store *s, int64_t study_id, const char *study, const sw_space *sp, const sw_search_settings *set,
                  const sw_cli_search_runner *rn, long long n_seeds, const sw_cli_args *a)
{
    sw_store_search_trial *trials;
    size_t n;
    sw_status st = sw_store_search_trials(s, study_id, &trials, &n);
    if (st) return sw_cli_fail("search", sw_status_exit_code(st), "%s", sw_store_errmsg(s));
    int best = best_trial(trials, n), code = 0;
    sw_cli_search_seed *seeds = calloc((size_t)n_seeds + 1, sizeof *seeds);
    size_t got_seeds = 0;
    if (best >= 0 && seeds) {
        code = rerun_seeds(s, study_id, study, sp, set, rn, &trials[best], n_seeds, seeds, sw_cli_flag(a, "quiet"));
        got_seeds = code ? 0 : (size_t)n_seeds + 1;
    }
    double *imp = sw_search_trials_importance(sp, set, trials, n);
    sw_cli_search_summary sum = {study, sw_store_location(s), sp, set, trials, n, best, seeds, got_seeds, imp};
    if (!code) {
        if (sw_cli_flag(a, "json")) sw_cli_search_print_json(&sum);
        else sw_cli_search_print_human(&sum);
    }
    free(imp);
    free(seeds);
    sw_store_search_trial_list_free(trials, n);
    return code;
}

/* Reads and checks the space of --space; 0 or an exit code. */
static int load_space(const sw_cli_args *a, sw_space **sp, sw_search_settings *set)
{
    sw_error err;
    sw_status st = sw_space_read(sw_cli_str(a, "space"), sp, &err);
    if (st) return sw_cli_fail("search", sw_status_exit_code(st), "%s", err.msg);
    int code = settings_from_options(a, *sp, set);
    if (!code) code = sw_cli_search_check_space(*sp, set);
    if (code) {
        sw_space_free(*sp);
        *sp = NULL;
    }
    return code;
}

int sw_cmd_search(int argc, char **argv)
{
    sw_cli_args a;
    int rc = sw_cli_parse(&command, argc, argv, &a);
    if (rc >= 0) {
        sw_cli_args_free(&a);
        return rc;
    }
    int worker = sw_cli_flag(&a, "worker"), quiet = sw_cli_flag(&a, "quiet"), code = 0;
    const char *space_path = sw_cli_str(&a, "space");
    char study[256];
    long long n_seeds = sw_cli_int(&a, "seeds"), threads = sw_cli_int(&a, "threads");
    double stale = sw_cli_double(&a, "stale-after");
    if (!space_path && !worker) code = sw_cli_fail("search", 2, "--space FILE is required (or --worker --study NAME to join a study)");
    else if (!space_path && !sw_cli_given(&a, "study")) code = sw_cli_fail("search", 2, "--worker without --space needs --study NAME");
    else if (n_seeds < 0 || n_seeds > 1000) code = sw_cli_fail("search", 2, "--seeds expects 0 to 1000, got %lld", n_seeds);
    else if (threads < 1 || threads > 4096) code = sw_cli_fail("search", 2, "--threads expects 1 or more, got %lld", threads);
    else if (!(stale > 0)) code = sw_cli_fail("search", 2, "--stale-after must be positive");
    if (code) {
        sw_cli_args_free(&a);
        return code;
    }
    if (sw_cli_given(&a, "study")) snprintf(study, sizeof study, "%s", sw_cli_str(&a, "study"));
    else study_from_path(space_path, study, sizeof study);

    sw_space *sp = NULL;
    sw_search_settings set;
    char *space_text = NULL, *settings_text = NULL;
    if (space_path) {
        if ((code = load_space(&a, &sp, &set))) {
            sw_cli_args_free(&a);
            return code;
        }
        space_text = sw_space_format(sp);
        settings_text = sw_search_settings_json(&set);
        if (!space_text || !settings_text) code = sw_cli_fail("search", 1, "out of memory");
    }
    const char *env = getenv("STOPWISE_STORE");
    const char *location = sw_cli_given(&a, "store") ? sw_cli_str(&a, "store") : env && *env ? env : "stopwise.db";
    sw_store *s = NULL;
    sw_error err;
    sw_status st;
    int64_t study_id = 0;
    if (!code && (st = sw_store_open(location, &s, &err))) code = sw_cli_fail("search", sw_status_exit_code(st), "%s", err.msg);
    char *stored_space = NULL, *stored_settings = NULL;
    if (!code && (st = sw_store_search_open(s, study, space_text, settings_text, &study_id, &stored_space, &stored_settings)))
        code = sw_cli_fail("search", st == SW_ERR_NOT_FOUND ? 2 : sw_status_exit_code(st), "%s", sw_store_errmsg(s));
    if (!code && !sp) { /* a worker joining as the study is */
        char name[300];
        snprintf(name, sizeof name, "study '%s' space", study);
        if ((st = sw_space_parse(stored_space, strlen(stored_space), name, &sp, &err)) ||
            (st = sw_search_settings_parse(stored_settings, &set, &err)))
            code = sw_cli_fail("search", sw_status_exit_code(st), "%s", err.msg);
    }
    free(stored_space);
    free(stored_settings);

    char out[600], host[128] = "", worker_name[200];
    if (sw_cli_given(&a, "out")) snprintf(out, sizeof out, "%s", sw_cli_str(&a, "out"));
    else {
        snprintf(out, sizeof out, "runs/search-%s", study);
        for (char *p = out + 5; *p; p++)
            if (*p == '/' || *p == ' ' || *p == ':') *p = '_';
    }
    if (gethostname(host, sizeof host - 1)) snprintf(host, sizeof host, "unknown");
    snprintf(worker_name, sizeof worker_name, "%s:%d", host, (int)getpid());
    sw_cli_search_runner rn = {location, out, (int)threads};
    if (!code) {
        if (!quiet) {
            char sampler[128], pruner[SW_PRUNER_POLICY_MAX + 64], budget[32];
            sw_sampler_format(&set.sampler, sampler, sizeof sampler);
            sw_pruner_format(&set.pruner, pruner, sizeof pruner);
            fprintf(stderr, "stopwise search: study %s in %s: %zu dimensions, sampler %s, pruner %s, %s tokens per trial; worker %s\n",
                    study, sw_store_location(s), sw_space_n_dims(sp), sampler, pruner,
                    sw_format_tokens(set.budget, budget, sizeof budget), worker_name);
        }
        sw_search_runner runner = {sw_cli_search_run, &rn};
        double every = stale / 4 > 15 ? 15 : stale / 4 < 0.1 ? 0.1 : stale / 4;
        sw_search_worker_options wo = {worker_name, stale, every, 0.5, quiet ? NULL : log_line, worker_name};
        sw_search_work_stats stats;
        sw_error_clear(&err);
        st = sw_search_work(s, study_id, study, sp, &set, &runner, &wo, &stats, &err);
        if (st) code = sw_cli_fail("search", sw_status_exit_code(st), "%s", err.msg);
        else if (!quiet) {
            char tok[32];
            fprintf(stderr, "stopwise search: worker %s ran %zu trials (%s tokens); the study has no trial left\n",
                    worker_name, stats.trials, sw_format_tokens(stats.tokens, tok, sizeof tok));
        }
    }
    if (!code && !worker) code = report(s, study_id, study, sp, &set, &rn, n_seeds, &a);
    sw_store_close(s);
    sw_space_free(sp);
    free(space_text);
    free(settings_text);
    sw_cli_args_free(&a);
    return code;
}
