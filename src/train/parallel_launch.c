/* The world mpirun announces in the environment (stopwise/train.h,
 * sw_parallel_launched): shared by the MPI and the one-process builds, so the
 * latter can refuse to run as one of several copies. */
#include "stopwise/train.h"

#include <errno.h>
#include <stdlib.h>

/* A non-negative integer variable, or -1 when unset or not a number. */
static long env_count(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) return -1;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    return errno || *end || n < 0 ? -1 : n;
}

int sw_parallel_launched(int *rank)
{
    /* Open MPI's mpirun, then the PMI of MPICH's hydra and of Slurm's srun */
    static const char *const names[][2] = {{"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"}, {"PMI_SIZE", "PMI_RANK"}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        long size = env_count(names[i][0]), r = env_count(names[i][1]);
        if (size >= 1 && r >= 0 && r < size) {
            if (rank) *rank = (int)r;
            return (int)size;
        }
    }
    if (rank) *rank = 0;
    return 1;
}
