/* Helpers shared by the tests: temporary folders and running the CLI. */
#ifndef SW_TEST_SUPPORT_H
#define SW_TEST_SUPPORT_H
#include <stddef.h>

/* Makes a fresh empty folder under $TMPDIR (or /tmp); returns a static path
 * valid until the next call. Aborts the test (cr_assert) on failure. */
const char *sw_test_tmpdir(void);

/* Runs `STOPWISE_CLI args...` through /bin/sh with stdout and stderr captured
 * into malloc'd strings (caller frees; either pointer may be NULL to discard).
 * `args` is a shell fragment. Returns the exit code, or -1 if it did not exit. */
int sw_test_cli(const char *args, char **out, char **err);

/* Runs a shell command the same way (no CLI prefix). */
int sw_test_sh(const char *cmd, char **out, char **err);

/* Reads a whole file into a malloc'd NUL-terminated buffer (NULL if absent). */
char *sw_test_slurp(const char *path, size_t *len);

/* Writes `text` to `dir/name`, returning a static path to it. */
const char *sw_test_write(const char *dir, const char *name, const char *text);

/* Whether `dir/name` exists (a file or a folder). */
int sw_test_exists(const char *dir, const char *name);

/* Switches the process to the comma-decimal locale de_DE.UTF-8, as a host
 * program may (scripts/setup.sh generates it), and checks that libc itself
 * now prints "0,5", so a locale test is meaningful. Aborts the test if not. */
void sw_test_comma_locale(void);

#endif
