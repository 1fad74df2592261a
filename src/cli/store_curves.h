/* Curves from the store, as stop/'s sw_curve, for replay and tune. */
#ifndef SW_CLI_STORE_CURVES_H
#define SW_CLI_STORE_CURVES_H

#include "stopwise/stop.h"
#include "stopwise/store.h"

/* Converts a curve read from the store (NaN metrics are "not measured" and
 * left out). Caller frees *out with sw_curve_free. */
sw_status sw_cli_curve_convert(const sw_store_curve *sc, sw_curve **out, sw_error *err);

/* Reads run `run_id`'s committed evaluations into a new sw_curve (columns
 * val_em, val_loss, train_loss and every other metric). Caller frees with
 * sw_curve_free. */
sw_status sw_cli_curve_from_store(sw_store *s, int64_t run_id, sw_curve **out, sw_error *err);

#endif
