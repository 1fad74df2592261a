/* Runs: begin, heartbeat, end, resume, read, list and remove. */
#include "store/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const status_names[SW_RUN_STATUS_COUNT] = {"running", "completed", "stopped", "pruned",
                                                               "diverged", "failed", "crashed"};

const char *sw_run_status_str(sw_run_status s)
{
    return (unsigned)s < SW_RUN_STATUS_COUNT ? status_names[s] : "unknown";
}

sw_status sw_run_status_parse(const char *name, sw_run_status *out)
{
    for (int i = 0; name && i < SW_RUN_STATUS_COUNT; i++)
        if (!strcmp(name, status_names[i])) {
            *out = (sw_run_status)i;
            return SW_OK;
        }
    return SW_ERR_INVALID;
}

/* ---- begin ---------------------------------------------------------------------- */

typedef struct begin_ctx {
    const sw_store_run_info *info;
    const char *host;
    int64_t pid;
    int64_t id;
} begin_ctx;

static sw_status begin_tx(sw_store *s, void *vctx)
{
    begin_ctx *c = vctx;
    const sw_store_run_info *in = c->info;
    sw_db_val p[] = {sw_db_text(in->name ? in->name : ""),
                     sw_db_text(in->task ? in->task : ""),
                     sw_db_text(in->config_json && *in->config_json ? in->config_json : "{}"),
                     sw_db_text(in->policy ? in->policy : ""),
                     sw_db_text(c->host),
                     sw_db_int(c->pid),
                     in->parent_run_id > 0 ? sw_db_int(in->parent_run_id) : sw_db_null(),
                     in->parent_run_id > 0 ? sw_db_int((int64_t)in->fork_tokens) : sw_db_null()};
    sw_db_result r;
    sw_status st = sw_store_sql(s,
                                "INSERT INTO runs (name, task, config, policy, status, host, pid, started, heartbeat, "
                                "parent_run_id, fork_tokens) "
                                "VALUES (?, ?, ?, ?, 'running', ?, ?, {NOW}, {NOW}, ?, ?) RETURNING id",
                                p, 8, &r);
    if (st) return st;
    c->id = sw_db_get_int(&r, 0, 0);
    sw_db_result_free(&r);
    return SW_OK;
}

static sw_status seq_add(sw_store *s, int64_t run_id, int64_t next)
{
    if (SW_ARRAY_RESERVE(s->seqs, s->cap_seqs, s->n_seqs + 1)) return sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    s->seqs[s->n_seqs++] = (sw_run_seq){run_id, next};
    return SW_OK;
}

sw_status sw_store_run_begin(sw_store *s, const sw_store_run_info *info, int64_t *run_id)
{
    static const sw_store_run_info none = {0};
    char host[256] = "";
    begin_ctx c = {info ? info : &none, NULL, 0, 0};
    if (c.info->host) c.host = c.info->host;
    else {
        if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "unknown");
        c.host = host;
    }
    c.pid = c.info->pid ? c.info->pid : (int64_t)getpid();
    sw_status st = sw_store_tx(s, begin_tx, &c);
    if (st) return st;
    if (run_id) *run_id = c.id;
    return seq_add(s, c.id, 0);
}

/* ---- heartbeat, end ---------------------------------------------------------------- */

typedef struct end_ctx {
    int64_t id;
    const sw_store_run_result *res; /* NULL: heartbeat only */
    int found;
} end_ctx;

static sw_status end_tx(sw_store *s, void *vctx)
{
    end_ctx *c = vctx;
    sw_db_result r;
    sw_status st;
    if (!c->res) {
        sw_db_val p = sw_db_int(c->id);
        st = sw_store_sql(s, "UPDATE runs SET heartbeat = {NOW} WHERE id = ? RETURNING id", &p, 1, &r);
    } else {
        const sw_store_run_result *x = c->res;
        sw_db_val p[] = {sw_db_text(sw_run_status_str(x->status)),
                         sw_db_text(x->stop_rule),
                         sw_db_text(x->stop_reason),
                         sw_db_int((int64_t)x->tokens),
                         sw_db_int((int64_t)x->best_tokens),
                         sw_db_real(x->best_em),
                         sw_db_real(x->val_em),
                         sw_db_real(x->test_em),
                         sw_db_int(c->id)};
        st = sw_store_sql(s,
                          "UPDATE runs SET status = ?, stop_rule = ?, stop_reason = ?, tokens = ?, best_tokens = ?, "
                          "best_em = ?, val_em = ?, test_em = ?, ended = {NOW}, heartbeat = {NOW} "
                          "WHERE id = ? RETURNING id",
                          p, 9, &r);
    }
    if (st) return st;
    c->found = r.nrows > 0;
    sw_db_result_free(&r);
    return SW_OK;
}

sw_status sw_store_heartbeat(sw_store *s, int64_t run_id)
{
    sw_status st = sw_store_flush(s);
    if (st) return st;
    end_ctx c = {run_id, NULL, 0};
    st = sw_store_tx(s, end_tx, &c);
    if (!st && !c.found) st = sw_error_set(&s->err, SW_ERR_NOT_FOUND, "%s: no run %lld", s->where, (long long)run_id);
    return st;
}

sw_status sw_store_run_end(sw_store *s, int64_t run_id, const sw_store_run_result *res)
{
    if (!res || res->status == SW_RUN_RUNNING || (unsigned)res->status >= SW_RUN_STATUS_COUNT)
        return sw_error_set(&s->err, SW_ERR_INVALID, "a run's result needs a final status, not running");
    sw_status st = sw_store_tokens_check(s, res->tokens);
    if (!st) st = sw_store_tokens_check(s, res->best_tokens);
    if (!st) st = sw_store_flush(s);
    if (st) return st;
    end_ctx c = {run_id, res, 0};
    st = sw_store_tx(s, end_tx, &c);
    if (!st && !c.found) st = sw_error_set(&s->err, SW_ERR_NOT_FOUND, "%s: no run %lld", s->where, (long long)run_id);
    if (!st) sw_store_forget_run(s, run_id);
    return st;
}

/* ---- resume ------------------------------------------------------------------------ */

typedef struct resume_ctx {
    int64_t id;
    uint64_t keep;
    int resumed;
} resume_ctx;

static sw_status resume_tx(sw_store *s, void *vctx)
{
    resume_ctx *c = vctx;
    char host[256];
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = 0;
    /* One statement decides and takes over, so two resumers cannot both win. */
    sw_db_val p[] = {sw_db_text(host), sw_db_int((int64_t)getpid()), sw_db_int(c->id),
                     sw_db_real(s->opt.stale_after_s)};
    sw_db_result r;
    sw_status st = sw_store_sql(s,
                                "UPDATE runs SET status = 'running', stop_rule = NULL, stop_reason = NULL, "
                                "ended = NULL, heartbeat = {NOW}, host = ?, pid = ? WHERE id = ? AND "
                                "(status IN ('crashed', 'failed') OR (status = 'running' AND heartbeat < {NOW} - ?)) "
                                "RETURNING id",
                                p, 4, &r);
    if (st) return st;
    c->resumed = r.nrows > 0;
    sw_db_result_free(&r);
    if (!c->resumed || c->keep == SW_STORE_KEEP_ALL) return SW_OK;
    sw_db_val q[] = {sw_db_int(c->id), sw_db_int((int64_t)c->keep)};
    st = sw_store_sql(s, "DELETE FROM evals WHERE run_id = ? AND tokens > ?", q, 2, NULL);
    /* so are the branches forked past it (their evaluations and the rest go
     * with them: ON DELETE CASCADE) */
    if (!st) st = sw_store_sql(s, "DELETE FROM runs WHERE parent_run_id = ? AND fork_tokens > ?", q, 2, NULL);
    if (st) return st;
    sw_db_val u[] = {sw_db_int(c->id), sw_db_int(c->id)};
    return sw_store_sql(s,
                        "UPDATE runs SET tokens = COALESCE((SELECT MAX(tokens) FROM evals WHERE run_id = ?), 0) "
                        "WHERE id = ?",
                        u, 2, NULL);
}

sw_status sw_store_run_resume(sw_store *s, int64_t run_id, uint64_t keep_tokens)
{
    if (keep_tokens != SW_STORE_KEEP_ALL) {
        sw_status st = sw_store_tokens_check(s, keep_tokens);
        if (st) return st;
    }
    sw_status st = sw_store_flush(s);
    if (st) return st;
    sw_store_forget_run(s, run_id);
    resume_ctx c = {run_id, keep_tokens, 0};
    st = sw_store_tx(s, resume_tx, &c);
    if (st || c.resumed) return st;
    sw_store_run r;
    st = sw_store_run_get(s, run_id, &r);
    if (st) return st;
    st = sw_error_set(&s->err, SW_ERR_STATE, "%s: run %lld is %s; only a crashed or failed run can be resumed",
                      s->where, (long long)run_id, sw_run_status_str(r.status));
    sw_store_run_clear(&r);
    return st;
}

/* ---- read -------------------------------------------------------------------------- */

void sw_store_run_from_row(const sw_db_result *res, size_t i, sw_store_run *r)
{
    memset(r, 0, sizeof *r);
    r->id = sw_db_get_int(res, i, 0);
    r->name = sw_db_dup_text(res, i, 1);
    r->task = sw_db_dup_text(res, i, 2);
    r->config = sw_db_dup_text(res, i, 3);
    r->policy = sw_db_dup_text(res, i, 4);
    if (sw_run_status_parse(sw_db_get_text(res, i, 5), &r->status)) r->status = SW_RUN_FAILED;
    r->stop_rule = sw_db_dup_text(res, i, 6);
    r->stop_reason = sw_db_dup_text(res, i, 7);
    r->tokens = (uint64_t)sw_db_get_int(res, i, 8);
    r->best_tokens = (uint64_t)sw_db_get_int(res, i, 9);
    r->best_em = sw_db_get_real(res, i, 10);
    r->val_em = sw_db_get_real(res, i, 11);
    r->test_em = sw_db_get_real(res, i, 12);
    r->host = sw_db_dup_text(res, i, 13);
    r->pid = sw_db_get_int(res, i, 14);
    r->started = sw_db_get_real(res, i, 15);
    r->ended = sw_db_get_real(res, i, 16);
    r->heartbeat = sw_db_get_real(res, i, 17);
    r->n_evals = sw_db_get_int(res, i, 18);
    r->parent_run_id = sw_db_get_int(res, i, 19); /* NULL reads 0 */
    r->fork_tokens = (uint64_t)sw_db_get_int(res, i, 20);
}

void sw_store_run_clear(sw_store_run *r)
{
    if (!r) return;
    free(r->name);
    free(r->task);
    free(r->config);
    free(r->policy);
    free(r->stop_rule);
    free(r->stop_reason);
    free(r->host);
    memset(r, 0, sizeof *r);
}

void sw_store_run_list_free(sw_store_run *runs, size_t n)
{
    if (!runs) return;
    for (size_t i = 0; i < n; i++) sw_store_run_clear(&runs[i]);
    free(runs);
}

sw_status sw_store_run_get(sw_store *s, int64_t run_id, sw_store_run *out)
{
    memset(out, 0, sizeof *out);
    sw_status st = sw_store_flush(s);
    if (st) return st;
    sw_db_val p[] = {sw_db_real(s->opt.stale_after_s), sw_db_int(run_id)};
    sw_db_result r;
    st = sw_store_sql(s, "SELECT " SW_STORE_RUN_COLUMNS " FROM runs r WHERE r.id = ?", p, 2, &r);
    if (st) return st;
    if (!r.nrows) st = sw_error_set(&s->err, SW_ERR_NOT_FOUND, "%s: no run %lld", s->where, (long long)run_id);
    else sw_store_run_from_row(&r, 0, out);
    sw_db_result_free(&r);
    return st;
}

sw_status sw_store_runs_list(sw_store *s, const sw_store_run_filter *f, sw_store_run **runs, size_t *n)
{
    static const sw_store_run_filter all = {0};
    *runs = NULL;
    *n = 0;
    if (!f) f = &all;
    sw_status st = sw_store_flush(s);
    if (st) return st;
    sw_store_query q = {0};
    sw_store_query_add(&q, "SELECT " SW_STORE_RUN_COLUMNS " FROM runs r WHERE 1 = 1");
    sw_store_query_param(&q, sw_db_real(s->opt.stale_after_s));
    if (f->task) {
        sw_store_query_add(&q, " AND r.task = ?");
        sw_store_query_param(&q, sw_db_text(f->task));
    }
    if (f->has_status) {
        sw_store_query_add(&q, " AND " SW_STORE_STATUS_SQL " = ?");
        sw_store_query_param(&q, sw_db_real(s->opt.stale_after_s));
        sw_store_query_param(&q, sw_db_text(sw_run_status_str(f->status)));
    }
    if (f->study) {
        sw_store_query_add(&q, " AND r.id IN (SELECT t.run_id FROM trials t JOIN studies st ON st.id = t.study_id "
                  "WHERE st.name = ?)");
        sw_store_query_param(&q, sw_db_text(f->study));
    }
    for (size_t i = 0; i < f->n_tags; i++) {
        sw_store_query_add(&q, " AND EXISTS (SELECT 1 FROM run_tags g WHERE g.run_id = r.id AND g.key = ?");
        sw_store_query_param(&q, sw_db_text(f->tags[i].key));
        if (f->tags[i].value) {
            sw_store_query_add(&q, " AND g.value = ?");
            sw_store_query_param(&q, sw_db_text(f->tags[i].value));
        }
        sw_store_query_add(&q, ")");
    }
    if (f->branches > 0) sw_store_query_add(&q, " AND r.parent_run_id IS NOT NULL");
    if (f->branches < 0) sw_store_query_add(&q, " AND r.parent_run_id IS NULL");
    if (f->parent_run_id > 0) {
        sw_store_query_add(&q, " AND r.parent_run_id = ?");
        sw_store_query_param(&q, sw_db_int(f->parent_run_id));
    }
    if (f->ids) {
        sw_store_query_add(&q, " AND r.id IN (-1");
        for (size_t i = 0; i < f->n_ids; i++) {
            sw_store_query_add(&q, ", ?");
            sw_store_query_param(&q, sw_db_int(f->ids[i]));
        }
        sw_store_query_add(&q, ")");
    }
    sw_store_query_add(&q, " ORDER BY r.started DESC, r.id DESC");
    if (f->limit) {
        sw_store_query_add(&q, " LIMIT ?");
        sw_store_query_param(&q, sw_db_int((int64_t)f->limit));
    }
    sw_db_result r;
    st = sw_store_query_run(s, &q, &r);
    sw_store_query_free(&q);
    if (st) return st;
    if (r.nrows) {
        *runs = calloc(r.nrows, sizeof **runs);
        if (!*runs) st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
        else {
            for (size_t i = 0; i < r.nrows; i++) sw_store_run_from_row(&r, i, &(*runs)[i]);
            *n = r.nrows;
        }
    }
    sw_db_result_free(&r);
    return st;
}

/* ---- remove ------------------------------------------------------------------------ */

typedef struct remove_ctx {
    int64_t id;
    int found;
} remove_ctx;

static sw_status remove_tx(sw_store *s, void *vctx)
{
    remove_ctx *c = vctx;
    sw_db_val p = sw_db_int(c->id);
    sw_db_result r;
    /* the foreign keys cascade to evals, eval_metrics, tags, params, trials
     * and artifacts */
    sw_status st = sw_store_sql(s, "DELETE FROM runs WHERE id = ? RETURNING id", &p, 1, &r);
    if (st) return st;
    c->found = r.nrows > 0;
    sw_db_result_free(&r);
    return SW_OK;
}

sw_status sw_store_run_remove(sw_store *s, int64_t run_id)
{
    sw_store_forget_run(s, run_id);
    remove_ctx c = {run_id, 0};
    sw_status st = sw_store_tx(s, remove_tx, &c);
    if (!st && !c.found) st = sw_error_set(&s->err, SW_ERR_NOT_FOUND, "%s: no run %lld", s->where, (long long)run_id);
    return st;
}
