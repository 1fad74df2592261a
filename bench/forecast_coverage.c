/* Forecast coverage on held-out curves (issue 9): each curve in turn is cut at
 * 20, 40 and 60% of its tokens and its future maximum forecast from the other
 * curves (leave one curve out); the table gives how often the 90% interval
 * covered the truth, its mean width and the point forecast's mean error, for
 * the calibrated methods and for the fit's bare delta-method interval.
 *
 *   bench_forecast_coverage [--metric val_em] [--level 0.9] CURVE.csv...
 *   bench_forecast_coverage --synthetic N [--seed S]
 * --synthetic draws N power-law curves with noise (known end points).
 * Prints a table; with --json, one JSON object instead. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/base.h"
#include "stopwise/stop.h"

static sw_curve *synthetic_curve(sw_rng *rng)
{
    double c = 60 + 20 * sw_rng_uniform(rng), a = 8 + 8 * sw_rng_uniform(rng);
    double alpha = 0.3 + 0.5 * sw_rng_uniform(rng), noise = 0.4 + 0.8 * sw_rng_uniform(rng);
    sw_curve *cv = NULL;
    if (sw_curve_create(&cv, NULL) != SW_OK) return NULL;
    for (int i = 1; i <= 100; i++) {
        sw_metric m = {"val_em", c - a * pow(i / 100.0, -alpha) + noise * sw_rng_normal(rng)};
        sw_eval ev = {.tokens = (uint64_t)i * 10000, .step = i, .metrics = &m, .n_metrics = 1};
        sw_curve_append(cv, &ev, NULL);
    }
    return cv;
}

/* The bare fit: a forecaster without reference curves, checked the same way. */
static void bare_coverage(sw_curve **cv, size_t n, const char *metric, double level, double fraction,
                          sw_forecast_check *chk)
{
    memset(chk, 0, sizeof *chk);
    sw_forecaster *bare = NULL;
    if (sw_forecaster_create(NULL, 0, metric, 1, SW_FORECAST_FIT, level, &bare, NULL) != SW_OK) return;
    double width = 0, abs_err = 0;
    for (size_t i = 0; i < n; i++) {
        const double *v = sw_curve_column(cv[i], metric, NULL);
        const uint64_t *tok = sw_curve_tokens(cv[i]);
        size_t len = sw_curve_len(cv[i]), cut = 0;
        if (!v || !len) continue;
        while (cut < len && (double)tok[cut] <= fraction * (double)tok[len - 1]) cut++;
        double M = -INFINITY;
        for (size_t j = 0; j < len; j++)
            if (isfinite(v[j])) M = fmax(M, v[j]);
        sw_forecast fo;
        if (!cut || sw_forecaster_predict(bare, tok, v, cut, tok[len - 1], &fo, NULL) != SW_OK) continue;
        chk->n++;
        chk->covered += M >= fo.lo && M <= fo.hi;
        width += fo.hi - fo.lo;
        abs_err += fabs(M - fo.mean);
    }
    if (chk->n) {
        chk->coverage = (double)chk->covered / (double)chk->n;
        chk->mean_width = width / (double)chk->n;
        chk->mean_abs_error = abs_err / (double)chk->n;
    }
    sw_forecaster_free(bare);
}

int main(int argc, char **argv)
{
    const char *metric = "val_em";
    double level = 0.9;
    long long synthetic = 0, seed = 1;
    int json = 0;
    sw_curve **cv = calloc((size_t)argc + 1000, sizeof *cv);
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--metric") && i + 1 < argc) metric = argv[++i];
        else if (!strcmp(argv[i], "--level") && i + 1 < argc) {
            if (sw_parse_double(argv[++i], &level) != SW_OK) return fprintf(stderr, "bad --level\n"), 2;
        } else if (!strcmp(argv[i], "--synthetic") && i + 1 < argc) {
            if (sw_parse_int(argv[++i], 2, 1000, &synthetic) != SW_OK) return fprintf(stderr, "bad --synthetic\n"), 2;
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            if (sw_parse_int(argv[++i], 0, 1LL << 62, &seed) != SW_OK) return fprintf(stderr, "bad --seed\n"), 2;
        } else if (!strcmp(argv[i], "--json")) json = 1;
        else {
            sw_error err;
            if (sw_curve_read_csv(argv[i], &cv[n], &err) != SW_OK) return fprintf(stderr, "%s\n", err.msg), 2;
            n++;
        }
    }
    if (synthetic) {
        sw_rng rng;
        sw_rng_seed(&rng, (uint64_t)seed);
        for (long long i = 0; i < synthetic; i++) cv[n++] = synthetic_curve(&rng);
    }
    if (n < 2) return fprintf(stderr, "usage: bench_forecast_coverage [--metric M] [--level L] CURVE.csv... | --synthetic N\n"), 2;

    static const struct { const char *name; int method; } methods[] = {
        {"fit+conformal", SW_FORECAST_FIT}, {"gain+conformal", SW_FORECAST_GAIN}, {"bare fit", -1}};
    const double fractions[] = {0.2, 0.4, 0.6};
    if (json) printf("{\"level\":%.17g,\"curves\":%zu,\"rows\":[", level, n);
    else printf("%zu curves, %.0f%% intervals, leave one curve out\n%-16s %5s %9s %9s %9s\n", n, 100 * level, "method",
                "cut", "coverage", "width", "|error|");
    int first = 1;
    for (size_t m = 0; m < 3; m++)
        for (size_t f = 0; f < 3; f++) {
            sw_forecast_check chk;
            sw_error err;
            if (methods[m].method < 0) bare_coverage(cv, n, metric, level, fractions[f], &chk);
            else if (sw_forecast_coverage((const sw_curve *const *)cv, n, metric, 1, (sw_forecast_method)methods[m].method,
                                          level, fractions[f], &chk, &err) != SW_OK)
                return fprintf(stderr, "%s\n", err.msg), 2;
            if (json)
                printf("%s{\"method\":\"%s\",\"fraction\":%.17g,\"n\":%zu,\"coverage\":%.17g,\"mean_width\":%.17g,"
                       "\"mean_abs_error\":%.17g}",
                       first ? "" : ",", methods[m].name, fractions[f], chk.n, chk.coverage, chk.mean_width,
                       chk.mean_abs_error);
            else
                printf("%-16s %4.0f%% %8.1f%% %9.2f %9.2f\n", methods[m].name, 100 * fractions[f], 100 * chk.coverage,
                       chk.mean_width, chk.mean_abs_error);
            first = 0;
        }
    if (json) printf("]}\n");
    for (size_t i = 0; i < n; i++) sw_curve_free(cv[i]);
    free(cv);
    return 0;
}
