/* Sharing the cores with other stopwise processes: threads = cores / (1 +
 * others), re-read at every evaluation. See nn.h and docs/ENGINE.md
 * "Threads".
 *
 * Why: BLIS's barriers inside a GEMM spin (its OpenMP build waits on an
 * atomic without yielding, whatever OMP_WAIT_POLICY says), so two 2-thread
 * runs on 2 cores each wait at every GEMM for a sibling that the other run's
 * threads have descheduled, and both crawl. Fewer threads than cores never
 * hits that. The trainer's results do not depend on the thread count (fixed
 * reduction orders; BLIS splits GEMMs over rows and columns, never the inner
 * dimension), so a run may change it between steps.
 *
 * How processes see each other: one lock file per core in a folder of this
 * user's (/tmp/stopwise-cores-UID/core-K, or $STOPWISE_CORES_DIR); a process holds a flock on one
 * of them while it trains, and counts the others by trying each one. A run
 * whose thread count is fixed (--threads N) holds N of them, so the shared
 * runs beside it make room for its threads. flock locks go away with the
 * process, even on kill -9, so nothing goes stale.
 * A process that finds every file locked holds none and trains on 1 thread. */
#include "stopwise/nn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHARE_MAX_CORES 256

/* Process-wide, like the thread count it steers (see nn.h). */
static struct {
    int on;                       /* 1 between begin (or hold) and end */
    int fixed;                    /* hold: a fixed count, never adjusted */
    int cores;                    /* the cores this process may use (sw_threads at begin) */
    int held;                     /* slots held: fd[k] >= 0 for each */
    int fd[SHARE_MAX_CORES];      /* our locked files, -1 for the others' */
    char dir[96];
} share;

static void slot_path(int k, char *buf, size_t cap) { snprintf(buf, cap, "%s/core-%d", share.dir, k); }

/* Slots held by other processes now. */
static int others(void)
{
    int n = 0;
    for (int k = 0; k < share.cores; k++) {
        if (share.fd[k] >= 0) continue;
        char path[128];
        slot_path(k, path, sizeof path);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) flock(fd, LOCK_UN); /* free */
        else if (errno == EWOULDBLOCK) n++;
        close(fd);
    }
    return n;
}

/* Joins: takes up to `want` free slots. 0 when there is no folder to share in. */
static int join(int want)
{
    share.cores = sw_threads() < SHARE_MAX_CORES ? sw_threads() : SHARE_MAX_CORES;
    const char *dir = getenv("STOPWISE_CORES_DIR"); /* tests use a folder of their own */
    if (dir && *dir) snprintf(share.dir, sizeof share.dir, "%s", dir);
    else snprintf(share.dir, sizeof share.dir, "/tmp/stopwise-cores-%lu", (unsigned long)getuid());
    if (mkdir(share.dir, 0700) != 0 && errno != EEXIST) return 0;
    share.held = 0;
    for (int k = 0; k < SHARE_MAX_CORES; k++) share.fd[k] = -1;
    for (int k = 0; k < share.cores && share.held < want; k++) {
        char path[128];
        slot_path(k, path, sizeof path);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            share.fd[k] = fd;
            share.held++;
        } else {
            close(fd);
        }
    }
    share.on = 1;
    return 1;
}

int sw_threads_share_begin(void)
{
    if (share.on) return sw_threads();
    share.fixed = 0;
    if (!join(1)) return sw_threads(); /* no sharing: all cores */
    return sw_threads_share_adjust();
}

int sw_threads_share_hold(int threads)
{
    if (share.on) return sw_threads();
    sw_threads_set(threads);
    share.fixed = 1;
    join(sw_threads());
    return sw_threads();
}

int sw_threads_share_adjust(void)
{
    if (!share.on || share.fixed) return sw_threads();
    /* without a slot of our own, every slot is someone else's: 1 thread */
    int t = share.held ? share.cores / (1 + others()) : 1;
    if (t < 1) t = 1;
    if (t != sw_threads()) sw_threads_set(t);
    return t;
}

void sw_threads_share_end(void)
{
    if (!share.on) return;
    for (int k = 0; k < SHARE_MAX_CORES; k++)
        if (share.fd[k] >= 0) close(share.fd[k]); /* releases the lock */
    if (!share.fixed) sw_threads_set(share.cores);
    share.on = share.fixed = share.held = 0;
}
