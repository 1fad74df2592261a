/* store/: what the dashboard reads through: a read-only handle that cannot
 * write, pages of runs sorted, filtered and counted by the store with every
 * value bound, and the task keys of the tuned policies. Both backends. */
#include <math.h>

#include "store/db.h"
#include "store_fixture.h"

/* A finished run: its config carries a budget (or none when budget is 0);
 * evals with val_em = em0 + i at 1000 (i + 1) tokens, the last n_cool of them
 * marked as the cooldown. */
static int64_t add_run(sw_store *s, const char *name, const char *task, uint64_t budget, int n, int n_cool, double em0,
                       sw_run_status status, double test_em)
{
    char config[128];
    snprintf(config, sizeof config, budget ? "{\"budget\":%llu,\"data\":\"x\"}" : "{\"data\":\"x\"}",
             (unsigned long long)budget);
    sw_store_run_info info = {.name = name, .task = task, .config_json = config, .policy = "patience=3"};
    int64_t id;
    ST_OK(s, sw_store_run_begin(s, &info, &id));
    for (int i = 0; i < n; i++) {
        sw_store_metric m[] = {{"cooldown", i >= n - n_cool}};
        sw_store_eval e = {(uint64_t)(i + 1) * 1000, i, i * 0.5, em0 + i, 1.0, 1.0, m, 1};
        ST_OK(s, sw_store_log_eval(s, id, &e));
    }
    if (status != SW_RUN_RUNNING) {
        sw_store_run_result res = {status, status == SW_RUN_STOPPED ? "patience" : NULL,
                                   status == SW_RUN_STOPPED ? "no gain for 3 evaluations" : NULL,
                                   (uint64_t)n * 1000, 1000, em0 + n - 1, em0, test_em};
        ST_OK(s, sw_store_run_end(s, id, &res));
    } else {
        ST_OK(s, sw_store_flush(s));
    }
    return id;
}

static sw_store *open_ro(void)
{
    sw_store *s = NULL;
    sw_error err = {0};
    sw_status st = sw_store_open_read_only(fx.location, NULL, &s, &err);
    cr_assert_eq(st, SW_OK, "open read-only %s: %s", fx.location, err.msg);
    return s;
}

STORE_TEST(read_only_handle_cannot_write)
{
    sw_store *w = fx_open(NULL);
    int64_t id = add_run(w, "a", "t", 10000, 3, 0, 10, SW_RUN_COMPLETED, 50);
    ST_OK(w, sw_store_policy_put(w, "key", "patience=3", "{}"));
    sw_store_close(w);

    sw_store *s = open_ro();
    sw_store_run r;
    ST_OK(s, sw_store_run_get(s, id, &r)); /* reading works */
    cr_assert_str_eq(r.name, "a");
    sw_store_run_clear(&r);
    /* every kind of write fails, with the backend's own refusal */
    sw_store_run_info info = {.name = "b", .task = "t"};
    int64_t id2 = 0;
    sw_status st = sw_store_run_begin(s, &info, &id2);
    cr_assert_neq(st, SW_OK, "a read-only handle began a run");
    const char *why = sw_store_errmsg(s);
    cr_assert(strstr(why, fx.pg ? "read-only transaction" : "readonly database"), "%s", why);
    cr_assert_neq(sw_store_tag_set(s, id, "k", "v"), SW_OK);
    cr_assert_neq(sw_store_policy_put(s, "key", "patience=9", "{}"), SW_OK);
    cr_assert_neq(sw_store_run_remove(s, id), SW_OK);
    sw_store_close(s);

    /* and nothing changed */
    w = fx_open(NULL);
    sw_store_run *runs;
    size_t n;
    ST_OK(w, sw_store_runs_list(w, NULL, &runs, &n));
    cr_assert_eq(n, 1);
    sw_store_run_list_free(runs, n);
    char *tag = NULL;
    cr_assert_eq(sw_store_tag_get(w, id, "k", &tag), SW_ERR_NOT_FOUND);
    sw_store_policy p;
    ST_OK(w, sw_store_policy_get(w, "key", &p));
    cr_assert_str_eq(p.policy, "patience=3");
    sw_store_policy_clear(&p);
    sw_store_close(w);
}

STORE_TEST(read_only_never_creates_nor_migrates)
{
    sw_store *s = NULL;
    sw_error err = {0};
    if (!fx.pg) { /* no file: not found, and none is created */
        cr_assert_eq(sw_store_open_read_only(fx.location, NULL, &s, &err), SW_ERR_NOT_FOUND, "%s", err.msg);
        cr_assert_eq(access(fx.location, F_OK), -1, "the read-only open created %s", fx.location);
    } else { /* an empty schema: no store there, and no tables are made */
        cr_assert_eq(sw_store_open_read_only(fx.location, NULL, &s, &err), SW_ERR_NOT_FOUND, "%s", err.msg);
    }
    cr_assert_null(s);
    /* a store one version behind: refused with what to do, left as it was */
    sw_store_close(fx_open(NULL));
    sw_db *db;
    cr_assert_eq(sw_db_open(fx.location, fx.pg ? SW_DB_POSTGRES : SW_DB_SQLITE, 0, 1000, &db, &err), SW_OK, "%s",
                 err.msg);
    sw_db_val v = sw_db_int(SW_STORE_SCHEMA_VERSION);
    cr_assert_eq(sw_db_exec(db, "DELETE FROM schema_version WHERE version = ?", &v, 1, NULL, &err), SW_OK, "%s",
                 err.msg);
    sw_status st = sw_store_open_read_only(fx.location, NULL, &s, &err);
    cr_assert_eq(st, SW_ERR_VERSION, "%s", err.msg);
    cr_assert(strstr(err.msg, "older") && strstr(err.msg, "read-only"), "%s", err.msg);
    sw_db_result r;
    cr_assert_eq(sw_db_exec(db, "SELECT MAX(version) FROM schema_version", NULL, 0, &r, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_db_get_int(&r, 0, 0), SW_STORE_SCHEMA_VERSION - 1, "the reader migrated the store");
    sw_db_result_free(&r);
    sw_db_close(db);
}

/* ids of a page, in order */
static size_t page_ids(sw_store *s, const sw_store_run_page_query *q, int64_t *ids, size_t cap, uint64_t *total)
{
    sw_store_run_row *rows;
    size_t n;
    ST_OK(s, sw_store_runs_page(s, q, &rows, &n, total));
    cr_assert_leq(n, cap);
    for (size_t i = 0; i < n; i++) ids[i] = rows[i].run.id;
    sw_store_run_rows_free(rows, n);
    return n;
}

STORE_TEST(page_sorts_pages_and_counts)
{
    sw_store *s = fx_open(NULL);
    /* best_em = em0 + n - 1: a 12, b 31, c 22, d running (no result yet) */
    int64_t a = add_run(s, "alpha", "copy", 10000, 3, 0, 10, SW_RUN_STOPPED, 40);
    int64_t b = add_run(s, "beta", "copy", 10000, 2, 0, 30, SW_RUN_COMPLETED, 60);
    int64_t c = add_run(s, "gamma", "sort", 0, 3, 0, 20, SW_RUN_COMPLETED, NAN);
    int64_t d = add_run(s, "delta", "sort", 10000, 1, 0, 5, SW_RUN_RUNNING, NAN);
    int64_t ids[8];
    uint64_t total;

    sw_store_run_page_query q = {.sort = SW_STORE_RUN_KEY_BEST_EM};
    cr_assert_eq(page_ids(s, &q, ids, 8, &total), 4);
    cr_assert_eq(total, 4);
    /* descending, the run without a best EM last */
    cr_assert(ids[0] == b && ids[1] == c && ids[2] == a && ids[3] == d, "%lld %lld %lld %lld", (long long)ids[0],
              (long long)ids[1], (long long)ids[2], (long long)ids[3]);
    q.ascending = 1; /* ascending, still last */
    page_ids(s, &q, ids, 8, NULL);
    cr_assert(ids[0] == a && ids[1] == c && ids[2] == b && ids[3] == d);

    /* tokens saved = budget - tokens of an ended run; no budget, or still
     * running (d: 9000 left, not saved), sorts last (then by id) */
    q = (sw_store_run_page_query){.sort = SW_STORE_RUN_KEY_SAVED};
    page_ids(s, &q, ids, 8, NULL);
    cr_assert(ids[0] == b && ids[1] == a && ids[2] == d && ids[3] == c); /* 8000, 7000, none, none */

    q = (sw_store_run_page_query){.sort = SW_STORE_RUN_KEY_NAME, .ascending = 1};
    page_ids(s, &q, ids, 8, NULL);
    cr_assert(ids[0] == a && ids[1] == b && ids[2] == d && ids[3] == c);
    q = (sw_store_run_page_query){.sort = SW_STORE_RUN_KEY_TEST_EM};
    page_ids(s, &q, ids, 8, NULL);
    cr_assert(ids[0] == b && ids[1] == a, "test EM 60 then 40, the unmeasured after");

    /* paging: two at a time, the same order as the whole */
    q = (sw_store_run_page_query){.sort = SW_STORE_RUN_KEY_ID, .ascending = 1, .limit = 2};
    cr_assert_eq(page_ids(s, &q, ids, 8, &total), 2);
    cr_assert(ids[0] == a && ids[1] == b);
    cr_assert_eq(total, 4, "the total counts every match, not the page");
    q.offset = 2;
    cr_assert_eq(page_ids(s, &q, ids, 8, NULL), 2);
    cr_assert(ids[0] == c && ids[1] == d);
    q.offset = 4;
    cr_assert_eq(page_ids(s, &q, ids, 8, NULL), 0);

    /* filters */
    q = (sw_store_run_page_query){.task = "sort"};
    cr_assert_eq(page_ids(s, &q, ids, 8, &total), 2);
    cr_assert_eq(total, 2);
    q = (sw_store_run_page_query){.has_status = 1, .status = SW_RUN_STOPPED};
    cr_assert_eq(page_ids(s, &q, ids, 8, &total), 1);
    cr_assert_eq(ids[0], a);
    q = (sw_store_run_page_query){.text = "GAM"}; /* case ignored */
    cr_assert_eq(page_ids(s, &q, ids, 8, NULL), 1);
    cr_assert_eq(ids[0], c);
    q = (sw_store_run_page_query){.text = "no gain"}; /* the stop reason */
    cr_assert_eq(page_ids(s, &q, ids, 8, NULL), 1);
    cr_assert_eq(ids[0], a);

    /* an unknown key is refused, not turned into SQL */
    q = (sw_store_run_page_query){.sort = (sw_store_run_key)99};
    sw_store_run_row *rows;
    size_t n;
    cr_assert_eq(sw_store_runs_page(s, &q, &rows, &n, NULL), SW_ERR_INVALID);
    sw_store_run_key k;
    cr_assert_eq(sw_store_run_key_parse("best_em; DROP TABLE runs", &k), SW_ERR_INVALID);
    ST_OK(s, sw_store_run_key_parse("stop_em", &k));
    cr_assert_eq(k, SW_STORE_RUN_KEY_STOP_EM);
    cr_assert_str_eq(sw_store_run_key_name(SW_STORE_RUN_KEY_SAVED), "saved");
    sw_store_close(s);
}

/* The search text is a bound parameter: quotes, SQL and LIKE's own pattern
 * characters match themselves only, and the store is unharmed. */
STORE_TEST(page_text_is_bound_never_concatenated)
{
    sw_store *s = fx_open(NULL);
    int64_t odd = add_run(s, "it's 100%_done!", "copy", 10000, 2, 0, 10, SW_RUN_COMPLETED, NAN);
    add_run(s, "plain 1000 xdone", "copy", 10000, 2, 0, 10, SW_RUN_COMPLETED, NAN);
    int64_t ids[8];
    uint64_t total;
    static const char *const hostile[] = {"'; DROP TABLE runs; --", "' OR '1'='1", "\") OR 1=1 --", "%' --"};
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        sw_store_run_page_query q = {.text = hostile[i]};
        cr_assert_eq(page_ids(s, &q, ids, 8, &total), 0, "%s matched", hostile[i]);
        cr_assert_eq(total, 0);
    }
    const char *literal[] = {"100%_", "%_d", "it's", "done!"};
    for (size_t i = 0; i < 4; i++) {
        sw_store_run_page_query q = {.text = literal[i]};
        cr_assert_eq(page_ids(s, &q, ids, 8, NULL), 1, "%s: %% and _ must be literal", literal[i]);
        cr_assert_eq(ids[0], odd);
    }
    sw_store_run_page_query q = {.task = "copy' OR '1'='1"};
    cr_assert_eq(page_ids(s, &q, ids, 8, NULL), 0);
    q = (sw_store_run_page_query){0};
    cr_assert_eq(page_ids(s, &q, ids, 8, &total), 2, "the runs table is still there");
    sw_store_close(s);
}

STORE_TEST(page_rows_carry_stop_point_budget_and_wall)
{
    sw_store *s = fx_open(NULL);
    /* 5 evaluations, the last 2 in the cooldown: the stop is the third */
    int64_t a = add_run(s, "cool", "copy", 20000, 5, 2, 10, SW_RUN_STOPPED, NAN);
    int64_t b = add_run(s, "none", "copy", 0, 0, 0, 0, SW_RUN_RUNNING, NAN);
    sw_store_run_page_query q = {.sort = SW_STORE_RUN_KEY_ID, .ascending = 1};
    sw_store_run_row *rows;
    size_t n;
    ST_OK(s, sw_store_runs_page(s, &q, &rows, &n, NULL));
    cr_assert_eq(n, 2);
    cr_assert_eq(rows[0].run.id, a);
    cr_assert_eq(rows[0].budget, 20000);
    cr_assert_eq(rows[0].stop_tokens, 3000);
    cr_assert_float_eq(rows[0].stop_em, 12, 1e-9);
    cr_assert_eq(rows[0].run.n_evals, 5);
    cr_assert_eq(rows[0].run.tokens, 5000);
    cr_assert(rows[0].wall_s >= 0 && rows[0].wall_s < 60, "%g", rows[0].wall_s);
    cr_assert_eq(rows[1].run.id, b);
    cr_assert_eq(rows[1].budget, 0);
    cr_assert_eq(rows[1].stop_tokens, 0);
    cr_assert(isnan(rows[1].stop_em));
    cr_assert_eq(rows[1].run.status, SW_RUN_RUNNING);
    sw_store_run_rows_free(rows, n);
    /* at-stop EM sorts by the stop evaluation, not the last one */
    add_run(s, "late", "copy", 20000, 3, 0, 11, SW_RUN_COMPLETED, NAN); /* stop EM 13 > 12, last 13 < 14 */
    q = (sw_store_run_page_query){.sort = SW_STORE_RUN_KEY_STOP_EM};
    int64_t ids[4];
    page_ids(s, &q, ids, 4, NULL);
    cr_assert_eq(ids[1], a, "the cooled run's at-stop EM (12) ranks below 13");
    /* branches filtered in or out */
    sw_store_run_info br = {.name = "branch", .task = "copy", .parent_run_id = a, .fork_tokens = 2000};
    int64_t bid;
    ST_OK(s, sw_store_run_begin(s, &br, &bid));
    q = (sw_store_run_page_query){.branches = -1};
    uint64_t total;
    page_ids(s, &q, ids, 4, &total);
    cr_assert_eq(total, 3);
    q.branches = 1;
    page_ids(s, &q, ids, 4, &total);
    cr_assert_eq(total, 1);
    cr_assert_eq(ids[0], bid);
    q = (sw_store_run_page_query){.run_id = a}; /* one run's row */
    cr_assert_eq(page_ids(s, &q, ids, 4, &total), 1);
    cr_assert_eq(ids[0], a);
    q.run_id = 9999;
    cr_assert_eq(page_ids(s, &q, ids, 4, &total), 0);
    sw_store_close(s);
}

STORE_TEST(policy_keys_lists_every_tuned_task)
{
    sw_store *s = fx_open(NULL);
    char **keys;
    size_t n;
    ST_OK(s, sw_store_policy_keys(s, &keys, &n));
    cr_assert_eq(n, 0);
    sw_store_keys_free(keys, n);
    ST_OK(s, sw_store_policy_put(s, "b|key", "patience=3", "{}"));
    ST_OK(s, sw_store_policy_put(s, "b|key", "patience=4", "{}"));
    ST_OK(s, sw_store_state_put(s, "a|online", "{\"version\":1}"));
    ST_OK(s, sw_store_state_put(s, "b|key", "{\"version\":1}"));
    ST_OK(s, sw_store_policy_keys(s, &keys, &n));
    cr_assert_eq(n, 2);
    cr_assert_str_eq(keys[0], "a|online");
    cr_assert_str_eq(keys[1], "b|key");
    sw_store_keys_free(keys, n);
    sw_store_close(s);
}
