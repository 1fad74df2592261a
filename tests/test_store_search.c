/* store/: search studies and their trials as a work queue, on both backends:
 * a study's space and settings are checked on open; claims create trials up
 * to the limits, hand out queued ones first, re-queue a trial whose worker
 * went silent (and fail it after max_tries), and refuse a dead worker's late
 * updates; four processes claiming at once never get the same trial. */
#include <signal.h>
#include <sys/wait.h>

#include "store/db.h"
#include "store_fixture.h"

#include <math.h>

/* Proposes params {"n": number} and point [number]; counts its calls. */
static sw_status propose(int64_t number, const sw_store_search_trial *trials, size_t n, char **params, char **point,
                         int64_t *bracket, void *user)
{
    (void)trials;
    int *calls = user;
    if (calls) (*calls)++;
    if ((size_t)number != n) return SW_ERR_INTERNAL; /* numbers are consecutive and see every trial before */
    char buf[64];
    snprintf(buf, sizeof buf, "{\"n\": %lld}", (long long)number);
    *params = strdup(buf);
    snprintf(buf, sizeof buf, "[%lld]", (long long)number);
    *point = strdup(buf);
    *bracket = number % 2;
    return SW_OK;
}

static sw_store_search_claim_options claim_opts(const char *worker, int64_t max_trials)
{
    return (sw_store_search_claim_options){.worker = worker, .stale_after_s = 60, .max_tries = 2,
                                           .max_trials = max_trials, .propose = propose};
}

static int64_t open_study(sw_store *s, const char *name)
{
    int64_t id;
    ST_OK(s, sw_store_search_open(s, name, "a = range(0, 1)\n", "{\"budget\":1000}", &id, NULL, NULL));
    return id;
}

STORE_TEST(search_study_open_checks_space_and_settings)
{
    sw_store *s = fx_open(NULL);
    int64_t id = open_study(s, "st"), again;
    char *space, *settings;
    ST_OK(s, sw_store_search_open(s, "st", "a = range(0, 1)\n", "{\"budget\":1000}", &again, NULL, NULL));
    cr_assert_eq(id, again, "the same study opens twice");
    /* joining as it is */
    ST_OK(s, sw_store_search_open(s, "st", NULL, NULL, &again, &space, &settings));
    cr_assert_str_eq(space, "a = range(0, 1)\n");
    cr_assert_str_eq(settings, "{\"budget\":1000}");
    free(space), free(settings);
    cr_assert_eq(sw_store_search_open(s, "st", "a = range(0, 2)\n", "{\"budget\":1000}", &again, NULL, NULL), SW_ERR_INVALID);
    cr_assert(strstr(sw_store_errmsg(s), "study 'st' exists with another space"), "%s", sw_store_errmsg(s));
    cr_assert_eq(sw_store_search_open(s, "st", "a = range(0, 1)\n", "{\"budget\":2000}", &again, NULL, NULL), SW_ERR_INVALID);
    cr_assert(strstr(sw_store_errmsg(s), "other settings"), "%s", sw_store_errmsg(s));
    cr_assert_eq(sw_store_search_open(s, "nope", NULL, NULL, &again, NULL, NULL), SW_ERR_NOT_FOUND);
    /* a study another tool made (no space) is no search */
    int64_t plain;
    ST_OK(s, sw_store_study_create(s, "plain", "maximize", &plain));
    cr_assert_eq(sw_store_search_open(s, "plain", "a = range(0, 1)\n", "{}", &again, NULL, NULL), SW_ERR_INVALID);
    cr_assert(strstr(sw_store_errmsg(s), "not a search"), "%s", sw_store_errmsg(s));
    sw_store_close(s);
}

STORE_TEST(search_claims_create_up_to_the_limit_then_wait_then_finish)
{
    sw_store *s = fx_open(NULL);
    int64_t id = open_study(s, "st");
    int calls = 0;
    sw_store_search_claim_options o = claim_opts("w1", 2);
    o.user_data = &calls;
    sw_store_claim out;
    sw_store_search_trial t0, t1, t;
    ST_OK(s, sw_store_search_claim(s, id, &o, &out, &t0));
    cr_assert_eq(out, SW_STORE_CLAIM_TRIAL);
    cr_assert_eq(t0.number, 0);
    cr_assert_eq(t0.state, SW_STORE_TRIAL_RUNNING);
    cr_assert_str_eq(t0.worker, "w1");
    cr_assert_eq(t0.tries, 1);
    cr_assert_str_eq(t0.params, "{\"n\": 0}");
    ST_OK(s, sw_store_search_claim(s, id, &o, &out, &t1));
    cr_assert_eq(t1.number, 1);
    cr_assert_eq(t1.bracket, 1);
    /* the limit is reached and both run: wait */
    ST_OK(s, sw_store_search_claim(s, id, &o, &out, &t));
    cr_assert_eq(out, SW_STORE_CLAIM_WAIT);
    cr_assert_eq(calls, 2);
    /* reports, peers, ends */
    ST_OK(s, sw_store_search_report(s, id, 0, "w1", 1, 0, 100, 10.0, 100));
    ST_OK(s, sw_store_search_report(s, id, 1, "w1", 1, 0, 110, 20.0, 110));
    double *v;
    size_t n;
    ST_OK(s, sw_store_search_rung_values(s, id, 0, -1, 0, 0, &v, &n));
    cr_assert_eq(n, 1);
    cr_assert_eq(v[0], 20.0, "trial 1's value, trial 0 left out");
    free(v);
    ST_OK(s, sw_store_search_rung_values(s, id, 0, 0, 0, 1, &v, &n));
    cr_assert_eq(n, 1, "bracket 0 holds trial 0 only");
    free(v);
    ST_OK(s, sw_store_search_rung_values(s, id, 0, -1, 1, -1, &v, &n));
    cr_assert_eq(n, 0, "no trial finished yet");
    sw_store_search_end end = {SW_STORE_TRIAL_COMPLETED, 30.0, 29.0, 28.0, 1000, 900, NULL};
    ST_OK(s, sw_store_search_finish(s, id, 0, "w1", 1, &end));
    ST_OK(s, sw_store_search_rung_values(s, id, 0, -1, 1, -1, &v, &n));
    cr_assert_eq(n, 1);
    cr_assert_eq(v[0], 10.0);
    free(v);
    sw_store_search_end pruned = {SW_STORE_TRIAL_PRUNED, 20.0, NAN, NAN, 110, 0, "asha: below"};
    ST_OK(s, sw_store_search_finish(s, id, 1, "w1", 1, &pruned));
    ST_OK(s, sw_store_search_claim(s, id, &o, &out, &t));
    cr_assert_eq(out, SW_STORE_CLAIM_DONE);
    sw_store_search_trial *all;
    ST_OK(s, sw_store_search_trials(s, id, &all, &n));
    cr_assert_eq(n, 2);
    cr_assert_eq(all[0].state, SW_STORE_TRIAL_COMPLETED);
    cr_assert_eq(all[0].spent, 1000, "100 reported, then 900 more");
    cr_assert_eq(all[0].depth, 1);
    cr_assert_eq(all[0].test_em, 28.0);
    cr_assert_eq(all[1].state, SW_STORE_TRIAL_PRUNED);
    cr_assert_str_eq(all[1].reason, "asha: below");
    cr_assert(isnan(all[1].test_em));
    cr_assert(!isnan(all[1].ended));
    /* an end that is no end */
    end.state = SW_STORE_TRIAL_RUNNING;
    cr_assert_eq(sw_store_search_finish(s, id, 0, "w1", 1, &end), SW_ERR_INVALID);
    sw_store_search_trial_list_free(all, n);
    sw_store_search_trial_clear(&t0), sw_store_search_trial_clear(&t1);
    sw_store_close(s);
}

/* Makes trial `number`'s heartbeat old, as if its worker died long ago. */
static void age(sw_store *s, int64_t id, int64_t number)
{
    (void)s;
    sw_db *db;
    sw_error e = {0};
    cr_assert_eq(sw_db_open(fx.location, fx.pg ? SW_DB_POSTGRES : SW_DB_SQLITE, 0, 1000, &db, &e), SW_OK, "%s", e.msg);
    sw_db_val p[] = {sw_db_int(id), sw_db_int(number)};
    cr_assert_eq(sw_db_exec(db, "UPDATE search_trials SET heartbeat = heartbeat - 1000 WHERE study_id = ? AND number = ?",
                            p, 2, NULL, &e), SW_OK, "%s", e.msg);
    sw_db_close(db);
}

STORE_TEST(search_stale_trials_are_requeued_then_failed)
{
    sw_store *s = fx_open(NULL);
    int64_t id = open_study(s, "st");
    sw_store_search_claim_options a = claim_opts("dead", 1), b = claim_opts("alive", 1);
    sw_store_claim out;
    sw_store_search_trial t;
    ST_OK(s, sw_store_search_claim(s, id, &a, &out, &t));
    cr_assert_eq(out, SW_STORE_CLAIM_TRIAL);
    sw_store_search_trial_clear(&t);
    int64_t run;
    ST_OK(s, sw_store_run_begin(s, NULL, &run));
    ST_OK(s, sw_store_search_set_run(s, id, 0, "dead", 1, run));
    /* fresh heartbeat: the other worker waits */
    ST_OK(s, sw_store_search_claim(s, id, &b, &out, &t));
    cr_assert_eq(out, SW_STORE_CLAIM_WAIT);
    /* stale: re-queued and claimed by the other worker, as its try 2 */
    age(s, id, 0);
    ST_OK(s, sw_store_search_claim(s, id, &b, &out, &t));
    cr_assert_eq(out, SW_STORE_CLAIM_TRIAL);
    cr_assert_eq(t.number, 0);
    cr_assert_eq(t.tries, 2);
    cr_assert_str_eq(t.worker, "alive");
    cr_assert_eq(t.run_id, 0, "the new try has no run yet");
    sw_store_search_trial_clear(&t);
    /* the dead worker's late updates change nothing */
    cr_assert_eq(sw_store_search_heartbeat(s, id, 0, "dead", 1), SW_ERR_STATE);
    cr_assert_eq(sw_store_search_report(s, id, 0, "dead", 1, 0, 5, 99.0, 5), SW_ERR_STATE);
    sw_store_search_end end = {SW_STORE_TRIAL_COMPLETED, 99.0, 99.0, 99.0, 5, 5, NULL};
    cr_assert_eq(sw_store_search_finish(s, id, 0, "dead", 1, &end), SW_ERR_STATE);
    cr_assert(strstr(sw_store_errmsg(s), "no longer this worker's"), "%s", sw_store_errmsg(s));
    ST_OK(s, sw_store_search_heartbeat(s, id, 0, "alive", 2));
    /* the second try dies too: max_tries = 2 reached, failed */
    age(s, id, 0);
    ST_OK(s, sw_store_search_claim(s, id, &a, &out, &t));
    cr_assert_eq(out, SW_STORE_CLAIM_DONE);
    sw_store_search_trial *all;
    size_t n;
    ST_OK(s, sw_store_search_trials(s, id, &all, &n));
    cr_assert_eq(all[0].state, SW_STORE_TRIAL_FAILED);
    cr_assert(strstr(all[0].reason, "stopped heartbeating on every try"), "%s", all[0].reason);
    sw_store_search_trial_list_free(all, n);
    /* the run is linked to the study: runs ls --study finds it */
    sw_store_run_filter f = {.study = "st"};
    sw_store_run *runs;
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 1);
    sw_store_run_list_free(runs, n);
    sw_store_close(s);
}

#define CLAIMERS 4
#define TRIALS 40

/* Claims until done, finishing each trial at once; writes the numbers it
 * got to its file. */
static int claimer(int k, int64_t id)
{
    sw_store *s;
    sw_error err = {0};
    if (sw_store_open(fx.location, &s, &err)) return 1;
    char name[16], path[4200];
    snprintf(name, sizeof name, "w%d", k);
    snprintf(path, sizeof path, "%s/claims-%d", fx.dir, k);
    FILE *f = fopen(path, "w");
    sw_store_search_claim_options o = claim_opts(name, TRIALS);
    for (;;) {
        sw_store_claim out;
        sw_store_search_trial t;
        if (sw_store_search_claim(s, id, &o, &out, &t)) {
            fprintf(stderr, "%s: %s\n", name, sw_store_errmsg(s));
            return 1;
        }
        if (out == SW_STORE_CLAIM_DONE) break;
        if (out == SW_STORE_CLAIM_WAIT) {
            usleep(1000);
            continue;
        }
        fprintf(f, "%lld\n", (long long)t.number);
        sw_store_search_end end = {SW_STORE_TRIAL_COMPLETED, 1, 1, 1, 10, 10, NULL};
        if (sw_store_search_finish(s, id, t.number, name, t.tries, &end)) return 1;
        sw_store_search_trial_clear(&t);
    }
    fclose(f);
    sw_store_close(s);
    return 0;
}

STORE_TEST(search_four_claimers_never_share_a_trial)
{
    sw_store *s = fx_open(NULL);
    int64_t id = open_study(s, "st");
    fflush(NULL);
    pid_t pids[CLAIMERS];
    for (int k = 0; k < CLAIMERS; k++) {
        pids[k] = fork();
        cr_assert_geq(pids[k], 0);
        if (!pids[k]) _exit(claimer(k, id));
    }
    for (int k = 0; k < CLAIMERS; k++) {
        int status;
        cr_assert_eq(waitpid(pids[k], &status, 0), pids[k]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "claimer %d failed", k);
    }
    int seen[TRIALS] = {0}, total = 0;
    for (int k = 0; k < CLAIMERS; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/claims-%d", fx.dir, k);
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f);
        long long num;
        while (fscanf(f, "%lld", &num) == 1) {
            cr_assert(num >= 0 && num < TRIALS);
            seen[num]++;
            total++;
        }
        fclose(f);
    }
    cr_assert_eq(total, TRIALS, "%d claims for %d trials", total, TRIALS);
    for (int i = 0; i < TRIALS; i++) cr_assert_eq(seen[i], 1, "trial %d claimed %d times", i, seen[i]);
    sw_store_search_trial *all;
    size_t n;
    ST_OK(s, sw_store_search_trials(s, id, &all, &n));
    cr_assert_eq(n, TRIALS);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(all[i].number, (int64_t)i);
        cr_assert_eq(all[i].tries, 1);
        cr_assert_eq(all[i].state, SW_STORE_TRIAL_COMPLETED);
    }
    sw_store_search_trial_list_free(all, n);
    sw_store_close(s);
}
