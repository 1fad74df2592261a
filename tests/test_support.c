/* The test harness itself (support.c): a command a test runs does not outlive
 * the test. ctest kills a test at its timeout; the training it started must
 * go with it, or it slows every test after it. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

static int alive(pid_t pid) { return kill(pid, 0) == 0; }

Test(support, a_killed_test_takes_its_commands_with_it, .timeout = 60)
{
    const char *dir = sw_test_tmpdir();
    char pidfile[4200], cmd[8600];
    snprintf(pidfile, sizeof pidfile, "%s/pid", dir);
    /* a pipeline with a background job: grandchildren of the shell, too */
    snprintf(cmd, sizeof cmd, "sleep 300 & echo $! > %s; sleep 300 | cat", pidfile);
    pid_t test = fork();
    cr_assert_geq(test, 0);
    if (test == 0) { /* the "test": runs the command, then is killed like a timed-out test */
        sw_test_sh(cmd, NULL, NULL);
        _exit(0);
    }
    pid_t sleeper = 0;
    for (int i = 0; i < 500 && !sleeper; i++) {
        FILE *f = fopen(pidfile, "r");
        if (f) {
            if (fscanf(f, "%d", &sleeper) != 1) sleeper = 0;
            fclose(f);
        }
        if (!sleeper) usleep(10000);
    }
    cr_assert_gt(sleeper, 0, "the command never started");
    cr_assert(alive(sleeper));
    kill(test, SIGKILL);
    waitpid(test, NULL, 0);
    int gone = 0;
    for (int i = 0; i < 300 && !gone; i++) { /* a zombie still answers kill(0): reaped by init soon */
        gone = !alive(sleeper);
        if (!gone) usleep(10000);
    }
    cr_assert(gone, "the command's background job outlived its killed test (pid %d)", (int)sleeper);
}

Test(support, exit_codes_and_signals_come_back_as_from_system)
{
    cr_assert_eq(sw_test_sh("exit 3", NULL, NULL), 3);
    cr_assert_eq(sw_test_sh("true", NULL, NULL), 0);
    cr_assert_eq(sw_test_sh("kill -9 $$", NULL, NULL), -1, "a command killed by a signal reads -1");
    char *out = NULL;
    cr_assert_eq(sw_test_sh("echo hello", &out, NULL), 0);
    cr_assert_str_eq(out, "hello\n");
    free(out);
}
