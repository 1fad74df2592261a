/* Replay: a policy over a recorded curve, through the same core a live
 * controller runs (sw_controller_feed_point), so the decisions agree exactly.
 * Columns are resolved once and the history is reserved up front, so the
 * loop allocates nothing per evaluation. A stop is then scored (stop.h):
 * with a cooldown, by the better of the best checkpoint and the branch
 * annealed at the stop, charging the cooldown's tokens. */
#include "stop/internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* max that skips NaN: the larger finite-or-inf of a and b (NaN if both are) */
static double nmax(double a, double b)
{
    if (isnan(a)) return b;
    if (isnan(b)) return a;
    return a > b ? a : b;
}

/* Scores out->stop_index (best_em already set): score_em, charged tokens,
 * the annealed fields, curve_best_em and the shortfall. */
static sw_status score(const sw_policy *policy, const sw_curve *curve, sw_replay_result *out, sw_error *err)
{
    const size_t n = sw_curve_len(curve);
    const double *em = sw_curve_column(curve, "val_em", NULL);
    double frac;
    sw_cooldown_shape shape;
    out->curve_best_em = NAN;
    if (!sw_policy_cooldown(policy, &frac, &shape)) {
        for (size_t k = 0; em && k < n; k++)
            if (isfinite(em[k])) out->curve_best_em = nmax(out->curve_best_em, em[k]);
        out->score_em = out->best_em;
        out->charged_tokens = out->stop_tokens;
        out->anneal_em = NAN;
        out->shortfall = out->curve_best_em - out->score_em;
        return SW_OK;
    }
    sw_status st = sw_curve_require(curve, "val_em", "a cooldown is scored by validation EM", err);
    if (st) return st;
    sw_anneal_family f;
    if ((st = sw_anneal_family_open(curve, "val_em", frac, shape, &f, err))) return st;
    sw_anneal_scan sc;
    sw_anneal_scan_init(&f, &sc);
    double b = NAN;
    for (size_t k = 0; k < n; k++) {
        double a;
        uint64_t at;
        int pred;
        sw_anneal_scan_next(&sc, &a, &at, &pred);
        if (isfinite(em[k])) b = nmax(b, em[k]);
        out->curve_best_em = nmax(out->curve_best_em, nmax(b, isfinite(a) ? a : NAN));
        if (k == out->stop_index) {
            out->anneal_em = a;
            out->anneal_tokens = at;
            out->anneal_predicted = pred;
        }
    }
    out->annealed = 1;
    out->score_em = nmax(out->best_em, isfinite(out->anneal_em) ? out->anneal_em : NAN);
    out->charged_tokens = out->stop_tokens + out->anneal_tokens;
    out->shortfall = out->curve_best_em - out->score_em;
    return SW_OK;
}

sw_status sw_replay(const sw_policy *policy, const sw_curve *curve, sw_replay_result *out, sw_error *err)
{
    memset(out, 0, sizeof *out);
    out->best_em = out->curve_best_em = out->best_value = out->anneal_em = out->score_em = NAN;
    const char *src = sw_curve_source(curve)[0] ? sw_curve_source(curve) : "(curve)";
    size_t n = sw_curve_len(curve);
    if (n == 0) return sw_error_set(err, SW_ERR_FORMAT, "%s: no evaluations (only a header)", src);
    char why[128];
    snprintf(why, sizeof why, "the policy monitors %s", policy->monitor);
    sw_status st = sw_curve_require(curve, policy->monitor, why, err);
    if (st) return st;
    if (sw_policy_needs(policy, "val_loss") && (st = sw_curve_require(curve, "val_loss", "needed by gl, pq and up", err)))
        return st;
    if (sw_policy_needs(policy, "train_loss") && (st = sw_curve_require(curve, "train_loss", "needed by pq", err)))
        return st;

    const uint64_t *tokens = sw_curve_tokens(curve);
    sw_controller *c;
    if ((st = sw_controller_create(policy, tokens[n - 1], &c, err))) return st;
    if ((st = sw_controller_reserve(c, n))) {
        sw_controller_free(c);
        return sw_error_set(err, st, "%s: out of memory", src);
    }
    const double *col[SW_SLOT_N];
    const unsigned char *pres[SW_SLOT_N];
    col[SW_SLOT_MONITOR] = sw_curve_column(curve, policy->monitor, &pres[SW_SLOT_MONITOR]);
    col[SW_SLOT_VAL_LOSS] = sw_curve_column(curve, "val_loss", &pres[SW_SLOT_VAL_LOSS]);
    col[SW_SLOT_TRAIN_LOSS] = sw_curve_column(curve, "train_loss", &pres[SW_SLOT_TRAIN_LOSS]);
    col[SW_SLOT_DIVERGE] = c->diverge_on[0] ? sw_curve_column(curve, c->diverge_on, &pres[SW_SLOT_DIVERGE]) : NULL;

    sw_decision d;
    size_t i = 0;
    for (; i < n; i++) {
        sw_point pt = {.tokens = tokens[i]};
        for (int s = 0; s < SW_SLOT_N; s++) {
            if (col[s] && pres[s][i]) {
                pt.v[s] = col[s][i];
                pt.present |= 1u << s;
            }
        }
        st = sw_controller_feed_point(c, &pt, "", &d);
        if (st) {
            /* rows count data lines from 1 (the header is not a row) */
            sw_error_set(err, st, "%s: row %zu: %s", src, i + 1, sw_controller_errmsg(c));
            sw_controller_free(c);
            return st;
        }
        if (d.stop) break;
    }
    out->end_tokens = tokens[n - 1];
    if (i < n) {
        out->stopped = 1;
        out->diverged = d.diverged;
        out->stop_index = i;
        out->stop_rule = d.rule;
        memcpy(out->reason, d.reason, sizeof out->reason);
    } else {
        out->stop_index = n - 1;
        out->stop_rule = SW_RULE_NONE;
        snprintf(out->reason, sizeof out->reason, "no rule fired: ran to the end of the curve");
    }
    out->stop_tokens = tokens[out->stop_index];
    out->saved_tokens = out->end_tokens - out->stop_tokens;
    const double *em = sw_curve_column(curve, "val_em", NULL);
    if (sw_controller_best(c, &out->best_index, &out->best_tokens, &out->best_value) == SW_OK) {
        if (em) out->best_em = em[out->best_index];
    } else {
        out->best_index = 0;
        out->best_tokens = tokens[0];
    }
    sw_controller_free(c);
    return score(policy, curve, out, err);
}

sw_status sw_replay_oracle(const sw_policy *policy, const sw_curve *curve, double epsilon, sw_replay_result *out,
                           sw_error *err)
{
    memset(out, 0, sizeof *out);
    out->best_em = out->curve_best_em = out->best_value = out->anneal_em = NAN;
    const char *src = sw_curve_source(curve)[0] ? sw_curve_source(curve) : "(curve)";
    size_t n = sw_curve_len(curve);
    if (n == 0) return sw_error_set(err, SW_ERR_FORMAT, "%s: no evaluations (only a header)", src);
    if (!(epsilon >= 0)) return sw_error_set(err, SW_ERR_INVALID, "oracle: epsilon must be >= 0, not %g", epsilon);
    sw_status st = sw_curve_require(curve, "val_em", "the oracle scores by validation EM", err);
    if (st) return st;
    const uint64_t *tokens = sw_curve_tokens(curve);
    const double *em = sw_curve_column(curve, "val_em", NULL);
    /* the reference: score the last row once (it scans every row) */
    out->stop_index = n - 1;
    out->stop_tokens = tokens[n - 1];
    if ((st = score(policy, curve, out, err))) return st;
    const double ref = out->curve_best_em;
    double frac;
    sw_cooldown_shape shape;
    int cool = sw_policy_cooldown(policy, &frac, &shape);
    sw_anneal_family f;
    sw_anneal_scan sc;
    if (cool) {
        sw_anneal_family_open(curve, "val_em", frac, shape, &f, NULL);
        sw_anneal_scan_init(&f, &sc);
    }
    double b = NAN;
    size_t bi = 0, k = 0;
    for (; k < n; k++) {
        double a = NAN;
        uint64_t at = 0;
        int pred = 0;
        if (cool) sw_anneal_scan_next(&sc, &a, &at, &pred);
        if (isfinite(em[k]) && !(em[k] <= b)) b = em[k], bi = k;
        double sc_em = nmax(b, isfinite(a) ? a : NAN);
        if (k == n - 1 || sc_em >= ref - epsilon - 1e-9) {
            out->stop_index = k;
            out->anneal_em = a;
            out->anneal_tokens = at;
            out->anneal_predicted = pred;
            break;
        }
    }
    out->end_tokens = tokens[n - 1];
    out->stop_tokens = tokens[out->stop_index];
    out->saved_tokens = out->end_tokens - out->stop_tokens;
    out->stop_rule = SW_RULE_NONE;
    sw_snprintf(out->reason, sizeof out->reason, "oracle: the first evaluation within %g of the best score %g", epsilon, ref);
    out->best_index = bi;
    out->best_tokens = tokens[bi];
    out->best_em = out->best_value = b;
    out->annealed = cool;
    out->score_em = nmax(b, cool && isfinite(out->anneal_em) ? out->anneal_em : NAN);
    out->charged_tokens = out->stop_tokens + out->anneal_tokens;
    out->shortfall = ref - out->score_em;
    return SW_OK;
}
