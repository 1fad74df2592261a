/* The run's forecast of the best validation EM it will reach by its budget,
 * for the progress line and the store (stop/forecast.c does the work).
 *
 * The reference curves are the task's earlier runs in the store that trained
 * the same budget to its end under the same schedule (completed, not
 * branches, curve reaching 99% of the budget): what this run is compared with
 * must have had the same chance to climb. A wsd trunk held at its constant
 * rate never anneals, a cosine run anneals all along, a default wsd run in its
 * last fifth: their best EMs by the budget differ by points. Without any, the
 * forecast is the learning-curve fit's own interval and says it is
 * uncalibrated. */
#include "train/trainer.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FORECAST_MAX_REFS 20 /* the newest runs of the task; older ones add little */
#define FORECAST_LEVEL 0.9

/* A stored run's val_em curve, if it is a full curve of this budget and
 * schedule (as sw_schedule_format writes it in the run's config). */
static sw_curve *reference_curve(sw_store *s, const sw_store_run *run, uint64_t budget, const char *schedule)
{
    json_t *cfg = run->config ? json_loads(run->config, 0, NULL) : NULL;
    json_int_t b = cfg ? json_integer_value(json_object_get(cfg, "budget")) : 0;
    const char *sched = cfg ? json_string_value(json_object_get(cfg, "schedule")) : NULL;
    int same = (uint64_t)b == budget && sched && !strcmp(sched, schedule);
    json_decref(cfg);
    if (!same) return NULL;
    sw_store_curve sc;
    if (sw_store_curve_get(s, run->id, &sc) != SW_OK) return NULL;
    sw_curve *c = NULL;
    int ok = sc.n >= 5 && (double)sc.evals[sc.n - 1].tokens >= 0.99 * (double)budget && sw_curve_create(&c, NULL) == SW_OK;
    for (size_t i = 0; ok && i < sc.n; i++) {
        if (isnan(sc.evals[i].val_em)) continue;
        sw_metric m = {"val_em", sc.evals[i].val_em};
        sw_eval ev = {.tokens = sc.evals[i].tokens, .step = sc.evals[i].step, .metrics = &m, .n_metrics = 1};
        ok = sw_curve_append(c, &ev, NULL) == SW_OK;
    }
    sw_store_curve_clear(&sc);
    if (!ok || sw_curve_len(c) < 5) {
        sw_curve_free(c);
        return NULL;
    }
    return c;
}

sw_status sw_trainer_forecast_begin(sw_trainer *r)
{
    sw_curve *refs[FORECAST_MAX_REFS] = {0};
    size_t n = 0;
    if (r->store) {
        sw_store_run_filter f;
        memset(&f, 0, sizeof f);
        f.task = sw_dataset_name(r->ds);
        f.has_status = 1;
        f.status = SW_RUN_COMPLETED;
        f.branches = -1;
        f.limit = 4 * FORECAST_MAX_REFS; /* some may have another budget */
        sw_store_run *runs = NULL;
        size_t nr = 0;
        /* a store that cannot list is no reason to fail a run: no references */
        char sched[256];
        sw_schedule_format(&r->sched, sched, sizeof sched);
        if (sw_store_runs_list(r->store, &f, &runs, &nr) == SW_OK)
            for (size_t i = 0; i < nr && n < FORECAST_MAX_REFS; i++)
                if (runs[i].id != r->res->run_id &&
                    (refs[n] = reference_curve(r->store, &runs[i], r->opt.budget, sched)))
                    n++;
        sw_store_run_list_free(runs, nr);
    }
    sw_forecaster *fc = NULL;
    /* gain, not fit: on real held-out curves (bench/forecast.sh) both cover at
     * the nominal rate on fashion-mnist but gain is half as wide, and on
     * cmudict, still rising at 20-40% of the budget, the fit extrapolates
     * without bound (docs/STOPPING.md) */
    sw_status st = sw_forecaster_create((const sw_curve *const *)refs, n, "val_em", 1, SW_FORECAST_GAIN, FORECAST_LEVEL,
                                        &fc, r->err);
    for (size_t i = 0; i < n; i++) sw_curve_free(refs[i]);
    r->forecaster = fc;
    r->forecast_refs = n;
    return st;
}

void sw_trainer_forecast_update(sw_trainer *r)
{
    r->forecast = (sw_forecast){.mean = NAN, .lo = NAN, .hi = NAN};
    if (!r->forecaster || !r->n_curve || r->in_cooldown) return;
    uint64_t *tok = malloc(r->n_curve * sizeof *tok);
    double *v = malloc(r->n_curve * sizeof *v);
    sw_forecast fo;
    if (tok && v) {
        for (size_t i = 0; i < r->n_curve; i++) tok[i] = r->curve[i].tokens, v[i] = r->curve[i].val_em;
        if (sw_forecaster_predict(r->forecaster, tok, v, r->n_curve, r->opt.budget, &fo, NULL) == SW_OK) {
            /* EM is a percentage: the interval of its future maximum is too */
            fo.mean = fmin(fmax(fo.mean, 0), 100);
            fo.hi = fmin(fmax(fo.hi, 0), 100);
            fo.lo = fmin(fmax(fo.lo, 0), fo.hi);
            r->forecast = fo;
            char b[32], text[256];
            sw_format_tokens(r->opt.budget, b, sizeof b);
            if (fo.calibrated)
                sw_snprintf(text, sizeof text, "forecast: best EM by %s tokens %.1f (90%%: %.1f-%.1f, from %zu earlier run%s)",
                            b, fo.mean, fo.lo, fo.hi, r->forecast_refs, r->forecast_refs == 1 ? "" : "s");
            else
                sw_snprintf(text, sizeof text, "forecast: best EM by %s tokens %.1f (%.1f-%.1f, uncalibrated: no earlier runs)",
                            b, fo.mean, fo.lo, fo.hi);
            sw_trainer_note(r, "%s", text);
        }
    }
    free(tok);
    free(v);
}

void sw_trainer_forecast_free(sw_trainer *r)
{
    sw_forecaster_free(r->forecaster);
    r->forecaster = NULL;
}
