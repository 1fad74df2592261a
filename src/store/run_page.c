/* A page of runs, sorted, filtered and counted by the store, so that a
 * dashboard over 10,000 runs reads 50 rows at a time (store.h,
 * sw_store_runs_page). The sort key picks one of the fixed expressions below;
 * everything the caller gives is a bound parameter. */
#include "store/internal.h"

#include <stdlib.h>
#include <string.h>

#define PAGE_DEFAULT 50
#define PAGE_MAX 1000

static const char *const key_names[SW_STORE_RUN_KEY_COUNT] = {
    "started", "id", "name", "task", "status", "stop_rule", "tokens",
    "saved", "best_em", "stop_em", "val_em", "test_em", "wall_s"};

const char *sw_store_run_key_name(sw_store_run_key k)
{
    return (unsigned)k < SW_STORE_RUN_KEY_COUNT ? key_names[k] : "unknown";
}

sw_status sw_store_run_key_parse(const char *name, sw_store_run_key *out)
{
    for (int i = 0; name && i < SW_STORE_RUN_KEY_COUNT; i++)
        if (!strcmp(name, key_names[i])) {
            *out = (sw_store_run_key)i;
            return SW_OK;
        }
    return SW_ERR_INVALID;
}

/* The evaluation a run stopped at: its last one outside the cooldown (the
 * trainer marks cooldown evaluations with the metric cooldown = 1), found
 * through the primary keys of evals and eval_metrics. */
#define STOP_EVAL(col)                                                                                    \
    "(SELECT e." col " FROM evals e WHERE e.run_id = r.id AND NOT EXISTS (SELECT 1 FROM eval_metrics m " \
    "WHERE m.run_id = e.run_id AND m.seq = e.seq AND m.name = 'cooldown' AND m.value > 0) "              \
    "ORDER BY e.seq DESC LIMIT 1)"
#define WALL_SQL "(COALESCE(r.ended, r.heartbeat) - r.started)"

/* The config's "budget" (the trainer writes compact JSON; imported runs may
 * hold any text, which must read as no budget rather than fail the page). */
static const char *budget_sql(const sw_store *s)
{
    return s->kind == SW_DB_SQLITE
               ? "(CASE WHEN json_valid(r.config) THEN CAST(json_extract(r.config, '$.budget') AS INTEGER) END)"
               : "(substring(r.config from '\"budget\"\\s*:\\s*([0-9]{1,18})')::bigint)";
}

/* Appends the expression of key k; the status needs the staleness limit. */
static void add_key(sw_store *s, sw_store_query *q, sw_store_run_key k)
{
    switch (k) {
    case SW_STORE_RUN_KEY_ID: sw_store_query_add(q, "r.id"); break;
    case SW_STORE_RUN_KEY_NAME: sw_store_query_add(q, "r.name"); break;
    case SW_STORE_RUN_KEY_TASK: sw_store_query_add(q, "r.task"); break;
    case SW_STORE_RUN_KEY_STATUS:
        sw_store_query_add(q, SW_STORE_STATUS_SQL);
        sw_store_query_param(q, sw_db_real(s->opt.stale_after_s));
        break;
    case SW_STORE_RUN_KEY_STOP_RULE: sw_store_query_add(q, "r.stop_rule"); break;
    case SW_STORE_RUN_KEY_TOKENS: sw_store_query_add(q, "r.tokens"); break;
    case SW_STORE_RUN_KEY_SAVED: /* a run still training (or crashed, failed) has saved nothing yet */
        sw_store_query_add(q, "(CASE WHEN r.status IN ('completed', 'stopped', 'pruned', 'diverged') THEN ");
        sw_store_query_add(q, budget_sql(s));
        sw_store_query_add(q, " - r.tokens END)");
        break;
    case SW_STORE_RUN_KEY_BEST_EM: sw_store_query_add(q, "r.best_em"); break;
    case SW_STORE_RUN_KEY_STOP_EM: sw_store_query_add(q, STOP_EVAL("val_em")); break;
    case SW_STORE_RUN_KEY_VAL_EM: sw_store_query_add(q, "r.val_em"); break;
    case SW_STORE_RUN_KEY_TEST_EM: sw_store_query_add(q, "r.test_em"); break;
    case SW_STORE_RUN_KEY_WALL: sw_store_query_add(q, WALL_SQL); break;
    default: sw_store_query_add(q, "r.started"); break;
    }
}

static void add_order(sw_store *s, sw_store_query *q, const sw_store_run_page_query *pq)
{
    const char *dir = pq->ascending ? " ASC" : " DESC";
    sw_store_query_add(q, " ORDER BY ");
    add_key(s, q, pq->sort);
    sw_store_query_add(q, dir);
    sw_store_query_add(q, " NULLS LAST, r.id");
    sw_store_query_add(q, dir);
}

/* "%text%" for LIKE ... ESCAPE '!', lower-cased (ASCII), with the pattern
 * characters taken literally. malloc'd. */
static char *like_pattern(const char *text)
{
    size_t n = strlen(text);
    char *p = malloc(2 * n + 3);
    if (!p) return NULL;
    size_t k = 0;
    p[k++] = '%';
    for (const char *c = text; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '!') p[k++] = '!';
        p[k++] = *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c;
    }
    p[k++] = '%';
    p[k] = 0;
    return p;
}

static void add_filters(sw_store *s, sw_store_query *q, const sw_store_run_page_query *pq, const char *pattern)
{
    sw_store_query_add(q, " FROM runs r WHERE 1 = 1");
    if (pq->task) {
        sw_store_query_add(q, " AND r.task = ?");
        sw_store_query_param(q, sw_db_text(pq->task));
    }
    if (pq->has_status) {
        sw_store_query_add(q, " AND " SW_STORE_STATUS_SQL " = ?");
        sw_store_query_param(q, sw_db_real(s->opt.stale_after_s));
        sw_store_query_param(q, sw_db_text(sw_run_status_str(pq->status)));
    }
    if (pattern) {
        sw_store_query_add(q, " AND LOWER(r.name || ' ' || r.task || ' ' || r.policy || ' ' || "
                              "COALESCE(r.stop_rule, '') || ' ' || COALESCE(r.stop_reason, '')) LIKE ? ESCAPE '!'");
        sw_store_query_param(q, sw_db_text(pattern));
    }
    if (pq->branches > 0) sw_store_query_add(q, " AND r.parent_run_id IS NOT NULL");
    if (pq->branches < 0) sw_store_query_add(q, " AND r.parent_run_id IS NULL");
    if (pq->run_id > 0) {
        sw_store_query_add(q, " AND r.id = ?");
        sw_store_query_param(q, sw_db_int(pq->run_id));
    }
}

static sw_status count_rows(sw_store *s, const sw_store_run_page_query *pq, const char *pattern, uint64_t *total)
{
    sw_store_query q = {0};
    sw_store_query_add(&q, "SELECT COUNT(*)");
    add_filters(s, &q, pq, pattern);
    sw_db_result r;
    sw_status st = sw_store_query_run(s, &q, &r);
    sw_store_query_free(&q);
    if (st) return st;
    *total = r.nrows ? (uint64_t)sw_db_get_int(&r, 0, 0) : 0;
    sw_db_result_free(&r);
    return SW_OK;
}

/* The page's ids are chosen by an inner query (filter, order, limit, offset)
 * so that the per-row subqueries (evaluation count, stop point) run for the
 * page's rows only, not for every run the sort reads. */
static sw_status read_page(sw_store *s, const sw_store_run_page_query *pq, const char *pattern, size_t limit,
                           sw_db_result *res)
{
    sw_store_query q = {0};
    sw_store_query_add(&q, "SELECT " SW_STORE_RUN_COLUMNS ", ");
    sw_store_query_param(&q, sw_db_real(s->opt.stale_after_s));
    sw_store_query_add(&q, budget_sql(s));
    sw_store_query_add(&q, ", " STOP_EVAL("tokens") ", " STOP_EVAL("val_em") ", " WALL_SQL
                           " FROM runs r WHERE r.id IN (SELECT r.id");
    add_filters(s, &q, pq, pattern);
    add_order(s, &q, pq);
    sw_store_query_add(&q, " LIMIT ? OFFSET ?)");
    sw_store_query_param(&q, sw_db_int((int64_t)limit));
    sw_store_query_param(&q, sw_db_int(pq->offset > (size_t)INT64_MAX ? INT64_MAX : (int64_t)pq->offset));
    add_order(s, &q, pq);
    sw_status st = sw_store_query_run(s, &q, res);
    sw_store_query_free(&q);
    return st;
}

sw_status sw_store_runs_page(sw_store *s, const sw_store_run_page_query *q, sw_store_run_row **rows, size_t *n,
                             uint64_t *total)
{
    static const sw_store_run_page_query defaults = {0};
    *rows = NULL;
    *n = 0;
    if (total) *total = 0;
    if (!q) q = &defaults;
    if ((unsigned)q->sort >= SW_STORE_RUN_KEY_COUNT)
        return sw_error_set(&s->err, SW_ERR_INVALID, "unknown sort key %d for a page of runs", (int)q->sort);
    if (q->has_status && (unsigned)q->status >= SW_RUN_STATUS_COUNT)
        return sw_error_set(&s->err, SW_ERR_INVALID, "unknown run status %d", (int)q->status);
    size_t limit = q->limit ? q->limit : PAGE_DEFAULT;
    if (limit > PAGE_MAX) limit = PAGE_MAX;
    sw_status st = sw_store_flush(s);
    if (st) return st;
    char *pattern = NULL;
    if (q->text && *q->text && !(pattern = like_pattern(q->text)))
        return sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    sw_db_result r = {0};
    if (total) st = count_rows(s, q, pattern, total);
    if (!st) st = read_page(s, q, pattern, limit, &r);
    free(pattern);
    if (st) return st;
    if (r.nrows && !(*rows = calloc(r.nrows, sizeof **rows))) st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < r.nrows; i++) {
        sw_store_run_row *x = &(*rows)[i];
        const size_t c = SW_STORE_RUN_NCOLUMNS;
        sw_store_run_from_row(&r, i, &x->run);
        int64_t budget = sw_db_get_int(&r, i, c);
        x->budget = budget > 0 ? (uint64_t)budget : 0;
        int64_t stop = sw_db_get_int(&r, i, c + 1);
        x->stop_tokens = stop > 0 ? (uint64_t)stop : 0;
        x->stop_em = sw_db_get_real(&r, i, c + 2);
        x->wall_s = sw_db_get_real(&r, i, c + 3);
        *n = i + 1;
    }
    sw_db_result_free(&r);
    if (st) {
        sw_store_run_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
    }
    return st;
}

void sw_store_run_rows_free(sw_store_run_row *rows, size_t n)
{
    if (!rows) return;
    for (size_t i = 0; i < n; i++) sw_store_run_clear(&rows[i].run);
    free(rows);
}
