/* The progress line's forecast of the best EM by the budget (issue 9): a
 * first run has no earlier runs of its task and says its interval is
 * uncalibrated; once the store holds full-budget runs of the task, the
 * forecast is calibrated on them and says how many (runs of another
 * schedule are not counted); every evaluation's
 * forecast is stored beside it (forecast_em inside [forecast_lo,
 * forecast_hi]), so a dashboard can draw the band as it stood. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stopwise/store.h"
#include "support.h"

#define TRAIN "train --data synthetic:copy:n=300,len=4 --model gpt:layers=1,d=16,heads=2 --budget 20k " \
              "--eval-every 1k --stop none --threads 1"

static char *train(const char *db, const char *dir, int seed)
{
    char args[9000], *err = NULL;
    snprintf(args, sizeof args, "%s --seed %d --store %s --out %s/run%d", TRAIN, seed, db, dir, seed);
    cr_assert_eq(sw_test_cli(args, NULL, &err), 0, "%s", err);
    return err; /* the progress lines (stderr is not a terminal) */
}

Test(e2e_forecast, calibrated_once_the_task_has_earlier_runs, .timeout = 300)
{
    char dir[4096], db[4200];
    snprintf(dir, sizeof dir, "%s", sw_test_tmpdir());
    snprintf(db, sizeof db, "%s/s.db", dir);
    char *first = train(db, dir, 1);
    cr_assert(strstr(first, "forecast: best EM by 20k tokens"), "no forecast in: %.400s", first);
    cr_assert(strstr(first, "uncalibrated: no earlier runs"), "%.400s", first);
    free(first);
    free(train(db, dir, 2));
    char *third = train(db, dir, 3);
    cr_assert(strstr(third, "from 2 earlier runs"), "%.400s", third);
    cr_assert_null(strstr(third, "uncalibrated"), "%.400s", third);
    free(third);
    /* another schedule has had another chance to climb: none of the three
     * is a reference for it */
    char args[9000], *err = NULL;
    snprintf(args, sizeof args, "%s --schedule cosine --seed 4 --store %s --out %s/run4", TRAIN, db, dir);
    cr_assert_eq(sw_test_cli(args, NULL, &err), 0, "%s", err);
    cr_assert(strstr(err, "uncalibrated: no earlier runs"), "%.400s", err);
    free(err);

    sw_store *s;
    sw_error e;
    cr_assert_eq(sw_store_open(db, &s, &e), SW_OK, "%s", e.msg);
    sw_store_curve c;
    cr_assert_eq(sw_store_curve_get(s, 3, &c), SW_OK);
    cr_assert_geq(c.n, 15);
    size_t with = 0;
    for (size_t i = 0; i < c.n; i++) {
        double em = NAN, lo = NAN, hi = NAN;
        for (size_t j = 0; j < c.evals[i].n_metrics; j++) {
            const sw_store_metric *m = &c.evals[i].metrics[j];
            if (!strcmp(m->name, "forecast_em")) em = m->value;
            if (!strcmp(m->name, "forecast_lo")) lo = m->value;
            if (!strcmp(m->name, "forecast_hi")) hi = m->value;
        }
        if (isnan(em)) continue;
        with++;
        cr_assert(lo <= em && em <= hi, "evaluation %zu: %g outside [%g, %g]", i, em, lo, hi);
        cr_assert_geq(em, c.evals[i].val_em - 1e-9, "the best so far bounds the forecast from below");
    }
    cr_assert_eq(with, c.n, "every evaluation carries its forecast");
    sw_store_curve_clear(&c);
    sw_store_close(s);
}
