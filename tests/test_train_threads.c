/* train/: sw_train leaves the process's BLAS and thread set-up alone (that is
 * the host's, once, through sw_blas_init / sw_threads_set; issue 10). */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/train.h"
#include "support.h"

static void train_tiny(void)
{
    char out[8400];
    snprintf(out, sizeof out, "%s/run", sw_test_tmpdir());
    sw_train_options o = sw_train_default_options();
    o.data = "synthetic:reversal:n=200,len=4";
    o.model = "gpt:layers=1,d=16,heads=2";
    o.budget = 500;
    o.eval_limit = 8;
    o.out_dir = out;
    sw_train_result res;
    sw_error err;
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
}

/* Before issue 10, every sw_train ran sw_blas_init, which set BLIS_ARCH_TYPE
 * in the environment of whatever program linked the library. */
Test(train_threads, sw_train_sets_no_environment)
{
    unsetenv("BLIS_ARCH_TYPE");
    train_tiny();
    cr_assert_null(getenv("BLIS_ARCH_TYPE"), "sw_train set BLIS_ARCH_TYPE=%s", getenv("BLIS_ARCH_TYPE"));
}

/* The thread count the host chose holds through a run. */
Test(train_threads, sw_train_keeps_the_hosts_thread_count)
{
    for (int t = 1; t <= 2; t++) {
        sw_threads_set(t);
        train_tiny();
        cr_assert_eq(sw_threads(), t);
    }
}
