/* A double in JSON, null when not finite (data/json_num.h). */
#include "data/json_num.h"

#include <math.h>

json_t *sw_json_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

double sw_json_num_get(const json_t *x, int *bad)
{
    if (json_is_number(x)) return json_number_value(x);
    if (!json_is_null(x) && bad) *bad = 1;
    return NAN;
}
