/* data/json_num.h: the one number-or-null helper every layer writes JSON
 * doubles with. */
#include <criterion/criterion.h>
#include <math.h>

#include "data/json_num.h"

Test(json_num, finite_is_a_real)
{
    json_t *x = sw_json_num(2.5);
    cr_assert(json_is_real(x));
    cr_assert_eq(json_real_value(x), 2.5);
    int bad = 0;
    cr_assert_eq(sw_json_num_get(x, &bad), 2.5);
    cr_assert_eq(bad, 0);
    json_decref(x);
}

Test(json_num, non_finite_is_null_and_reads_back_as_nan)
{
    double v[] = {NAN, INFINITY, -INFINITY};
    for (int i = 0; i < 3; i++) {
        json_t *x = sw_json_num(v[i]);
        cr_assert(json_is_null(x), "value %d", i);
        int bad = 0;
        cr_assert(isnan(sw_json_num_get(x, &bad)));
        cr_assert_eq(bad, 0);
        json_decref(x);
    }
}

Test(json_num, integers_read_as_numbers)
{
    json_t *x = json_integer(7);
    cr_assert_eq(sw_json_num_get(x, NULL), 7.0);
    json_decref(x);
}

Test(json_num, anything_else_is_bad)
{
    json_t *s = json_string("1.5");
    int bad = 0;
    cr_assert(isnan(sw_json_num_get(s, &bad)));
    cr_assert_eq(bad, 1);
    bad = 0;
    cr_assert(isnan(sw_json_num_get(NULL, &bad))); /* a missing key */
    cr_assert_eq(bad, 1);
    cr_assert(isnan(sw_json_num_get(s, NULL))); /* without a flag: just NaN */
    json_decref(s);
}
