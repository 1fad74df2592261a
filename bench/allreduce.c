/* The gradient sum of data-parallel training, timed alone (docs/SCALING.md):
 * sw_parallel_sum_floats, the call the trainer makes once a step, over the
 * parameter counts of the models we train. Run under mpirun:
 *
 *   mpirun -np 2 build/bench/bench_allreduce [reps [models]]
 *
 * Rank 0 prints, per size, the median seconds of one sum and the bus
 * bandwidth 2(N-1)/N x 4n bytes / t (the bytes a ring allreduce moves through
 * each rank's link, so the figure compares with a link's speed). A build
 * without MPI, or a run without mpirun, has one rank and says so. */
#include "stopwise/base.h"
#include "stopwise/train.h"
#include "train/parallel.h"

#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    sw_error err;
    if (sw_parallel_begin(&err)) {
        fprintf(stderr, "bench_allreduce: %s\n", err.msg);
        return 2;
    }
    int n_ranks = sw_parallel_size(), rank = sw_parallel_rank();
    if (n_ranks < 2) {
        fprintf(stderr, "bench_allreduce: one rank (%s): run it under mpirun -np 2 or more\n",
                sw_parallel_available() ? "not started by mpirun" : "a build without MPI");
        sw_parallel_end(0);
        return 2;
    }
    int reps = argc > 1 ? atoi(argv[1]) : 50;
    if (reps < 3 || reps > 100000) reps = 50;
    /* parameters: mlp 784-256-10; gpt at cmudict's vocab 85 and ctx 44,
     * V C + T C + L (12 C^2 + 13 C) + 2 C (tied head) */
    static const struct { const char *model; size_t n; } sizes[] = {
        {"mlp 784-256-10", 203530}, {"gpt d128 L4", 809856},    {"gpt d256 L4", 3192576},
        {"gpt d512 L8", 25286144},  {"gpt d1024 L12", 151288832},
    };
    if (rank == 0) printf("%-16s %12s %12s %14s\n", "model", "params", "s / sum", "bus GB/s");
    size_t models = argc > 2 ? (size_t)atoi(argv[2]) : sizeof sizes / sizeof *sizes; /* the first few */
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes && k < models; k++) {
        size_t n = sizes[k].n;
        float *x = malloc(sizeof(float) * n);
        double *t = malloc(sizeof(double) * (size_t)reps);
        if (!x || !t) return 1;
        for (size_t i = 0; i < n; i++) x[i] = 1e-3f * (float)(i % 1000);
        sw_parallel_sum_floats(x, n); /* warm-up: buffers, connections */
        for (int r = 0; r < reps; r++) {
            double t0 = sw_now();
            sw_parallel_sum_floats(x, n);
            t[r] = sw_now() - t0;
        }
        qsort(t, (size_t)reps, sizeof *t, cmp);
        double med = t[reps / 2], bytes = 2.0 * (n_ranks - 1) / n_ranks * 4.0 * (double)n;
        if (rank == 0) printf("%-16s %12zu %12.3g %14.2f\n", sizes[k].model, n, med, bytes / med / 1e9);
        free(x);
        free(t);
    }
    sw_parallel_end(0);
    return 0;
}
