/* Checks shared by the stop/ tests (header-only: each test_stop_* program
 * links only the stop layer, so these cannot live in support.c). */
#ifndef SW_TEST_STOP_HELPERS_H
#define SW_TEST_STOP_HELPERS_H

#include <criterion/criterion.h>
#include <stddef.h>

#include "stopwise/stop.h"

/* Each text parses, and formats back to exactly itself. */
static inline void sw_test_policy_round_trips(const char *const *texts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sw_policy *p;
        sw_error err;
        cr_assert_eq(sw_policy_parse(texts[i], &p, &err), SW_OK, "%s: %s", texts[i], err.msg);
        char buf[512];
        cr_assert_lt(sw_policy_format(p, buf, sizeof buf), sizeof buf, "%s", texts[i]);
        cr_assert_str_eq(buf, texts[i]);
        sw_policy_free(p);
    }
}

#endif
