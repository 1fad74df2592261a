/* Tags and params of runs (key/value text), studies and their trials. */
#include "store/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tags and params: the same code over two tables ---------------------------------- */

typedef struct kv_ctx {
    const char *table; /* "run_tags" or "run_params" (never user text) */
    int64_t run_id;
    const char *key, *value;
} kv_ctx;

static sw_status kv_set_tx(sw_store *s, void *vctx)
{
    kv_ctx *c = vctx;
    sw_status st = sw_store_run_check(s, c->run_id);
    if (st) return st;
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s (run_id, key, value) VALUES (?, ?, ?) "
             "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
             c->table);
    sw_db_val p[] = {sw_db_int(c->run_id), sw_db_text(c->key), sw_db_text(c->value)};
    return sw_store_sql(s, sql, p, 3, NULL);
}

static sw_status kv_set(sw_store *s, const char *table, int64_t run_id, const char *key, const char *value)
{
    if (!key || !*key || !value) return sw_error_set(&s->err, SW_ERR_INVALID, "a tag or param needs a key and a value");
    kv_ctx c = {table, run_id, key, value};
    return sw_store_tx(s, kv_set_tx, &c);
}

static sw_status kv_get(sw_store *s, const char *table, int64_t run_id, const char *key, char **value)
{
    *value = NULL;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT value FROM %s WHERE run_id = ? AND key = ?", table);
    sw_db_val p[] = {sw_db_int(run_id), sw_db_text(key)};
    sw_db_result r;
    sw_status st = sw_store_sql(s, sql, p, 2, &r);
    if (st) return st;
    if (!r.nrows)
        st = sw_error_set(&s->err, SW_ERR_NOT_FOUND, "run %lld has no %s '%s'", (long long)run_id,
                          strcmp(table, "run_tags") ? "param" : "tag", key);
    else if (!(*value = sw_db_dup_text(&r, 0, 0))) st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    sw_db_result_free(&r);
    return st;
}

static sw_status kv_list(sw_store *s, const char *table, int64_t run_id, sw_store_kv **kv, size_t *n)
{
    *kv = NULL;
    *n = 0;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT key, value FROM %s WHERE run_id = ? ORDER BY key", table);
    sw_db_val p = sw_db_int(run_id);
    sw_db_result r;
    sw_status st = sw_store_sql(s, sql, &p, 1, &r);
    if (st) return st;
    if (r.nrows) {
        if (!(*kv = calloc(r.nrows, sizeof **kv))) st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < r.nrows; i++) {
            (*kv)[i].key = sw_db_dup_text(&r, i, 0);
            (*kv)[i].value = sw_db_dup_text(&r, i, 1);
        }
        if (!st) *n = r.nrows;
    }
    sw_db_result_free(&r);
    return st;
}

sw_status sw_store_tag_set(sw_store *s, int64_t run_id, const char *key, const char *value)
{
    return kv_set(s, "run_tags", run_id, key, value);
}
sw_status sw_store_param_set(sw_store *s, int64_t run_id, const char *key, const char *value)
{
    return kv_set(s, "run_params", run_id, key, value);
}
sw_status sw_store_tag_get(sw_store *s, int64_t run_id, const char *key, char **value)
{
    return kv_get(s, "run_tags", run_id, key, value);
}
sw_status sw_store_param_get(sw_store *s, int64_t run_id, const char *key, char **value)
{
    return kv_get(s, "run_params", run_id, key, value);
}
sw_status sw_store_tags_list(sw_store *s, int64_t run_id, sw_store_kv **kv, size_t *n)
{
    return kv_list(s, "run_tags", run_id, kv, n);
}
sw_status sw_store_params_list(sw_store *s, int64_t run_id, sw_store_kv **kv, size_t *n)
{
    return kv_list(s, "run_params", run_id, kv, n);
}

void sw_store_kv_list_free(sw_store_kv *kv, size_t n)
{
    if (!kv) return;
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

/* ---- studies ----------------------------------------------------------------------- */

typedef struct study_ctx {
    const char *name, *direction;
    int64_t id;
    char other[16]; /* the existing study's direction */
} study_ctx;

static sw_status study_tx(sw_store *s, void *vctx)
{
    study_ctx *c = vctx;
    /* ON CONFLICT DO NOTHING: workers creating the same study at once all
     * succeed, and all read back the one row that won. */
    sw_db_val p[] = {sw_db_text(c->name), sw_db_text(c->direction)};
    sw_status st = sw_store_sql(s,
                                "INSERT INTO studies (name, direction, created) VALUES (?, ?, {NOW}) "
                                "ON CONFLICT (name) DO NOTHING",
                                p, 2, NULL);
    if (st) return st;
    sw_db_result r;
    st = sw_store_sql(s, "SELECT id, direction FROM studies WHERE name = ?", p, 1, &r);
    if (st) return st;
    if (r.nrows) {
        c->id = sw_db_get_int(&r, 0, 0);
        snprintf(c->other, sizeof c->other, "%s", sw_db_get_text(&r, 0, 1));
    }
    sw_db_result_free(&r);
    return SW_OK;
}

sw_status sw_store_study_create(sw_store *s, const char *name, const char *direction, int64_t *study_id)
{
    if (!name || !*name) return sw_error_set(&s->err, SW_ERR_INVALID, "a study needs a name");
    if (!direction || (strcmp(direction, "maximize") && strcmp(direction, "minimize")))
        return sw_error_set(&s->err, SW_ERR_INVALID, "study '%s': direction must be maximize or minimize, not '%s'",
                            name, direction ? direction : "");
    study_ctx c = {name, direction, 0, ""};
    sw_status st = sw_store_tx(s, study_tx, &c);
    if (st) return st;
    if (strcmp(c.other, direction))
        return sw_error_set(&s->err, SW_ERR_INVALID, "study '%s' exists with direction %s, not %s", name, c.other,
                            direction);
    if (study_id) *study_id = c.id;
    return SW_OK;
}

#define STUDY_COLUMNS "id, name, direction, n_trials, created"

static void study_from_row(const sw_db_result *r, size_t i, sw_store_study *st)
{
    st->id = sw_db_get_int(r, i, 0);
    st->name = sw_db_dup_text(r, i, 1);
    st->direction = sw_db_dup_text(r, i, 2);
    st->n_trials = sw_db_get_int(r, i, 3);
    st->created = sw_db_get_real(r, i, 4);
}

sw_status sw_store_study_get(sw_store *s, const char *name, sw_store_study *out)
{
    memset(out, 0, sizeof *out);
    sw_db_val p = sw_db_text(name);
    sw_db_result r;
    sw_status st = sw_store_sql(s, "SELECT " STUDY_COLUMNS " FROM studies WHERE name = ?", &p, 1, &r);
    if (st) return st;
    if (!r.nrows) st = sw_error_set(&s->err, SW_ERR_NOT_FOUND, "%s: no study '%s'", s->where, name ? name : "");
    else study_from_row(&r, 0, out);
    sw_db_result_free(&r);
    return st;
}

sw_status sw_store_studies_list(sw_store *s, sw_store_study **studies, size_t *n)
{
    *studies = NULL;
    *n = 0;
    sw_db_result r;
    sw_status st = sw_store_sql(s, "SELECT " STUDY_COLUMNS " FROM studies ORDER BY name", NULL, 0, &r);
    if (st) return st;
    if (r.nrows) {
        if (!(*studies = calloc(r.nrows, sizeof **studies))) st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < r.nrows; i++) study_from_row(&r, i, &(*studies)[i]);
        if (!st) *n = r.nrows;
    }
    sw_db_result_free(&r);
    return st;
}

void sw_store_study_clear(sw_store_study *st)
{
    if (!st) return;
    free(st->name);
    free(st->direction);
    memset(st, 0, sizeof *st);
}

void sw_store_study_list_free(sw_store_study *st, size_t n)
{
    if (!st) return;
    for (size_t i = 0; i < n; i++) sw_store_study_clear(&st[i]);
    free(st);
}

/* ---- trials ------------------------------------------------------------------------ */

typedef struct trial_ctx {
    int64_t study_id, run_id, number;
    int found;
} trial_ctx;

static sw_status trial_tx(sw_store *s, void *vctx)
{
    trial_ctx *c = vctx;
    sw_status st = sw_store_run_check(s, c->run_id);
    if (st) return st;
    /* Bumping the study's counter locks its row (PostgreSQL) or the file
     * (SQLite), so concurrent workers get distinct numbers. */
    sw_db_val p = sw_db_int(c->study_id);
    sw_db_result r;
    st = sw_store_sql(s, "UPDATE studies SET n_trials = n_trials + 1 WHERE id = ? RETURNING n_trials", &p, 1, &r);
    if (st) return st;
    c->found = r.nrows > 0;
    if (c->found) c->number = sw_db_get_int(&r, 0, 0) - 1;
    sw_db_result_free(&r);
    if (!c->found) return SW_OK;
    sw_db_val q[] = {sw_db_int(c->study_id), sw_db_int(c->number), sw_db_int(c->run_id)};
    return sw_store_sql(s, "INSERT INTO trials (study_id, number, run_id) VALUES (?, ?, ?)", q, 3, NULL);
}

sw_status sw_store_trial_add(sw_store *s, int64_t study_id, int64_t run_id, int64_t *number)
{
    trial_ctx c = {study_id, run_id, 0, 0};
    sw_status st = sw_store_tx(s, trial_tx, &c);
    if (st == SW_ERR_INVALID) {
        char why[sizeof s->err.msg];
        memcpy(why, s->err.msg, sizeof why);
        return sw_error_set(&s->err, st, "run %lld is already a trial of a study (%s)", (long long)run_id, why);
    }
    if (st) return st;
    if (!c.found)
        return sw_error_set(&s->err, SW_ERR_NOT_FOUND, "%s: no study with id %lld", s->where, (long long)study_id);
    if (number) *number = c.number;
    return SW_OK;
}

sw_status sw_store_trials_list(sw_store *s, int64_t study_id, int64_t **run_ids, size_t *n)
{
    *run_ids = NULL;
    *n = 0;
    sw_db_val p = sw_db_int(study_id);
    sw_db_result r;
    sw_status st = sw_store_sql(s, "SELECT run_id FROM trials WHERE study_id = ? ORDER BY number", &p, 1, &r);
    if (st) return st;
    if (r.nrows) {
        if (!(*run_ids = malloc(r.nrows * sizeof **run_ids))) st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < r.nrows; i++) (*run_ids)[i] = sw_db_get_int(&r, i, 0);
        if (!st) *n = r.nrows;
    }
    sw_db_result_free(&r);
    return st;
}
