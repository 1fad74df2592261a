/* How idle OpenMP threads wait, chosen once for the CLI process.
 *
 * libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT when it is loaded, before
 * main() runs, so the only way for the program itself to choose them is to
 * set them and execute itself again. docs/ENGINE.md "Threads" gives the
 * measurements behind the choice (bench/concurrency.sh). */
#ifndef SW_CLI_WAIT_POLICY_H
#define SW_CLI_WAIT_POLICY_H

/* The environment variable that marks the second execution (so it happens
 * once) and that a user can set to keep libgomp's own default: "1". */
#define SW_CLI_WAIT_POLICY_MARK "STOPWISE_WAIT_POLICY_SET"
/* The spin count the CLI sets: an idle thread spins this many rounds (tens
 * of microseconds to a few hundred), then sleeps (wait_policy.c says why). */
#define SW_CLI_SPINCOUNT "100000"

/* If neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set (the user's own
 * settings always win) and SW_CLI_WAIT_POLICY_MARK is unset, sets the
 * stopwise default (GOMP_SPINCOUNT=SW_CLI_SPINCOUNT) and the mark, and re-executes
 * /proc/self/exe with the same argv. Returns only when nothing was to be done
 * or the re-execution failed (then the process goes on with libgomp's
 * default, which is only slower under load). Call first thing in main(),
 * before any thread is started. */
void sw_cli_wait_policy_apply(char **argv);

#endif
