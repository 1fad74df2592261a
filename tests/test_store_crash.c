/* store/: a process logging evaluations is killed with SIGKILL mid-way. The
 * store opens cleanly, the run reads crashed once its heartbeat is stale,
 * every batch committed before the kill is there whole (and no half batch),
 * and the run can be resumed, then removed. Both backends. */
#include <math.h>
#include <signal.h>
#include <sys/wait.h>

#include "store_fixture.h"

#define BATCH 10

static void put(int fd, int64_t v)
{
    if (write(fd, &v, sizeof v) != (ssize_t)sizeof v) _exit(4);
}

/* Logs evaluations forever, telling the parent the run id and then, after
 * each flush, how many evaluations are committed. */
static int logger(int fd)
{
    sw_store_options o;
    sw_store_options_default(&o);
    o.eval_batch = BATCH;
    o.flush_interval_s = 3600;
    sw_store *s;
    sw_error err = {0};
    if (sw_store_open_with(fx.location, &o, &s, &err)) return 2;
    sw_store_run_info info = {.name = "doomed", .task = "crash"};
    int64_t id;
    if (sw_store_run_begin(s, &info, &id)) return 2;
    put(fd, id);
    for (int64_t i = 0; i < 10000000; i++) {
        sw_store_metric m = {"phone_error", 1.0 / (double)(i + 1)};
        sw_store_eval e = {(uint64_t)(i + 1) * 10, i, (double)i, (double)(i % 100), 1.0, 1.0, &m, 1};
        if (sw_store_log_eval(s, id, &e)) return 3;
        if ((i + 1) % BATCH == 0) put(fd, i + 1);
    }
    return 5;
}

static int64_t get(int fd)
{
    int64_t v;
    size_t got = 0;
    while (got < sizeof v) {
        ssize_t r = read(fd, (char *)&v + got, sizeof v - got);
        cr_assert_gt(r, 0, "the logger died early");
        got += (size_t)r;
    }
    return v;
}

STORE_TEST(sigkill_mid_logging)
{
    sw_store_close(fx_open(NULL));
    int p[2];
    cr_assert_eq(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(p[0]);
        _exit(logger(p[1]));
    }
    close(p[1]);
    int64_t id = get(p[0]);
    int64_t committed = 0;
    while (committed < 300) committed = get(p[0]);
    cr_assert_eq(kill(pid, SIGKILL), 0);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the logger was killed, not exited (%d)", st);
    close(p[0]);

    sw_store_options o;
    sw_store_options_default(&o);
    o.stale_after_s = 0.3;
    usleep(600 * 1000);
    sw_store *s = fx_open(&o);
    sw_store_run r;
    ST_OK(s, sw_store_run_get(s, id, &r));
    cr_assert_eq(r.status, SW_RUN_CRASHED);
    cr_assert_geq(r.n_evals, committed, "every evaluation committed before the kill is there");
    cr_assert_eq(r.n_evals % BATCH, 0, "no half-written batch (%lld evaluations)", (long long)r.n_evals);
    cr_assert_eq(r.tokens, (uint64_t)r.n_evals * 10);
    int64_t n_before = r.n_evals;
    sw_store_run_clear(&r);
    sw_store_run_filter f = {.has_status = 1, .status = SW_RUN_CRASHED};
    sw_store_run *runs;
    size_t n;
    ST_OK(s, sw_store_runs_list(s, &f, &runs, &n));
    cr_assert_eq(n, 1);
    cr_assert_eq(runs[0].id, id);
    sw_store_run_list_free(runs, n);

    sw_store_curve c;
    ST_OK(s, sw_store_curve_get(s, id, &c));
    cr_assert_eq((int64_t)c.n, n_before);
    for (size_t i = 0; i < c.n; i++) {
        cr_assert_eq(c.evals[i].tokens, (i + 1) * 10, "eval %zu", i);
        cr_assert_eq(c.evals[i].n_metrics, 1, "eval %zu keeps its metrics", i);
    }
    sw_store_curve_clear(&c);

    /* resume where it was and go on */
    ST_OK(s, sw_store_run_resume(s, id, SW_STORE_KEEP_ALL));
    ST_OK(s, sw_store_run_get(s, id, &r));
    cr_assert_eq(r.status, SW_RUN_RUNNING);
    sw_store_run_clear(&r);
    sw_store_eval e = {(uint64_t)(n_before + 1) * 10, n_before, 0, 50, 1, 1, NULL, 0};
    ST_OK(s, sw_store_log_eval(s, id, &e));
    ST_OK(s, sw_store_curve_get(s, id, &c));
    cr_assert_eq((int64_t)c.n, n_before + 1);
    cr_assert_eq(c.evals[c.n - 1].tokens, (uint64_t)(n_before + 1) * 10);
    sw_store_curve_clear(&c);
    sw_store_run_result res = {SW_RUN_STOPPED, "patience", "resumed and stopped", (uint64_t)(n_before + 1) * 10, 10, 99,
                         99, NAN};
    ST_OK(s, sw_store_run_end(s, id, &res));
    /* or remove it */
    ST_OK(s, sw_store_run_remove(s, id));
    cr_assert_eq(sw_store_run_get(s, id, &r), SW_ERR_NOT_FOUND);
    sw_store_close(s);
}
