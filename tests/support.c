#include "support.h"

#include "stopwise/base.h"

#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    int st = system(full);
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
