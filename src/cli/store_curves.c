/* Store curve -> stop curve. */
#include "cli/store_curves.h"

#include <stdlib.h>

sw_status sw_cli_curve_from_store(sw_store *s, int64_t run_id, sw_curve **out, sw_error *err)
{
    *out = NULL;
    sw_store_curve sc;
    sw_status st = sw_store_curve_get(s, run_id, &sc);
    if (st) return sw_error_set(err, st, "%s", sw_store_errmsg(s));
    sw_curve *c;
    if ((st = sw_curve_create(&c, err))) {
        sw_store_curve_clear(&sc);
        return st;
    }
    for (size_t i = 0; i < sc.n && !st; i++) {
        const sw_store_eval *e = &sc.evals[i];
        size_t n = 3 + e->n_metrics;
        sw_metric *m = malloc(sizeof *m * n);
        if (!m) {
            st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
            break;
        }
        m[0] = (sw_metric){"val_em", e->val_em};
        m[1] = (sw_metric){"val_loss", e->val_loss};
        m[2] = (sw_metric){"train_loss", e->train_loss};
        for (size_t k = 0; k < e->n_metrics; k++) m[3 + k] = (sw_metric){e->metrics[k].name, e->metrics[k].value};
        sw_eval ev = {.tokens = e->tokens, .step = e->step, .wall = e->wall_s, .metrics = m, .n_metrics = n};
        st = sw_curve_append(c, &ev, err);
        free(m);
    }
    sw_store_curve_clear(&sc);
    if (st) {
        sw_curve_free(c);
        return st;
    }
    *out = c;
    return SW_OK;
}
