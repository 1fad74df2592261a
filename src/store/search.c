/* Search studies: a study's space and settings, and its trials as a work
 * queue that any number of workers claim (store.h, "searches"). Every
 * write is a transaction through sw_store_tx (retried on lock conflicts and
 * lost connections); every update of a running trial names the worker and
 * the try that claimed it, so a worker that was presumed dead cannot
 * overwrite the try that replaced it. */
#include "store/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[SW_STORE_TRIAL_STATE_COUNT] = {"queued", "running", "completed", "pruned",
                                                                     "failed"};

const char *sw_store_trial_state_str(sw_store_trial_state s)
{
    return (unsigned)s < SW_STORE_TRIAL_STATE_COUNT ? state_names[s] : "unknown";
}

sw_status sw_store_trial_state_parse(const char *name, sw_store_trial_state *out)
{
    for (int i = 0; name && i < SW_STORE_TRIAL_STATE_COUNT; i++)
        if (!strcmp(name, state_names[i])) {
            *out = (sw_store_trial_state)i;
            return SW_OK;
        }
    return SW_ERR_INVALID;
}

void sw_store_search_trial_clear(sw_store_search_trial *t)
{
    if (!t) return;
    free(t->params);
    free(t->point);
    free(t->worker);
    free(t->reason);
    memset(t, 0, sizeof *t);
}

void sw_store_search_trial_list_free(sw_store_search_trial *t, size_t n)
{
    if (!t) return;
    for (size_t i = 0; i < n; i++) sw_store_search_trial_clear(&t[i]);
    free(t);
}

#define TRIAL_COLUMNS                                                                                          \
    "number, state, params, point, bracket, worker, heartbeat, tries, run_id, depth, value, tokens, spent, " \
    "val_em, test_em, reason, created, started, ended"

static void trial_from_row(const sw_db_result *r, size_t i, sw_store_search_trial *t)
{
    memset(t, 0, sizeof *t);
    t->number = sw_db_get_int(r, i, 0);
    sw_store_trial_state_parse(sw_db_get_text(r, i, 1), &t->state);
    t->params = sw_db_dup_text(r, i, 2);
    t->point = sw_db_dup_text(r, i, 3);
    t->bracket = sw_db_get_int(r, i, 4);
    t->worker = sw_db_dup_text(r, i, 5);
    t->heartbeat = sw_db_get_real(r, i, 6);
    t->tries = sw_db_get_int(r, i, 7);
    t->run_id = sw_db_get_int(r, i, 8);
    t->depth = sw_db_get_int(r, i, 9);
    t->value = sw_db_get_real(r, i, 10);
    t->tokens = (uint64_t)sw_db_get_int(r, i, 11);
    t->spent = (uint64_t)sw_db_get_int(r, i, 12);
    t->val_em = sw_db_get_real(r, i, 13);
    t->test_em = sw_db_get_real(r, i, 14);
    t->reason = sw_db_dup_text(r, i, 15);
    t->created = sw_db_get_real(r, i, 16);
    t->started = sw_db_get_real(r, i, 17);
    t->ended = sw_db_get_real(r, i, 18);
}

/* Reads the rows of `sql` (parameters p) into a malloc'd array. */
static sw_status read_trials(sw_store *s, const char *sql, const sw_db_val *p, size_t np, sw_store_search_trial **out,
                             size_t *n)
{
    *out = NULL;
    *n = 0;
    sw_db_result r;
    sw_status st = sw_store_sql(s, sql, p, np, &r);
    if (st) return st;
    if (r.nrows) {
        if (!(*out = calloc(r.nrows, sizeof **out))) st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < r.nrows; i++) trial_from_row(&r, i, &(*out)[i]);
        if (!st) *n = r.nrows;
    }
    sw_db_result_free(&r);
    return st;
}

/* ---- opening a study --------------------------------------------------------------- */

typedef struct open_ctx {
    const char *name, *space, *settings;
    int64_t id;
    int found, is_search;
    char *stored_space, *stored_settings;
} open_ctx;

static sw_status open_tx(sw_store *s, void *vctx)
{
    open_ctx *c = vctx;
    free(c->stored_space);
    free(c->stored_settings);
    c->stored_space = c->stored_settings = NULL;
    c->found = c->is_search = 0;
    sw_status st;
    if (c->space) {
        /* ON CONFLICT DO NOTHING: workers creating the study at once all
         * succeed, and all read back the row that won */
        sw_db_val p[] = {sw_db_text(c->name), sw_db_text(c->space), sw_db_text(c->settings)};
        st = sw_store_sql(s,
                          "INSERT INTO studies (name, direction, created, space, settings) "
                          "VALUES (?, 'maximize', {NOW}, ?, ?) ON CONFLICT (name) DO NOTHING",
                          p, 3, NULL);
        if (st) return st;
    }
    sw_db_val q = sw_db_text(c->name);
    sw_db_result r;
    if ((st = sw_store_sql(s, "SELECT id, space, settings FROM studies WHERE name = ?", &q, 1, &r))) return st;
    if (r.nrows) {
        c->found = 1;
        c->id = sw_db_get_int(&r, 0, 0);
        c->is_search = sw_db_get_text(&r, 0, 1) != NULL;
        c->stored_space = sw_db_dup_text(&r, 0, 1);
        c->stored_settings = sw_db_dup_text(&r, 0, 2);
    }
    sw_db_result_free(&r);
    return SW_OK;
}

sw_status sw_store_search_open(sw_store *s, const char *name, const char *space, const char *settings,
                               int64_t *study_id, char **space_out, char **settings_out)
{
    if (space_out) *space_out = NULL;
    if (settings_out) *settings_out = NULL;
    if (!name || !*name) return sw_error_set(&s->err, SW_ERR_INVALID, "a study needs a name");
    if (space && !settings) return sw_error_set(&s->err, SW_ERR_INVALID, "study '%s': a space needs its settings", name);
    open_ctx c = {name, space, settings, 0, 0, 0, NULL, NULL};
    sw_status st = sw_store_tx(s, open_tx, &c);
    if (!st && !c.found)
        st = sw_error_set(&s->err, SW_ERR_NOT_FOUND, "%s: no study '%s' (start it with --space FILE)", s->where, name);
    else if (!st && !c.is_search)
        st = sw_error_set(&s->err, SW_ERR_INVALID,
                          "study '%s' exists and is not a search (its trials were added by another tool); "
                          "choose another name",
                          name);
    else if (!st && space && strcmp(space, c.stored_space))
        st = sw_error_set(&s->err, SW_ERR_INVALID,
                          "study '%s' exists with another space; choose another name, or join it with the same "
                          "space (or none: --worker alone)",
                          name);
    else if (!st && space && strcmp(settings, c.stored_settings ? c.stored_settings : ""))
        st = sw_error_set(&s->err, SW_ERR_INVALID, "study '%s' exists with other settings: %s (given: %s)", name,
                          c.stored_settings ? c.stored_settings : "none", settings);
    if (!st) {
        if (study_id) *study_id = c.id;
        if (space_out) *space_out = c.stored_space, c.stored_space = NULL;
        if (settings_out) *settings_out = c.stored_settings, c.stored_settings = NULL;
    }
    free(c.stored_space);
    free(c.stored_settings);
    return st;
}

/* ---- claims -------------------------------------------------------------------------- */

typedef struct claim_ctx {
    int64_t study_id;
    const sw_store_search_claim_options *o;
    sw_store_claim outcome;
    sw_store_search_trial trial;
} claim_ctx;

static sw_status read_one(sw_store *s, int64_t study_id, int64_t number, sw_store_search_trial *t)
{
    sw_db_val p[] = {sw_db_int(study_id), sw_db_int(number)};
    sw_store_search_trial *rows;
    size_t n;
    sw_status st = read_trials(s, "SELECT " TRIAL_COLUMNS " FROM search_trials WHERE study_id = ? AND number = ?", p, 2,
                               &rows, &n);
    if (st) return st;
    if (!n) return sw_error_set(&s->err, SW_ERR_INTERNAL, "trial %lld vanished inside its claim", (long long)number);
    *t = rows[0];
    free(rows);
    return SW_OK;
}

/* A queued trial, re-queued or never started: take the lowest number no
 * other claim holds. Sets *got. */
static sw_status claim_queued(sw_store *s, claim_ctx *c, int *got)
{
    *got = 0;
    sw_db_val p = sw_db_int(c->study_id);
    sw_db_result r;
    sw_status st = sw_store_sql(s,
                                s->kind == SW_DB_POSTGRES
                                    ? "SELECT number FROM search_trials WHERE study_id = ? AND state = 'queued' "
                                      "ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED"
                                    : "SELECT number FROM search_trials WHERE study_id = ? AND state = 'queued' "
                                      "ORDER BY number LIMIT 1",
                                &p, 1, &r);
    if (st) return st;
    int64_t number = r.nrows ? sw_db_get_int(&r, 0, 0) : -1;
    sw_db_result_free(&r);
    if (number < 0) return SW_OK;
    sw_db_val q[] = {sw_db_text(c->o->worker), sw_db_int(c->study_id), sw_db_int(number)};
    st = sw_store_sql(s,
                      "UPDATE search_trials SET state = 'running', worker = ?, heartbeat = {NOW}, tries = tries + 1, "
                      "started = {NOW}, ended = NULL, run_id = NULL, depth = 0, value = NULL, tokens = 0, "
                      "val_em = NULL, test_em = NULL WHERE study_id = ? AND number = ?",
                      q, 3, NULL);
    if (st) return st;
    *got = 1;
    return read_one(s, c->study_id, number, &c->trial);
}

/* The next trial, proposed by the caller, when the limits allow. */
static sw_status claim_new(sw_store *s, claim_ctx *c, int *got)
{
    *got = 0;
    sw_db_val p = sw_db_int(c->study_id);
    sw_db_result r;
    sw_status st;
    /* one creator at a time: numbers are consecutive and each proposal sees
     * every trial before it (SQLite's write lock already serialises) */
    if (s->kind == SW_DB_POSTGRES && (st = sw_store_sql(s, "SELECT id FROM studies WHERE id = ? FOR UPDATE", &p, 1, NULL)))
        return st;
    if ((st = sw_store_sql(s, "SELECT COUNT(*), CAST(COALESCE(SUM(spent), 0) AS {INT}) FROM search_trials WHERE study_id = ?", &p, 1, &r)))
        return st;
    int64_t count = sw_db_get_int(&r, 0, 0);
    uint64_t spent = (uint64_t)sw_db_get_int(&r, 0, 1);
    sw_db_result_free(&r);
    const sw_store_search_claim_options *o = c->o;
    if ((o->max_trials > 0 && count >= o->max_trials) || (o->total && spent >= o->total) || !o->propose) return SW_OK;
    sw_store_search_trial *all;
    size_t n;
    if ((st = read_trials(s, "SELECT " TRIAL_COLUMNS " FROM search_trials WHERE study_id = ? ORDER BY number", &p, 1,
                          &all, &n)))
        return st;
    char *params = NULL, *point = NULL;
    int64_t bracket = 0;
    st = o->propose(count, all, n, &params, &point, &bracket, o->user_data);
    sw_store_search_trial_list_free(all, n);
    if (st) {
        free(params);
        free(point);
        return sw_error_set(&s->err, st, "the proposal of trial %lld failed", (long long)count);
    }
    sw_db_val q[] = {sw_db_int(c->study_id), sw_db_int(count), sw_db_text(params), sw_db_text(point),
                     sw_db_int(bracket), sw_db_text(o->worker)};
    st = sw_store_sql(s,
                      "INSERT INTO search_trials (study_id, number, state, params, point, bracket, worker, heartbeat, "
                      "tries, created, started) VALUES (?, ?, 'running', ?, ?, ?, ?, {NOW}, 1, {NOW}, {NOW})",
                      q, 6, NULL);
    free(params);
    free(point);
    if (st) return st;
    *got = 1;
    return read_one(s, c->study_id, count, &c->trial);
}

static sw_status claim_tx(sw_store *s, void *vctx)
{
    claim_ctx *c = vctx;
    sw_store_search_trial_clear(&c->trial);
    const sw_store_search_claim_options *o = c->o;
    /* a worker that stopped heartbeating died (or lost the store): its trial
     * goes back to the queue, or fails once it was tried max_tries times */
    sw_db_val p[] = {sw_db_int(o->max_tries), sw_db_int(o->max_tries), sw_db_int(o->max_tries),
                     sw_db_int(c->study_id), sw_db_real(o->stale_after_s)};
    sw_status st = sw_store_sql(
        s,
        "UPDATE search_trials SET "
        " state = CASE WHEN tries >= ? THEN 'failed' ELSE 'queued' END,"
        " reason = 'its worker ' || COALESCE(worker, '?') || ' stopped heartbeating' ||"
        "  CASE WHEN tries >= ? THEN ' on every try' ELSE '' END,"
        " ended = CASE WHEN tries >= ? THEN {NOW} ELSE NULL END"
        " WHERE study_id = ? AND state = 'running' AND heartbeat < {NOW} - ?",
        p, 5, NULL);
    if (st) return st;
    int got;
    if ((st = claim_queued(s, c, &got))) return st;
    if (!got && (st = claim_new(s, c, &got))) return st;
    if (got) {
        c->outcome = SW_STORE_CLAIM_TRIAL;
        return SW_OK;
    }
    sw_db_val q = sw_db_int(c->study_id);
    sw_db_result r;
    if ((st = sw_store_sql(s, "SELECT COUNT(*) FROM search_trials WHERE study_id = ? AND state IN ('queued', 'running')",
                           &q, 1, &r)))
        return st;
    c->outcome = sw_db_get_int(&r, 0, 0) ? SW_STORE_CLAIM_WAIT : SW_STORE_CLAIM_DONE;
    sw_db_result_free(&r);
    return SW_OK;
}

sw_status sw_store_search_claim(sw_store *s, int64_t study_id, const sw_store_search_claim_options *o,
                                sw_store_claim *outcome, sw_store_search_trial *trial)
{
    memset(trial, 0, sizeof *trial);
    if (!o || !o->worker || !*o->worker) return sw_error_set(&s->err, SW_ERR_INVALID, "a claim needs the worker's name");
    claim_ctx c = {study_id, o, SW_STORE_CLAIM_DONE, {0}};
    sw_status st = sw_store_tx(s, claim_tx, &c);
    if (st) {
        sw_store_search_trial_clear(&c.trial);
        return st;
    }
    *outcome = c.outcome;
    *trial = c.trial;
    return SW_OK;
}

/* ---- a worker's updates of its trial --------------------------------------------------- */

typedef struct update_ctx {
    const char *set;           /* the SET clause                                    */
    const sw_db_val *vals;     /* its parameters                                    */
    size_t n_vals;
    int64_t study_id, number, tries;
    const char *worker;
    int64_t rung;              /* >= 0: also record the rung (report)               */
    uint64_t rung_tokens;
    double rung_value;
    int matched;
} update_ctx;

static sw_status update_tx(sw_store *s, void *vctx)
{
    update_ctx *c = vctx;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "UPDATE search_trials SET %s WHERE study_id = ? AND number = ? AND worker = ? AND tries = ? "
             "AND state = 'running' RETURNING number",
             c->set);
    sw_db_val p[16];
    if (c->n_vals + 4 > 16) return sw_error_set(&s->err, SW_ERR_INTERNAL, "too many parameters");
    if (c->n_vals) memcpy(p, c->vals, c->n_vals * sizeof *p);
    p[c->n_vals] = sw_db_int(c->study_id);
    p[c->n_vals + 1] = sw_db_int(c->number);
    p[c->n_vals + 2] = sw_db_text(c->worker);
    p[c->n_vals + 3] = sw_db_int(c->tries);
    sw_db_result r;
    sw_status st = sw_store_sql(s, sql, p, c->n_vals + 4, &r);
    if (st) return st;
    c->matched = r.nrows > 0;
    sw_db_result_free(&r);
    if (!c->matched || c->rung < 0) return SW_OK;
    /* a second try rewrites its first try's rung (the same value: trials are
     * seeded, so a rerun trains the same curve) */
    sw_db_val q[] = {sw_db_int(c->study_id), sw_db_int(c->number), sw_db_int(c->rung),
                     sw_db_int((int64_t)c->rung_tokens), sw_db_real(c->rung_value)};
    return sw_store_sql(s,
                        "INSERT INTO search_rungs (study_id, number, rung, tokens, value) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (study_id, number, rung) DO UPDATE SET tokens = excluded.tokens, "
                        "value = excluded.value",
                        q, 5, NULL);
}

static sw_status update(sw_store *s, update_ctx *c)
{
    if (!c->worker) return sw_error_set(&s->err, SW_ERR_INVALID, "an update needs the worker's name");
    sw_status st = sw_store_tx(s, update_tx, c);
    if (st) return st;
    if (!c->matched)
        return sw_error_set(&s->err, SW_ERR_STATE,
                            "trial %lld is no longer this worker's (%s, try %lld): re-queued after a stale heartbeat, "
                            "or ended",
                            (long long)c->number, c->worker, (long long)c->tries);
    return SW_OK;
}

sw_status sw_store_search_heartbeat(sw_store *s, int64_t study_id, int64_t number, const char *worker, int64_t tries)
{
    update_ctx c = {"heartbeat = {NOW}", NULL, 0, study_id, number, tries, worker, -1, 0, 0, 0};
    return update(s, &c);
}

sw_status sw_store_search_set_run(sw_store *s, int64_t study_id, int64_t number, const char *worker, int64_t tries,
                                  int64_t run_id)
{
    sw_db_val v = sw_db_int(run_id);
    update_ctx c = {"run_id = ?, heartbeat = {NOW}", &v, 1, study_id, number, tries, worker, -1, 0, 0, 0};
    sw_status st = update(s, &c);
    return st ? st : sw_store_trial_add(s, study_id, run_id, NULL);
}

sw_status sw_store_search_report(sw_store *s, int64_t study_id, int64_t number, const char *worker, int64_t tries,
                                 int64_t rung, uint64_t tokens, double value, uint64_t spent_delta)
{
    if (rung < 0) return sw_error_set(&s->err, SW_ERR_INVALID, "a rung is 0 or more, not %lld", (long long)rung);
    sw_status st = sw_store_tokens_check(s, tokens);
    if (!st) st = sw_store_tokens_check(s, spent_delta);
    if (st) return st;
    sw_db_val v[] = {sw_db_int(rung + 1), sw_db_real(value), sw_db_int((int64_t)tokens), sw_db_int((int64_t)spent_delta)};
    update_ctx c = {"depth = ?, value = ?, tokens = ?, spent = spent + ?, heartbeat = {NOW}",
                    v, 4, study_id, number, tries, worker, rung, tokens, value, 0};
    return update(s, &c);
}

sw_status sw_store_search_finish(sw_store *s, int64_t study_id, int64_t number, const char *worker, int64_t tries,
                                 const sw_store_search_end *end)
{
    if (end->state != SW_STORE_TRIAL_COMPLETED && end->state != SW_STORE_TRIAL_PRUNED && end->state != SW_STORE_TRIAL_FAILED)
        return sw_error_set(&s->err, SW_ERR_INVALID, "a trial ends completed, pruned or failed, not %s",
                            sw_store_trial_state_str(end->state));
    sw_status st = sw_store_tokens_check(s, end->tokens);
    if (!st) st = sw_store_tokens_check(s, end->spent_delta);
    if (st) return st;
    sw_db_val v[] = {sw_db_text(sw_store_trial_state_str(end->state)), sw_db_real(end->value), sw_db_real(end->val_em),
                     sw_db_real(end->test_em), sw_db_int((int64_t)end->tokens), sw_db_int((int64_t)end->spent_delta),
                     sw_db_text(end->reason)};
    update_ctx c = {"state = ?, value = ?, val_em = ?, test_em = ?, tokens = ?, spent = spent + ?, reason = ?, "
                    "heartbeat = {NOW}, ended = {NOW}",
                    v, 7, study_id, number, tries, worker, -1, 0, 0, 0};
    return update(s, &c);
}

/* ---- reading ------------------------------------------------------------------------------ */

sw_status sw_store_search_rung_values(sw_store *s, int64_t study_id, int64_t rung, int64_t bracket, int finished_only,
                                      int64_t except, double **values, size_t *n)
{
    *values = NULL;
    *n = 0;
    sw_db_val p[] = {sw_db_int(study_id), sw_db_int(rung), sw_db_int(except), sw_db_int(bracket), sw_db_int(bracket)};
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT g.value FROM search_rungs g JOIN search_trials t ON t.study_id = g.study_id AND t.number = g.number "
             "WHERE g.study_id = ? AND g.rung = ? AND g.number <> ? AND (? < 0 OR t.bracket = ?)%s ORDER BY g.number",
             finished_only ? " AND t.state = 'completed'" : "");
    sw_db_result r;
    sw_status st = sw_store_sql(s, sql, p, 5, &r);
    if (st) return st;
    if (r.nrows) {
        if (!(*values = malloc(r.nrows * sizeof **values))) st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < r.nrows; i++) (*values)[i] = sw_db_get_real(&r, i, 0);
        if (!st) *n = r.nrows;
    }
    sw_db_result_free(&r);
    return st;
}

sw_status sw_store_search_trials(sw_store *s, int64_t study_id, sw_store_search_trial **trials, size_t *n)
{
    sw_db_val p = sw_db_int(study_id);
    return read_trials(s, "SELECT " TRIAL_COLUMNS " FROM search_trials WHERE study_id = ? ORDER BY number", &p, 1, trials,
                       n);
}
