/* The CLI's OpenMP wait policy: see wait_policy.h and docs/ENGINE.md "Threads".
 *
 * Why passive: libgomp's default lets an idle thread spin (300000 rounds,
 * several milliseconds) before it sleeps. Alone on a machine that spin is
 * never long, but when several busy processes share the cores, the spinning
 * thread burns the time slice that its descheduled sibling needs to reach the
 * barrier, and every process crawls (four default trainings on 2 cores: 145
 * tokens/s each instead of ~800). With OMP_WAIT_POLICY=passive an idle
 * thread sleeps at once: the four took 188 s, less than the 252 s of running
 * them in sequence. The price is a futex wake-up per parallel region in a run
 * alone; bench/concurrency.sh measures both sides (N concurrent against N in
 * sequence, target <= 1.3x; one run against the spinning default, target
 * within 5%). A bounded spin (GOMP_SPINCOUNT) or one thread are the
 * alternatives it can compare (--variants). */
#include "cli/wait_policy.h"

#include <stdlib.h>
#include <unistd.h>

void sw_cli_wait_policy_apply(char **argv)
{
    if (getenv(SW_CLI_WAIT_POLICY_MARK)) return; /* done already, or turned off by the user */
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return; /* the user's choice */
    if (setenv("OMP_WAIT_POLICY", "passive", 1) || setenv(SW_CLI_WAIT_POLICY_MARK, "1", 1)) return;
    execv("/proc/self/exe", argv);
    /* no /proc (or exec refused): go on with libgomp's default; the variables
     * stay set, so a child process started by us gets them at its load */
}
