/* Trunks and branches: a trunk's curve with its branches' results joined at
 * the fork rows, under the column names of curve.csv (ANNEAL.md). */
#include "store/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sw_store_annealed_name(const char *metric, double c, const char *shape, char *buf, size_t cap)
{
    if (metric) return snprintf(buf, cap, "%s_annealed:c=%g:shape=%s", metric, c, shape);
    return snprintf(buf, cap, "anneal_tokens:c=%g:shape=%s", c, shape);
}

/* Appends one metric (name copied) to an evaluation owned by a curve. */
static sw_status add_metric(sw_store *s, sw_store_eval *e, const char *name, double value)
{
    sw_store_metric *m = realloc((sw_store_metric *)e->metrics, (e->n_metrics + 1) * sizeof *m);
    if (!m) return sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    e->metrics = m;
    char *copy = strdup(name);
    if (!copy) return sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    m[e->n_metrics++] = (sw_store_metric){copy, value};
    return SW_OK;
}

/* The evaluation at exactly `tokens` (the curve rises strictly), or NULL. */
static sw_store_eval *row_at(sw_store_curve *c, uint64_t tokens)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->evals[mid].tokens < tokens) lo = mid + 1;
        else hi = mid;
    }
    return lo < c->n && c->evals[lo].tokens == tokens ? &c->evals[lo] : NULL;
}

sw_status sw_store_curve_get_joined(sw_store *s, int64_t run_id, sw_store_curve *out)
{
    sw_status st = sw_store_curve_get(s, run_id, out);
    if (st) return st;
    sw_db_val p = sw_db_int(run_id);
    sw_db_result r;
    /* each branch: fork point, c, shape, and its last evaluation's EM, test EM
     * and anneal tokens */
    st = sw_store_sql(s,
                      "SELECT b.fork_tokens, pc.value, ps.value, e.val_em, "
                      "(SELECT m.value FROM eval_metrics m WHERE m.run_id = b.id AND m.seq = e.seq "
                      "AND m.name = 'test_em'), "
                      "(SELECT m.value FROM eval_metrics m WHERE m.run_id = b.id AND m.seq = e.seq "
                      "AND m.name = 'anneal_tokens') "
                      "FROM runs b "
                      "JOIN run_params pc ON pc.run_id = b.id AND pc.key = 'cooldown' "
                      "LEFT JOIN run_params ps ON ps.run_id = b.id AND ps.key = 'cooldown_shape' "
                      "JOIN evals e ON e.run_id = b.id "
                      "AND e.seq = (SELECT MAX(x.seq) FROM evals x WHERE x.run_id = b.id) "
                      "WHERE b.parent_run_id = ? ORDER BY b.fork_tokens, b.id",
                      &p, 1, &r);
    if (st) {
        sw_store_curve_clear(out);
        return st;
    }
    char name[160];
    for (size_t i = 0; i < r.nrows && !st; i++) {
        sw_store_eval *e = row_at(out, (uint64_t)sw_db_get_int(&r, i, 0));
        const char *ctext = sw_db_get_text(&r, i, 1);
        double c;
        if (!e || !ctext || sw_parse_double(ctext, &c) != SW_OK) continue;
        const char *shape = sw_db_get_text(&r, i, 2);
        if (!shape || !*shape) shape = "linear";
        sw_store_annealed_name("val_em", c, shape, name, sizeof name);
        st = add_metric(s, e, name, sw_db_get_real(&r, i, 3));
        double at = sw_db_get_real(&r, i, 5);
        sw_store_annealed_name(NULL, c, shape, name, sizeof name);
        if (!st && !isnan(at)) st = add_metric(s, e, name, at);
        double te = sw_db_get_real(&r, i, 4);
        sw_store_annealed_name("test_em", c, shape, name, sizeof name);
        if (!st && !isnan(te)) st = add_metric(s, e, name, te);
    }
    sw_db_result_free(&r);
    if (st) sw_store_curve_clear(out);
    return st;
}
