/* Store curve -> stop curve, for replay and tune. */
#include "cli/store_curves.h"

#include <math.h>
#include <stdlib.h>

sw_status sw_cli_curve_convert(const sw_store_curve *sc, sw_curve **out, sw_error *err)
{
    sw_status st = sw_curve_create(out, err);
    if (st) return st;
    for (size_t i = 0; i < sc->n && !st; i++) {
        const sw_store_eval *e = &sc->evals[i];
        sw_metric *m = malloc(sizeof *m * (3 + e->n_metrics));
        if (!m) {
            st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
            break;
        }
        size_t k = 0; /* the store writes NaN for a metric that was not measured */
        if (!isnan(e->val_em)) m[k++] = (sw_metric){"val_em", e->val_em};
        if (!isnan(e->val_loss)) m[k++] = (sw_metric){"val_loss", e->val_loss};
        if (!isnan(e->train_loss)) m[k++] = (sw_metric){"train_loss", e->train_loss};
        for (size_t j = 0; j < e->n_metrics; j++) m[k++] = (sw_metric){e->metrics[j].name, e->metrics[j].value};
        sw_eval ev = {.tokens = e->tokens, .step = e->step, .wall = e->wall_s, .metrics = m, .n_metrics = k};
        sw_error ae; /* err may be NULL */
        if ((st = sw_curve_append(*out, &ev, &ae)))
            sw_error_set(err, st, "run %lld: evaluation %zu: %s", (long long)sc->run_id, i + 1, ae.msg);
        free(m);
    }
    if (st) {
        sw_curve_free(*out);
        *out = NULL;
    }
    return st;
}

sw_status sw_cli_curve_from_store(sw_store *s, int64_t run_id, sw_curve **out, sw_error *err)
{
    *out = NULL;
    sw_store_curve sc;
    sw_status st = sw_store_curve_get(s, run_id, &sc);
    if (st) return sw_error_set(err, st, "%s", sw_store_errmsg(s));
    st = sw_cli_curve_convert(&sc, out, err);
    sw_store_curve_clear(&sc);
    return st;
}
