/* BLAS set-up: pick a fast GEMM kernel for this CPU and one thread count for
 * the BLAS and our OpenMP loops.
 *
 * Why: Debian's BLIS 0.9 does not recognise recent AMD CPUs (Zen 5) and runs
 * its generic kernel (~32 GFLOP/s a core measured here); told the kernel
 * family it reaches ~180 a core. BLIS reads BLIS_ARCH_TYPE at its first call,
 * so setting it before any GEMM works. OpenBLAS reads OPENBLAS_CORETYPE when
 * the library is loaded, so for OpenBLAS we can only report it. A value the
 * user set is always respected. bench/gemm_peak measures the alternatives.
 *
 * This is process-wide state, so it is the host's to set, once, at start-up
 * (the CLI's main() calls sw_blas_init): the library itself (sw_train, the
 * kernels) never sets the environment or the thread count. */
#include "stopwise/nn.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(STOPWISE_BLAS_BLIS)
#include <blis.h>
#elif defined(STOPWISE_BLAS_OPENBLAS)
#include <cblas.h>
#endif

/* The BLAS is process-wide state, so its description is too. */
static char info[256];
static int kernel_chosen;                            /* 1 once the kernel was settled */
static const char *kernel_how = "from the environment"; /* who chose it */

static const char *cpu_kernel_family(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return "skx";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "haswell";
#endif
    return NULL;
}

/* How libgomp's idle threads wait, as it read the environment at load. */
static void describe_wait(char *buf, size_t size)
{
    const char *pol = getenv("OMP_WAIT_POLICY"), *spin = getenv("GOMP_SPINCOUNT");
    if (spin) snprintf(buf, size, "wait %s, spin count %s", pol ? pol : "default", spin);
    else snprintf(buf, size, "wait %s", pol ? pol : "default (spin, then sleep)");
}

static void describe(void)
{
    int t = sw_threads();
    char wait[96];
    describe_wait(wait, sizeof wait);
#if defined(STOPWISE_BLAS_BLIS)
    const char *arch = getenv("BLIS_ARCH_TYPE");
    snprintf(info, sizeof info, "BLIS %s, kernel %s (%s), %d threads, %s", bli_info_get_version_str(),
             arch ? arch : "auto", kernel_chosen ? kernel_how : "sw_blas_init not called", t, wait);
#elif defined(STOPWISE_BLAS_OPENBLAS)
    const char *core = getenv("OPENBLAS_CORETYPE");
    snprintf(info, sizeof info, "OpenBLAS (%s), core %s, %d threads, %s", openblas_get_config(),
             core ? core : "auto", t, wait);
#endif
}

void sw_blas_init(int n_threads)
{
#if defined(STOPWISE_BLAS_BLIS)
    if (!kernel_chosen) {
        const char *fam = cpu_kernel_family();
        if (!getenv("BLIS_ARCH_TYPE") && fam) {
            setenv("BLIS_ARCH_TYPE", fam, 0);
            kernel_how = "chosen by stopwise";
        } else if (!getenv("BLIS_ARCH_TYPE")) {
            kernel_how = "BLIS's own detection";
        }
    }
#endif
    kernel_chosen = 1;
    sw_threads_set(n_threads);
}

void sw_threads_set(int n_threads)
{
    if (n_threads > 0) {
        omp_set_num_threads(n_threads);
#if defined(STOPWISE_BLAS_BLIS)
        bli_thread_set_num_threads(n_threads);
#elif defined(STOPWISE_BLAS_OPENBLAS)
        openblas_set_num_threads(n_threads);
#endif
    }
}

const char *sw_blas_info(void)
{
    describe(); /* the thread count may have changed since the last call */
    return info;
}

int sw_threads(void) { return omp_get_max_threads(); }
