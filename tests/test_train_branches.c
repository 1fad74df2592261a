/* train/: a trunk and its cooldown branches (branch.c, ANNEAL.md): the trunk
 * ends bit-identical to a run without forks; the branches' bookkeeping
 * (counts, fork rows, tokens, curve.csv columns, branch runs in the store and
 * the trunk's joined curve) adds up. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stopwise/nn.h"
#include "stopwise/stop.h"
#include "stopwise/store.h"
#include "stopwise/train.h"
#include "checkpoint_params.h"
#include "support.h"

#define BUDGET 40000
static const double cools[] = {0.1, 0.2};
static const sw_decay_shape shapes[] = {SW_DECAY_LINEAR, SW_DECAY_SQRT};

static sw_train_options trunk(const char *dir, const char *name, int forks)
{
    static char out[2][8400];
    char *o_dir = out[forks ? 1 : 0];
    snprintf(o_dir, sizeof out[0], "%s/%s", dir, name);
    sw_train_options o = sw_train_default_options();
    o.data = "synthetic:copy:n=300,len=4";
    o.model = "gpt:layers=1,d=16,heads=2,dropout=0.1"; /* dropout: the step count must be restored too */
    /* the trunk's own schedule: constant over the budget (what --forks sets) */
    o.schedule = "wsd:lr=3e-3,min=0.01,decay_start=80k,decay_tokens=40k";
    o.budget = BUDGET;
    o.eval_every = 2000;
    o.eval_limit = 32;
    o.batch = 16;
    sw_threads_set(1); /* the host sets threads once (nn.h) */
    o.out_dir = o_dir;
    o.forks = forks;
    o.branch_cooldowns = cools;
    o.n_branch_cooldowns = 2;
    o.branch_shapes = shapes;
    o.n_branch_shapes = 2;
    return o;
}

static sw_curve *read_curve(const char *dir)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/curve.csv", dir);
    sw_curve *c;
    sw_error err;
    cr_assert_eq(sw_curve_read_csv(path, &c, &err), SW_OK, "%s", err.msg);
    return c;
}

Test(train_branches, trunk_is_unaffected_and_bookkeeping_adds_up, .timeout = 300)
{
    const char *tmp = sw_test_tmpdir();
    char dir[4096], store[8400];
    snprintf(dir, sizeof dir, "%s", tmp);
    snprintf(store, sizeof store, "%s/s.db", dir);
    sw_train_options plain = trunk(dir, "plain", 0), forked = trunk(dir, "forked", 10);
    forked.store = store;
    forked.eval_test = SIZE_MAX; /* scoring the test split must not perturb training either */
    sw_train_result ra, rb;
    sw_error err = {0};
    cr_assert_eq(sw_train(&plain, NULL, NULL, &ra, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_train(&forked, NULL, NULL, &rb, &err), SW_OK, "%s", err.msg);

    /* the trunk: same bytes, same curve, same tokens */
    const char *files[] = {"last.safetensors", "best.safetensors"};
    for (int f = 0; f < 2; f++) {
        char a[8400], b[8400];
        snprintf(a, sizeof a, "%s/%s", plain.out_dir, files[f]);
        snprintf(b, sizeof b, "%s/%s", forked.out_dir, files[f]);
        float *pa, *pb;
        size_t na, nb;
        params_of(a, &pa, &na);
        params_of(b, &pb, &nb);
        cr_assert_eq(na, nb);
        cr_assert_eq(memcmp(pa, pb, sizeof(float) * na), 0, "%s differs with forks", files[f]);
        free(pa);
        free(pb);
    }
    cr_assert_eq(ra.tokens, rb.tokens, "branch tokens are not the trunk's");
    cr_assert_eq(ra.val_em, rb.val_em);
    cr_assert_eq(ra.branches, 0);
    sw_curve *ca = read_curve(plain.out_dir), *cb = read_curve(forked.out_dir);
    size_t n = sw_curve_len(ca);
    cr_assert_eq(sw_curve_len(cb), n);
    const char *same[] = {"val_em", "val_loss", "train_loss"};
    for (int k = 0; k < 3; k++) {
        const double *x = sw_curve_column(ca, same[k], NULL), *y = sw_curve_column(cb, same[k], NULL);
        for (size_t i = 0; i < n; i++) {
            cr_assert_eq(sw_curve_tokens(ca)[i], sw_curve_tokens(cb)[i]);
            cr_assert(x[i] == y[i] || (isnan(x[i]) && isnan(y[i])), "%s row %zu", same[k], i);
        }
    }

    /* the branches: 10 forks x 4 families */
    cr_assert_eq(rb.branches, 40);
    const uint64_t *tok = sw_curve_tokens(cb);
    uint64_t sum = 0;
    char name[160];
    size_t fork_rows[10], nf = 0;
    for (int c = 0; c < 2; c++)
        for (int s = 0; s < 2; s++) {
            const char *sh = sw_decay_shape_name(shapes[s]);
            sw_store_annealed_name("val_em", cools[c], sh, name, sizeof name);
            const unsigned char *pv, *pt;
            const double *em = sw_curve_column(cb, name, &pv);
            cr_assert_not_null(em, "no column %s", name);
            sw_store_annealed_name(NULL, cools[c], sh, name, sizeof name);
            const double *at = sw_curve_column(cb, name, &pt);
            cr_assert_not_null(at, "no column %s", name);
            sw_store_annealed_name("test_em", cools[c], sh, name, sizeof name);
            cr_assert_not_null(sw_curve_column(cb, name, NULL), "no column %s", name);
            size_t count = 0;
            for (size_t i = 0; i < n; i++) {
                cr_assert_eq(pv[i], pt[i]);
                if (!pv[i]) continue;
                /* the first evaluation at or past each multiple of B/10 */
                uint64_t point = (count + 1) * (BUDGET / 10);
                cr_assert_geq(tok[i], point, "fork %zu at %llu", count, (unsigned long long)tok[i]);
                cr_assert(i == 0 || tok[i - 1] < point, "fork %zu is late", count);
                if (c == 0 && s == 0) fork_rows[nf++] = i;
                else cr_assert_eq(fork_rows[count], i, "every family forks at the same rows");
                /* c x T tokens, rounded up to whole batches (16 examples x 9 tokens) */
                double want = cools[c] * (double)tok[i];
                cr_assert(at[i] >= want && at[i] < want + 16 * 9 + 1, "anneal %g for c x T = %g", at[i], want);
                cr_assert(em[i] >= 0 && em[i] <= 100);
                sum += (uint64_t)at[i];
                count++;
            }
            cr_assert_eq(count, 10, "%zu forks for c=%g %s", count, cools[c], sh);
        }
    cr_assert_eq(rb.branch_tokens, sum, "branch tokens add up");

    /* --eval-test all: the trunk's test_em at the best row is the final report's */
    const double *test = sw_curve_column(cb, "test_em", NULL);
    cr_assert_not_null(test, "no test_em column with eval_test");
    size_t best_row = n;
    for (size_t i = 0; i < n; i++)
        if (tok[i] == rb.best_tokens) best_row = i;
    cr_assert_lt(best_row, n);
    cr_assert_float_eq(test[best_row], rb.test_em, 1e-6, "test_em at the best row %g, final report %g", test[best_row],
                       rb.test_em);

    /* the store: a trunk run and 40 branch runs, joined back into the trunk's curve */
    sw_store *s;
    cr_assert_eq(sw_store_open(store, &s, &err), SW_OK, "%s", err.msg);
    sw_store_run tr;
    cr_assert_eq(sw_store_run_get(s, rb.run_id, &tr), SW_OK);
    cr_assert_eq(tr.tokens, rb.tokens);
    cr_assert_eq(tr.parent_run_id, 0);
    sw_store_run_clear(&tr);
    sw_store_run_filter f = {.parent_run_id = rb.run_id};
    sw_store_run *runs;
    size_t nr;
    cr_assert_eq(sw_store_runs_list(s, &f, &runs, &nr), SW_OK);
    cr_assert_eq(nr, 40);
    uint64_t stored = 0;
    for (size_t i = 0; i < nr; i++) {
        int found = 0;
        for (size_t k = 0; k < nf; k++) found |= runs[i].fork_tokens == tok[fork_rows[k]];
        cr_assert(found, "branch %lld forks at %llu, not a fork row", (long long)runs[i].id,
                  (unsigned long long)runs[i].fork_tokens);
        cr_assert_eq(runs[i].status, SW_RUN_COMPLETED);
        stored += runs[i].tokens;
    }
    cr_assert_eq(stored, rb.branch_tokens, "a branch run's tokens are its cooldown's");
    sw_store_run_list_free(runs, nr);
    sw_store_curve sc;
    cr_assert_eq(sw_store_curve_get_joined(s, rb.run_id, &sc), SW_OK);
    cr_assert_eq(sc.n, n);
    sw_store_annealed_name("val_em", 0.2, "sqrt", name, sizeof name);
    const double *em = sw_curve_column(cb, name, NULL);
    for (size_t k = 0; k < nf; k++) {
        const sw_store_eval *e = &sc.evals[fork_rows[k]];
        const double *v = NULL;
        for (size_t m = 0; m < e->n_metrics; m++)
            if (!strcmp(e->metrics[m].name, name)) v = &e->metrics[m].value;
        cr_assert(v && fabs(*v - em[fork_rows[k]]) < 1e-6, "joined %s at row %zu", name, fork_rows[k]);
        cr_assert_eq(e->n_metrics, 4 * 3 + 7,
                     "4 families x 3 columns + the trunk's val_per, lr, cooldown, forecast_em, forecast_lo, "
                     "forecast_hi, test_em");
    }
    sw_store_curve_clear(&sc);
    sw_store_close(s);
    sw_curve_free(ca);
    sw_curve_free(cb);
}

/* An interrupted trunk resumes with its finished branches and its next fork
 * point: the weights, the curve with every annealed cell and the branch runs
 * in the store are those of a trunk that was never interrupted, and no branch
 * is trained twice. Interrupted twice: once between forks, once right after
 * one. */
Test(train_branches, an_interrupted_trunk_resumes_with_its_branches, .timeout = 300)
{
    char dir[4096], store[8400];
    snprintf(dir, sizeof dir, "%s", sw_test_tmpdir());
    snprintf(store, sizeof store, "%s/s.db", dir);
    sw_train_options whole = trunk(dir, "whole", 10);
    sw_train_result ra, rb;
    sw_error err = {0};
    cr_assert_eq(sw_train(&whole, NULL, NULL, &ra, &err), SW_OK, "%s", err.msg);
    static char out_b[8400];
    snprintf(out_b, sizeof out_b, "%s/resumed", dir);
    const uint64_t stops[] = {17000, 24000, 0}; /* forks every 4000 tokens: 17000 is between, 24000 one */
    uint64_t tokens_before = 0;
    /* the interrupted part ran in this very process, which is alive: its row
     * is taken back once its heartbeat is stale, as after a crash */
    setenv("STOPWISE_STALE_AFTER", "0.05", 1);
    for (int k = 0; k < 3; k++) {
        if (k) usleep(100000);
        sw_train_options o = trunk(dir, "resumed", 10);
        o.out_dir = out_b;
        o.store = store;
        o.stop_after = stops[k];
        o.resume = k > 0;
        cr_assert_eq(sw_train(&o, NULL, NULL, &rb, &err), SW_OK, "part %d: %s", k, err.msg);
        if (stops[k]) {
            cr_assert_str_eq(rb.status, "interrupted");
            cr_assert_gt(rb.tokens, tokens_before);
            tokens_before = rb.tokens;
        }
    }
    cr_assert_eq(rb.branches, ra.branches);
    cr_assert_eq(rb.branch_tokens, ra.branch_tokens, "no branch trained twice, none left out");
    cr_assert_eq(rb.tokens, ra.tokens);
    char a[8400], b[8400];
    snprintf(a, sizeof a, "%s/last.safetensors", whole.out_dir);
    snprintf(b, sizeof b, "%s/last.safetensors", out_b);
    float *pa, *pb;
    size_t na, nb;
    params_of(a, &pa, &na);
    params_of(b, &pb, &nb);
    cr_assert_eq(na, nb);
    cr_assert_eq(memcmp(pa, pb, sizeof(float) * na), 0, "the resumed trunk's weights differ");
    free(pa);
    free(pb);
    sw_curve *ca = read_curve(whole.out_dir), *cb = read_curve(out_b);
    size_t n = sw_curve_len(ca);
    cr_assert_eq(sw_curve_len(cb), n);
    char name[160];
    for (int c = 0; c < 2; c++)
        for (int sh = 0; sh < 2; sh++)
            for (int col = 0; col < 2; col++) {
                sw_store_annealed_name(col ? NULL : "val_em", cools[c], sw_decay_shape_name(shapes[sh]), name,
                                       sizeof name);
                const unsigned char *pa_, *pb_;
                const double *x = sw_curve_column(ca, name, &pa_), *y = sw_curve_column(cb, name, &pb_);
                cr_assert(x && y, "no column %s", name);
                for (size_t i = 0; i < n; i++) {
                    cr_assert_eq(pa_[i], pb_[i], "%s row %zu: present in one curve only", name, i);
                    cr_assert(!pa_[i] || x[i] == y[i], "%s row %zu: %g resumed, %g whole", name, i, y[i], x[i]);
                }
            }
    sw_curve_free(ca);
    sw_curve_free(cb);
    sw_store *s;
    cr_assert_eq(sw_store_open(store, &s, &err), SW_OK, "%s", err.msg);
    sw_store_run_filter f = {.parent_run_id = rb.run_id};
    sw_store_run *runs;
    size_t nr;
    cr_assert_eq(sw_store_runs_list(s, &f, &runs, &nr), SW_OK);
    cr_assert_eq(nr, (size_t)ra.branches, "one branch run per branch, none stored twice");
    sw_store_run_list_free(runs, nr);
    sw_store_close(s);
}

/* A resumed run must have had forks exactly when this one has. */
Test(train_branches, resume_refuses_a_run_without_forks, .timeout = 120)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", sw_test_tmpdir());
    sw_train_options o = trunk(dir, "mixed", 0);
    o.stop_after = 6000;
    sw_train_result res;
    sw_error err = {0};
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    sw_train_options f = trunk(dir, "mixed", 10);
    f.out_dir = o.out_dir;
    f.resume = 1;
    sw_status st = sw_train(&f, NULL, NULL, &res, &err);
    cr_assert_neq(st, SW_OK);
    cr_assert(strstr(err.msg, "cannot resume"), "%s", err.msg);
}

/* A branch is scored on the examples the trunk's evaluations read: a branch
 * that anneals for a single step is nearly the trunk, so over the forks its
 * validation EM stays within a few examples of the trunk's at the fork rows
 * (measured: 2 examples in all; branches that read the first eval_limit
 * examples of the whole validation split, as they once did, differ by 6). */
Test(train_branches, branches_read_the_trunks_sample, .timeout = 120)
{
    sw_train_options o = trunk(sw_test_tmpdir(), "one-step", 10);
    o.data = "synthetic:copy:n=2000,len=3"; /* EM crosses 10..90% between the forks */
    o.model = "gpt:layers=1,d=32,heads=2,dropout=0";
    o.schedule = "wsd:lr=1e-3,min=0.01";
    o.budget = 60000;
    o.eval_every = 6000;
    o.eval_limit = 40;
    static const double tiny[] = {1e-9}; /* c x T rounds to one step */
    static const sw_decay_shape linear[] = {SW_DECAY_LINEAR};
    o.branch_cooldowns = tiny;
    o.n_branch_cooldowns = 1;
    o.branch_shapes = linear;
    o.n_branch_shapes = 1;
    sw_train_result res;
    sw_error err = {0};
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    sw_curve *c = read_curve(o.out_dir);
    char name[160];
    sw_store_annealed_name("val_em", tiny[0], "linear", name, sizeof name);
    const unsigned char *present;
    const double *a = sw_curve_column(c, name, &present), *em = sw_curve_column(c, "val_em", NULL);
    size_t forks = 0;
    double moved = 0;
    for (size_t i = 0; i < sw_curve_len(c); i++) {
        if (!present[i]) continue;
        forks++;
        moved += fabs(a[i] - em[i]);
    }
    cr_assert_eq(forks, 10);
    cr_assert_leq(moved, 3 * 100.0 / 40 + 1e-9, "one annealing step per fork moved %g examples in all", moved * 40 / 100);
    sw_curve_free(c);
}

/* Forks need the wsd schedule; bad families are refused. */
Test(train_branches, bad_options)
{
    sw_train_options o = trunk(sw_test_tmpdir(), "bad", 10);
    o.schedule = "cosine:lr=3e-3";
    sw_train_result res;
    sw_error err = {0};
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "wsd"), "%s", err.msg);
    o = trunk(sw_test_tmpdir(), "bad", 10);
    static const double twice[] = {0.1, 0.1};
    o.branch_cooldowns = twice;
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "twice"), "%s", err.msg);
}
