/* ui/: `stopwise report` files: one HTML file that needs nothing else (no
 * script, style or data fetched), for a run, a tuned task and a task's runs,
 * with text from the store unable to end its <script> element. */
#include <jansson.h>
#include <math.h>

#include "store_fixture.h"
#include "ui/internal.h"

static char *report(sw_store *s, const char *what, sw_status want)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/report.html", fx.dir);
    unlink(path);
    sw_error err = {0};
    sw_status st = sw_ui_report_write(s, what, path, &err);
    cr_assert_eq(st, want, "report %s: %s", what, err.msg);
    return st ? NULL : sw_test_slurp(path, NULL);
}

/* The JSON after "window.SW_REPORT = ", up to its ";</script>". */
static json_t *report_data(const char *html)
{
    const char *at = strstr(html, "window.SW_REPORT = ");
    cr_assert_not_null(at);
    at += strlen("window.SW_REPORT = ");
    const char *end = strstr(at, ";</script>");
    cr_assert_not_null(end);
    char *text = strndup(at, (size_t)(end - at));
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    cr_assert_not_null(j, "the report's data is not JSON: %s", e.text);
    free(text);
    return j;
}

Test(ui_report, a_run_a_task_and_a_tasks_runs, .fini = fx_teardown)
{
    fx_setup(0);
    sw_store *w = fx_open(NULL);
    sw_store_run_info info = {.name = "</script><script>alert(1)</script>", .task = "copy",
                              .config_json = "{\"budget\":9000}", .policy = "patience=2"};
    int64_t id;
    ST_OK(w, sw_store_run_begin(w, &info, &id));
    for (int i = 0; i < 4; i++) {
        sw_store_eval e = {(uint64_t)(i + 1) * 1000, i, i, 10.0 + i, 1, 1, NULL, 0};
        ST_OK(w, sw_store_log_eval(w, id, &e));
    }
    sw_store_run_result res = {SW_RUN_STOPPED, "patience", "no gain", 4000, 4000, 13, 13, NAN};
    ST_OK(w, sw_store_run_end(w, id, &res));
    ST_OK(w, sw_store_policy_put(w, "copy|gpt|9k", "patience=2,diverge",
                                 "{\"policy\":\"patience=2,diverge\",\"pareto\":[{\"policy\":\"</script>\","
                                 "\"tokens_fraction\":0.5,\"shortfall\":1}]}"));
    sw_store_close(w);

    sw_store *s;
    sw_error err = {0};
    cr_assert_eq(sw_store_open_read_only(fx.location, NULL, &s, &err), SW_OK, "%s", err.msg);
    if (!sw_ui_page_built()) { /* a build without npm: the report says so */
        char path[4200];
        snprintf(path, sizeof path, "%s/r.html", fx.dir);
        cr_assert_eq(sw_ui_report_write(s, "1", path, &err), SW_ERR_STATE);
        cr_assert(strstr(err.msg, "npm"), "%s", err.msg);
        sw_store_close(s);
        return;
    }
    char *html = report(s, "1", SW_OK);
    /* self-contained: no file, script, style or data fetched */
    cr_assert(!strstr(html, "src=\""), "a report must not load scripts");
    cr_assert(!strstr(html, "href=\"app.css\"") && !strstr(html, "href=\"uplot.css\""));
    cr_assert(strstr(html, "uPlot"), "uPlot is inlined");
    cr_assert(strstr(html, "showRun"), "the page's script is inlined");
    /* the run's odd name is data, never markup: exactly the page's own
     * script elements end in the file */
    size_t opens = 0, closes = 0;
    for (const char *p = html; (p = strstr(p, "<script")); p++) opens++;
    for (const char *p = html; (p = strstr(p, "</script>")); p++) closes++;
    cr_assert_eq(opens, 3, "uplot, data, app: %zu", opens);
    cr_assert_eq(closes, 3, "%zu", closes);
    json_t *j = report_data(html);
    json_t *route = json_object_get(j, "route");
    cr_assert_str_eq(json_string_value(json_object_get(route, "view")), "run");
    json_t *run = json_object_get(json_object_get(json_object_get(j, "data"), "run"), "1");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(run, "run"), "name")), info.name);
    json_t *curve = json_object_get(json_object_get(json_object_get(j, "data"), "curve"), "1");
    cr_assert_eq(json_array_size(json_object_get(curve, "tokens")), 4);
    json_decref(j);
    free(html);

    html = report(s, "copy|gpt|9k", SW_OK); /* a tuned task */
    j = report_data(html);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "route"), "view")), "task");
    json_t *task = json_object_get(json_object_get(json_object_get(j, "data"), "task"), "copy|gpt|9k");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(task, "latest"), "policy")), "patience=2,diverge");
    json_decref(j);
    free(html);

    html = report(s, "copy", SW_OK); /* a task name of runs */
    j = report_data(html);
    json_t *runs = json_object_get(json_object_get(j, "data"), "runs");
    cr_assert_eq(json_array_size(runs), 1);
    json_decref(j);
    free(html);

    cr_assert_null(report(s, "no-such-thing", SW_ERR_NOT_FOUND));
    cr_assert_null(report(s, "77", SW_ERR_NOT_FOUND));
    sw_store_close(s);
}
