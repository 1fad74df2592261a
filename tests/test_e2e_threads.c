/* The CLI's thread set-up (issue 10): idle OpenMP threads spin briefly, then
 * sleep, by default (GOMP_SPINCOUNT=100000, set by re-executing once, since
 * libgomp reads it at load), a user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins, and
 * --threads sets the count. The train command's BLAS line reports them. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* The BLAS line of a one-step training run under env settings `env`
 * (an `env` fragment: -u VAR, VAR=VALUE). Caller frees. */
static char *blas_line(const char *env, const char *extra)
{
    char cmd[16384], *err = NULL;
    snprintf(cmd, sizeof cmd,
             "env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u STOPWISE_WAIT_POLICY_SET -u OMP_NUM_THREADS %s %s train "
             "--data synthetic:reversal:n=200,len=4 --model gpt:layers=1,d=16,heads=2 --budget 1 --eval-limit 4 "
             "--no-store %s --out %s/run",
             env, STOPWISE_CLI, extra, sw_test_tmpdir());
    int rc = sw_test_sh(cmd, NULL, &err);
    cr_assert_eq(rc, 0, "train failed: %s", err);
    char *line = strstr(err, "BLAS: ");
    cr_assert_not_null(line, "no BLAS line in: %s", err);
    char *end = strchr(line, '\n');
    if (end) *end = 0;
    char *copy = strdup(line);
    free(err);
    return copy;
}

Test(e2e_threads, idle_threads_sleep_by_default, .timeout = 120)
{
    char *l = blas_line("", "");
    cr_assert(strstr(l, "wait default, spin count 100000") != NULL, "default spin not bounded: %s", l);
    free(l);
}

Test(e2e_threads, the_users_wait_policy_wins, .timeout = 120)
{
    char *l = blas_line("OMP_WAIT_POLICY=active", "");
    cr_assert(strstr(l, "wait active") != NULL, "%s", l);
    free(l);
    l = blas_line("GOMP_SPINCOUNT=1000", "");
    cr_assert(strstr(l, "wait default, spin count 1000") != NULL, "%s", l);
    free(l);
    /* the mark alone keeps libgomp's own default (what bench/concurrency.sh calls old) */
    l = blas_line("STOPWISE_WAIT_POLICY_SET=1", "");
    cr_assert(strstr(l, "wait default (spin, then sleep)") != NULL, "%s", l);
    free(l);
}

Test(e2e_threads, threads_option_sets_the_count, .timeout = 120)
{
    for (int t = 1; t <= 2; t++) {
        char extra[32];
        snprintf(extra, sizeof extra, "--threads %d", t);
        char *l = blas_line("", extra);
        char want[32];
        snprintf(want, sizeof want, ", %d threads,", t);
        cr_assert(strstr(l, want) != NULL, "--threads %d: %s", t, l);
        free(l);
    }
}
