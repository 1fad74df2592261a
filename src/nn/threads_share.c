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
 * of them while it trains, and counts the others by trying each one. flock
 * locks go away with the process, even on kill -9, so nothing goes stale.
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
    int on;            /* 1 between begin and end */
    int cores;         /* the cores this process may use (sw_threads at begin) */
    int own;           /* our slot's index, -1 when every slot was taken */
    int fd;            /* its locked file, -1 without one */
    char dir[96];
} share = {0, 0, -1, -1, ""};

static void slot_path(int k, char *buf, size_t cap) { snprintf(buf, cap, "%s/core-%d", share.dir, k); }

/* Other processes holding a slot now. */
static int others(void)
{
    int n = 0;
    for (int k = 0; k < share.cores; k++) {
        if (k == share.own) continue;
        char path[128];
        slot_path(k, path, sizeof path);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) flock(fd, LOCK_UN); /* free */
        else if (errno == EWOULDBLOCK) n++;
        close(fd);
    }
    /* without a slot of our own, every slot is someone else's */
    return n;
}

int sw_threads_share_begin(void)
{
    if (share.on) return sw_threads();
    share.cores = sw_threads();
    if (share.cores > SHARE_MAX_CORES) share.cores = SHARE_MAX_CORES;
    const char *dir = getenv("STOPWISE_CORES_DIR"); /* tests use a folder of their own */
    if (dir && *dir) snprintf(share.dir, sizeof share.dir, "%s", dir);
    else snprintf(share.dir, sizeof share.dir, "/tmp/stopwise-cores-%lu", (unsigned long)getuid());
    if (mkdir(share.dir, 0700) != 0 && errno != EEXIST) return sw_threads(); /* no sharing: all cores */
    share.own = -1;
    share.fd = -1;
    for (int k = 0; k < share.cores && share.own < 0; k++) {
        char path[128];
        slot_path(k, path, sizeof path);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            share.own = k;
            share.fd = fd;
        } else {
            close(fd);
        }
    }
    share.on = 1;
    return sw_threads_share_adjust();
}

int sw_threads_share_adjust(void)
{
    if (!share.on) return sw_threads();
    int t = share.own < 0 ? 1 : share.cores / (1 + others());
    if (t < 1) t = 1;
    if (t != sw_threads()) sw_threads_set(t);
    return t;
}

void sw_threads_share_end(void)
{
    if (!share.on) return;
    if (share.fd >= 0) close(share.fd); /* releases the lock */
    sw_threads_set(share.cores);
    share.on = 0;
    share.own = share.fd = -1;
}
