/* stopwise's pruner: the trial's own stopping policy stops it inside the
 * trainer (the runner passes it as the trial's --stop), and at each rung
 * the forecast of its best EM by the budget is compared with the best
 * finished trial: when even the upper end of the forecast's interval falls
 * short, no further token can make this trial the winner (Domhan,
 * Springenberg and Hutter, IJCAI 2015, terminate a run whose predicted
 * curve cannot beat the best seen so far). The forecast is sw_forecaster's
 * fit method, calibrated on the finished trials' curves when the caller has
 * them (stop.h); uncalibrated, its interval is the fit's normal one. */
#include "internal.h"

#include "stopwise/stop.h"

#include <math.h>
#include <stdio.h>

sw_status sw_pruner_policy_decide(double level, const sw_pruner_input *in, sw_pruner_decision *out, sw_error *err)
{
    out->prune = 0;
    if (in->incumbent != in->incumbent || !in->curve_n || !in->budget) return SW_OK;
    sw_forecaster *own = NULL;
    const sw_forecaster *fc = in->forecaster;
    sw_status st;
    if (!fc) {
        if ((st = sw_forecaster_create(NULL, 0, "val_em", 1, SW_FORECAST_FIT, level, &own, err))) return st;
        fc = own;
    }
    sw_forecast f;
    sw_error e;
    st = sw_forecaster_predict(fc, in->curve_tokens, in->curve_em, in->curve_n, in->budget, &f, &e);
    sw_forecaster_free(own);
    if (st == SW_ERR_NOT_FOUND) return SW_OK; /* no finite value yet: nothing to judge */
    if (st) return sw_error_set(err, st, "policy pruner: %s", e.msg);
    out->prune = f.hi < in->incumbent;
    char tok[32];
    if (out->prune)
        sw_snprintf(out->reason, sizeof out->reason,
                    "policy: at %s tokens the forecast of its best EM by the budget is at most %.2f (%.0f%% interval, %s), "
                    "below the best finished trial's %.2f",
                    sw_format_tokens(in->tokens, tok, sizeof tok), f.hi, 100 * level,
                    f.calibrated ? "calibrated on the finished trials" : "uncalibrated", in->incumbent);
    return SW_OK;
}
