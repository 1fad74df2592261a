/* bench_gemm_peak: the machine's single-precision GEMM peak through
 * cblas_sgemm, at 1 and 2 threads: square products (1024-2048) and the
 * sequence of GEMMs in one training step of our models (forward, input
 * gradient and weight gradient of every linear layer, with the transposes
 * src/nn/matmul.c uses). Best of several repetitions; the physical limit the
 * throughput bench reports against.
 *
 *   bench_gemm_peak [--threads 1,2] [--reps 5] [--min-time 0.2] [--quick]
 *                   [--no-choose] [--json PATH]
 *
 * --no-choose skips sw_blas_init's kernel choice (BLIS then runs whatever its
 * own detection or BLIS_ARCH_TYPE picks); threads are set directly. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(STOPWISE_BLAS_BLIS)
#include <blis.h>
#else
#include <cblas.h>
#endif

#include "stopwise/base.h"
#include "stopwise/nn.h"

/* One GEMM C (M,N) = op(A) (M,K) . op(B) (K,N), row-major. */
typedef struct gemm {
    int ta, tb; /* 1: transposed operand */
    int M, N, K;
    double beta;
} gemm;

#define MAX_GEMMS 64
typedef struct workload {
    char name[48];
    int n;
    gemm g[MAX_GEMMS];
} workload;

static void add(workload *w, int ta, int tb, int M, int N, int K, double beta)
{
    if (w->n < MAX_GEMMS) w->g[w->n++] = (gemm){ta, tb, M, N, K, beta};
}

/* A linear layer over Nrows rows, C -> OC, as src/nn/matmul.c runs it:
 * out = inp W^T; dinp += dout W; dW += dout^T inp. */
static void linear(workload *w, int Nrows, int C, int OC, int need_dinp)
{
    add(w, 0, 1, Nrows, OC, C, 0.0);
    if (need_dinp) add(w, 0, 0, Nrows, C, OC, 1.0);
    add(w, 1, 0, OC, C, Nrows, 1.0);
}

static workload gpt_step(int d, int layers, int B, int T, int V)
{
    workload w = {0};
    snprintf(w.name, sizeof w.name, "gpt d%d step", d);
    int N = B * T;
    for (int l = 0; l < layers; l++) {
        linear(&w, N, d, 3 * d, 1); /* qkv      */
        linear(&w, N, d, d, 1);     /* att proj */
        linear(&w, N, d, 4 * d, 1); /* fc       */
        linear(&w, N, 4 * d, d, 1); /* fc proj  */
    }
    linear(&w, N, d, V, 1); /* tied head */
    return w;
}

static workload mlp_step(void)
{
    workload w = {0};
    snprintf(w.name, sizeof w.name, "mlp 784-256-10 step");
    linear(&w, 128, 784, 256, 0); /* the input needs no gradient */
    linear(&w, 128, 256, 10, 1);
    return w;
}

static workload square(int n)
{
    workload w = {0};
    snprintf(w.name, sizeof w.name, "square %d", n);
    add(&w, 0, 0, n, n, n, 0.0);
    return w;
}

static double flops(const workload *w)
{
    double f = 0;
    for (int i = 0; i < w->n; i++) f += 2.0 * w->g[i].M * w->g[i].N * w->g[i].K;
    return f;
}

static float *A, *Bm, *Cm;

static void run(const workload *w)
{
    for (int i = 0; i < w->n; i++) {
        const gemm *g = &w->g[i];
        int lda = g->ta ? g->M : g->K, ldb = g->tb ? g->K : g->N;
        cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, g->M, g->N,
                    g->K, 1.0f, A, lda, Bm, ldb, (float)g->beta, Cm, g->N);
    }
}

/* Best GFLOP/s over `reps` repetitions, each repeating the workload for at
 * least min_time seconds (so small shapes are not dominated by the timer). */
static double measure(const workload *w, int reps, double min_time)
{
    run(w); /* warm-up: packs buffers, wakes the threads */
    double best = 0, f = flops(w);
    for (int r = 0; r < reps; r++) {
        int iters = 0;
        double t0 = sw_now(), t;
        do {
            run(w);
            iters++;
            t = sw_now() - t0;
        } while (t < min_time);
        double gf = f * iters / t / 1e9;
        if (gf > best) best = gf;
    }
    return best;
}

static void set_threads(int t, int choose)
{
    if (choose) {
        sw_blas_init(t);
        return;
    }
#if defined(STOPWISE_BLAS_BLIS)
    bli_thread_set_num_threads(t);
#elif defined(STOPWISE_BLAS_OPENBLAS)
    openblas_set_num_threads(t);
#endif
}

static const char *blas_name(void)
{
#if defined(STOPWISE_BLAS_BLIS)
    return "blis";
#else
    return "openblas";
#endif
}

int main(int argc, char **argv)
{
    int threads[8] = {1, 2}, n_threads = 2, reps = 5, quick = 0, choose = 1;
    double min_time = 0.2;
    const char *json_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--threads") && v) {
            n_threads = 0;
            char buf[64];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *tok = strtok(buf, ","); tok && n_threads < 8; tok = strtok(NULL, ",")) {
                long long t;
                if (sw_parse_int(tok, 1, 256, &t)) {
                    fprintf(stderr, "bench_gemm_peak: --threads %s: expected a list like 1,2\n", v);
                    return 2;
                }
                threads[n_threads++] = (int)t;
            }
            i++;
        } else if (!strcmp(a, "--reps") && v) {
            long long r;
            if (sw_parse_int(v, 1, 1000, &r)) {
                fprintf(stderr, "bench_gemm_peak: --reps %s: expected 1..1000\n", v);
                return 2;
            }
            reps = (int)r, i++;
        } else if (!strcmp(a, "--min-time") && v) {
            if (sw_parse_double(v, &min_time) || min_time < 0) {
                fprintf(stderr, "bench_gemm_peak: --min-time %s: expected seconds\n", v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--json") && v) {
            json_path = v, i++;
        } else if (!strcmp(a, "--quick")) {
            quick = 1;
        } else if (!strcmp(a, "--no-choose")) {
            choose = 0;
        } else {
            fprintf(stderr,
                    "usage: bench_gemm_peak [--threads 1,2] [--reps 5] [--min-time 0.2] [--quick] [--no-choose] "
                    "[--json PATH]\n");
            return 2;
        }
    }

    workload loads[8];
    int n_loads = 0;
    loads[n_loads++] = square(1024);
    if (!quick) loads[n_loads++] = square(1536);
    if (!quick) loads[n_loads++] = square(2048);
    loads[n_loads++] = gpt_step(128, 4, 64, 32, 64);
    loads[n_loads++] = gpt_step(256, 4, 64, 32, 64);
    loads[n_loads++] = mlp_step();

    size_t max = (size_t)2048 * 2048;
    A = malloc(max * sizeof *A), Bm = malloc(max * sizeof *Bm), Cm = malloc(max * sizeof *Cm);
    if (!A || !Bm || !Cm) return 1;
    sw_rng rng;
    sw_rng_seed(&rng, 1);
    for (size_t i = 0; i < max; i++) {
        A[i] = (float)sw_rng_uniform(&rng) - 0.5f;
        Bm[i] = (float)sw_rng_uniform(&rng) - 0.5f;
        Cm[i] = 0;
    }

    json_t *root = json_object(), *rows = json_array();
    set_threads(threads[0], choose);
    const char *info = sw_blas_info();
    fprintf(stderr, "bench_gemm_peak: %s\n", choose ? info : "(kernel as the library or environment chooses)");
    const char *arch = getenv("BLIS_ARCH_TYPE"), *core = getenv("OPENBLAS_CORETYPE");
    printf("%-22s %8s %10s %12s\n", "workload", "threads", "GFLOP/s", "GF/s/thread");
    for (int l = 0; l < n_loads; l++) {
        for (int ti = 0; ti < n_threads; ti++) {
            set_threads(threads[ti], choose);
            double gf = measure(&loads[l], reps, min_time);
            printf("%-22s %8d %10.1f %12.1f\n", loads[l].name, threads[ti], gf, gf / threads[ti]);
            fflush(stdout);
            json_t *row = json_object();
            json_object_set_new(row, "workload", json_string(loads[l].name));
            json_object_set_new(row, "threads", json_integer(threads[ti]));
            json_object_set_new(row, "gflops", json_real(gf));
            json_object_set_new(row, "gflop_per_call", json_real(flops(&loads[l]) / 1e9));
            json_array_append_new(rows, row);
        }
    }
    json_object_set_new(root, "bench", json_string("gemm_peak"));
    json_object_set_new(root, "blas", json_string(blas_name()));
    json_object_set_new(root, "blas_info", json_string(choose ? sw_blas_info() : "not chosen by stopwise"));
    json_object_set_new(root, "stopwise_chooses_kernel", json_boolean(choose));
    json_object_set_new(root, "BLIS_ARCH_TYPE", arch ? json_string(arch) : json_null());
    json_object_set_new(root, "OPENBLAS_CORETYPE", core ? json_string(core) : json_null());
    json_object_set_new(root, "reps", json_integer(reps));
    json_object_set_new(root, "results", rows);
    int rc = 0;
    if (json_path && json_dump_file(root, json_path, JSON_INDENT(2) | JSON_REAL_PRECISION(6))) {
        fprintf(stderr, "bench_gemm_peak: cannot write %s\n", json_path);
        rc = 1;
    }
    json_decref(root);
    free(A), free(Bm), free(Cm);
    return rc;
}
