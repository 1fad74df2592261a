/* `stopwise report`: the dashboard's views of one run, one tuned task or the
 * runs of one task as a single HTML file that needs nothing else: the page's
 * styles and scripts are inlined, and the JSON its views would have fetched
 * travels inside it (window.SW_REPORT), answered by the same endpoint
 * functions the server calls. */
#include "ui/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define REPORT_MAX_RUNS 1000  /* rows of a task's runs table                 */
#define REPORT_MAX_CURVES 20  /* the newest runs of a task come with curves  */

/* A fixed set of parameters for an endpoint. */
typedef struct fixed_params {
    const char *names[2], *values[2];
} fixed_params;

static const char *fixed_param(const sw_ui_request *rq, const char *name)
{
    const fixed_params *f = rq->ctx;
    for (int i = 0; i < 2; i++)
        if (f->names[i] && !strcmp(f->names[i], name)) return f->values[i];
    return NULL;
}

/* Calls an endpoint and files its answer at data[kind][key] (or data[kind]
 * when key is NULL). */
static sw_status put(sw_store *s, json_t *data, const char *kind, const char *key, sw_ui_api_fn fn, const char *pname,
                     const char *pvalue, sw_error *err)
{
    fixed_params f = {{pname, NULL}, {pvalue, NULL}};
    sw_ui_request rq = {fixed_param, &f};
    json_t *v = NULL;
    sw_status st = fn(s, &rq, &v, err);
    if (st) return st;
    if (!key) {
        json_object_set_new(data, kind, v);
        return SW_OK;
    }
    json_t *group = json_object_get(data, kind);
    if (!group) {
        group = json_object();
        json_object_set_new(data, kind, group);
    }
    json_object_set_new(group, key, v);
    return SW_OK;
}

static sw_status put_run(sw_store *s, json_t *data, int64_t id, sw_error *err)
{
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)id);
    sw_status st = put(s, data, "run", key, sw_ui_api_run, "id", key, err);
    return st ? st : put(s, data, "curve", key, sw_ui_api_curve, "id", key, err);
}

/* 1 if what is a whole number (a run id). */
static int is_id(const char *what, int64_t *id)
{
    long long v;
    if (sw_parse_int(what, 1, INT64_MAX, &v)) return 0;
    *id = v;
    return 1;
}

/* The runs of a task, newest first: the table's rows, the newest with their
 * curves (so that their views and a comparison work offline). */
static sw_status put_task_runs(sw_store *s, json_t *data, const char *task, int *found, sw_error *err)
{
    sw_store_run_page_query q = {.task = task, .limit = REPORT_MAX_RUNS};
    sw_store_run_row *rows;
    size_t n;
    sw_status st = sw_store_runs_page(s, &q, &rows, &n, NULL);
    if (st) return sw_ui_store_error(s, st, err);
    *found = n > 0;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, sw_ui_row_json(&rows[i]));
    json_object_set_new(data, "runs", arr);
    for (size_t i = 0; i < n && i < REPORT_MAX_CURVES && !st; i++) st = put_run(s, data, rows[i].run.id, err);
    sw_store_run_rows_free(rows, n);
    return st;
}

/* The report's data and the view it opens on. */
static sw_status report_data(sw_store *s, const char *what, json_t **out, sw_error *err)
{
    json_t *data = json_object(), *route = json_object();
    sw_status st = put(s, data, "info", NULL, sw_ui_api_info, NULL, NULL, err);
    int64_t id;
    if (!st && is_id(what, &id)) {
        st = put_run(s, data, id, err);
        json_object_set_new(route, "view", json_string("run"));
        json_object_set_new(route, "id", json_integer(id));
    } else if (!st) {
        st = put(s, data, "task", what, sw_ui_api_task, "key", what, err);
        if (!st) {
            json_object_set_new(route, "view", json_string("task"));
            json_object_set_new(route, "key", json_string(what));
        } else if (st == SW_ERR_NOT_FOUND) { /* not a tuned key: a task's runs? */
            int found = 0;
            st = put_task_runs(s, data, what, &found, err);
            if (!st && !found)
                st = sw_error_set(err, SW_ERR_NOT_FOUND,
                                  "%s has no run %s, no tuned task key '%s' and no runs of a task '%s'",
                                  sw_store_location(s), what, what, what);
            json_object_set_new(route, "view", json_string("runs"));
            json_object_set_new(route, "task", json_string(what));
        }
    }
    if (st) {
        json_decref(data);
        json_decref(route);
        return st;
    }
    json_t *o = json_object();
    json_object_set_new(o, "what", json_string(what));
    json_object_set_new(o, "generated", json_integer((json_int_t)time(NULL)));
    json_object_set_new(o, "route", route);
    json_object_set_new(o, "data", data);
    *out = o;
    return SW_OK;
}

/* A growing text. */
typedef struct text {
    char *s;
    size_t n, cap;
    int oom;
} text;

static void add(text *t, const void *p, size_t n)
{
    if (t->oom || SW_ARRAY_RESERVE(t->s, t->cap, t->n + n + 1)) {
        t->oom = 1;
        return;
    }
    memcpy(t->s + t->n, p, n);
    t->n += n;
    t->s[t->n] = 0;
}

static void adds(text *t, const char *s) { add(t, s, strlen(s)); }

/* An asset inside an element: "</" + the element's name would end it early,
 * so "</script" is written "<\/script" (the same text to JavaScript) and
 * "</style" as "<\/style" (a CSS escape of '/'). */
static void add_inlined(text *t, const sw_ui_asset *a, const char *close)
{
    size_t cl = strlen(close);
    const char *p = (const char *)a->data, *end = p + a->size;
    while (p < end) {
        const char *hit = NULL;
        for (const char *q = p; q + cl <= end; q++)
            if (q[0] == '<' && q[1] == '/' && !strncasecmp(q + 2, close + 2, cl - 2)) {
                hit = q;
                break;
            }
        if (!hit) {
            add(t, p, (size_t)(end - p));
            break;
        }
        add(t, p, (size_t)(hit - p));
        adds(t, "<\\/");
        p = hit + 2;
    }
}

/* Replaces the line `tag` of index.html by the inlined asset; 0 if the page
 * has no such line (the page and this file disagree: a bug). */
static int inline_tag(text *out, const char **page, const char *tag, const char *asset, const char *open,
                      const char *close)
{
    const char *at = strstr(*page, tag);
    const sw_ui_asset *a = sw_ui_asset_find(asset);
    if (!at || !a) return 0;
    add(out, *page, (size_t)(at - *page));
    adds(out, open);
    add_inlined(out, a, close);
    adds(out, close);
    adds(out, ">");
    *page = at + strlen(tag);
    return 1;
}

sw_status sw_ui_report_write(sw_store *s, const char *what, const char *path, sw_error *err)
{
    if (!sw_ui_page_built())
        return sw_error_set(err, SW_ERR_STATE,
                            "this stopwise was built without its dashboard page (npm was not available): run "
                            "scripts/web.sh and rebuild (docs/UI.md)");
    const sw_ui_asset *index = sw_ui_asset_find("/index.html");
    if (!index) return sw_error_set(err, SW_ERR_INTERNAL, "the embedded page has no index.html");
    json_t *report;
    sw_status st = report_data(s, what, &report, err);
    if (st) return st;
    char *json = sw_ui_json_text(report);
    json_decref(report);
    if (!json) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    char *page = malloc(index->size + 1);
    if (!page) {
        free(json);
        return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    }
    memcpy(page, index->data, index->size);
    page[index->size] = 0;
    text out = {0};
    const char *p = page;
    /* the data before the page's script, which reads it as it starts */
    int ok = inline_tag(&out, &p, "<link rel=\"stylesheet\" href=\"uplot.css\">", "/uplot.css", "<style>", "</style") &&
             inline_tag(&out, &p, "<link rel=\"stylesheet\" href=\"app.css\">", "/app.css", "<style>", "</style") &&
             inline_tag(&out, &p, "<script src=\"uplot.js\"></script>", "/uplot.js", "<script>", "</script");
    const sw_ui_asset *lic = sw_ui_asset_find("/licenses.txt");
    if (ok && lic) { /* uPlot's MIT license travels with the copy inlined above */
        adds(&out, "\n<!-- uPlot, inlined above:\n");
        add(&out, lic->data, lic->size);
        adds(&out, "-->\n");
    }
    if (ok) {
        adds(&out, "<script>window.SW_REPORT = ");
        adds(&out, json);
        adds(&out, ";</script>");
        ok = inline_tag(&out, &p, "<script src=\"app.js\"></script>", "/app.js", "<script>", "</script");
    }
    if (ok) adds(&out, p);
    free(page);
    free(json);
    if (!ok) st = sw_error_set(err, SW_ERR_INTERNAL, "the embedded index.html lacks the lines a report replaces");
    else if (out.oom) st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    else st = sw_file_write_atomic(path, out.s, out.n, err);
    free(out.s);
    return st;
}
