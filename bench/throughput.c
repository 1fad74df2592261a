/* bench_throughput: training tokens/s of our `gpt` and `mlp` at the shapes of
 * BENCH.md §1 (random data, AdamW, float32, clip 1). bench/throughput.py runs
 * it beside the PyTorch references (bench/ref/), alternating the two.
 *
 *   bench_throughput --model gpt|mlp [--d 128] [--threads 1] [--steps 10] [--serve] [--no-choose]
 *
 * --no-choose skips sw_blas_init (so BLIS keeps its own kernel detection or
 * BLIS_ARCH_TYPE) and sets the thread counts directly: bench/blas_choice.sh
 * uses it to measure the library's default.
 *
 * --serve speaks bench/ref/torch_common.py's protocol: a "ready" JSON line
 * after warm-up, then "run SECONDS MINSTEPS" -> one JSON line, "quit". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <omp.h>
#if defined(STOPWISE_BLAS_BLIS)
#include <blis.h>
#else
#include <cblas.h>
#endif

#include "stopwise/base.h"
#include "stopwise/nn.h"

#define N_BATCHES 8

typedef struct bench {
    sw_model *m;
    sw_optimizer *opt;
    sw_batch batches[N_BATCHES];
    int next;
    long tokens_per_step;
} bench;

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static long rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int step(bench *b)
{
    sw_batch *batch = &b->batches[b->next++ % N_BATCHES];
    float loss;
    sw_model_zero_grad(b->m);
    if (sw_model_forward(b->m, batch, 1, &loss) || sw_model_backward(b->m) ||
        sw_optimizer_step(b->opt, sw_model_params(b->m), sw_model_grads(b->m), 1e-3f, NULL)) {
        fprintf(stderr, "bench_throughput: a training step failed\n");
        return -1;
    }
    return 0;
}

static int run(bench *b, double seconds, long min_steps, double *tps, long *steps, double *elapsed)
{
    long n = 0;
    double t0 = sw_now(), t;
    do {
        if (step(b)) return -1;
        n++;
        t = sw_now() - t0;
    } while (n < min_steps || t < seconds);
    *tps = (double)n * (double)b->tokens_per_step / t;
    *steps = n;
    *elapsed = t;
    return 0;
}

int main(int argc, char **argv)
{
    const char *model = "gpt";
    long long d = 128, threads = 1, steps = 10;
    int serve = 0, choose = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--model") && v) model = v, i++;
        else if (!strcmp(a, "--d") && v && !sw_parse_int(v, 8, 8192, &d)) i++;
        else if (!strcmp(a, "--threads") && v && !sw_parse_int(v, 1, 256, &threads)) i++;
        else if (!strcmp(a, "--steps") && v && !sw_parse_int(v, 1, 1000000, &steps)) i++;
        else if (!strcmp(a, "--serve")) serve = 1;
        else if (!strcmp(a, "--no-choose")) choose = 0;
        else {
            fprintf(stderr, "usage: bench_throughput --model gpt|mlp [--d 128] [--threads 1] [--steps 10] [--serve] "
                            "[--no-choose]\n");
            return 2;
        }
    }
    if (choose) {
        sw_blas_init((int)threads);
    } else {
        omp_set_num_threads((int)threads);
#if defined(STOPWISE_BLAS_BLIS)
        bli_thread_set_num_threads((dim_t)threads);
#elif defined(STOPWISE_BLAS_OPENBLAS)
        openblas_set_num_threads((int)threads);
#endif
    }
    long base_rss = rss_kb();

    char text[128];
    int B, T;
    if (!strcmp(model, "gpt")) {
        snprintf(text, sizeof text, "gpt:layers=4,d=%lld,heads=4,ctx=32,vocab=64,tied=1", d);
        B = 64, T = 32;
    } else if (!strcmp(model, "mlp")) {
        snprintf(text, sizeof text, "mlp:hidden=256,act=relu,inputs=784,classes=10");
        B = 128, T = 1;
    } else {
        fprintf(stderr, "bench_throughput: --model %s (expected gpt or mlp)\n", model);
        return 2;
    }
    sw_error err;
    sw_model_spec spec;
    bench b = {0};
    if (sw_model_spec_parse(text, &spec, &err) || sw_model_spec_check(&spec, &err) ||
        sw_model_create(&spec, 1, &b.m, &err)) {
        fprintf(stderr, "bench_throughput: %s\n", err.msg);
        return 1;
    }
    sw_optimizer_params op = sw_optimizer_default_params(SW_OPTIMIZER_ADAMW); /* 0.9, 0.95, wd 0.1, clip 1 */
    if (sw_optimizer_create(&op, sw_model_num_params(b.m), &b.opt, &err)) {
        fprintf(stderr, "bench_throughput: %s\n", err.msg);
        return 1;
    }
    /* random data: token ids / features and labels, from a seeded generator */
    sw_rng rng;
    sw_rng_seed(&rng, 7);
    for (int k = 0; k < N_BATCHES; k++) {
        sw_batch *x = &b.batches[k];
        x->B = B, x->T = T;
        int32_t *tg = malloc(sizeof(int32_t) * (size_t)B * T);
        for (int i = 0; i < B * T; i++) tg[i] = (int32_t)sw_rng_below(&rng, spec.kind == SW_MODEL_GPT ? 64 : 10);
        x->targets = tg;
        if (spec.kind == SW_MODEL_GPT) {
            int32_t *in = malloc(sizeof(int32_t) * (size_t)B * T);
            for (int i = 0; i < B * T; i++) in[i] = (int32_t)sw_rng_below(&rng, 64);
            x->inputs = in;
        } else {
            float *f = malloc(sizeof(float) * (size_t)B * 784);
            for (int i = 0; i < B * 784; i++) f[i] = (float)sw_rng_uniform(&rng);
            x->features = f;
        }
    }
    b.tokens_per_step = (long)B * T;

    char info[512];
    snprintf(info, sizeof info,
             "\"model\": \"%s\", \"d\": %lld, \"threads\": %d, \"params\": %zu, \"blas\": \"%s\", "
             "\"baseline_rss_kb\": %ld, \"tokens_per_step\": %ld",
             model, spec.kind == SW_MODEL_GPT ? d : 0, sw_threads(), sw_model_num_params(b.m),
             choose ? sw_blas_info() : "as the library or environment chooses", base_rss,
             b.tokens_per_step);
    for (int w = 0; w < 3; w++)
        if (step(&b)) return 1;
    double tps, el;
    long n;
    if (!serve) {
        if (run(&b, 0, steps, &tps, &n, &el)) return 1;
        printf("{%s, \"tokens_per_s\": %.9g, \"steps\": %ld, \"seconds\": %.9g, \"maxrss_kb\": %ld}\n", info, tps, n,
               el, maxrss_kb());
    } else {
        printf("{%s, \"ready\": true, \"maxrss_kb\": %ld}\n", info, maxrss_kb());
        fflush(stdout);
        char line[256];
        while (fgets(line, sizeof line, stdin)) {
            double seconds;
            long min_steps;
            if (!strncmp(line, "quit", 4)) break;
            if (sscanf(line, "run %lf %ld", &seconds, &min_steps) != 2) {
                printf("{\"error\": \"expected 'run SECONDS MINSTEPS' or 'quit'\"}\n");
                fflush(stdout);
                continue;
            }
            if (run(&b, seconds, min_steps, &tps, &n, &el)) return 1;
            printf("{\"tokens_per_s\": %.9g, \"steps\": %ld, \"seconds\": %.9g, \"maxrss_kb\": %ld}\n", tps, n, el,
                   maxrss_kb());
            fflush(stdout);
        }
    }
    for (int k = 0; k < N_BATCHES; k++) {
        free((void *)b.batches[k].inputs);
        free((void *)b.batches[k].targets);
        free((void *)b.batches[k].features);
    }
    sw_optimizer_free(b.opt);
    sw_model_free(b.m);
    return 0;
}
