/* Store curve -> stop curve, for replay and tune. */
#include "cli/store_curves.h"
#include "stopwise/tune.h"

#include <math.h>
#include <stdlib.h>

sw_status sw_cli_curve_convert(const sw_store_curve *sc, sw_curve **out, sw_error *err)
{
    return sw_tune_store_curve_convert(sc, out, err);
}

sw_status sw_cli_curve_from_store(sw_store *s, int64_t run_id, sw_curve **out, sw_error *err)
{
    *out = NULL;
    sw_store_curve sc;
    sw_status st = sw_store_curve_get_joined(s, run_id, &sc); /* a trunk: annealed columns at its forks */
    if (st) return sw_error_set(err, st, "%s", sw_store_errmsg(s));
    st = sw_cli_curve_convert(&sc, out, err);
    sw_store_curve_clear(&sc);
    return st;
}
