#include "support.h"

#include "stopwise/base.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *sw_test_tmpdir(void)
{
    static char path[4096];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/stopwise-test-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(path), "mkdtemp failed");
    return path;
}

char *sw_test_slurp(const char *path, size_t *len)
{
    char *buf;
    if (sw_file_read(path, &buf, len, NULL)) return NULL;
    return buf;
}

const char *sw_test_write(const char *dir, const char *name, const char *text)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
    return path;
}

int sw_test_exists(const char *dir, const char *name)
{
    char path[8400];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

/* The guard's answer to its test's death: its whole process group goes. */
static void guard_on_test_death(int sig)
{
    (void)sig;
    kill(0, SIGKILL);
}

/* Runs `sh -c full` as system() would, but under a guard process that leads
 * a process group of its own and that the kernel signals when this test
 * process dies (PR_SET_PDEATHSIG): a test killed at its timeout then takes
 * the command's whole tree with it, instead of leaving a training to run on
 * as an orphan and slow every test after it. Returns a wait status. */
static int system_guarded(const char *full)
{
    pid_t test = getpid(), guard = fork();
    if (guard < 0) return -1;
    if (guard == 0) {
        setpgid(0, 0);
        signal(SIGTERM, guard_on_test_death);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != test) _exit(127); /* the test died before the guard was armed */
        pid_t child = fork();
        if (child == 0) {
            signal(SIGTERM, SIG_DFL);
            execl("/bin/sh", "sh", "-c", full, (char *)NULL);
            _exit(127);
        }
        int st = 0;
        while (child > 0 && waitpid(child, &st, 0) < 0 && errno == EINTR) {
        }
        if (child < 0 || !(WIFEXITED(st) || WIFSIGNALED(st))) _exit(127);
        if (WIFEXITED(st)) _exit(WEXITSTATUS(st));
        signal(WTERMSIG(st), SIG_DFL); /* the command's death, passed on as system() reports it */
        raise(WTERMSIG(st));
        _exit(128 + WTERMSIG(st));
    }
    int st = 0;
    while (waitpid(guard, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return st;
}

int sw_test_sh(const char *cmd, char **out, char **err)
{
    /* its own folder for the captured output: sw_test_tmpdir's static buffer
     * belongs to the caller */
    char dir[4096];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/stopwise-sh-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp failed");
    char *full = malloc(strlen(cmd) + 2 * sizeof dir + 64);
    sprintf(full, "(%s) >%s/out 2>%s/err </dev/null", cmd, dir, dir);
    int st = system_guarded(full);
    free(full);
    char p[4200];
    snprintf(p, sizeof p, "%s/out", dir);
    if (out) *out = sw_test_slurp(p, NULL);
    unlink(p);
    snprintf(p, sizeof p, "%s/err", dir);
    if (err) *err = sw_test_slurp(p, NULL);
    unlink(p);
    rmdir(dir);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int sw_test_cli(const char *args, char **out, char **err)
{
    char *cmd = malloc(strlen(args) + strlen(STOPWISE_CLI) + 2);
    sprintf(cmd, "%s %s", STOPWISE_CLI, args);
    int rc = sw_test_sh(cmd, out, err);
    free(cmd);
    return rc;
}

void sw_test_comma_locale(void)
{
    cr_assert_not_null(setlocale(LC_NUMERIC, "de_DE.UTF-8"),
                       "the locale de_DE.UTF-8 is missing: run scripts/setup.sh (it generates it)");
    cr_assert_str_eq(localeconv()->decimal_point, ",", "de_DE must use a decimal comma");
    char probe[32];
    snprintf(probe, sizeof probe, "%g", 0.5);
    cr_assert_str_eq(probe, "0,5", "libc itself now prints a comma: the test is meaningful");
}
