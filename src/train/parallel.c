/* One process: the build without MPI (STOPWISE_MPI off or not found). The
 * interface of parallel.h and stopwise/train.h with every rank count 1, and a
 * clear refusal when mpirun starts several copies, which would otherwise each
 * train the whole model and write the same run folder. parallel_mpi.c is the
 * MPI version. */
#ifndef SW_HAVE_MPI
#include "stopwise/train.h"
#include "train/parallel.h"

int sw_parallel_available(void) { return 0; }

sw_status sw_parallel_begin(sw_error *err)
{
    int n = sw_parallel_launched(NULL);
    if (n > 1)
        return sw_error_set(err, SW_ERR_INVALID,
                            "started by mpirun with %d processes, but this stopwise was built without MPI "
                            "(STOPWISE_MPI=OFF, or MPI not found): install libopenmpi-dev and configure with "
                            "-DSTOPWISE_MPI=ON to train data-parallel (docs/SCALING.md)",
                            n);
    return SW_OK;
}

int sw_parallel_rank(void) { return 0; }
int sw_parallel_size(void) { return 1; }
void sw_parallel_end(int exit_code) { (void)exit_code; }
int sw_parallel_failed_together(void) { return 0; }

void sw_parallel_sum_floats(float *x, size_t n) { (void)x, (void)n; }
void sw_parallel_sum_doubles(double *x, size_t n) { (void)x, (void)n; }
void sw_parallel_bcast(void *buf, size_t bytes) { (void)buf, (void)bytes; }
sw_status sw_parallel_agree(sw_status st, sw_error *err)
{
    (void)err;
    return st;
}
#endif
