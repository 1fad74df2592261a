/* The runs endpoints: the store's description, a page of the runs table,
 * one run, and one run's curve. */
#include "ui/internal.h"

#include "data/json_num.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

sw_status sw_ui_api_info(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err)
{
    (void)rq;
    (void)err;
    json_t *o = json_object();
    json_object_set_new(o, "version", json_string(sw_version()));
    json_object_set_new(o, "backend", json_string(sw_store_backend(s)));
    json_object_set_new(o, "store", json_string(sw_store_location(s)));
    json_object_set_new(o, "read_only", json_true());
    json_object_set_new(o, "schema_version", json_integer(SW_STORE_SCHEMA_VERSION));
    json_object_set_new(o, "page_built", json_boolean(sw_ui_page_built()));
    json_object_set_new(o, "run_keys", json_array());
    for (int k = 0; k < SW_STORE_RUN_KEY_COUNT; k++)
        json_array_append_new(json_object_get(o, "run_keys"), json_string(sw_store_run_key_name((sw_store_run_key)k)));
    *out = o;
    return SW_OK;
}

/* The query of a page from the request's parameters; every one checked. */
static sw_status page_query(const sw_ui_request *rq, sw_store_run_page_query *q, sw_error *err)
{
    memset(q, 0, sizeof *q);
    const char *v = rq->param(rq, "sort");
    if (v && *v && sw_store_run_key_parse(v, &q->sort))
        return sw_error_set(err, SW_ERR_INVALID, "parameter sort: unknown column '%.40s'", v);
    v = rq->param(rq, "dir");
    if (v && *v && strcmp(v, "asc") && strcmp(v, "desc"))
        return sw_error_set(err, SW_ERR_INVALID, "parameter dir: expected asc or desc, not '%.40s'", v);
    q->ascending = v && !strcmp(v, "asc");
    v = rq->param(rq, "status");
    if (v && *v) {
        if (sw_run_status_parse(v, &q->status))
            return sw_error_set(err, SW_ERR_INVALID, "parameter status: unknown status '%.40s'", v);
        q->has_status = 1;
    }
    v = rq->param(rq, "branches");
    if (v && *v) {
        if (!strcmp(v, "no")) q->branches = -1;
        else if (!strcmp(v, "only")) q->branches = 1;
        else if (strcmp(v, "any"))
            return sw_error_set(err, SW_ERR_INVALID, "parameter branches: expected any, no or only, not '%.40s'", v);
    }
    v = rq->param(rq, "task");
    q->task = v && *v ? v : NULL;
    v = rq->param(rq, "q");
    q->text = v && *v ? v : NULL;
    long long offset, limit;
    sw_status st = sw_ui_param_int(rq, "offset", 0, 1000000000LL, 0, &offset, err);
    if (!st) st = sw_ui_param_int(rq, "limit", 1, 1000, 50, &limit, err);
    q->offset = (size_t)offset;
    q->limit = (size_t)limit;
    return st;
}

sw_status sw_ui_api_runs(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err)
{
    sw_store_run_page_query q;
    sw_status st = page_query(rq, &q, err);
    if (st) return st;
    sw_store_run_row *rows;
    size_t n;
    uint64_t total;
    if ((st = sw_store_runs_page(s, &q, &rows, &n, &total))) return sw_ui_store_error(s, st, err);
    json_t *o = json_object(), *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, sw_ui_row_json(&rows[i]));
    sw_store_run_rows_free(rows, n);
    json_object_set_new(o, "total", json_integer((json_int_t)total));
    json_object_set_new(o, "offset", json_integer((json_int_t)q.offset));
    json_object_set_new(o, "limit", json_integer((json_int_t)q.limit));
    json_object_set_new(o, "sort", json_string(sw_store_run_key_name(q.sort)));
    json_object_set_new(o, "dir", json_string(q.ascending ? "asc" : "desc"));
    json_object_set_new(o, "rows", arr);
    *out = o;
    return SW_OK;
}

static sw_status run_id(const sw_ui_request *rq, int64_t *id, sw_error *err)
{
    long long v;
    if (!rq->param(rq, "id")) return sw_error_set(err, SW_ERR_INVALID, "parameter id: a run id is needed");
    sw_status st = sw_ui_param_int(rq, "id", 1, INT64_MAX, 0, &v, err);
    *id = v;
    return st;
}

static json_t *kv_json(const sw_store_kv *kv, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) json_object_set_new(o, kv[i].key, json_string(kv[i].value));
    return o;
}

sw_status sw_ui_api_run(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err)
{
    int64_t id;
    sw_status st = run_id(rq, &id, err);
    if (st) return st;
    sw_store_run_row row;
    if ((st = sw_ui_row_get(s, id, &row, err))) return st;
    sw_store_kv *tags = NULL, *params = NULL;
    size_t nt = 0, np = 0, na = 0;
    sw_store_artifact *arts = NULL;
    st = sw_store_tags_list(s, id, &tags, &nt);
    if (!st) st = sw_store_params_list(s, id, &params, &np);
    if (!st) st = sw_store_artifacts_list(s, id, &arts, &na);
    if (st) st = sw_ui_store_error(s, st, err);
    else {
        json_t *o = json_object(), *a = json_array();
        json_object_set_new(o, "run", sw_ui_row_json(&row));
        json_object_set_new(o, "config", sw_ui_json_or_text(row.run.config));
        json_object_set_new(o, "host", json_string(row.run.host ? row.run.host : ""));
        json_object_set_new(o, "pid", json_integer(row.run.pid));
        json_object_set_new(o, "tags", kv_json(tags, nt));
        json_object_set_new(o, "params", kv_json(params, np));
        for (size_t i = 0; i < na; i++) {
            json_t *x = json_object();
            json_object_set_new(x, "kind", json_string(arts[i].kind));
            json_object_set_new(x, "path", json_string(arts[i].path));
            json_object_set_new(x, "sha256", json_string(arts[i].sha256));
            json_object_set_new(x, "bytes", json_integer((json_int_t)arts[i].bytes));
            json_array_append_new(a, x);
        }
        json_object_set_new(o, "artifacts", a);
        *out = o;
    }
    sw_store_kv_list_free(tags, nt);
    sw_store_kv_list_free(params, np);
    sw_store_artifact_list_free(arts, na);
    sw_store_run_clear(&row.run);
    return st;
}

/* A curve in columns (what the plots take): the common metrics, then every
 * other metric by name, null where an evaluation lacks it. */
json_t *sw_ui_curve_json(const sw_store_curve *c)
{
    json_t *o = json_object(), *tokens = json_array(), *step = json_array(), *wall = json_array(), *em = json_array(),
           *vl = json_array(), *tl = json_array(), *metrics = json_object();
    for (size_t i = 0; i < c->n; i++) {
        const sw_store_eval *e = &c->evals[i];
        json_array_append_new(tokens, json_integer((json_int_t)e->tokens));
        json_array_append_new(step, json_integer(e->step));
        json_array_append_new(wall, sw_json_num(e->wall_s));
        json_array_append_new(em, sw_json_num(e->val_em));
        json_array_append_new(vl, sw_json_num(e->val_loss));
        json_array_append_new(tl, sw_json_num(e->train_loss));
        for (size_t k = 0; k < e->n_metrics; k++) {
            json_t *col = json_object_get(metrics, e->metrics[k].name);
            if (!col) { /* a new name: null for the evaluations before */
                col = json_array();
                for (size_t j = 0; j < i; j++) json_array_append_new(col, json_null());
                json_object_set_new(metrics, e->metrics[k].name, col);
            }
            while (json_array_size(col) < i) json_array_append_new(col, json_null());
            json_array_append_new(col, sw_json_num(e->metrics[k].value));
        }
    }
    const char *name;
    json_t *col;
    json_object_foreach(metrics, name, col) {
        while (json_array_size(col) < c->n) json_array_append_new(col, json_null());
    }
    json_object_set_new(o, "run_id", json_integer(c->run_id));
    json_object_set_new(o, "n", json_integer((json_int_t)c->n));
    json_object_set_new(o, "tokens", tokens);
    json_object_set_new(o, "step", step);
    json_object_set_new(o, "wall_s", wall);
    json_object_set_new(o, "val_em", em);
    json_object_set_new(o, "val_loss", vl);
    json_object_set_new(o, "train_loss", tl);
    json_object_set_new(o, "metrics", metrics);
    return o;
}

sw_status sw_ui_api_curve(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err)
{
    int64_t id;
    sw_status st = run_id(rq, &id, err);
    if (st) return st;
    sw_store_curve c;
    if ((st = sw_store_curve_get(s, id, &c))) return sw_ui_store_error(s, st, err);
    *out = sw_ui_curve_json(&c);
    sw_store_curve_clear(&c);
    return SW_OK;
}
