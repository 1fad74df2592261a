/* Parsing of --branch-cooldowns and --branch-shapes (train, tune). */
#ifndef SW_CLI_BRANCH_OPTIONS_H
#define SW_CLI_BRANCH_OPTIONS_H

#include <stddef.h>

#include "stopwise/nn.h"

/* "0.05,0.1,0.2" into c[0..*n) (each in (0, 1]) and "linear,sqrt" into
 * shapes. Return -1 on success, else 2 after printing "stopwise WHAT: ..." */
int sw_cli_parse_cooldowns(const char *what, const char *list, double *c, size_t cap, size_t *n);
int sw_cli_parse_shapes(const char *what, const char *list, sw_decay_shape *sh, size_t cap, size_t *n);

#endif
