/* stopwise search through the CLI: a bad space exits 2 naming its file and
 * line; a study that exists with another space is refused; four workers at
 * once on SQLite and on PostgreSQL never run a trial twice and link every
 * run to the study (runs ls --study); a worker SIGKILLed mid-trial has its
 * trial re-queued and completed by another worker, with the numbers a lone
 * worker gets for it; the report names the best configuration. Trainings
 * are tiny (synthetic copy task, a few thousand tokens). */
#include <jansson.h>
#include <math.h>
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "store_fixture.h"

static const char *space_text =
    "# tiny\n"
    "data     = synthetic:copy:n=300,len=4\n"
    "model    = gpt:layers=1,d={width},heads=2\n"
    "width    = choice(16, 32)\n"
    "schedule = constant:lr={lr}\n"
    "lr       = range(1e-3, 1e-2, log)\n"
    "batch    = choice(16, 32)\n"
    "stop     = none\n";

static const char *write_space(const char *name, const char *text) { return sw_test_write(fx.dir, name, text); }

/* Runs `stopwise search ARGS`, returning its exit code; stderr in *err. */
static int search(const char *args, char **out, char **err)
{
    size_t len = strlen(args) + 64;
    char *cmd = malloc(len);
    snprintf(cmd, len, "search %s", args);
    int rc = sw_test_cli(cmd, out, err);
    free(cmd);
    return rc;
}

/* The trials of study `name` in the store. */
static sw_store_search_trial *trials_of(const char *name, size_t *n)
{
    sw_store *s;
    sw_error e = {0};
    cr_assert_eq(sw_store_open(fx.location, &s, &e), SW_OK, "%s", e.msg);
    int64_t id;
    ST_OK(s, sw_store_search_open(s, name, NULL, NULL, &id, NULL, NULL));
    sw_store_search_trial *t;
    ST_OK(s, sw_store_search_trials(s, id, &t, n));
    sw_store_close(s);
    return t;
}

static void expect_bad_space(const char *text, const char *where, const char *what)
{
    const char *path = write_space("bad.txt", text);
    char args[9000], *err = NULL;
    snprintf(args, sizeof args, "--space '%s' --store '%s' --budget 2k --trials 1 --quiet", path, fx.location);
    int rc = search(args, NULL, &err);
    cr_assert_eq(rc, 2, "exit %d for:\n%s\nstderr: %s", rc, text, err);
    char want[4400];
    snprintf(want, sizeof want, "%s%s", path, where);
    cr_assert(strstr(err, want), "'%s' not in: %s", want, err);
    cr_assert(strstr(err, what), "'%s' not in: %s", what, err);
    free(err);
}

Test(e2e_search, bad_spaces_exit_2_naming_file_and_line, .fini = fx_teardown)
{
    fx_setup(0);
    expect_bad_space("data = synthetic:copy\nmodel = gpt:d={width}\nwidth = choice(16)\n", ":3:", "at least two items");
    expect_bad_space("data = synthetic:copy\nlr = 0.1\n", ":2:", "'lr' is not a train option");
    expect_bad_space("data = synthetic:copy\nseed = int(1, 5)\n", ":2:", "seed is the search's");
    expect_bad_space("data = synthetic:copy\nbatch = range(8, 64)\n", ":2:", "use int(LO, HI)");
    expect_bad_space("data = synthetic:copy\nbatch = choice(8, big)\n", ":2:", "choice item 'big'");
    expect_bad_space("data = synthetic:copy\ncooldown = lots\n", ":2:", "cooldown takes a number");
    expect_bad_space("model = gpt:layers=1\n", "", "no data = SPEC line");
    expect_bad_space("data = synthetic:copy\nbatch = {b}\nb = choice(x, y)\n", "", "train refuses");
    /* the policy pruner owns every trial's stop */
    const char *path = write_space("stop.txt", "data = synthetic:copy\nstop = none\n");
    char args[9000], *err = NULL;
    snprintf(args, sizeof args, "--space '%s' --store '%s' --budget 2k --trials 1 --pruner policy --quiet", path, fx.location);
    cr_assert_eq(search(args, NULL, &err), 2);
    cr_assert(strstr(err, "stop.txt:2: the policy pruner sets every trial's stop"), "%s", err);
    free(err);
    /* bad search options */
    snprintf(args, sizeof args, "--space '%s' --store '%s' --pruner sha --quiet", path, fx.location);
    cr_assert_eq(search(args, NULL, &err), 2);
    cr_assert(strstr(err, "--pruner"), "%s", err);
    free(err);
    cr_assert_eq(search("--store x.db", NULL, &err), 2);
    cr_assert(strstr(err, "--space FILE is required"), "%s", err);
    free(err);
}

Test(e2e_search, a_study_with_another_space_is_refused, .fini = fx_teardown)
{
    fx_setup(0);
    char a[4200];
    snprintf(a, sizeof a, "%s", write_space("a.txt", space_text));
    char args[9000], *err = NULL;
    snprintf(args, sizeof args, "--space '%s' --study s --store '%s' --budget 2k --trials 1 --pruner none --out '%s/runs' --quiet",
             a, fx.location, fx.dir);
    cr_assert_eq(search(args, NULL, &err), 0, "%s", err);
    free(err);
    const char *b = write_space("b.txt", "data = synthetic:copy:n=300,len=4\nbatch = choice(16, 64)\n");
    snprintf(args, sizeof args, "--space '%s' --study s --store '%s' --budget 2k --trials 1 --quiet", b, fx.location);
    cr_assert_eq(search(args, NULL, &err), 2, "%s", err);
    cr_assert(strstr(err, "study 's' exists with another space"), "%s", err);
    free(err);
    /* the same space with other settings is refused too */
    snprintf(args, sizeof args, "--space '%s' --study s --store '%s' --budget 3k --trials 1 --quiet", a, fx.location);
    cr_assert_eq(search(args, NULL, &err), 2, "%s", err);
    cr_assert(strstr(err, "exists with other settings"), "%s", err);
    free(err);
    size_t n;
    sw_store_search_trial *t = trials_of("s", &n);
    cr_assert_eq(n, 1, "the refused searches added no trial");
    sw_store_search_trial_list_free(t, n);
    /* a worker joins a study that does not exist: bad usage */
    snprintf(args, sizeof args, "--study nope --store '%s' --worker --quiet", fx.location);
    cr_assert_eq(search(args, NULL, &err), 2, "%s", err);
    cr_assert(strstr(err, "no study 'nope'"), "%s", err);
    free(err);
}

/* Four workers start at once on the study (all with the space: the first
 * creates it), 12 trials under asha (so trials pause and report at rungs). */
static void four_workers(void)
{
    const char *path = write_space("space.txt", space_text);
    char cmd[20000];
    snprintf(cmd, sizeof cmd,
             "pids=''; for i in 1 2 3 4; do %s search --space '%s' --study four --store '%s' --budget 3k --trials 12 "
             "--pruner asha --sampler random --out '%s/runs' --worker > '%s/w'$i.log 2>&1 & pids=\"$pids $!\"; done; "
             "rc=0; for p in $pids; do wait $p || rc=1; done; exit $rc",
             STOPWISE_CLI, path, fx.location, fx.dir, fx.dir);
    char *err = NULL;
    int rc = sw_test_sh(cmd, NULL, &err);
    char log[4200];
    snprintf(log, sizeof log, "%s/w1.log", fx.dir);
    char *w1 = sw_test_slurp(log, NULL);
    cr_assert_eq(rc, 0, "a worker failed: %s\nworker 1: %s", err, w1);
    free(w1);
    free(err);
    size_t n;
    sw_store_search_trial *t = trials_of("four", &n);
    cr_assert_eq(n, 12);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(t[i].tries, 1, "trial %zu was claimed %lld times", i, (long long)t[i].tries);
        cr_assert(t[i].state == SW_STORE_TRIAL_COMPLETED || t[i].state == SW_STORE_TRIAL_PRUNED, "trial %zu: %s", i,
                  sw_store_trial_state_str(t[i].state));
        cr_assert_gt(t[i].run_id, 0);
    }
    /* every trial trained one run, linked to the study; names say which */
    char args[9000], *out = NULL;
    snprintf(args, sizeof args, "runs ls --study four --limit 0 --json --store '%s'", fx.location);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    cr_assert_not_null(o, "%s", out);
    json_t *runs = json_object_get(o, "runs");
    cr_assert_eq(json_array_size(runs), 12, "%s", out);
    int seen[12] = {0};
    for (size_t i = 0; i < 12; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(runs, i), "name"));
        int k = -1;
        cr_assert_eq(sscanf(name, "four#%d", &k), 1, "%s", name);
        cr_assert(k >= 0 && k < 12);
        seen[k]++;
    }
    for (int k = 0; k < 12; k++) cr_assert_eq(seen[k], 1, "trial %d has %d runs", k, seen[k]);
    json_decref(o);
    free(out);
    free(err);
    sw_store_search_trial_list_free(t, n);
}

Test(e2e_search, four_workers_on_sqlite_never_run_a_trial_twice, .fini = fx_teardown)
{
    fx_setup(0);
    four_workers();
}

Test(e2e_search, four_workers_on_postgres_never_run_a_trial_twice, .fini = fx_teardown)
{
    fx_setup(1);
    four_workers();
}

/* 1 while a process whose command line holds `needle` lives. */
static int process_with(const char *needle)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f 2>/dev/null; echo; done | grep -F -- '%s' | grep -v grep",
             needle);
    char *out = NULL;
    sw_test_sh(cmd, &out, NULL);
    int found = out && *out;
    free(out);
    return found;
}

Test(e2e_search, a_killed_workers_trial_is_requeued_and_completed_by_another, .fini = fx_teardown)
{
    fx_setup(0);
    const char *path = write_space("space.txt", space_text);
    char args[9000], dir[4200], curve[4400];
    snprintf(dir, sizeof dir, "%s/runs", fx.dir);
    snprintf(curve, sizeof curve, "%s/trial-0/curve.csv", dir);
    snprintf(args, sizeof args,
             "search --space %s --study k --store %s --budget 200k --trials 2 --pruner none --sampler random "
             "--stale-after 1 --out %s --worker --quiet",
             path, fx.location, dir);
    /* worker A: killed once trial 0 is training (its curve has a point) */
    fflush(NULL);
    pid_t a = fork();
    cr_assert_geq(a, 0);
    if (!a) {
        char *argv[64];
        int argc = 0;
        argv[argc++] = (char *)STOPWISE_CLI;
        for (char *tok = strtok(args, " "); tok; tok = strtok(NULL, " ")) argv[argc++] = tok;
        argv[argc] = NULL;
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execv(STOPWISE_CLI, argv);
        _exit(127);
    }
    int waited = 0;
    while (access(curve, F_OK) && waited++ < 600) usleep(50000);
    cr_assert_eq(access(curve, F_OK), 0, "trial 0 never started training");
    cr_assert_eq(kill(a, SIGKILL), 0);
    int status;
    cr_assert_eq(waitpid(a, &status, 0), a);
    /* its training died with it: nobody trains trial 0 now */
    char needle[4400];
    snprintf(needle, sizeof needle, "%s/trial-0 ", dir);
    for (int i = 0; i < 50 && process_with(needle); i++) usleep(100000);
    cr_assert_not(process_with(needle), "the killed worker's training outlived it");
    size_t n;
    sw_store_search_trial *t = trials_of("k", &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(t[0].state, SW_STORE_TRIAL_RUNNING, "trial 0 still looks running");
    sw_store_search_trial_list_free(t, n);
    /* worker B joins as the study is and finishes everything */
    char *err = NULL;
    snprintf(args, sizeof args, "--study k --store '%s' --stale-after 1 --out '%s' --worker", fx.location, dir);
    cr_assert_eq(search(args, NULL, &err), 0, "%s", err);
    cr_assert(strstr(err, "trial 0 (try 2)"), "%s", err);
    free(err);
    t = trials_of("k", &n);
    cr_assert_eq(n, 2);
    cr_assert_eq(t[0].state, SW_STORE_TRIAL_COMPLETED);
    cr_assert_eq(t[0].tries, 2);
    cr_assert_eq(t[1].state, SW_STORE_TRIAL_COMPLETED);
    /* a lone worker on a fresh store gets the same numbers for trial 0 */
    char ref[4400];
    snprintf(ref, sizeof ref, "%s/ref.db", fx.dir);
    snprintf(args, sizeof args,
             "--space '%s' --study k --store '%s' --budget 200k --trials 1 --pruner none --sampler random --out '%s/ref' "
             "--worker --quiet",
             path, ref, fx.dir);
    cr_assert_eq(search(args, NULL, &err), 0, "%s", err);
    free(err);
    sw_store *s;
    sw_error e = {0};
    cr_assert_eq(sw_store_open(ref, &s, &e), SW_OK);
    int64_t id;
    sw_store_search_trial *r;
    size_t rn;
    ST_OK(s, sw_store_search_open(s, "k", NULL, NULL, &id, NULL, NULL));
    ST_OK(s, sw_store_search_trials(s, id, &r, &rn));
    cr_assert_eq(rn, 1);
    cr_assert_str_eq(r[0].params, t[0].params);
    cr_assert_eq(r[0].tokens, t[0].tokens);
    cr_assert_eq(r[0].value, t[0].value, "best val EM %g here, %g after the re-queue", r[0].value, t[0].value);
    cr_assert_eq(r[0].test_em, t[0].test_em);
    sw_store_search_trial_list_free(r, rn);
    sw_store_close(s);
    sw_store_search_trial_list_free(t, n);
}

Test(e2e_search, the_report_names_the_best_configuration, .fini = fx_teardown)
{
    fx_setup(0);
    const char *path = write_space("space.txt", space_text);
    char args[9000], *out = NULL, *err = NULL;
    snprintf(args, sizeof args,
             "--space '%s' --study rep --store '%s' --budget 6k --trials 6 --sampler halton --pruner hyperband "
             "--seeds 1 --out '%s/runs' --json --quiet",
             path, fx.location, fx.dir);
    cr_assert_eq(search(args, &out, &err), 0, "%s", err);
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    cr_assert_not_null(o, "not JSON: %s", out);
    cr_assert_str_eq(json_string_value(json_object_get(o, "study")), "rep");
    cr_assert_eq(json_array_size(json_object_get(o, "trials")), 6);
    json_t *best = json_object_get(o, "best");
    cr_assert(json_is_object(best), "%s", out);
    const char *cmd = json_string_value(json_object_get(best, "command"));
    cr_assert(cmd && strstr(cmd, "stopwise train --data synthetic:copy:n=300,len=4 --model gpt:layers=1,d="), "%s", cmd);
    cr_assert(strstr(cmd, " --budget 6k --seed 1"), "%s", cmd);
    json_t *seeds = json_object_get(best, "seeds");
    cr_assert_eq(json_array_size(seeds), 2, "the trial's own seed and one more");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(seeds, 1), "seed")), 2);
    cr_assert(json_is_number(json_object_get(best, "test_em_mean")), "%s", out);
    json_t *imp = json_object_get(o, "importance");
    cr_assert(json_is_object(imp), "%s", out);
    cr_assert_eq(json_object_size(imp), 3, "width, lr, batch");
    json_decref(o);
    free(out);
    free(err);
    /* the study's runs: 6 trials and the extra seed */
    snprintf(args, sizeof args, "runs ls --study rep --limit 0 --json --store '%s'", fx.location);
    cr_assert_eq(sw_test_cli(args, &out, &err), 0, "%s", err);
    o = json_loads(out, 0, &je);
    cr_assert_eq(json_integer_value(json_object_get(o, "count")), 7, "%s", out);
    json_decref(o);
    free(out);
    free(err);
    /* and the text report */
    snprintf(args, sizeof args, "--space '%s' --study rep --store '%s' --budget 6k --trials 6 --sampler halton --pruner hyperband --out '%s/runs' --quiet",
             path, fx.location, fx.dir);
    cr_assert_eq(search(args, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "best        trial "), "%s", out);
    cr_assert(strstr(out, "importance "), "%s", out);
    cr_assert(strstr(out, "STATE"), "%s", out);
    free(out);
    free(err);
}
