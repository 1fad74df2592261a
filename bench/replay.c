/* bench/replay: how fast the controller replays a recorded curve (the tuner
 * replays thousands of policies per tuning job). Moved here from the unit
 * suite (issue 10): speed is measured, never asserted, in tests.
 *
 * Replays a 60-point curve with the cheap rules (patience, gain, GL, PQ, UP;
 * none fires) REPS x 2000 times and prints the median time of 2000 replays
 * and replays/s. The former test's bound, 2000 replays in under 2 s, is
 * printed as a check; exit 1 if the median misses it.
 *
 *   bench_replay [REPS]        (default 5) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "stopwise/stop.h"

#define CN 60
#define N_REPLAYS 2000

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    if (reps < 1 || reps > 1000) reps = 5;
    sw_curve *cv;
    if (sw_curve_create(&cv, NULL)) return 1;
    for (size_t i = 0; i < CN; i++) {
        double t = (double)(i + 1) / CN, wobble = sin(7.3 * (double)i) * 0.6;
        sw_metric m[] = {{"val_em", 80 * (1 - exp(-5 * t)) + wobble}, {"val_loss", 1 / (t + 0.1)},
                         {"train_loss", 1 / (t + 0.05)}};
        sw_eval ev = {.tokens = (i + 1) * 1000, .metrics = m, .n_metrics = 3};
        if (sw_curve_append(cv, &ev, NULL)) return 1;
    }
    sw_policy *p;
    if (sw_policy_parse("patience=100,gain=0:window=3,gl=1000,pq=1000,up=50", &p, NULL)) return 1;
    double *dt = malloc(sizeof *dt * (size_t)reps);
    for (int r = 0; r < reps; r++) {
        double t0 = sw_now();
        for (int k = 0; k < N_REPLAYS; k++) {
            sw_replay_result res;
            if (sw_replay(p, cv, &res, NULL) || res.stopped) {
                fprintf(stderr, "bench_replay: replay failed or stopped\n");
                return 1;
            }
        }
        dt[r] = sw_now() - t0;
    }
    qsort(dt, (size_t)reps, sizeof *dt, cmp);
    double med = dt[reps / 2];
    printf("%d replays of a %d-point curve: median %.4f s (min %.4f, max %.4f) over %d repetitions, %.0f replays/s\n",
           N_REPLAYS, CN, med, dt[0], dt[reps - 1], reps, N_REPLAYS / med);
    printf("check: under 2 s for %d replays: %s\n", N_REPLAYS, med < 2.0 ? "yes" : "NO");
    free(dt);
    sw_policy_free(p);
    sw_curve_free(cv);
    return med < 2.0 ? 0 : 1;
}
