/* train/ + store/: a live run never reads as crashed, however low the
 * staleness threshold (STOPWISE_STALE_AFTER): the trainer derives its
 * heartbeat from it. It used to heartbeat every 15 s whatever the threshold,
 * so with a threshold of a few seconds a live run read crashed between
 * evaluations, and `train --resume` could take it over. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stopwise/nn.h"
#include "stopwise/store.h"
#include "stopwise/train.h"
#include "support.h"

typedef struct watch {
    const char *store;
    int checks, crashed, running;
} watch;

/* Between evaluations (about once a second) a second handle on the store
 * reads the run's status; then the callback sleeps 2.5 s (below the 3 s
 * threshold), so that without heartbeats the silence passes the threshold by
 * the second check. */
static void progress(const sw_train_progress *p, void *ud)
{
    watch *w = ud;
    if (p->is_eval) return;
    sw_store *s;
    sw_error e;
    cr_assert_eq(sw_store_open(w->store, &s, &e), SW_OK, "%s", e.msg);
    sw_store_run *runs;
    size_t n;
    cr_assert_eq(sw_store_runs_list(s, NULL, &runs, &n), SW_OK, "%s", sw_store_errmsg(s));
    cr_assert_eq(n, 1);
    w->checks++;
    w->crashed += runs[0].status == SW_RUN_CRASHED;
    w->running += runs[0].status == SW_RUN_RUNNING;
    sw_store_run_list_free(runs, n);
    sw_store_close(s);
    usleep(2500 * 1000);
}

Test(train_heartbeat, a_live_run_never_reads_crashed_with_a_low_threshold, .timeout = 300)
{
    setenv("STOPWISE_STALE_AFTER", "3", 1); /* the trainer's store and the watcher's */
    setenv("OMP_WAIT_POLICY", "passive", 0);
    const char *dir = sw_test_tmpdir();
    char store[4200], out[4200];
    snprintf(store, sizeof store, "%s/runs.db", dir);
    snprintf(out, sizeof out, "%s/run", dir);
    sw_train_options o = sw_train_default_options();
    o.data = "synthetic:copy:n=2000,len=5";
    o.model = "gpt:layers=1,d=32,heads=2";
#ifdef __SANITIZE_ADDRESS__
    o.budget = 120000; /* the sanitizer build steps several times slower */
#else
    o.budget = 2000000; /* about 6 s of steps on an idle core: 2 or more checks */
#endif
    o.eval_every = o.budget; /* one evaluation, at the end: no store writes but heartbeats before it */
    sw_threads_set(1); /* the host sets threads once (nn.h) */
    o.out_dir = out;
    o.store = store;
    watch w = {store, 0, 0, 0};
    sw_train_result res;
    sw_error err;
    cr_assert_eq(sw_train(&o, progress, &w, &res, &err), SW_OK, "%s", err.msg);
    cr_assert_str_eq(res.status, "completed");
    /* enough checks that the silence without heartbeats (1 s of training plus
     * 2.5 s asleep per check) passed the 3 s threshold at least once */
    cr_assert_geq(w.checks, 2, "only %d checks: the run was too short to tell", w.checks);
    cr_assert_eq(w.crashed, 0, "the live run read crashed at %d of %d checks", w.crashed, w.checks);
    cr_assert_eq(w.running, w.checks);
}

/* The derivation itself: a quarter of the threshold, at most 15 s. */
Test(train_heartbeat, the_interval_follows_the_threshold)
{
    const char *dir = sw_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/s.db", dir);
    static const struct { double stale, every; } cases[] = {{60, 15}, {3600, 15}, {8, 2}, {2, 0.5}, {0.1, 0.1}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        sw_store_options so;
        sw_store_options_default(&so);
        so.stale_after_s = cases[k].stale;
        sw_store *s;
        sw_error e;
        cr_assert_eq(sw_store_open_with(path, &so, &s, &e), SW_OK, "%s", e.msg);
        cr_assert_float_eq(sw_store_heartbeat_interval(s), cases[k].every, 1e-12, "stale %g", cases[k].stale);
        sw_store_close(s);
    }
}
