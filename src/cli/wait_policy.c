/* The CLI's OpenMP wait policy: see wait_policy.h and docs/ENGINE.md "Threads".
 *
 * Why a bounded spin: libgomp's default lets an idle thread spin 300000
 * rounds (milliseconds) before it sleeps. Alone on a machine that spin is
 * never long, but when several busy processes share the cores, the spinning
 * thread burns the time slice its descheduled sibling needs to reach the
 * barrier, and every process crawls (four default trainings on 2 cores: 145
 * tokens/s each instead of ~800). Sleeping at once (OMP_WAIT_POLICY=passive)
 * cures that but costs every wake-up a futex: measured alone, the MLP at 2
 * threads ran at 78k tokens/s passive against 123k spinning, the d128 gpt at
 * 27.4k against 29.6k. A bounded spin keeps the speed of spinning and caps
 * what a descheduled sibling costs: GOMP_SPINCOUNT=10000 ran at 125k and
 * 29.0k, and a whole default run (bench/concurrency.sh) at 0.956 of libgomp's
 * default; 100000 at 0.986, and N concurrent runs at 0.66-0.71 of the same
 * runs in sequence. Concurrent stopwise runs also share out the cores
 * (nn/threads_share.c), so they do not oversubscribe them. */
#include "cli/wait_policy.h"

#include <stdlib.h>
#include <unistd.h>

void sw_cli_wait_policy_apply(char **argv)
{
    if (getenv(SW_CLI_WAIT_POLICY_MARK)) return; /* done already, or turned off by the user */
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return; /* the user's choice */
    if (setenv("GOMP_SPINCOUNT", SW_CLI_SPINCOUNT, 1) || setenv(SW_CLI_WAIT_POLICY_MARK, "1", 1)) return;
    execv("/proc/self/exe", argv);
    /* no /proc (or exec refused): go on with libgomp's default; the variables
     * stay set, so a child process started by us gets them at its load */
}
