/* NOTE (lead): sw_curve/sw_run were renamed sw_store_curve/sw_store_run (+ _clear, _list_free) to avoid colliding with stop.h; keep these names. */
/* stopwise store: where runs, curves, studies, tuned policies, online-tuning
 * state and artifact records live. One interface, two backends chosen by the
 * location given to sw_store_open:
 *
 *   a file path                  SQLite (embedded; WAL mode, busy timeout with
 *                                retry, foreign keys on)
 *   postgresql://... postgres:// PostgreSQL through libpq, for several
 *                                machines sharing one study
 *
 * Depends on base/ only (libsqlite3, libpq, nettle for SHA-256); no nn/.
 *
 * Errors: every fallible function returns an sw_status (0 = SW_OK); the handle
 * keeps the message of its last failure, read with sw_store_errmsg. The store
 * never prints and never exits.
 *
 * Memory: records returned through out-parameters (sw_store_run, sw_store_curve, ...) are
 * allocated by the store and owned by the caller, who frees them with the
 * matching *_clear / *_list_free function; every such function accepts NULL.
 * Strings passed in are copied; the caller keeps them.
 *
 * Threads: a handle is not thread-safe; use one handle per thread (or a lock).
 * Several handles, threads and processes may share one store at once: writes
 * are transactions, retried with backoff while another writer holds the lock.
 *
 * Times are Unix seconds read from the store's own clock (SQLite: this
 * machine; PostgreSQL: the server), so heartbeats compare on one clock even
 * when workers on several machines share a database.
 *
 * docs/STORE.md describes the schema, the backends, concurrency and what a
 * crash leaves behind. */
#ifndef STOPWISE_STORE_H
#define STOPWISE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "stopwise/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema version this library writes; opening an older store migrates it
 * up, opening a newer one fails with SW_ERR_VERSION. */
#define SW_STORE_SCHEMA_VERSION 3

typedef struct sw_store sw_store;

/* ---- runs' status ------------------------------------------------------------ */

/* Not sw_store_-prefixed on purpose: a run's lifecycle is shared vocabulary.
 * The trainer's hooks set it, tune prunes by it, the CLI prints and parses
 * its words; the store only records it. Every other type here is the store's
 * own and carries the prefix. */

typedef enum sw_run_status {
    SW_RUN_RUNNING = 0,
    SW_RUN_COMPLETED, /* trained to its budget                                 */
    SW_RUN_STOPPED,   /* a stopping rule fired                                 */
    SW_RUN_PRUNED,    /* a pruner ended it (worse than its peers)              */
    SW_RUN_DIVERGED,  /* loss became non-finite or exploded                    */
    SW_RUN_FAILED,    /* an error ended it                                     */
    SW_RUN_CRASHED    /* stored as running, but its heartbeat is stale         */
} sw_run_status;
#define SW_RUN_STATUS_COUNT 7

/* "running", "completed", ... (static string). */
const char *sw_run_status_str(sw_run_status s);
/* The reverse; SW_ERR_INVALID for an unknown name. */
sw_status sw_run_status_parse(const char *name, sw_run_status *out);

/* ---- opening ---------------------------------------------------------------------- */

typedef struct sw_store_options {
    /* A run still marked running whose heartbeat is older than this shows as
     * crashed. Writers heartbeat on every flush, so keep flush_interval_s
     * well under it. Default 60, or the environment's STOPWISE_STALE_AFTER. */
    double stale_after_s;
    /* log_eval buffers evaluations and writes them in one transaction when
     * this many are pending ... (default 16) */
    int eval_batch;
    /* ... or when the oldest pending one is this old (default 5 s). */
    double flush_interval_s;
    /* How long a write waits for another writer's lock before failing with
     * SW_ERR_BUSY (default 60000 ms). */
    int busy_timeout_ms;
    /* 1 (default): create the store (file, tables) if absent. 0: a missing
     * file or schema is SW_ERR_NOT_FOUND, for commands that only read. */
    int create;
} sw_store_options;

/* Fills the defaults listed above. */
void sw_store_options_default(sw_store_options *o);

/* Opens (creating if allowed) the store at `location` and migrates its schema
 * up to SW_STORE_SCHEMA_VERSION. `opts` may be NULL for the defaults. On
 * success *out is a new handle (free with sw_store_close). On failure *out is
 * NULL and err says why:
 *   SW_ERR_INVALID    empty location, unknown URL scheme
 *   SW_ERR_FORMAT     the file is not an SQLite database, or a database with
 *                     other tables and no stopwise schema
 *   SW_ERR_VERSION    the store's schema is newer than this library
 *   SW_ERR_CONNECT    PostgreSQL unreachable or refused the login (libpq's
 *                     reason; the password is never echoed)
 *   SW_ERR_NOT_FOUND  opts->create == 0 and there is no store there
 *   SW_ERR_IO, SW_ERR_BUSY  the system or a lock failed */
sw_status sw_store_open(const char *location, sw_store **out, sw_error *err);
sw_status sw_store_open_with(const char *location, const sw_store_options *opts, sw_store **out,
                             sw_error *err);

/* Flushes pending evaluations (best effort) and closes. NULL is a no-op. */
void sw_store_close(sw_store *s);

/* The message of the handle's last failure ("" if none). Owned by the handle,
 * valid until its next call. */
const char *sw_store_errmsg(const sw_store *s);
/* "sqlite" or "postgresql". */
const char *sw_store_backend(const sw_store *s);
/* The location with any password replaced by "***" (owned by the handle). */
const char *sw_store_location(const sw_store *s);

/* ---- runs ---------------------------------------------------------------------------- */

/* What a run starts with. NULL strings are stored as "" ("{}" for config). */
typedef struct sw_store_run_info {
    const char *name;        /* free text, e.g. "gpt-small seed 3"                */
    const char *task;        /* the task key, e.g. "cmudict"                      */
    const char *config_json; /* the full configuration, as JSON text              */
    const char *policy;      /* the stopping policy's one-line text form          */
    const char *host;        /* NULL: this machine's host name                    */
    int64_t pid;             /* 0: this process                                   */
    int64_t parent_run_id;   /* a branch: its trunk run (0: not a branch)          */
    uint64_t fork_tokens;    /* a branch: the trunk's tokens where it forked       */
} sw_store_run_info;

/* How a run ended. */
typedef struct sw_store_run_result {
    sw_run_status status;    /* anything but SW_RUN_RUNNING                       */
    const char *stop_rule;   /* the rule that fired, or NULL                      */
    const char *stop_reason; /* one line, or NULL                                 */
    uint64_t tokens;         /* training tokens used                              */
    uint64_t best_tokens;    /* tokens at the best evaluation                     */
    double best_em;          /* best validation EM (NAN if none)                  */
    double val_em, test_em;  /* EM of the kept checkpoint (NAN if not measured)   */
} sw_store_run_result;

/* A run as stored. All strings owned by the record (sw_store_run_clear). */
typedef struct sw_store_run {
    int64_t id;
    char *name, *task, *config, *policy;
    sw_run_status status;      /* effective: a stale running run reads crashed */
    char *stop_rule, *stop_reason; /* NULL until set by run_end               */
    uint64_t tokens;           /* tokens used (updated on every flush)         */
    uint64_t best_tokens;
    double best_em, val_em, test_em; /* NAN when unknown                      */
    char *host;
    int64_t pid;
    double started, ended, heartbeat; /* Unix seconds; ended NAN while running */
    int64_t n_evals;           /* committed evaluations                        */
    int64_t parent_run_id;     /* a branch's trunk (0: not a branch)           */
    uint64_t fork_tokens;      /* a branch's fork point in the trunk's tokens  */
} sw_store_run;

/* Starts a run (status running, heartbeat now); *run_id gets its id. */
sw_status sw_store_run_begin(sw_store *s, const sw_store_run_info *info, int64_t *run_id);
/* Refreshes the run's heartbeat, flushing its pending evaluations first. */
sw_status sw_store_heartbeat(sw_store *s, int64_t run_id);
/* How often a writer should heartbeat a running run so that it never reads
 * crashed on this handle's threshold: stale_after_s / 4 (three heartbeats may
 * be late), at most 15 s, at least 0.1 s. A threshold shorter than the
 * writer's longest silence (one evaluation) still cannot be kept. */
double sw_store_heartbeat_interval(const sw_store *s);
/* Flushes pending evaluations, then records the result and the end time.
 * SW_ERR_NOT_FOUND for an unknown run; SW_ERR_INVALID for a RUNNING result. */
sw_status sw_store_run_end(sw_store *s, int64_t run_id, const sw_store_run_result *res);
/* Sets a crashed (or failed) run back to running, owned by this process.
 * Evaluations with tokens > keep_tokens are deleted, since the trainer redoes
 * them from its checkpoint (SW_STORE_KEEP_ALL keeps every one). SW_ERR_STATE
 * if the run is live (fresh heartbeat) or ended otherwise. */
#define SW_STORE_KEEP_ALL UINT64_MAX
sw_status sw_store_run_resume(sw_store *s, int64_t run_id, uint64_t keep_tokens);
/* Reads one run into *out (clear it with sw_store_run_clear). */
sw_status sw_store_run_get(sw_store *s, int64_t run_id, sw_store_run *out);
/* Deletes a run with its curve, tags, params, trial entry, artifact
 * records (not the artifact files) and, for a trunk, its branches. SW_ERR_NOT_FOUND if absent. */
sw_status sw_store_run_remove(sw_store *s, int64_t run_id);
void sw_store_run_clear(sw_store_run *r);

/* A key/value pair (tags, params, list filters). */
typedef struct sw_store_kv {
    char *key, *value;
} sw_store_kv;

/* Which runs to list; zero-initialised means all. */
typedef struct sw_store_run_filter {
    const char *task;          /* NULL: any task                                 */
    int has_status;            /* 1: only runs with (effective) status `status`  */
    sw_run_status status;
    const char *study;         /* NULL: any; else trials of the study so named  */
    const sw_store_kv *tags;   /* every tag must match (value NULL: key present) */
    size_t n_tags;
    const int64_t *ids;        /* NULL: any; else only these ids               */
    size_t n_ids;
    size_t limit;              /* 0: no limit                                    */
    int branches;              /* 0: any; 1: only branches; -1: no branches     */
    int64_t parent_run_id;     /* > 0: only the branches of this trunk          */
} sw_store_run_filter;

/* Lists runs matching `f` (NULL = all), newest first (start time, then id).
 * *runs is an array of *n records; free with sw_store_run_list_free. */
sw_status sw_store_runs_list(sw_store *s, const sw_store_run_filter *f, sw_store_run **runs, size_t *n);
void sw_store_run_list_free(sw_store_run *runs, size_t n);

/* ---- curves -------------------------------------------------------------------------- */

/* One metric by name, beyond the three common ones. */
typedef struct sw_store_metric {
    const char *name;
    double value;
} sw_store_metric;

/* One evaluation. For input the pointers are borrowed (the store copies);
 * in an sw_store_curve they are owned by the curve. */
typedef struct sw_store_eval {
    uint64_t tokens;      /* training tokens seen so far                       */
    int64_t step;         /* optimizer steps so far                            */
    double wall_s;        /* wall seconds since the run started                */
    double val_em;        /* validation EM in percent (NAN if not measured)    */
    double val_loss;      /* NAN if not measured                               */
    double train_loss;    /* NAN if not measured                               */
    const sw_store_metric *metrics; /* any other metrics                       */
    size_t n_metrics;
} sw_store_eval;

/* A run's committed evaluations in order. */
typedef struct sw_store_curve {
    int64_t run_id;
    size_t n;
    sw_store_eval *evals;
} sw_store_curve;

/* Queues one evaluation of a running run. It is written (with a heartbeat)
 * in one transaction with the others pending when eval_batch are pending or
 * the oldest is flush_interval_s old, and by flush, heartbeat, run_end and
 * close. Until then a crash loses it; a flush is all or nothing.
 * SW_ERR_NOT_FOUND for an unknown run. */
sw_status sw_store_log_eval(sw_store *s, int64_t run_id, const sw_store_eval *e);
/* Writes every pending evaluation now. */
sw_status sw_store_flush(sw_store *s);
/* Reads a run's curve (flushing this handle's pending evaluations first).
 * Free with sw_store_curve_clear. */
sw_status sw_store_curve_get(sw_store *s, int64_t run_id, sw_store_curve *out);
void sw_store_curve_clear(sw_store_curve *c);

/* Records a finished run with its whole curve in one transaction, as
 * `stopwise runs import` does for curves other tools recorded: a new run with
 * `info` (host and pid as sw_store_run_begin fills them; parent_run_id and
 * fork_tokens are ignored: an imported run is no branch), ended with `res`,
 * its n evaluations in order (its curve, as log_eval would write them) and
 * n_tags tags. Everything lands or nothing does: a failure rolls the whole
 * of it back and leaves no run. Checked before anything is written:
 * SW_ERR_INVALID for a running result, a metric name empty, reserved or
 * twice in one evaluation, tokens beyond the store's range, a tag without a
 * key or value, or a NaN wall_s (the column holds numbers: give 0 for
 * unknown). *run_id (may be NULL) gets the new run's id. */
sw_status sw_store_run_import(sw_store *s, const sw_store_run_info *info, const sw_store_run_result *res,
                              const sw_store_eval *evals, size_t n, const sw_store_kv *tags, size_t n_tags,
                              int64_t *run_id);

/* ---- trunks and branches -----------------------------------------------------------------
 *
 * A trunk is a run trained at a constant rate (wsd before its decay); a branch
 * is a run forked from the trunk's state at fork_tokens that anneals for a
 * fraction c of those tokens and is evaluated once (ANNEAL.md). A branch is a
 * run with parent_run_id and fork_tokens set (sw_store_run_info), params "cooldown"
 * (c, %g) and "cooldown_shape" (linear|sqrt), and one evaluation: its val_em,
 * and metrics "test_em" (when measured) and "anneal_tokens". Removing a trunk
 * removes its branches. */

/* The name of an annealed column: "<metric>_annealed:c=<%g>:shape=<shape>",
 * or "anneal_tokens:c=..:shape=.." when metric is NULL. Returns snprintf's
 * length (>= cap: truncated). */
int sw_store_annealed_name(const char *metric, double c, const char *shape, char *buf, size_t cap);

/* A trunk's curve with its branches' results joined at their fork rows (the
 * row whose tokens equal the branch's fork_tokens) as metrics
 * val_em_annealed:c=..:shape=.., anneal_tokens:c=..:shape=.. and, where the
 * branch has one, test_em_annealed:c=..:shape=.. (the CSV columns of
 * curve.csv). A run without branches gives its plain curve. A branch whose
 * fork row is missing is skipped. Free with sw_store_curve_clear. */
sw_status sw_store_curve_get_joined(sw_store *s, int64_t run_id, sw_store_curve *out);

/* ---- tags and params ------------------------------------------------------------------ */

/* Sets (inserts or replaces) a tag or a parameter of a run. */
sw_status sw_store_tag_set(sw_store *s, int64_t run_id, const char *key, const char *value);
sw_status sw_store_param_set(sw_store *s, int64_t run_id, const char *key, const char *value);
/* *value is malloc'd (free()); SW_ERR_NOT_FOUND if the key is absent. */
sw_status sw_store_tag_get(sw_store *s, int64_t run_id, const char *key, char **value);
sw_status sw_store_param_get(sw_store *s, int64_t run_id, const char *key, char **value);
/* All of a run's tags or params, sorted by key; free with sw_store_kv_list_free. */
sw_status sw_store_tags_list(sw_store *s, int64_t run_id, sw_store_kv **kv, size_t *n);
sw_status sw_store_params_list(sw_store *s, int64_t run_id, sw_store_kv **kv, size_t *n);
void sw_store_kv_list_free(sw_store_kv *kv, size_t n);

/* ---- studies and trials ---------------------------------------------------------------- */

typedef struct sw_store_study {
    int64_t id;
    char *name;
    char *direction; /* "maximize" or "minimize" */
    int64_t n_trials;
    double created;
} sw_store_study;

/* Creates the study `name`, or finds it if it exists (several workers may
 * call this at once; they all get the same id). direction: "maximize" or
 * "minimize"; an existing study with the other direction is SW_ERR_INVALID. */
sw_status sw_store_study_create(sw_store *s, const char *name, const char *direction, int64_t *study_id);
sw_status sw_store_study_get(sw_store *s, const char *name, sw_store_study *out);
sw_status sw_store_studies_list(sw_store *s, sw_store_study **studies, size_t *n);
void sw_store_study_clear(sw_store_study *st);
void sw_store_study_list_free(sw_store_study *st, size_t n);
/* Adds a run to a study as its next trial; *number (may be NULL) gets the
 * trial's number, 0, 1, 2, ... in the order trials were added. A run belongs
 * to one study at most. */
sw_status sw_store_trial_add(sw_store *s, int64_t study_id, int64_t run_id, int64_t *number);
/* The run ids of a study's trials in trial order; *run_ids is malloc'd. */
sw_status sw_store_trials_list(sw_store *s, int64_t study_id, int64_t **run_ids, size_t *n);

/* ---- tuned policies and online-tuning state ------------------------------------------ */

typedef struct sw_store_policy {
    int64_t id;
    char *task_key;
    char *policy;  /* the policy's text form                     */
    char *report;  /* the tuner's JSON report                    */
    double created;
} sw_store_policy;

/* Records a tuned policy for a task key; the latest one wins, older ones stay
 * as history. */
sw_status sw_store_policy_put(sw_store *s, const char *task_key, const char *policy, const char *report_json);
/* The latest policy for the key; SW_ERR_NOT_FOUND if none. */
sw_status sw_store_policy_get(sw_store *s, const char *task_key, sw_store_policy *out);
/* Every policy recorded for the key, newest first. */
sw_status sw_store_policy_history(sw_store *s, const char *task_key, sw_store_policy **out, size_t *n);
void sw_store_policy_clear(sw_store_policy *p);
void sw_store_policy_list_free(sw_store_policy *p, size_t n);

/* The online tuner's state for a task key: a JSON text the tuner owns.
 * put replaces it; get gives a malloc'd copy or SW_ERR_NOT_FOUND. */
sw_status sw_store_state_put(sw_store *s, const char *task_key, const char *state_json);
sw_status sw_store_state_get(sw_store *s, const char *task_key, char **state_json);
/* Read-modify-write of a task key's state in one transaction, so concurrent
 * writers (two `--online` runs of one task) never lose each other's update:
 * the row is locked (SELECT ... FOR UPDATE on PostgreSQL, the write lock on
 * SQLite) from the read to the commit. fn gets the current text (NULL when
 * the key has none yet) and sets *next to a malloc'd new text that the store
 * writes and frees; it returns SW_OK, or a status that rolls everything back
 * and is returned as is (fn keeps its own message in user_data). fn may be
 * called more than once (a transaction retried after a lock conflict), so it
 * must not keep results of an attempt that was not the last. */
typedef sw_status (*sw_store_state_fn)(const char *current, char **next, void *user_data);
sw_status sw_store_state_update(sw_store *s, const char *task_key, sw_store_state_fn fn, void *user_data);

/* ---- artifacts ------------------------------------------------------------------------- */

typedef struct sw_store_artifact {
    int64_t id, run_id;
    char *kind;       /* "checkpoint", "report", ...                          */
    char *path;       /* absolute when the file existed at add time           */
    char sha256[65];  /* lowercase hex                                        */
    uint64_t bytes;
    double created;
} sw_store_artifact;

/* Records a file of a run, computing its SHA-256 and size. *artifact_id may
 * be NULL. SW_ERR_NOT_FOUND if the file or the run does not exist. */
sw_status sw_store_artifact_add(sw_store *s, int64_t run_id, const char *kind, const char *path,
                                int64_t *artifact_id);
/* A run's artifacts in the order added; free with sw_store_artifact_list_free. */
sw_status sw_store_artifacts_list(sw_store *s, int64_t run_id, sw_store_artifact **out, size_t *n);
void sw_store_artifact_list_free(sw_store_artifact *a, size_t n);

/* SHA-256 (FIPS 180-4, via nettle) of a file's bytes as lowercase hex, and
 * its size (bytes may be NULL). */
sw_status sw_sha256_file(const char *path, char hex[65], uint64_t *bytes, sw_error *err);

#ifdef __cplusplus
}
#endif
#endif
