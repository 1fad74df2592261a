/* The branch options train --forks and tune --schedule wsd share: lists of
 * cooldown fractions and decay shapes. */
#include "cli/branch_options.h"
#include "cli/options.h"

#include <stdio.h>
#include <string.h>

/* "0.05,0.1,0.2" and "linear,sqrt" (exit code 2 and a message when bad). */
int sw_cli_parse_cooldowns(const char *what, const char *list, double *c, size_t cap, size_t *n)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    *n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == cap) return sw_cli_fail(what, 2, "--branch-cooldowns: at most %zu values", cap);
        if (sw_parse_double(t, &c[*n]) != SW_OK || !(c[*n] > 0 && c[*n] <= 1))
            return sw_cli_fail(what, 2, "--branch-cooldowns: '%s' is not a fraction in (0, 1]", t);
        (*n)++;
    }
    return *n ? -1 : sw_cli_fail(what, 2, "--branch-cooldowns: empty list");
}

int sw_cli_parse_shapes(const char *what, const char *list, sw_decay_shape *sh, size_t cap, size_t *n)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    *n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k = sw_decay_shape_find(t);
        if (k < 0) return sw_cli_fail(what, 2, "--branch-shapes: '%s' (expected linear or sqrt)", t);
        if (*n == cap) return sw_cli_fail(what, 2, "--branch-shapes: at most %zu values", cap);
        sh[(*n)++] = (sw_decay_shape)k;
    }
    return *n ? -1 : sw_cli_fail(what, 2, "--branch-shapes: empty list");
}

