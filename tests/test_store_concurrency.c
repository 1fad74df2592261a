/* store/: eight processes logging 2,000 evaluations each into one fresh
 * store at once (all eight also create it at once): every row lands, none is
 * duplicated, and no lock error reaches a writer. Both backends. */
#include <signal.h>
#include <sys/wait.h>

#include "store/db.h"
#include "store_fixture.h"

#define WRITERS 8
#define EVALS 2000

static int writer(int k)
{
    sw_store_options o;
    sw_store_options_default(&o);
    o.eval_batch = 4; /* more, smaller transactions: more lock contention */
    sw_store *s;
    sw_error err = {0};
    if (sw_store_open_with(fx.location, &o, &s, &err)) {
        fprintf(stderr, "writer %d: open: %s\n", k, err.msg);
        return 1;
    }
    char name[32];
    snprintf(name, sizeof name, "writer %d", k);
    sw_store_run_info info = {.name = name, .task = "concurrency"};
    int64_t id;
    if (sw_store_run_begin(s, &info, &id)) {
        fprintf(stderr, "writer %d: begin: %s\n", k, sw_store_errmsg(s));
        return 1;
    }
    for (int i = 0; i < EVALS; i++) {
        sw_store_metric m = {"writer", k};
        sw_store_eval e = {(uint64_t)(i + 1) * 100, i, i * 0.01, i % 100, 1.0 / (i + 1), 2.0, &m, 1};
        if (sw_store_log_eval(s, id, &e)) {
            fprintf(stderr, "writer %d: eval %d: %s\n", k, i, sw_store_errmsg(s));
            return 1;
        }
    }
    sw_store_run_result res = {SW_RUN_COMPLETED, NULL, NULL, EVALS * 100, 100, 99, 99, 98};
    if (sw_store_run_end(s, id, &res)) {
        fprintf(stderr, "writer %d: end: %s\n", k, sw_store_errmsg(s));
        return 1;
    }
    sw_store_close(s);
    return 0;
}

STORE_TEST(eight_writers_at_once)
{
    fflush(NULL);
    pid_t pids[WRITERS];
    for (int k = 0; k < WRITERS; k++) {
        pids[k] = fork();
        cr_assert_geq(pids[k], 0, "fork");
        if (pids[k] == 0) _exit(writer(k));
    }
    int status[WRITERS];
    for (int k = 0; k < WRITERS; k++) /* all of them, before judging any */
        cr_assert_eq(waitpid(pids[k], &status[k], 0), pids[k]);
    for (int k = 0; k < WRITERS; k++)
        cr_assert(WIFEXITED(status[k]) && WEXITSTATUS(status[k]) == 0,
                  "writer %d failed (status %d); see its message above", k, status[k]);
    sw_store *s = fx_open(NULL);
    sw_store_run *runs;
    size_t n;
    ST_OK(s, sw_store_runs_list(s, NULL, &runs, &n));
    cr_assert_eq(n, WRITERS);
    int seen[WRITERS] = {0};
    for (size_t r = 0; r < n; r++) {
        cr_assert_eq(runs[r].status, SW_RUN_COMPLETED);
        cr_assert_eq(runs[r].n_evals, EVALS);
        sw_store_curve c;
        ST_OK(s, sw_store_curve_get(s, runs[r].id, &c));
        cr_assert_eq(c.n, EVALS);
        int k = (int)c.evals[0].metrics[0].value;
        cr_assert(k >= 0 && k < WRITERS && !seen[k], "writer %d twice", k);
        seen[k] = 1;
        for (size_t i = 0; i < c.n; i++) {
            cr_assert_eq(c.evals[i].tokens, (i + 1) * 100, "run %lld eval %zu", (long long)runs[r].id, i);
            cr_assert_eq(c.evals[i].step, (int64_t)i);
            cr_assert_eq(c.evals[i].n_metrics, 1);
            cr_assert_eq(c.evals[i].metrics[0].value, k);
        }
        sw_store_curve_clear(&c);
    }
    sw_store_run_list_free(runs, n);
    sw_store_close(s);

    /* and counted by the database itself: every row once */
    sw_db *db;
    sw_error err = {0};
    cr_assert_eq(sw_db_open(fx.location, fx.pg ? SW_DB_POSTGRES : SW_DB_SQLITE, 0, 1000, &db, &err), SW_OK, "%s",
                 err.msg);
    sw_db_result res;
    cr_assert_eq(sw_db_exec(db,
                            "SELECT (SELECT COUNT(*) FROM evals), "
                            "(SELECT COUNT(*) FROM (SELECT DISTINCT run_id, tokens FROM evals) d), "
                            "(SELECT COUNT(*) FROM eval_metrics), (SELECT COUNT(*) FROM schema_version)",
                            NULL, 0, &res, &err),
                 SW_OK, "%s", err.msg);
    cr_assert_eq(sw_db_get_int(&res, 0, 0), WRITERS * EVALS);
    cr_assert_eq(sw_db_get_int(&res, 0, 1), WRITERS * EVALS, "no duplicated evaluation");
    cr_assert_eq(sw_db_get_int(&res, 0, 2), WRITERS * EVALS);
    cr_assert_eq(sw_db_get_int(&res, 0, 3), SW_STORE_SCHEMA_VERSION, "the schema was created once");
    sw_db_result_free(&res);
    sw_db_close(db);
}
