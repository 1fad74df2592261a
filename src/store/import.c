/* A finished run and its whole curve in one transaction (runs import): the
 * run row, its evaluations and metrics, its tags. Nothing is half-written:
 * the transaction commits all of it or rolls all of it back, and a retry
 * after a lock conflict redoes all of it. */
#include "store/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct import_ctx {
    const sw_store_run_info *info;
    const char *host;
    int64_t pid;
    const sw_store_run_result *res;
    sw_pending_eval *pend; /* names and values borrowed from the caller's evaluations */
    size_t n;
    const sw_store_kv *tags;
    size_t n_tags;
    int64_t id;
} import_ctx;

static sw_status import_tx(sw_store *s, void *vctx)
{
    import_ctx *c = vctx;
    const sw_store_run_info *in = c->info;
    const sw_store_run_result *x = c->res;
    sw_db_val p[] = {sw_db_text(in->name ? in->name : ""),
                     sw_db_text(in->task ? in->task : ""),
                     sw_db_text(in->config_json && *in->config_json ? in->config_json : "{}"),
                     sw_db_text(in->policy ? in->policy : ""),
                     sw_db_text(sw_run_status_str(x->status)),
                     sw_db_text(x->stop_rule),
                     sw_db_text(x->stop_reason),
                     sw_db_int((int64_t)x->tokens),
                     sw_db_int((int64_t)x->best_tokens),
                     sw_db_real(x->best_em),
                     sw_db_real(x->val_em),
                     sw_db_real(x->test_em),
                     sw_db_text(c->host),
                     sw_db_int(c->pid)};
    sw_db_result r;
    sw_status st = sw_store_sql(s,
                                "INSERT INTO runs (name, task, config, policy, status, stop_rule, stop_reason, tokens, "
                                "best_tokens, best_em, val_em, test_em, host, pid, started, ended, heartbeat) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {NOW}, {NOW}, {NOW}) RETURNING id",
                                p, 14, &r);
    if (st) return st;
    c->id = sw_db_get_int(&r, 0, 0);
    sw_db_result_free(&r);
    for (size_t i = 0; i < c->n; i++) c->pend[i].run_id = c->id;
    if ((st = sw_store_write_evals(s, c->pend, c->n))) return st;
    for (size_t i = 0; i < c->n_tags && !st; i++) {
        sw_db_val t[] = {sw_db_int(c->id), sw_db_text(c->tags[i].key), sw_db_text(c->tags[i].value)};
        st = sw_store_sql(s, "INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)", t, 3, NULL);
    }
    return st;
}

sw_status sw_store_run_import(sw_store *s, const sw_store_run_info *info, const sw_store_run_result *res,
                              const sw_store_eval *evals, size_t n, const sw_store_kv *tags, size_t n_tags,
                              int64_t *run_id)
{
    static const sw_store_run_info none = {0};
    if (!res || res->status == SW_RUN_RUNNING || (unsigned)res->status >= SW_RUN_STATUS_COUNT)
        return sw_error_set(&s->err, SW_ERR_INVALID, "an imported run needs a final status, not running");
    sw_status st = sw_store_tokens_check(s, res->tokens);
    if (!st) st = sw_store_tokens_check(s, res->best_tokens);
    for (size_t i = 0; i < n && !st; i++) {
        if (isnan(evals[i].wall_s))
            st = sw_error_set(&s->err, SW_ERR_INVALID, "evaluation %zu: wall_s is NaN; give 0 when unknown", i + 1);
        else if ((st = sw_store_eval_check(s, &evals[i])))
            sw_error_set(&s->err, st, "evaluation %zu: %s", i + 1, s->err.msg);
    }
    for (size_t i = 0; i < n_tags && !st; i++)
        if (!tags[i].key || !*tags[i].key || !tags[i].value)
            st = sw_error_set(&s->err, SW_ERR_INVALID, "tag %zu: a tag needs a key and a value", i + 1);
    if (st) return st;
    sw_pending_eval *pend = calloc(n ? n : 1, sizeof *pend);
    if (!pend) return sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const sw_store_eval *e = &evals[i];
        pend[i] = (sw_pending_eval){.seq = (int64_t)i, .tokens = (int64_t)e->tokens, .step = e->step,
                                    .wall_s = e->wall_s, .val_em = e->val_em, .val_loss = e->val_loss,
                                    .train_loss = e->train_loss, .n_metrics = e->n_metrics};
        if (!e->n_metrics) continue;
        pend[i].names = malloc(e->n_metrics * sizeof *pend[i].names);
        pend[i].values = malloc(e->n_metrics * sizeof *pend[i].values);
        if (!pend[i].names || !pend[i].values) {
            st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t k = 0; k < e->n_metrics; k++) {
            pend[i].names[k] = (char *)e->metrics[k].name; /* borrowed: only read */
            pend[i].values[k] = e->metrics[k].value;
        }
    }
    char host[256] = "";
    import_ctx c = {info ? info : &none, NULL, 0, res, pend, n, tags, n_tags, 0};
    if (c.info->host) c.host = c.info->host;
    else {
        if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "unknown");
        c.host = host;
    }
    c.pid = c.info->pid ? c.info->pid : (int64_t)getpid();
    if (!st) st = sw_store_tx(s, import_tx, &c);
    for (size_t i = 0; i < n; i++) {
        free(pend[i].names);
        free(pend[i].values);
    }
    free(pend);
    if (!st && run_id) *run_id = c.id;
    return st;
}
