/* The ranks of an MPI job (parallel.h, stopwise/train.h), with MPI: the build
 * with STOPWISE_MPI. parallel.c is the one-process version.
 *
 * Why the ranks stay bit-identical: MPI_Allreduce with MPI_SUM gives every
 * rank the same sum in Open MPI's algorithms (each partial sum is formed once
 * and passed on, and a sum of two is commutative), so the same update from
 * the same weights gives the same weights. The trainer checks it at every
 * evaluation (data_parallel.c) rather than trusting it.
 *
 * Why waits sleep: Open MPI's blocking calls poll the transport in a busy
 * loop. At a step's gradient sum the ranks arrive together and the spin is
 * short; but while rank 0 evaluates (up to --eval-share of the wall time) the
 * others wait at the decision's broadcast, and spinning there would take a
 * core from anything else on the machine. */
#ifdef SW_HAVE_MPI
#include "stopwise/train.h"
#include "train/parallel.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The job as this process joined it (the MPI world is process-wide). */
static int joined, world_rank, world_size = 1;
static int failed_together; /* an agreement ended on an error every rank knows */

int sw_parallel_available(void) { return 1; }
int sw_parallel_rank(void) { return world_rank; }
int sw_parallel_size(void) { return world_size; }
int sw_parallel_failed_together(void) { return failed_together; }

sw_status sw_parallel_begin(sw_error *err)
{
    int already = 0;
    MPI_Initialized(&already);
    if (joined || already) return SW_OK;
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE")) return SW_OK; /* not started by mpirun */
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return sw_error_set(err, SW_ERR_CONNECT, "MPI_Init failed: cannot join the job mpirun started");
    joined = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    return SW_OK;
}

void sw_parallel_end(int exit_code)
{
    if (!joined) return;
    joined = 0;
    if (exit_code && world_size > 1 && !failed_together) MPI_Abort(MPI_COMM_WORLD, exit_code);
    MPI_Finalize();
}

/* Completes a non-blocking operation, sleeping 0.2 ms between polls. */
static void wait_asleep(MPI_Request *rq)
{
    int done = 0;
    MPI_Test(rq, &done, MPI_STATUS_IGNORE);
    while (!done) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        MPI_Test(rq, &done, MPI_STATUS_IGNORE);
    }
}

/* MPI counts are int: large buffers go in pieces. */
enum { PIECE = 1 << 30 };

void sw_parallel_sum_floats(float *x, size_t n)
{
    if (world_size == 1) return;
    for (size_t i = 0; i < n; i += PIECE) {
        int k = n - i < PIECE ? (int)(n - i) : PIECE;
        MPI_Allreduce(MPI_IN_PLACE, x + i, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
}

void sw_parallel_sum_doubles(double *x, size_t n)
{
    if (world_size == 1) return;
    for (size_t i = 0; i < n; i += PIECE) {
        int k = n - i < PIECE ? (int)(n - i) : PIECE;
        MPI_Allreduce(MPI_IN_PLACE, x + i, k, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    }
}

static void bcast_from(void *buf, size_t bytes, int root)
{
    for (size_t i = 0; i < bytes; i += PIECE) {
        int k = bytes - i < PIECE ? (int)(bytes - i) : PIECE;
        MPI_Request rq;
        MPI_Ibcast((char *)buf + i, k, MPI_BYTE, root, MPI_COMM_WORLD, &rq);
        wait_asleep(&rq);
    }
}

void sw_parallel_bcast(void *buf, size_t bytes)
{
    if (world_size > 1) bcast_from(buf, bytes, 0);
}

sw_status sw_parallel_agree(sw_status st, sw_error *err)
{
    if (world_size == 1) return st;
    /* MAXLOC: the highest status, and the lowest rank that has it */
    int in[2] = {(int)st, world_rank}, out[2];
    MPI_Request rq;
    MPI_Iallreduce(in, out, 1, MPI_2INT, MPI_MAXLOC, MPI_COMM_WORLD, &rq);
    wait_asleep(&rq);
    if (out[0] == SW_OK) return SW_OK;
    char msg[sizeof err->msg] = "";
    if (world_rank == out[1] && err) snprintf(msg, sizeof msg, "%s", err->msg);
    bcast_from(msg, sizeof msg, out[1]);
    msg[sizeof msg - 1] = 0;
    if (world_rank != out[1]) sw_error_set(err, (sw_status)out[0], "rank %d: %s", out[1], msg);
    failed_together = 1;
    return (sw_status)out[0];
}
#endif
