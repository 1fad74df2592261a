/* Opening and closing a store, its error messages and its transactions. */
#include "store/internal.h"

#include "store/db_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void sw_store_options_default(sw_store_options *o)
{
    memset(o, 0, sizeof *o);
    o->stale_after_s = 60;
    /* STOPWISE_STALE_AFTER (seconds) overrides it, for every command at once */
    const char *env = getenv("STOPWISE_STALE_AFTER");
    double v;
    if (env && sw_parse_double(env, &v) == SW_OK && v >= 0) o->stale_after_s = v;
    o->eval_batch = 16;
    o->flush_interval_s = 5;
    o->busy_timeout_ms = 60000;
    o->create = 1;
}

char *sw_store_strdup(const char *s) { return s ? strdup(s) : NULL; }

double sw_store_heartbeat_interval(const sw_store *s)
{
    double every = s->opt.stale_after_s / 4;
    return every > 15 ? 15 : every < 0.1 ? 0.1 : every;
}

sw_status sw_store_open(const char *location, sw_store **out, sw_error *err)
{
    return sw_store_open_with(location, NULL, out, err);
}

static int is_pg(const char *loc)
{
    return !strncmp(loc, "postgresql://", 13) || !strncmp(loc, "postgres://", 11);
}

static sw_status open_store(const char *location, const sw_store_options *opts, int read_only, sw_store **out,
                            sw_error *err)
{
    *out = NULL;
    if (!location || !*location) return sw_error_set(err, SW_ERR_INVALID, "empty store location");
    if (!is_pg(location) && strstr(location, "://")) {
        char red[4096];
        sw_db_redact(location, red, sizeof red);
        return sw_error_set(err, SW_ERR_INVALID,
                            "%s: unknown store URL scheme (expected a file path or postgresql://...)", red);
    }
    sw_store *s = calloc(1, sizeof *s);
    if (!s) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    if (opts) s->opt = *opts;
    else sw_store_options_default(&s->opt);
    if (s->opt.eval_batch < 1) s->opt.eval_batch = 1;
    if (s->opt.busy_timeout_ms < 0) s->opt.busy_timeout_ms = 0;
    s->kind = is_pg(location) ? SW_DB_POSTGRES : SW_DB_SQLITE;
    s->read_only = read_only;
    if (read_only) s->opt.create = 0;
    sw_db_redact(location, s->where, sizeof s->where);
    sw_rng_seed(&s->rng, (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ (uint64_t)time(NULL) ^ (uintptr_t)s);
    /* SQLite's own busy wait covers one statement; sw_store_tx retries whole
     * transactions on top of it, up to busy_timeout_ms. */
    int lite_ms = s->opt.busy_timeout_ms < 5000 ? s->opt.busy_timeout_ms : 5000;
    sw_status st = read_only ? sw_db_open_read_only(location, s->kind, lite_ms, &s->db, err)
                             : sw_db_open(location, s->kind, s->opt.create, lite_ms, &s->db, err);
    if (!st) {
        st = sw_store_migrate(s);
        if (st && err) *err = s->err;
    }
    if (st) {
        sw_db_close(s->db);
        free(s);
        return st;
    }
    *out = s;
    return SW_OK;
}

sw_status sw_store_open_with(const char *location, const sw_store_options *opts, sw_store **out, sw_error *err)
{
    return open_store(location, opts, 0, out, err);
}

sw_status sw_store_open_read_only(const char *location, const sw_store_options *opts, sw_store **out,
                                  sw_error *err)
{
    return open_store(location, opts, 1, out, err);
}

static void pending_free(sw_pending_eval *p)
{
    for (size_t k = 0; k < p->n_metrics; k++) free(p->names[k]);
    free(p->names);
    free(p->values);
}

void sw_store_close(sw_store *s)
{
    if (!s) return;
    if (s->n_pend) sw_store_flush(s);
    for (size_t i = 0; i < s->n_pend; i++) pending_free(&s->pend[i]);
    free(s->pend);
    free(s->seqs);
    sw_db_close(s->db);
    free(s);
}

void sw_store_forget_run(sw_store *s, int64_t run_id)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n_pend; i++) {
        if (s->pend[i].run_id == run_id) pending_free(&s->pend[i]);
        else s->pend[k++] = s->pend[i];
    }
    s->n_pend = k;
    for (size_t i = 0; i < s->n_seqs; i++)
        if (s->seqs[i].run_id == run_id) s->seqs[i] = s->seqs[--s->n_seqs];
}

const char *sw_store_errmsg(const sw_store *s) { return s ? s->err.msg : "no store"; }
const char *sw_store_backend(const sw_store *s) { return s->kind == SW_DB_SQLITE ? "sqlite" : "postgresql"; }
const char *sw_store_location(const sw_store *s) { return s->where; }

sw_status sw_store_sql(sw_store *s, const char *sql, const sw_db_val *p, size_t n, sw_db_result *res)
{
    /* A statement of its own (a read outside any transaction) first mends a
     * connection an earlier call lost, so one server restart does not leave
     * the handle unusable; inside a transaction sw_store_tx does it. */
    if (!s->in_tx) {
        sw_status st = sw_db_reconnect(s->db, &s->err);
        if (st) {
            if (res) memset(res, 0, sizeof *res);
            return st;
        }
    }
    return sw_db_exec(s->db, sql, p, n, res, &s->err);
}

static void nap(double seconds)
{
    struct timespec t;
    t.tv_sec = (time_t)seconds;
    t.tv_nsec = (long)((seconds - (double)t.tv_sec) * 1e9);
    nanosleep(&t, NULL);
}

sw_status sw_store_tx(sw_store *s, sw_store_tx_fn fn, void *ctx)
{
    /* once a transaction has waited the whole window for a server that did
     * not come back, the next ones (the failed run's own record, the close)
     * try once instead of waiting as long again */
    double deadline = sw_now() + (s->unreachable ? 0 : s->opt.busy_timeout_ms / 1000.0);
    double delay = 0.002;
    int lost = 0; /* the PostgreSQL connection was lost: reconnect before each try */
    for (;;) {
        sw_status st = lost ? sw_db_reconnect(s->db, &s->err) : SW_OK;
        if (!st) st = sw_db_begin(s->db, &s->err);
        if (!st) {
            s->in_tx = 1;
            st = fn(s, ctx);
            if (!st) st = sw_db_commit(s->db, &s->err);
            if (st) sw_db_rollback(s->db);
            s->in_tx = 0;
        }
        /* A server restart (or a dropped network path) kills the connection
         * and the transaction on it: nothing of it was committed, unless the
         * COMMIT itself was lost in flight, which is why evaluation inserts
         * ignore a row already there (curve.c). Redo it whole on a new one. */
        if (st == SW_ERR_CONNECT && s->kind == SW_DB_POSTGRES) lost = 1;
        else if (st != SW_ERR_BUSY) {
            if (!st) s->unreachable = 0;
            return st;
        }
        if (sw_now() >= deadline) {
            if (st == SW_ERR_CONNECT) {
                s->unreachable = 1;
                char why[sizeof s->err.msg];
                snprintf(why, sizeof why, "%s", s->err.msg);
                return sw_error_set(&s->err, SW_ERR_CONNECT, "%s (retried for %d ms)", why, s->opt.busy_timeout_ms);
            }
            return sw_error_set(&s->err, SW_ERR_BUSY, "%s: the store stayed locked by other writers for %d ms",
                                s->where, s->opt.busy_timeout_ms);
        }
        /* full jitter (Brooks, AWS 2015): uniform in [0, delay], delay doubling
         * to 0.2 s (1 s while reconnecting), so colliding writers spread out
         * instead of retrying in step */
        nap(sw_rng_uniform(&s->rng) * delay);
        if (delay < (lost ? 1.0 : 0.2)) delay *= 2;
    }
}

sw_status sw_store_run_check(sw_store *s, int64_t run_id)
{
    sw_db_val p = sw_db_int(run_id);
    sw_db_result r;
    sw_status st = sw_store_sql(s, "SELECT 1 FROM runs WHERE id = ?", &p, 1, &r);
    if (st) return st;
    size_t n = r.nrows;
    sw_db_result_free(&r);
    if (!n) return sw_error_set(&s->err, SW_ERR_NOT_FOUND, "%s: no run %lld", s->where, (long long)run_id);
    return SW_OK;
}

sw_status sw_store_tokens_check(sw_store *s, uint64_t tokens)
{
    if (tokens > (uint64_t)INT64_MAX)
        return sw_error_set(&s->err, SW_ERR_INVALID, "token count %llu is too large for the store",
                            (unsigned long long)tokens);
    return SW_OK;
}
