/* bench/lexicon_load: the CPU time of loading the real cmudict (Debian's
 * festlex-cmu, about 106k entries) and splitting it. Moved here from the unit
 * suite (issue 10): speed is measured, never asserted, in tests.
 *
 * Prints the median CPU seconds of REPS loads; the former test's bound, under
 * 1 s of CPU, is printed as a check; exit 1 if the median misses it.
 *
 *   bench_lexicon_load [REPS]  (default 5) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "stopwise/data.h"

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    if (reps < 1 || reps > 100) reps = 5;
    double *dt = malloc(sizeof *dt * (size_t)reps);
    size_t words = 0;
    for (int r = 0; r < reps; r++) {
        sw_data_options o = sw_data_default_options();
        sw_dataset *ds;
        sw_error err;
        double t0 = cpu_seconds();
        if (sw_dataset_load("cmudict", &o, &ds, &err)) {
            fprintf(stderr, "bench_lexicon_load: %s\n", err.msg);
            return 1;
        }
        dt[r] = cpu_seconds() - t0;
        words = sw_dataset_count(ds, SW_SPLIT_TRAIN) + sw_dataset_count(ds, SW_SPLIT_VAL) +
                sw_dataset_count(ds, SW_SPLIT_TEST);
        sw_dataset_free(ds);
    }
    qsort(dt, (size_t)reps, sizeof *dt, cmp);
    double med = dt[reps / 2];
    printf("cmudict (%zu words): median %.3f s of CPU to load and split (min %.3f, max %.3f, %d loads)\n", words, med,
           dt[0], dt[reps - 1], reps);
    printf("check: under 1 s of CPU: %s\n", med < 1.0 ? "yes" : "NO");
    free(dt);
    return med < 1.0 ? 0 : 1;
}
