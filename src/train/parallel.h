/* The ranks of an MPI job, as the trainer uses them (data_parallel.c):
 * sums over the ranks, rank 0's bytes to every rank, and agreeing on an
 * error. parallel_mpi.c implements it with MPI (a build with STOPWISE_MPI);
 * parallel.c is the one-process version of the same interface, where every
 * function is the identity. The public half (begin, end, rank, size) is in
 * stopwise/train.h.
 *
 * Every function here is collective: all ranks call it, in the same order,
 * or the job waits forever. Errors inside MPI end the job (MPI's default
 * handler, MPI_ERRORS_ARE_FATAL), so these return nothing but the agreement. */
#ifndef SW_TRAIN_PARALLEL_H
#define SW_TRAIN_PARALLEL_H

#include "stopwise/base.h"

#include <stddef.h>

/* x[0..n) <- its sum over the ranks, the same bits on every rank. */
void sw_parallel_sum_floats(float *x, size_t n);
void sw_parallel_sum_doubles(double *x, size_t n);
/* buf[0..bytes) <- rank 0's. The other ranks wait asleep (polling every
 * 0.2 ms), not spinning, so a rank waiting for rank 0's evaluation leaves its
 * core to others. */
void sw_parallel_bcast(void *buf, size_t bytes);
/* Every rank passes its status (and its message in err). Returns the highest
 * status of any rank (SW_OK when all are), and then err holds the message of
 * the lowest rank that had it, prefixed "rank R: " on the other ranks. Each
 * rank learns of an error together with the others, so sw_parallel_end
 * finalizes instead of aborting. */
sw_status sw_parallel_agree(sw_status st, sw_error *err);

#endif
