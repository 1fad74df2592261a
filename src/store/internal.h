/* The store handle and helpers shared by the store's files. Private. */
#ifndef SW_STORE_INTERNAL_H
#define SW_STORE_INTERNAL_H

#include "stopwise/store.h"
#include "store/db.h"

/* One evaluation waiting for the next flush, with its own copies. */
typedef struct sw_pending_eval {
    int64_t run_id, seq;
    int64_t tokens, step;
    double wall_s, val_em, val_loss, train_loss;
    size_t n_metrics;
    char **names;
    double *values;
} sw_pending_eval;

/* The next evaluation number of a run this handle writes. */
typedef struct sw_run_seq {
    int64_t run_id, next_seq;
} sw_run_seq;

struct sw_store {
    sw_db *db;
    sw_db_kind kind;
    sw_store_options opt;
    char where[4096]; /* location, password redacted */
    sw_error err;
    sw_rng rng;       /* backoff jitter */
    sw_pending_eval *pend;
    size_t n_pend, cap_pend;
    double oldest_pend; /* sw_now() of the oldest pending evaluation */
    sw_run_seq *seqs;
    size_t n_seqs, cap_seqs;
    int in_tx;          /* inside sw_store_tx: a lost connection is the transaction's to redo */
    int unreachable;    /* a transaction already waited out busy_timeout_ms for the server */
    int read_only;      /* sw_store_open_read_only: never migrates, every write fails */
};

/* Runs fn(s, ctx) inside a transaction, retrying the whole of it with
 * jittered exponential backoff while the store is locked by another writer
 * (SW_ERR_BUSY), or reconnecting first while the PostgreSQL connection is
 * lost (SW_ERR_CONNECT: a server restart), until opt.busy_timeout_ms has
 * passed. fn must stop at its first error (every statement after a lost
 * connection belongs to the dead transaction). */
typedef sw_status (*sw_store_tx_fn)(sw_store *s, void *ctx);
sw_status sw_store_tx(sw_store *s, sw_store_tx_fn fn, void *ctx);

/* Shorthands for sw_db_exec on the handle, recording errors in s->err. */
sw_status sw_store_sql(sw_store *s, const char *sql, const sw_db_val *p, size_t n, sw_db_result *res);

/* Brings the schema up to SW_STORE_SCHEMA_VERSION (schema.c). */
sw_status sw_store_migrate(sw_store *s);

/* SW_ERR_NOT_FOUND (with a message) unless the run exists. */
sw_status sw_store_run_check(sw_store *s, int64_t run_id);

/* Tokens are uint64 in the API and BIGINT in the database. */
sw_status sw_store_tokens_check(sw_store *s, uint64_t tokens);

/* SW_ERR_INVALID (message in s->err) for tokens beyond the database's range
 * or a metric name that is empty, reserved or given twice (curve.c). */
sw_status sw_store_eval_check(sw_store *s, const sw_store_eval *e);
/* Inserts evaluations with their metrics, inside the caller's transaction
 * (flush and import share it; curve.c). */
sw_status sw_store_write_evals(sw_store *s, const sw_pending_eval *pend, size_t n);

/* Drops pending evaluations and the sequence entry of one run (run.c). */
void sw_store_forget_run(sw_store *s, int64_t run_id);

/* The SQL expression of a run's effective status over table alias r; its one
 * parameter is the staleness limit in seconds. */
#define SW_STORE_STATUS_SQL \
    "(CASE WHEN r.status = 'running' AND r.heartbeat < {NOW} - ? THEN 'crashed' ELSE r.status END)"

char *sw_store_strdup(const char *s); /* NULL-safe strdup */

/* A run's columns over table alias r, in the order sw_store_run_from_row
 * reads them; the first parameter is the staleness limit (SW_STORE_STATUS_SQL). */
#define SW_STORE_RUN_COLUMNS                                                                           \
    "r.id, r.name, r.task, r.config, r.policy, " SW_STORE_STATUS_SQL ", r.stop_rule, r.stop_reason, " \
    "r.tokens, r.best_tokens, r.best_em, r.val_em, r.test_em, r.host, r.pid, r.started, r.ended, "    \
    "r.heartbeat, (SELECT COUNT(*) FROM evals e WHERE e.run_id = r.id), r.parent_run_id, r.fork_tokens"
#define SW_STORE_RUN_NCOLUMNS 21
/* Reads row i of a result whose first columns are SW_STORE_RUN_COLUMNS (run.c). */
void sw_store_run_from_row(const sw_db_result *res, size_t i, sw_store_run *r);

/* A growing SQL text with its parameters (query.c): fixed fragments as text,
 * every value a parameter. An allocation failure is remembered and reported
 * by sw_store_query_run. */
typedef struct sw_store_query {
    char *sql;
    size_t len, cap;
    sw_db_val *p;
    size_t n, pcap;
    int oom;
} sw_store_query;
void sw_store_query_add(sw_store_query *q, const char *text);
void sw_store_query_param(sw_store_query *q, sw_db_val v);
sw_status sw_store_query_run(sw_store *s, sw_store_query *q, sw_db_result *res);
void sw_store_query_free(sw_store_query *q);

#endif
