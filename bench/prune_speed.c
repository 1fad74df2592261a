/* bench_prune_speed: how fast a checkpoint predicts, the model alone: the
 * forward passes of a classifier over N examples in batches (argmax of the
 * logits, what `stopwise predict` does after parsing), or greedy decoding of
 * N prompts with a gpt. Inputs are seeded random features / token ids: the
 * cost of a dense model does not depend on the values. bench/prune.sh runs it
 * on a dense model and its pruned twin.
 *
 *   bench_prune_speed --model CKPT [--n 10000] [--batch 256] [--threads 1] [--repeat 7]
 *
 * Prints one JSON line: model spec, params, and examples per second, by the
 * wall clock and by the process's CPU time (the median of `repeat` timed
 * passes over the N examples, after one untimed pass). On one thread the CPU
 * time is the work itself, which other processes sharing the cores do not
 * stretch: bench/prune.sh compares models by it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stopwise/base.h"
#include "stopwise/nn.h"
#include "stopwise/train.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One pass over the n examples: returns its wall seconds, *cpu its CPU seconds. */
static double one_pass(sw_model *m, int n, int batch, const float *x, const int32_t *prompts, int T, int *sink,
                       double *cpu)
{
    const sw_model_spec *s = sw_model_get_spec(m);
    double t0 = sw_now(), c0 = cpu_now();
    for (int i = 0; i < n; i += batch) {
        int B = n - i < batch ? n - i : batch;
        if (s->kind == SW_MODEL_MLP) {
            sw_batch b = {.B = B, .T = 1, .features = x + (size_t)i * s->n_inputs};
            if (sw_model_forward(m, &b, 0, NULL)) return -1;
            const float *z = sw_model_logits(m);
            for (int r = 0; r < B; r++) {
                int arg = 0;
                for (int c = 1; c < s->n_classes; c++)
                    if (z[(size_t)r * s->n_classes + c] > z[(size_t)r * s->n_classes + arg]) arg = c;
                *sink += arg;
            }
        } else {
            int lens[4096], out_lens[4096];
            int32_t *out = malloc(sizeof(int32_t) * (size_t)B * T);
            for (int r = 0; r < B; r++) lens[r] = T / 2;
            sw_status st = sw_gpt_generate(m, prompts + (size_t)i * T, T, lens, B, T - T / 2, NULL, -1, out, out_lens);
            for (int r = 0; r < B && !st; r++) *sink += out_lens[r];
            free(out);
            if (st) return -1;
        }
    }
    *cpu = cpu_now() - c0;
    return sw_now() - t0;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int n = 10000, batch = 256, threads = 1, repeat = 7;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--model")) path = argv[i + 1];
        else if (!strcmp(argv[i], "--n")) n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--repeat")) repeat = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "bench_prune_speed: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!path || n < 1 || batch < 1 || batch > 4096 || repeat < 1 || repeat > 101) {
        fprintf(stderr, "usage: bench_prune_speed --model CKPT [--n 10000] [--batch 256] [--threads 1] [--repeat 7]\n");
        return 2;
    }
    sw_blas_init(threads);
    sw_checkpoint ck;
    sw_error err;
    if (sw_checkpoint_load(path, &ck, &err)) {
        fprintf(stderr, "bench_prune_speed: %s\n", err.msg);
        return 1;
    }
    const sw_model_spec *s = sw_model_get_spec(ck.model);
    sw_rng r;
    sw_rng_seed(&r, 7);
    float *x = NULL;
    int32_t *prompts = NULL;
    int T = s->kind == SW_MODEL_GPT ? s->ctx : 0;
    if (s->kind == SW_MODEL_MLP) {
        x = malloc(sizeof(float) * (size_t)n * s->n_inputs);
        for (size_t i = 0; i < (size_t)n * s->n_inputs; i++) x[i] = (float)sw_rng_uniform(&r);
    } else {
        prompts = malloc(sizeof(int32_t) * (size_t)n * T);
        for (size_t i = 0; i < (size_t)n * T; i++) prompts[i] = (int32_t)(sw_rng_uniform(&r) * s->vocab) % s->vocab;
    }
    int sink = 0;
    double *t = malloc(sizeof(double) * (size_t)repeat), *c = malloc(sizeof(double) * (size_t)repeat), c0;
    if (one_pass(ck.model, n, batch, x, prompts, T, &sink, &c0) < 0) {
        fprintf(stderr, "bench_prune_speed: %s\n", sw_model_errmsg(ck.model));
        return 1;
    }
    for (int k = 0; k < repeat; k++) t[k] = one_pass(ck.model, n, batch, x, prompts, T, &sink, &c[k]);
    qsort(t, (size_t)repeat, sizeof *t, cmp_double);
    qsort(c, (size_t)repeat, sizeof *c, cmp_double);
    double med = t[repeat / 2], cmed = c[repeat / 2];
    char spec[512];
    printf("{\"model\":\"%s\",\"params\":%zu,\"n\":%d,\"batch\":%d,\"threads\":%d,\"seconds\":%.6f,"
           "\"examples_per_s\":%.1f,\"cpu_seconds\":%.6f,\"examples_per_cpu_s\":%.1f,\"sink\":%d}\n",
           sw_model_spec_format(s, spec, sizeof spec), sw_model_num_params(ck.model), n, batch, sw_threads(), med,
           (double)n / med, cmed, (double)n / cmed, sink % 2);
    free(t);
    free(c);
    free(x);
    free(prompts);
    sw_checkpoint_free(&ck);
    return 0;
}
