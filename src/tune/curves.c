/* Curves from the store for the tuner: a run's committed evaluations as
 * stop/'s sw_curve, and `tune --runs QUERY`. */
#include "stopwise/tune.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sw_status sw_tune_store_curve_convert(const sw_store_curve *sc, sw_curve **out, sw_error *err)
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

/* Parses "12,15,20-25" into ids; returns 0 if QUERY is not such a list, -1
 * if it is a malformed one. */
static int parse_ids(const char *q, int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    if (!*q || strspn(q, "0123456789,-") != strlen(q)) return 0;
    size_t cap = 0;
    const char *p = q;
    while (*p) {
        char *end;
        long long a = sw_strtoll(p, &end, 10), b = a;
        if (end == p) return -1;
        if (*end == '-') {
            p = end + 1;
            b = sw_strtoll(p, &end, 10);
            if (end == p || b < a || b - a > 100000) return -1;
        }
        for (long long v = a; v <= b; v++) {
            if (SW_ARRAY_RESERVE(*ids, cap, *n + 1)) return -1;
            (*ids)[(*n)++] = v;
        }
        if (*end == ',') end++;
        else if (*end) return -1;
        p = end;
    }
    return 1;
}

/* Why run r's curve is truncated ("" if it is not): it did not complete
 * (stopped, pruned, ...) or its last evaluation is short of its budget. */
static void truncation(const sw_store_run *r, const sw_curve *c, char *why, size_t cap)
{
    why[0] = 0;
    uint64_t end = sw_curve_tokens(c)[sw_curve_len(c) - 1];
    if (r->status != SW_RUN_COMPLETED) {
        snprintf(why, cap, "status %s at %llu tokens", sw_run_status_str(r->status), (unsigned long long)end);
        return;
    }
    json_t *cfg = r->config ? json_loads(r->config, 0, NULL) : NULL;
    json_int_t budget = cfg ? json_integer_value(json_object_get(cfg, "budget")) : 0;
    json_decref(cfg);
    if (budget > 0 && end < (uint64_t)budget)
        snprintf(why, cap, "its curve ends at %llu of its %lld-token budget", (unsigned long long)end, (long long)budget);
}

sw_status sw_tune_curves_from_store(sw_store *s, const char *query, int allow_truncated, sw_curve ***curves,
                                    size_t *n, char *task, size_t tcap, sw_tune_truncated **flagged,
                                    size_t *n_flagged, sw_error *err)
{
    *curves = NULL;
    *n = 0;
    *flagged = NULL;
    *n_flagged = 0;
    size_t cap_flagged = 0;
    sw_store_run_filter f;
    memset(&f, 0, sizeof f);
    int64_t *ids = NULL;
    size_t nids = 0;
    int kind = parse_ids(query, &ids, &nids);
    if (kind < 0) {
        free(ids);
        return sw_error_set(err, SW_ERR_INVALID, "--runs '%s': expected run ids (12,15,20-25), task=NAME or study=NAME",
                            query);
    }
    if (kind == 1) {
        f.ids = ids;
        f.n_ids = nids;
    } else {
        f.has_status = 1;
        f.status = SW_RUN_COMPLETED; /* a stopped run's curve ends early: not a full curve */
        f.branches = -1;             /* branches are columns of their trunk's curve */
        if (!strncmp(query, "study=", 6)) f.study = query + 6;
        else if (!strncmp(query, "task=", 5)) f.task = query + 5;
        else f.task = query;
    }
    sw_store_run *runs = NULL;
    size_t nr = 0;
    sw_status st = sw_store_runs_list(s, &f, &runs, &nr);
    free(ids);
    if (st) return sw_error_set(err, st, "store: %s", sw_store_errmsg(s));
    if (nr == 0) {
        sw_store_run_list_free(runs, nr);
        return sw_error_set(err, SW_ERR_NOT_FOUND, "--runs '%s': no matching %sruns in the store", query,
                            kind == 1 ? "" : "completed ");
    }
    *curves = calloc(nr, sizeof **curves);
    if (!*curves) st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nr && !st; i++) {
        /* oldest first, so fold assignment follows the order runs were made */
        const sw_store_run *r = &runs[nr - 1 - i];
        sw_store_curve sc;
        if ((st = sw_store_curve_get_joined(s, r->id, &sc))) {
            sw_error_set(err, st, "store: %s", sw_store_errmsg(s));
            break;
        }
        if (sc.n == 0) {
            st = sw_error_set(err, SW_ERR_FORMAT, "run %lld has no evaluations", (long long)r->id);
        } else if (!(st = sw_tune_store_curve_convert(&sc, &(*curves)[*n], err))) {
            char why[256];
            truncation(r, (*curves)[*n], why, sizeof why);
            (*n)++;
            if (why[0] && !allow_truncated)
                st = sw_error_set(err, SW_ERR_INVALID,
                                  "--runs: run %lld stopped early (%s); a truncated curve makes every policy look "
                                  "lossless: tune on full-budget runs, or pass --allow-truncated to use it anyway",
                                  (long long)r->id, why);
            else if (why[0] && SW_ARRAY_RESERVE(*flagged, cap_flagged, *n_flagged + 1))
                st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
            else if (why[0]) {
                sw_tune_truncated *t = &(*flagged)[(*n_flagged)++];
                t->run_id = r->id;
                snprintf(t->why, sizeof t->why, "%s", why);
            }
        }
        sw_store_curve_clear(&sc);
        if (i == 0 && task && r->task) snprintf(task, tcap, "%s", r->task);
    }
    sw_store_run_list_free(runs, nr);
    return st;
}
