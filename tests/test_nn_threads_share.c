/* nn/: sharing the cores with other stopwise processes. A child process
 * joins first and holds its slot; the parent then gets cores / 2 threads, and
 * all of them again at the next adjust once the child has gone (its flock
 * goes with it, as it would on kill -9). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stopwise/nn.h"
#include "support.h"

Test(threads_share, others_halve_the_threads_and_leaving_gives_them_back)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/cores", sw_test_tmpdir());
    setenv("STOPWISE_CORES_DIR", dir, 1);
    sw_threads_set(4); /* four cores to share, whatever this machine has */
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t child = fork();
    cr_assert_neq(child, -1);
    if (child == 0) {
        close(ready[0]);
        int t = sw_threads_share_begin(); /* alone: all four */
        if (write(ready[1], &t, sizeof t) != (ssize_t)sizeof t) _exit(1);
        pause(); /* holds its slot until killed */
        _exit(0);
    }
    close(ready[1]);
    int child_threads = 0;
    cr_assert_eq(read(ready[0], &child_threads, sizeof child_threads), (ssize_t)sizeof child_threads);
    cr_assert_eq(child_threads, 4, "alone, the first run takes every core");
    cr_assert_eq(sw_threads_share_begin(), 2, "with one other run, half the cores");
    cr_assert_eq(sw_threads(), 2);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    cr_assert_eq(sw_threads_share_adjust(), 4, "the other run is gone: every core again");
    sw_threads_share_end();
    cr_assert_eq(sw_threads(), 4, "end restores the count it began with");
    cr_assert_eq(sw_threads_share_adjust(), 4, "adjust without begin changes nothing");
}

/* A run with a fixed thread count (--threads 3) holds that many slots: a
 * sharing run beside it on 4 cores gets 4 / (1 + 3) = 1 thread, not 4 on
 * top of the other's 3 (the oversubscription that makes BLIS's spinning
 * barriers crawl); the fixed run's own count never moves. */
Test(threads_share, a_fixed_thread_count_holds_its_slots)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/cores-fixed", sw_test_tmpdir());
    setenv("STOPWISE_CORES_DIR", dir, 1);
    sw_threads_set(4);
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t child = fork();
    cr_assert_neq(child, -1);
    if (child == 0) {
        close(ready[0]);
        int t = sw_threads_share_hold(3);
        t = t * 10 + sw_threads_share_adjust(); /* fixed: adjust leaves it */
        if (write(ready[1], &t, sizeof t) != (ssize_t)sizeof t) _exit(1);
        pause();
        _exit(0);
    }
    close(ready[1]);
    int child_threads = 0;
    cr_assert_eq(read(ready[0], &child_threads, sizeof child_threads), (ssize_t)sizeof child_threads);
    cr_assert_eq(child_threads, 33, "the fixed run keeps its 3 threads (got %d)", child_threads);
    cr_assert_eq(sw_threads_share_begin(), 1, "beside a fixed 3-thread run, 1 of the 4 cores");
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    cr_assert_eq(sw_threads_share_adjust(), 4, "the fixed run is gone: every core again");
    sw_threads_share_end();
}
