/* Curves: evaluations are queued by log_eval and written in batches, one
 * transaction per batch (a batch lands whole or not at all), and read back
 * in order. Each evaluation has a number (seq) in its run, 0, 1, 2, ..., so
 * the primary key (run_id, seq) makes a duplicated row impossible. */
#include "store/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_ROWS_PER_INSERT 64    /* 8 parameters a row      */
#define METRIC_ROWS_PER_INSERT 128 /* 4 parameters a row      */

static sw_status next_seq(sw_store *s, int64_t run_id, int64_t **seq)
{
    for (size_t i = 0; i < s->n_seqs; i++)
        if (s->seqs[i].run_id == run_id) {
            *seq = &s->seqs[i].next_seq;
            return SW_OK;
        }
    /* A run this handle did not begin (or one resumed): continue its curve. */
    sw_status st = sw_store_run_check(s, run_id);
    if (st) return st;
    sw_db_val p = sw_db_int(run_id);
    sw_db_result r;
    st = sw_store_sql(s, "SELECT COALESCE(MAX(seq) + 1, 0) FROM evals WHERE run_id = ?", &p, 1, &r);
    if (st) return st;
    int64_t next = sw_db_get_int(&r, 0, 0);
    sw_db_result_free(&r);
    if (SW_ARRAY_RESERVE(s->seqs, s->cap_seqs, s->n_seqs + 1)) return sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    s->seqs[s->n_seqs] = (sw_run_seq){run_id, next};
    *seq = &s->seqs[s->n_seqs++].next_seq;
    return SW_OK;
}

static int reserved(const char *name)
{
    return !strcmp(name, "val_em") || !strcmp(name, "val_loss") || !strcmp(name, "train_loss");
}

sw_status sw_store_eval_check(sw_store *s, const sw_store_eval *e)
{
    sw_status st = sw_store_tokens_check(s, e->tokens);
    if (st) return st;
    for (size_t k = 0; k < e->n_metrics; k++) {
        const char *name = e->metrics[k].name;
        if (!name || !*name || reserved(name))
            return sw_error_set(&s->err, SW_ERR_INVALID, "metric %zu: name '%s' is empty or reserved", k,
                                name ? name : "");
        for (size_t j = 0; j < k; j++)
            if (!strcmp(e->metrics[j].name, name))
                return sw_error_set(&s->err, SW_ERR_INVALID, "metric '%s' given twice in one evaluation", name);
    }
    return SW_OK;
}

sw_status sw_store_log_eval(sw_store *s, int64_t run_id, const sw_store_eval *e)
{
    sw_status st = sw_store_eval_check(s, e);
    if (st) return st;
    int64_t *seq = NULL;
    st = next_seq(s, run_id, &seq);
    if (st) return st;
    if (SW_ARRAY_RESERVE(s->pend, s->cap_pend, s->n_pend + 1)) return sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    sw_pending_eval *p = &s->pend[s->n_pend];
    memset(p, 0, sizeof *p);
    p->run_id = run_id;
    p->seq = *seq;
    p->tokens = (int64_t)e->tokens;
    p->step = e->step;
    p->wall_s = e->wall_s;
    p->val_em = e->val_em;
    p->val_loss = e->val_loss;
    p->train_loss = e->train_loss;
    if (e->n_metrics) {
        p->names = calloc(e->n_metrics, sizeof *p->names);
        p->values = malloc(e->n_metrics * sizeof *p->values);
        if (!p->names || !p->values) {
            free(p->names);
            free(p->values);
            return sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
        }
        for (size_t k = 0; k < e->n_metrics; k++) {
            p->names[k] = strdup(e->metrics[k].name);
            p->values[k] = e->metrics[k].value;
            p->n_metrics = k + 1;
            if (!p->names[k]) {
                for (size_t j = 0; j <= k; j++) free(p->names[j]);
                free(p->names);
                free(p->values);
                return sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
            }
        }
    }
    if (s->n_pend == 0) s->oldest_pend = sw_now();
    s->n_pend++;
    (*seq)++;
    if (s->n_pend >= (size_t)s->opt.eval_batch || sw_now() - s->oldest_pend >= s->opt.flush_interval_s)
        return sw_store_flush(s);
    return SW_OK;
}

/* Appends "(?, ?, ...), (?, ...)" for rows of k columns to the SQL text. */
static char *values_sql(const char *head, size_t rows, size_t k, const char *tail)
{
    size_t len = strlen(head) + rows * (k * 3 + 4) + strlen(tail) + 1;
    char *sql = malloc(len);
    if (!sql) return NULL;
    char *p = sql + sprintf(sql, "%s", head);
    for (size_t i = 0; i < rows; i++) {
        *p++ = i ? ',' : ' ';
        *p++ = '(';
        for (size_t c = 0; c < k; c++) p += sprintf(p, c ? ",?" : "?");
        *p++ = ')';
    }
    strcpy(p, tail);
    return sql;
}

static sw_status insert_evals(sw_store *s, const sw_pending_eval *pend, size_t n)
{
    sw_db_val p[EVAL_ROWS_PER_INSERT * 8];
    for (size_t at = 0; at < n; at += EVAL_ROWS_PER_INSERT) {
        size_t rows = n - at < EVAL_ROWS_PER_INSERT ? n - at : EVAL_ROWS_PER_INSERT;
        for (size_t i = 0; i < rows; i++) {
            const sw_pending_eval *e = &pend[at + i];
            sw_db_val *v = p + 8 * i;
            v[0] = sw_db_int(e->run_id), v[1] = sw_db_int(e->seq), v[2] = sw_db_int(e->tokens);
            v[3] = sw_db_int(e->step), v[4] = sw_db_real(e->wall_s), v[5] = sw_db_real(e->val_em);
            v[6] = sw_db_real(e->val_loss), v[7] = sw_db_real(e->train_loss);
        }
        /* ON CONFLICT DO NOTHING: (run_id, seq) names one evaluation, so a
         * batch redone after its COMMIT was lost with the connection (the
         * server had committed it) writes nothing twice instead of failing */
        char *sql = values_sql("INSERT INTO evals (run_id, seq, tokens, step, wall_s, val_em, val_loss, train_loss) "
                               "VALUES",
                               rows, 8, " ON CONFLICT DO NOTHING");
        if (!sql) return sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
        sw_status st = sw_store_sql(s, sql, p, rows * 8, NULL);
        free(sql);
        if (st) return st;
    }
    return SW_OK;
}

static sw_status write_metric_rows(sw_store *s, const sw_db_val *p, size_t rows)
{
    char *sql = values_sql("INSERT INTO eval_metrics (run_id, seq, name, value) VALUES", rows, 4,
                           " ON CONFLICT DO NOTHING");
    if (!sql) return sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    sw_status st = sw_store_sql(s, sql, p, rows * 4, NULL);
    free(sql);
    return st;
}

static sw_status insert_metrics(sw_store *s, const sw_pending_eval *pend, size_t n)
{
    sw_db_val p[METRIC_ROWS_PER_INSERT * 4];
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        const sw_pending_eval *e = &pend[i];
        for (size_t k = 0; k < e->n_metrics; k++) {
            sw_db_val *v = p + 4 * rows++;
            v[0] = sw_db_int(e->run_id), v[1] = sw_db_int(e->seq);
            v[2] = sw_db_text(e->names[k]), v[3] = sw_db_real(e->values[k]);
            if (rows == METRIC_ROWS_PER_INSERT) {
                sw_status st = write_metric_rows(s, p, rows);
                if (st) return st;
                rows = 0;
            }
        }
    }
    return rows ? write_metric_rows(s, p, rows) : SW_OK;
}

sw_status sw_store_write_evals(sw_store *s, const sw_pending_eval *pend, size_t n)
{
    sw_status st = insert_evals(s, pend, n);
    return st ? st : insert_metrics(s, pend, n);
}

static sw_status flush_tx(sw_store *s, void *ctx)
{
    (void)ctx;
    sw_status st = sw_store_write_evals(s, s->pend, s->n_pend);
    /* one heartbeat (and tokens-so-far) per run in the batch */
    for (size_t i = 0; !st && i < s->n_pend; i++) {
        int seen = 0;
        int64_t top = s->pend[i].tokens;
        for (size_t j = 0; j < s->n_pend && !seen; j++)
            if (s->pend[j].run_id == s->pend[i].run_id) {
                if (j < i) seen = 1;
                else if (s->pend[j].tokens > top) top = s->pend[j].tokens;
            }
        if (seen) continue;
        sw_db_val p[] = {sw_db_int(top), sw_db_int(top), sw_db_int(s->pend[i].run_id)};
        st = sw_store_sql(s,
                          "UPDATE runs SET heartbeat = {NOW}, tokens = CASE WHEN tokens < ? THEN ? ELSE tokens END "
                          "WHERE id = ?",
                          p, 3, NULL);
    }
    return st;
}

sw_status sw_store_flush(sw_store *s)
{
    if (!s->n_pend) return SW_OK;
    sw_status st = sw_store_tx(s, flush_tx, NULL);
    /* A lock, connection or disk failure may pass: keep the batch for the next
     * flush. A constraint failure (the run was removed meanwhile) never will. */
    if (st && st != SW_ERR_INVALID) return st;
    for (size_t i = 0; i < s->n_pend; i++) {
        for (size_t k = 0; k < s->pend[i].n_metrics; k++) free(s->pend[i].names[k]);
        free(s->pend[i].names);
        free(s->pend[i].values);
    }
    s->n_pend = 0;
    return st;
}

void sw_store_curve_clear(sw_store_curve *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        sw_store_metric *m = (sw_store_metric *)c->evals[i].metrics;
        for (size_t k = 0; k < c->evals[i].n_metrics; k++) free((char *)m[k].name);
        free(m);
    }
    free(c->evals);
    memset(c, 0, sizeof *c);
}

sw_status sw_store_curve_get(sw_store *s, int64_t run_id, sw_store_curve *out)
{
    memset(out, 0, sizeof *out);
    out->run_id = run_id;
    sw_status st = sw_store_flush(s);
    if (!st) st = sw_store_run_check(s, run_id);
    if (st) return st;
    sw_db_val p = sw_db_int(run_id);
    sw_db_result ev, mt;
    st = sw_store_sql(s,
                      "SELECT seq, tokens, step, wall_s, val_em, val_loss, train_loss FROM evals WHERE run_id = ? "
                      "ORDER BY seq",
                      &p, 1, &ev);
    if (st) return st;
    st = sw_store_sql(s, "SELECT seq, name, value FROM eval_metrics WHERE run_id = ? ORDER BY seq, name", &p, 1, &mt);
    if (st) {
        sw_db_result_free(&ev);
        return st;
    }
    if (ev.nrows && !(out->evals = calloc(ev.nrows, sizeof *out->evals)))
        st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    size_t m = 0; /* merge join on seq: both results are sorted by it */
    for (size_t i = 0; !st && i < ev.nrows; i++) {
        sw_store_eval *e = &out->evals[i];
        int64_t seq = sw_db_get_int(&ev, i, 0);
        e->tokens = (uint64_t)sw_db_get_int(&ev, i, 1);
        e->step = sw_db_get_int(&ev, i, 2);
        e->wall_s = sw_db_get_real(&ev, i, 3);
        e->val_em = sw_db_get_real(&ev, i, 4);
        e->val_loss = sw_db_get_real(&ev, i, 5);
        e->train_loss = sw_db_get_real(&ev, i, 6);
        out->n = i + 1;
        while (m < mt.nrows && sw_db_get_int(&mt, m, 0) < seq) m++;
        size_t first = m;
        while (m < mt.nrows && sw_db_get_int(&mt, m, 0) == seq) m++;
        if (m == first) continue;
        sw_store_metric *arr = calloc(m - first, sizeof *arr);
        if (!arr) {
            st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
            break;
        }
        e->metrics = arr;
        for (size_t k = first; k < m; k++) {
            arr[k - first].name = sw_db_dup_text(&mt, k, 1);
            arr[k - first].value = sw_db_get_real(&mt, k, 2);
            e->n_metrics = k - first + 1;
        }
    }
    sw_db_result_free(&ev);
    sw_db_result_free(&mt);
    if (st) sw_store_curve_clear(out);
    return st;
}
