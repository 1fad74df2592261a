/* What the tuner keeps per task key: tuned policies (every one recorded, the
 * latest in force) and the online tuner's state (one JSON text, replaced). */
#include "store/internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct put_ctx {
    const char *key, *a, *b;
} put_ctx;

static sw_status policy_put_tx(sw_store *s, void *vctx)
{
    put_ctx *c = vctx;
    sw_db_val p[] = {sw_db_text(c->key), sw_db_text(c->a), sw_db_text(c->b)};
    return sw_store_sql(s, "INSERT INTO policies (task_key, policy, report, created) VALUES (?, ?, ?, {NOW})", p, 3,
                        NULL);
}

sw_status sw_store_policy_put(sw_store *s, const char *task_key, const char *policy, const char *report_json)
{
    if (!task_key || !*task_key || !policy || !*policy)
        return sw_error_set(&s->err, SW_ERR_INVALID, "a tuned policy needs a task key and a policy");
    put_ctx c = {task_key, policy, report_json && *report_json ? report_json : "{}"};
    return sw_store_tx(s, policy_put_tx, &c);
}

static sw_status policies_read(sw_store *s, const char *task_key, int latest, sw_store_policy **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sw_db_val p = sw_db_text(task_key);
    sw_db_result r;
    /* id, not created, orders them: ids grow with every insert, while two
     * inserts may read the same clock */
    sw_status st = sw_store_sql(s,
                                latest ? "SELECT id, task_key, policy, report, created FROM policies "
                                         "WHERE task_key = ? ORDER BY id DESC LIMIT 1"
                                       : "SELECT id, task_key, policy, report, created FROM policies "
                                         "WHERE task_key = ? ORDER BY id DESC",
                                &p, 1, &r);
    if (st) return st;
    if (r.nrows) {
        if (!(*out = calloc(r.nrows, sizeof **out))) st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < r.nrows; i++) {
            sw_store_policy *x = &(*out)[i];
            x->id = sw_db_get_int(&r, i, 0);
            x->task_key = sw_db_dup_text(&r, i, 1);
            x->policy = sw_db_dup_text(&r, i, 2);
            x->report = sw_db_dup_text(&r, i, 3);
            x->created = sw_db_get_real(&r, i, 4);
        }
        if (!st) *n = r.nrows;
    }
    sw_db_result_free(&r);
    return st;
}

sw_status sw_store_policy_get(sw_store *s, const char *task_key, sw_store_policy *out)
{
    memset(out, 0, sizeof *out);
    sw_store_policy *list;
    size_t n;
    sw_status st = policies_read(s, task_key, 1, &list, &n);
    if (st) return st;
    if (!n)
        return sw_error_set(&s->err, SW_ERR_NOT_FOUND, "%s: no tuned policy for task key '%s'", s->where,
                            task_key ? task_key : "");
    *out = list[0];
    free(list);
    return SW_OK;
}

sw_status sw_store_policy_history(sw_store *s, const char *task_key, sw_store_policy **out, size_t *n)
{
    return policies_read(s, task_key, 0, out, n);
}

sw_status sw_store_policy_keys(sw_store *s, char ***keys, size_t *n)
{
    *keys = NULL;
    *n = 0;
    sw_db_result r;
    /* UNION drops duplicates; the placeholder row of a state update that
     * never committed is not visible here */
    sw_status st = sw_store_sql(s,
                                "SELECT task_key FROM policies UNION SELECT task_key FROM tuning_state "
                                "ORDER BY task_key",
                                NULL, 0, &r);
    if (st) return st;
    if (r.nrows && !(*keys = calloc(r.nrows, sizeof **keys))) st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < r.nrows; i++) {
        if (!((*keys)[i] = sw_db_dup_text(&r, i, 0))) st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
        *n = i + 1;
    }
    sw_db_result_free(&r);
    if (st) {
        sw_store_keys_free(*keys, *n);
        *keys = NULL;
        *n = 0;
    }
    return st;
}

void sw_store_keys_free(char **keys, size_t n)
{
    if (!keys) return;
    for (size_t i = 0; i < n; i++) free(keys[i]);
    free(keys);
}

void sw_store_policy_clear(sw_store_policy *p)
{
    if (!p) return;
    free(p->task_key);
    free(p->policy);
    free(p->report);
    memset(p, 0, sizeof *p);
}

void sw_store_policy_list_free(sw_store_policy *p, size_t n)
{
    if (!p) return;
    for (size_t i = 0; i < n; i++) sw_store_policy_clear(&p[i]);
    free(p);
}

static sw_status state_put_tx(sw_store *s, void *vctx)
{
    put_ctx *c = vctx;
    sw_db_val p[] = {sw_db_text(c->key), sw_db_text(c->a)};
    return sw_store_sql(s,
                        "INSERT INTO tuning_state (task_key, state, updated) VALUES (?, ?, {NOW}) "
                        "ON CONFLICT (task_key) DO UPDATE SET state = excluded.state, updated = excluded.updated",
                        p, 2, NULL);
}

sw_status sw_store_state_put(sw_store *s, const char *task_key, const char *state_json)
{
    if (!task_key || !*task_key || !state_json)
        return sw_error_set(&s->err, SW_ERR_INVALID, "tuning state needs a task key and a JSON text");
    put_ctx c = {task_key, state_json, NULL};
    return sw_store_tx(s, state_put_tx, &c);
}

sw_status sw_store_state_get(sw_store *s, const char *task_key, char **state_json)
{
    *state_json = NULL;
    sw_db_val p = sw_db_text(task_key);
    sw_db_result r;
    sw_status st = sw_store_sql(s, "SELECT state FROM tuning_state WHERE task_key = ?", &p, 1, &r);
    if (st) return st;
    if (!r.nrows)
        st = sw_error_set(&s->err, SW_ERR_NOT_FOUND, "%s: no tuning state for task key '%s'", s->where,
                          task_key ? task_key : "");
    else if (!(*state_json = sw_db_dup_text(&r, 0, 0))) st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    sw_db_result_free(&r);
    return st;
}

typedef struct update_ctx {
    const char *key;
    sw_store_state_fn fn;
    void *user_data;
    int refused; /* fn's own status came back */
} update_ctx;

static sw_status state_update_tx(sw_store *s, void *vctx)
{
    update_ctx *c = vctx;
    c->refused = 0;
    /* An empty placeholder row first, so that there is a row to lock even for
     * a key nobody has written yet; a concurrent creator waits on it. The
     * placeholder never commits: fn's text replaces it, or all rolls back. */
    sw_db_val p[] = {sw_db_text(c->key), sw_db_text("")};
    sw_status st = sw_store_sql(s,
                                "INSERT INTO tuning_state (task_key, state, updated) VALUES (?, ?, {NOW}) "
                                "ON CONFLICT (task_key) DO NOTHING",
                                p, 2, NULL);
    if (st) return st;
    sw_db_result r;
    st = sw_store_sql(s,
                      s->kind == SW_DB_POSTGRES ? "SELECT state FROM tuning_state WHERE task_key = ? FOR UPDATE"
                                                : "SELECT state FROM tuning_state WHERE task_key = ?",
                      p, 1, &r);
    if (st) return st;
    const char *cur = r.nrows ? sw_db_get_text(&r, 0, 0) : NULL;
    char *next = NULL;
    st = c->fn(cur && *cur ? cur : NULL, &next, c->user_data);
    sw_db_result_free(&r);
    if (st) {
        free(next);
        c->refused = 1;
        return st;
    }
    if (!next) return sw_error_set(&s->err, SW_ERR_INVALID, "tuning state update for '%s' gave no text", c->key);
    sw_db_val q[] = {sw_db_text(next), sw_db_text(c->key)};
    st = sw_store_sql(s, "UPDATE tuning_state SET state = ?, updated = {NOW} WHERE task_key = ?", q, 2, NULL);
    free(next);
    return st;
}

sw_status sw_store_state_update(sw_store *s, const char *task_key, sw_store_state_fn fn, void *user_data)
{
    if (!task_key || !*task_key || !fn)
        return sw_error_set(&s->err, SW_ERR_INVALID, "a tuning state update needs a task key and a function");
    update_ctx c = {task_key, fn, user_data, 0};
    sw_status st = sw_store_tx(s, state_update_tx, &c);
    if (st && c.refused)
        sw_error_set(&s->err, st, "%s: tuning state update for '%s' refused by its caller", s->where, task_key);
    return st;
}
