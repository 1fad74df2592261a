/* Online mode on scripted audits; the store wrappers; `--stop auto`'s choice. */
#include "stopwise/store.h"
#include "stopwise/tune.h"
#include "support.h"
#include "tune_fixture.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(tune_online, audits_every_nth_run_starting_with_the_first)
{
    sw_online_state s;
    sw_online_init(&s, 1000000, 4, 0.5);
    char p[256];
    int audit, audits = 0;
    for (int r = 0; r < 12; r++) {
        sw_online_next(&s, p, sizeof p, &audit);
        cr_assert_eq(audit, r % 4 == 0, "run %d", r);
        if (audit)
            cr_assert_str_eq(p, "none");
        else
            cr_assert_str_eq(p, s.ladder[s.level]);
        audits += audit;
    }
    cr_assert_eq(audits, 3);
    cr_assert_eq(s.runs, 12);
    cr_assert_str_eq(s.ladder[0], "patience=30,diverge,warmup=100000");
}

Test(tune_online, moves_up_on_good_audits_and_backs_off_after_a_bad_one)
{
    sw_online_state s;
    sw_online_init(&s, 1000000, 4, 0.5);
    cr_assert_eq(s.level, 0);
    /* good audits the next level would also pass: one step each */
    for (int i = 1; i <= 5; i++) {
        sw_online_apply(&s, 0.0, 0.2, 0.5);
        cr_assert_eq(s.level, i);
    }
    /* good, but the next level would have lost too much: stay */
    sw_online_apply(&s, 0.3, 1.5, 0.4);
    cr_assert_eq(s.level, 5);
    /* a bad audit: back off two levels, and do not climb past 4 */
    sw_online_apply(&s, 2.0, 3.0, 0.3);
    cr_assert_eq(s.level, 3);
    cr_assert_eq(s.ceiling, 4);
    sw_online_apply(&s, 0.0, 0.0, 0.5);
    cr_assert_eq(s.level, 4);
    sw_online_apply(&s, 0.0, 0.0, 0.5);
    cr_assert_eq(s.level, 4, "held at the ceiling");
    /* the third good audit in a row lifts the ceiling by one */
    sw_online_apply(&s, 0.0, 0.0, 0.5);
    cr_assert_eq(s.ceiling, 5);
    cr_assert_eq(s.level, 5);
    /* a NaN shortfall counts as bad; the floor is level 0 */
    sw_online_apply(&s, NAN, NAN, NAN);
    cr_assert_eq(s.level, 3);
    sw_online_apply(&s, 9, 9, 1);
    sw_online_apply(&s, 9, 9, 1);
    cr_assert_eq(s.level, 0);
    cr_assert_eq(s.n_history, 13);
    cr_assert_eq(s.history[6].level_before, 5);
    cr_assert_eq(s.history[6].level_after, 3);
    /* the JSON round trip keeps everything */
    char *j = sw_online_to_json(&s);
    cr_assert_not_null(j);
    sw_online_state t;
    sw_error e;
    cr_assert_eq(sw_online_from_json(j, &t, &e), SW_OK, "%s", e.msg);
    cr_assert_eq(t.level, s.level);
    cr_assert_eq(t.ceiling, s.ceiling);
    cr_assert_eq(t.n_ladder, s.n_ladder);
    cr_assert_eq(t.n_history, s.n_history);
    cr_assert_str_eq(t.ladder[3], s.ladder[3]);
    cr_assert_eq(t.history[0].shortfall, 0.0);
    free(j);
    cr_assert_eq(sw_online_from_json("{\"ladder\":[]}", &t, &e), SW_ERR_FORMAT);
    cr_assert_eq(sw_online_from_json("not json", &t, &e), SW_ERR_FORMAT);
}

Test(tune_online, an_audited_curve_is_replayed_under_the_current_and_next_level)
{
    sw_online_state s;
    sw_online_init(&s, 1000000, 4, 0.5);
    /* plateau 7 then +2: patience 30, 20, 15, 10, 8 are safe; 6 is not */
    sw_curve *c = fx_stair_curve(7, 2, 1000000);
    sw_error e;
    int levels[8];
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(sw_online_audit_curve(&s, c, 1000000, &e), SW_OK, "%s", e.msg);
        levels[i] = s.level;
    }
    /* climbs to patience=8 (level 4) and stays: level 5 (patience 6) would lose 2 */
    cr_assert_eq(levels[0], 1);
    cr_assert_eq(levels[3], 4);
    cr_assert_eq(levels[7], 4);
    cr_assert_str_eq(s.ladder[s.level], "patience=8,diverge,warmup=100000");
    cr_assert_float_eq(s.history[7].next_shortfall, 2.0, 1e-12);
    /* a harder curve: even patience 8 fails (plateau 9): back off */
    sw_curve *hard = fx_stair_curve(9, 2, 1000000);
    cr_assert_eq(sw_online_audit_curve(&s, hard, 1000000, &e), SW_OK, "%s", e.msg);
    cr_assert_eq(s.level, 2);
    sw_curve_free(c);
    sw_curve_free(hard);
}

Test(tune_online, state_and_tuned_policy_live_in_the_store)
{
    const char *dir = sw_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/s.db", dir);
    sw_store *st;
    sw_error e;
    cr_assert_eq(sw_store_open(path, &st, &e), SW_OK, "%s", e.msg);
    char key[512];
    cr_assert_eq(sw_tune_task_key("synthetic:addition", NULL, 2000000, NULL, 0, key, sizeof key, &e), SW_OK);
    cr_assert(strstr(key, "synthetic:addition|default|"), "%s", key);

    char pol[512], why[1024];
    int tuned = -1;
    cr_assert_eq(sw_tune_policy_for_task(st, key, 2000000, pol, sizeof pol, why, sizeof why, &tuned, &e), SW_OK);
    cr_assert_eq(tuned, 0);
    cr_assert_str_eq(pol, "patience=10,diverge,warmup=200000");
    cr_assert(strstr(why, "conservative default"), "%s", why);
    cr_assert_eq(sw_store_policy_put(st, key, "patience=4,diverge", "{\"cv_tokens_fraction\":0.4,\"cv_shortfall\":0.2}"),
                 SW_OK);
    cr_assert_eq(sw_tune_policy_for_task(st, key, 2000000, pol, sizeof pol, why, sizeof why, &tuned, &e), SW_OK);
    cr_assert_eq(tuned, 1);
    cr_assert_str_eq(pol, "patience=4,diverge");
    cr_assert(strstr(why, "40%") && strstr(why, "0.20"), "%s", why);

    int audit;
    cr_assert_eq(sw_online_begin(st, key, 1000000, 2, 0.5, pol, sizeof pol, &audit, why, sizeof why, &e), SW_OK,
                 "%s", e.msg);
    cr_assert_eq(audit, 1);
    cr_assert_str_eq(pol, "none");
    sw_curve *c = fx_stair_curve(7, 2, 1000000);
    cr_assert_eq(sw_online_record(st, key, c, 1000000, why, sizeof why, &e), SW_OK, "%s", e.msg);
    cr_assert(strstr(why, "level 1 -> 2"), "%s", why);
    cr_assert_eq(sw_online_begin(st, key, 1000000, 2, 0.5, pol, sizeof pol, &audit, why, sizeof why, &e), SW_OK);
    cr_assert_eq(audit, 0);
    cr_assert_str_eq(pol, "patience=20,diverge,warmup=100000");
    char *json;
    cr_assert_eq(sw_store_state_get(st, key, &json), SW_OK);
    sw_online_state s;
    cr_assert_eq(sw_online_from_json(json, &s, &e), SW_OK);
    cr_assert_eq(s.runs, 2);
    cr_assert_eq(s.audit_every, 2);
    cr_assert_eq(s.n_history, 1);
    free(json);
    sw_curve_free(c);
    sw_store_close(st);
}

/* Found by fuzz_online: a stored state with runs = INT64_MAX read back, and
 * the next run's runs++ overflowed (undefined behaviour); audit levels were
 * read unchecked and used as ladder indices and printed as level + 1. */
Test(tune_online, stored_counts_and_levels_are_range_checked)
{
    sw_online_state s, t;
    sw_online_init(&s, 1000000, 4, 0.5);
    sw_online_apply(&s, 0.1, 0.2, 0.5);
    char *j = sw_online_to_json(&s);
    cr_assert_not_null(j);
    sw_error e = {0};
    cr_assert_eq(sw_online_from_json(j, &t, &e), SW_OK, "%s", e.msg);
    static const struct { const char *from, *to; } bad[] = {
        {"\"runs\":0", "\"runs\":9223372036854775807"},
        {"\"runs\":0", "\"runs\":-1"},
        {"\"level_before\":0", "\"level_before\":2147483647"},
        {"\"level_after\":1", "\"level_after\":10"},
        {"\"good_streak\":1", "\"good_streak\":4294967297"},
        {"\"audit_every\":4", "\"audit_every\":4294967300"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *at = strstr(j, bad[i].from);
        cr_assert_not_null(at, "%s in %s", bad[i].from, j);
        char edited[4096];
        snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - j), j, bad[i].to, at + strlen(bad[i].from));
        cr_assert_eq(sw_online_from_json(edited, &t, &e), SW_ERR_FORMAT, "%s", bad[i].to);
        cr_assert(strstr(e.msg, "out of range"), "%s", e.msg);
    }
    free(j);
}

/* ---- concurrent online runs of one task on one store (both backends) ---------------- */

#include "store_fixture.h"
#include <sys/wait.h>

#define ONLINE_WORKERS 4
#define ONLINE_RUNS 12 /* per worker; 48 runs, 12 audits (< SW_ONLINE_MAX_HISTORY) */

/* One worker: ONLINE_RUNS online runs, recording an audit after each audited
 * begin, as `stopwise train --online` does. Exit status 0 on success. */
static int online_worker(int k, const char *key)
{
    sw_store *st;
    sw_error e = {0};
    if (sw_store_open(fx.location, &st, &e)) {
        fprintf(stderr, "worker %d: open: %s\n", k, e.msg);
        return 1;
    }
    sw_curve *c = fx_stair_curve(7, 2, 1000000);
    for (int i = 0; i < ONLINE_RUNS; i++) {
        char pol[512], why[1024];
        int audit;
        if (sw_online_begin(st, key, 1000000, 4, 0.5, pol, sizeof pol, &audit, why, sizeof why, &e)) {
            fprintf(stderr, "worker %d: begin: %s\n", k, e.msg);
            return 1;
        }
        if (audit && sw_online_record(st, key, c, 1000000, why, sizeof why, &e)) {
            fprintf(stderr, "worker %d: record: %s\n", k, e.msg);
            return 1;
        }
    }
    sw_curve_free(c);
    sw_store_close(st);
    return 0;
}

/* Read, change and write back must be one transaction: otherwise two workers
 * read the same state, both write, and one's run count and audit are lost. */
STORE_TEST(concurrent_online_runs_lose_no_run_and_no_audit)
{
    const char *key = "synthetic:addition|default|concurrent";
    sw_store_close(fx_open(NULL)); /* create the schema before the workers race */
    fflush(NULL);
    pid_t pids[ONLINE_WORKERS];
    for (int k = 0; k < ONLINE_WORKERS; k++) {
        pids[k] = fork();
        cr_assert_geq(pids[k], 0, "fork");
        if (pids[k] == 0) _exit(online_worker(k, key));
    }
    int status[ONLINE_WORKERS];
    for (int k = 0; k < ONLINE_WORKERS; k++) cr_assert_eq(waitpid(pids[k], &status[k], 0), pids[k]);
    for (int k = 0; k < ONLINE_WORKERS; k++)
        cr_assert(WIFEXITED(status[k]) && WEXITSTATUS(status[k]) == 0, "worker %d failed (status %d)", k, status[k]);
    sw_store *st = fx_open(NULL);
    char *json;
    ST_OK(st, sw_store_state_get(st, key, &json));
    sw_online_state s;
    sw_error e = {0};
    cr_assert_eq(sw_online_from_json(json, &s, &e), SW_OK, "%s", e.msg);
    free(json);
    cr_assert_eq(s.runs, ONLINE_WORKERS * ONLINE_RUNS, "runs lost: %lld of %d", (long long)s.runs,
                 ONLINE_WORKERS * ONLINE_RUNS);
    /* every 4th run is an audit, and each audit was recorded once */
    cr_assert_eq(s.n_history, ONLINE_WORKERS * ONLINE_RUNS / 4, "audits lost: %d of %d", s.n_history,
                 ONLINE_WORKERS * ONLINE_RUNS / 4);
    sw_store_close(st);
}
