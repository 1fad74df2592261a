/* JSON pieces the endpoints share: a run's row, numbers that may be NaN,
 * parameters, and text safe inside an HTML <script>. */
#include "ui/internal.h"

#include "data/json_num.h"

#include <stdlib.h>
#include <string.h>

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

json_t *sw_ui_row_json(const sw_store_run_row *x)
{
    const sw_store_run *r = &x->run;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "name", str_or_null(r->name));
    json_object_set_new(o, "task", str_or_null(r->task));
    json_object_set_new(o, "status", json_string(sw_run_status_str(r->status)));
    json_object_set_new(o, "policy", str_or_null(r->policy));
    json_object_set_new(o, "stop_rule", str_or_null(r->stop_rule));
    json_object_set_new(o, "stop_reason", str_or_null(r->stop_reason));
    json_object_set_new(o, "tokens", json_integer((json_int_t)r->tokens));
    json_object_set_new(o, "budget", x->budget ? json_integer((json_int_t)x->budget) : json_null());
    /* tokens saved against the budget: what stopping early bought, once the
     * run has ended (a run still training has saved nothing yet) */
    int ended = r->status == SW_RUN_COMPLETED || r->status == SW_RUN_STOPPED || r->status == SW_RUN_PRUNED ||
                r->status == SW_RUN_DIVERGED;
    json_object_set_new(o, "saved", x->budget && ended ? json_integer((json_int_t)x->budget - (json_int_t)r->tokens)
                                                       : json_null());
    json_object_set_new(o, "best_em", sw_json_num(r->best_em));
    json_object_set_new(o, "best_tokens", json_integer((json_int_t)r->best_tokens));
    json_object_set_new(o, "stop_tokens", x->stop_tokens ? json_integer((json_int_t)x->stop_tokens) : json_null());
    json_object_set_new(o, "stop_em", sw_json_num(x->stop_em));
    json_object_set_new(o, "val_em", sw_json_num(r->val_em));
    json_object_set_new(o, "test_em", sw_json_num(r->test_em));
    json_object_set_new(o, "wall_s", sw_json_num(x->wall_s));
    json_object_set_new(o, "started", sw_json_num(r->started));
    json_object_set_new(o, "ended", sw_json_num(r->ended));
    json_object_set_new(o, "heartbeat", sw_json_num(r->heartbeat));
    json_object_set_new(o, "n_evals", json_integer(r->n_evals));
    json_object_set_new(o, "parent_run_id", r->parent_run_id ? json_integer(r->parent_run_id) : json_null());
    json_object_set_new(o, "fork_tokens", r->parent_run_id ? json_integer((json_int_t)r->fork_tokens) : json_null());
    return o;
}

sw_status sw_ui_store_error(sw_store *s, sw_status st, sw_error *err)
{
    return sw_error_set(err, st, "%s", sw_store_errmsg(s));
}

sw_status sw_ui_row_get(sw_store *s, int64_t id, sw_store_run_row *out, sw_error *err)
{
    memset(out, 0, sizeof *out);
    sw_store_run_page_query q = {.run_id = id};
    sw_store_run_row *rows;
    size_t n;
    sw_status st = sw_store_runs_page(s, &q, &rows, &n, NULL);
    if (st) return sw_ui_store_error(s, st, err);
    if (!n) return sw_error_set(err, SW_ERR_NOT_FOUND, "no run %lld in %s", (long long)id, sw_store_location(s));
    *out = rows[0];
    free(rows); /* the row's strings now belong to *out */
    return SW_OK;
}

json_t *sw_ui_json_or_text(const char *text)
{
    if (!text) return json_null();
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(text);
}

sw_status sw_ui_param_int(const sw_ui_request *rq, const char *name, long long lo, long long hi, long long dflt,
                          long long *out, sw_error *err)
{
    const char *v = rq->param(rq, name);
    *out = dflt;
    if (!v || !*v) return SW_OK;
    if (sw_parse_int(v, lo, hi, out))
        return sw_error_set(err, SW_ERR_INVALID, "parameter %s: expected a whole number from %lld to %lld, not '%.40s'",
                            name, lo, hi, v);
    return SW_OK;
}

char *sw_ui_json_text(const json_t *v)
{
    char *raw = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12));
    if (!raw) return NULL;
    size_t n = 0;
    for (const char *c = raw; *c; c++) n += *c == '<' ? 6 : 1;
    char *out = malloc(n + 1);
    if (out) {
        char *o = out;
        /* '<' only ever occurs inside a JSON string, where \u003c means the
         * same; so "</script>" in a run's name cannot end the element */
        for (const char *c = raw; *c; c++) {
            if (*c == '<') {
                memcpy(o, "\\u003c", 6);
                o += 6;
            } else *o++ = *c;
        }
        *o = 0;
    }
    free(raw);
    return out;
}
