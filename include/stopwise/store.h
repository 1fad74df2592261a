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
#define SW_STORE_SCHEMA_VERSION 4

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

/* Opens an existing store for reading only, as the dashboard does: nothing it
 * does through this handle can change the store. SQLite opens the file with
 * SQLITE_OPEN_READONLY; PostgreSQL sets the session read-only
 * (default_transaction_read_only, set again after a reconnect), so the server
 * refuses any write. Nothing is created and nothing migrated: a store whose
 * schema is older than SW_STORE_SCHEMA_VERSION is SW_ERR_VERSION (any writing
 * command, e.g. `stopwise runs ls`, migrates it), a missing one
 * SW_ERR_NOT_FOUND. opts may be NULL; its `create` is ignored. Every write
 * through the handle fails (SW_ERR_IO, the backend's message) and leaves the
 * store as it was. Other errors as sw_store_open. */
sw_status sw_store_open_read_only(const char *location, const sw_store_options *opts, sw_store **out,
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
 * them from its checkpoint, and so are the branch runs forked past
 * keep_tokens (SW_STORE_KEEP_ALL keeps every one). SW_ERR_STATE
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

/* ---- a page of runs, sorted and filtered by the store (the dashboard) ----------------- */

/* The columns a page of runs sorts by. */
typedef enum sw_store_run_key {
    SW_STORE_RUN_KEY_STARTED = 0, /* start time (the default, newest first)       */
    SW_STORE_RUN_KEY_ID,
    SW_STORE_RUN_KEY_NAME,
    SW_STORE_RUN_KEY_TASK,
    SW_STORE_RUN_KEY_STATUS,      /* the effective status (crashed for stale)     */
    SW_STORE_RUN_KEY_STOP_RULE,
    SW_STORE_RUN_KEY_TOKENS,      /* tokens used                                  */
    SW_STORE_RUN_KEY_SAVED,       /* budget - tokens, of runs that ended by their
                                     budget, a rule, a pruner or divergence     */
    SW_STORE_RUN_KEY_BEST_EM,
    SW_STORE_RUN_KEY_STOP_EM,     /* EM at the stop (sw_store_run_row)            */
    SW_STORE_RUN_KEY_VAL_EM,      /* EM of the kept checkpoint                    */
    SW_STORE_RUN_KEY_TEST_EM,
    SW_STORE_RUN_KEY_WALL         /* wall seconds                                 */
} sw_store_run_key;
#define SW_STORE_RUN_KEY_COUNT 13

/* "started", "id", "name", "task", "status", "stop_rule", "tokens", "saved",
 * "best_em", "stop_em", "val_em", "test_em", "wall_s" (static); the reverse
 * gives SW_ERR_INVALID for any other name. */
const char *sw_store_run_key_name(sw_store_run_key k);
sw_status sw_store_run_key_parse(const char *name, sw_store_run_key *out);

/* Which page: zero-initialised means the newest 50 runs of any kind. */
typedef struct sw_store_run_page_query {
    const char *task;          /* NULL: any task; else exactly this one        */
    int has_status;            /* 1: only runs with (effective) status `status` */
    sw_run_status status;
    const char *text;          /* NULL or "": any; else runs whose name, task,
                                  policy, stop rule or stop reason contains it
                                  (ASCII case ignored; %, _ and ! are literal) */
    int branches;              /* 0: any; 1: only branches; -1: no branches    */
    int64_t run_id;            /* > 0: only this run (its row)                 */
    sw_store_run_key sort;
    int ascending;             /* 0: descending (unknown values last either way) */
    size_t offset;             /* rows to skip                                  */
    size_t limit;              /* rows at most (0: 50; at most 1000)            */
} sw_store_run_page_query;

/* A run with what a dashboard row shows beyond the record. */
typedef struct sw_store_run_row {
    sw_store_run run;          /* owned (sw_store_run_rows_free)               */
    uint64_t budget;           /* the config's "budget" (0: none recorded)      */
    uint64_t stop_tokens;      /* tokens of the last evaluation outside the
                                  cooldown: where the rule fired, or where the
                                  run stands while it trains (0: none yet)      */
    double stop_em;            /* that evaluation's val EM (NAN: none)          */
    double wall_s;             /* (ended, else last heartbeat) - started        */
} sw_store_run_row;

/* One page of the runs matching q (NULL: the defaults), sorted in the store
 * by q->sort then id, so that paging through 10,000 runs reads one page at a
 * time. Every value from q is a bound parameter; the sort key picks one of
 * the fixed expressions above. *rows is an array of *n (free with
 * sw_store_run_rows_free); *total (may be NULL) gets the number of matching
 * runs. SW_ERR_INVALID for an unknown sort key or status. */
sw_status sw_store_runs_page(sw_store *s, const sw_store_run_page_query *q, sw_store_run_row **rows, size_t *n,
                             uint64_t *total);
void sw_store_run_rows_free(sw_store_run_row *rows, size_t n);

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

/* ---- searches: a study's trials as a shared work queue ----------------------------------
 *
 * A search study is a study (direction maximize) with a space and settings:
 * texts the search layer owns (search.h), stored with the study and compared
 * byte for byte. Its trials are configurations (table search_trials, one row
 * per trial number: params and point are the search layer's JSON texts) that
 * workers claim. A trial's state moves
 *     queued -> running -> completed | pruned | failed
 * and back to queued when its worker stops heartbeating (the trial is tried
 * again, up to max_tries, then failed). Every update a worker makes to a
 * trial names the worker and the try it claimed: once the trial was taken
 * from it, its updates fail with SW_ERR_STATE and change nothing. The runs a
 * trial trains are added to the study with sw_store_trial_add (so `runs ls
 * --study NAME` lists them); trial numbers and sw_store_trial_add's numbers
 * are counted separately (a trial tried twice has two runs).
 *
 * Claims are transactions: on PostgreSQL a queued trial is taken with
 * SELECT ... FOR UPDATE SKIP LOCKED, and a new one is numbered under the
 * study row's lock (SELECT ... FOR UPDATE); on SQLite the write lock of
 * BEGIN IMMEDIATE serialises them. Either way no trial is claimed twice. */

typedef enum sw_store_trial_state {
    SW_STORE_TRIAL_QUEUED = 0,
    SW_STORE_TRIAL_RUNNING,
    SW_STORE_TRIAL_COMPLETED, /* trained to its end (completed, stopped or diverged) */
    SW_STORE_TRIAL_PRUNED,
    SW_STORE_TRIAL_FAILED
} sw_store_trial_state;
#define SW_STORE_TRIAL_STATE_COUNT 5
/* "queued", "running", ... (static string); and the reverse (SW_ERR_INVALID). */
const char *sw_store_trial_state_str(sw_store_trial_state s);
sw_status sw_store_trial_state_parse(const char *name, sw_store_trial_state *out);

/* A search trial as stored. Strings owned by the record
 * (sw_store_search_trial_clear). */
typedef struct sw_store_search_trial {
    int64_t number;
    sw_store_trial_state state;
    char *params;          /* JSON text: the configuration's values              */
    char *point;           /* JSON text: its coordinates                          */
    int64_t bracket;       /* the pruner's bracket (hyperband), else 0            */
    char *worker;          /* who runs or ran it (NULL until claimed)             */
    double heartbeat;      /* Unix seconds of its worker's last sign (NAN: none)  */
    int64_t tries;         /* claims so far                                        */
    int64_t run_id;        /* the run of its latest try (0: none yet)             */
    int64_t depth;         /* decision points passed                               */
    double value;          /* best validation EM so far (NAN: none)               */
    uint64_t tokens;       /* tokens of its latest try                             */
    uint64_t spent;        /* tokens of all its tries                              */
    double val_em, test_em;/* at a completed end (NAN otherwise)                   */
    char *reason;          /* why it was pruned or failed (NULL: none)            */
    double created, started, ended; /* Unix seconds (NAN: not yet)                 */
} sw_store_search_trial;
void sw_store_search_trial_clear(sw_store_search_trial *t);
void sw_store_search_trial_list_free(sw_store_search_trial *t, size_t n);

/* Creates the search study `name` with `space` and `settings`, or opens the
 * one that exists after checking both: SW_ERR_INVALID "study 'NAME' exists
 * with another space" (or "with other settings", or "is not a search") when
 * they differ. space NULL joins an existing search study as it is
 * (SW_ERR_NOT_FOUND when there is none); settings may then be NULL too.
 * *space_out and *settings_out (either may be NULL) get malloc'd copies of
 * the stored texts. Several processes may open one study at once. */
sw_status sw_store_search_open(sw_store *s, const char *name, const char *space, const char *settings,
                               int64_t *study_id, char **space_out, char **settings_out);

/* Proposes trial `number` of the study, called inside the claim's
 * transaction with all its trials so far (number order): fills *params and
 * *point (malloc'd; the store frees them) and *bracket. It may be called
 * more than once for one claim (a transaction retried after a lock
 * conflict), so it must be a pure function of its inputs. A status other
 * than SW_OK aborts the claim and is returned (its message in user_data's
 * keeping). */
typedef sw_status (*sw_store_search_propose_fn)(int64_t number, const sw_store_search_trial *trials, size_t n,
                                                char **params, char **point, int64_t *bracket, void *user_data);

typedef struct sw_store_search_claim_options {
    const char *worker;      /* the claimer's name                                   */
    double stale_after_s;    /* a running trial whose heartbeat is older is re-queued */
    int64_t max_tries;       /* ... unless it was tried this often: then failed       */
    int64_t max_trials;      /* no new trial past this many (0: no limit)             */
    uint64_t total;          /* no new trial once the trials spent this many tokens (0: no limit) */
    sw_store_search_propose_fn propose;
    void *user_data;
} sw_store_search_claim_options;

typedef enum sw_store_claim {
    SW_STORE_CLAIM_TRIAL = 0, /* *trial is now this worker's (state running)          */
    SW_STORE_CLAIM_WAIT,      /* nothing to claim, but other workers' trials run       */
    SW_STORE_CLAIM_DONE       /* nothing to claim and nothing running: the study is over */
} sw_store_claim;

/* One claim, in one transaction: re-queues (or fails) stale running
 * trials, then takes the lowest-numbered queued trial, else creates the
 * next one through o->propose while the limits allow. On SW_OK *outcome
 * says which; with SW_STORE_CLAIM_TRIAL, *trial holds the claimed row (clear
 * it with sw_store_search_trial_clear). */
sw_status sw_store_search_claim(sw_store *s, int64_t study_id, const sw_store_search_claim_options *o,
                                sw_store_claim *outcome, sw_store_search_trial *trial);

/* The worker's heartbeat for its trial. SW_ERR_STATE when the trial is no
 * longer this worker's try (re-queued, claimed again, or ended). */
sw_status sw_store_search_heartbeat(sw_store *s, int64_t study_id, int64_t number, const char *worker,
                                    int64_t tries);
/* Records the run of the current try and adds it to the study
 * (sw_store_trial_add). SW_ERR_STATE as for the heartbeat. */
sw_status sw_store_search_set_run(sw_store *s, int64_t study_id, int64_t number, const char *worker, int64_t tries,
                                  int64_t run_id);
/* Records the trial's value at decision point `rung` (0-based; depth
 * becomes rung + 1), its tokens so far and the tokens trained since its
 * last report (added to spent), with a heartbeat. SW_ERR_STATE as above. */
sw_status sw_store_search_report(sw_store *s, int64_t study_id, int64_t number, const char *worker, int64_t tries,
                                 int64_t rung, uint64_t tokens, double value, uint64_t spent_delta);
/* The values other trials recorded at decision point `rung`: of bracket
 * `bracket` (-1: any), all of them or (finished_only) only those of
 * completed trials, leaving out trial `except` (-1: none). *values is
 * malloc'd (NULL when *n is 0); NaN for a trial without a value there. */
sw_status sw_store_search_rung_values(sw_store *s, int64_t study_id, int64_t rung, int64_t bracket, int finished_only,
                                      int64_t except, double **values, size_t *n);

/* How a trial ended. */
typedef struct sw_store_search_end {
    sw_store_trial_state state; /* completed, pruned or failed                    */
    double value;               /* best validation EM (NAN: none)                */
    double val_em, test_em;     /* of its best checkpoint (NAN: not measured)   */
    uint64_t tokens;            /* tokens of this try                             */
    uint64_t spent_delta;       /* tokens trained since its last report           */
    const char *reason;         /* why (pruned, failed), or NULL                  */
} sw_store_search_end;
/* Ends the worker's trial. SW_ERR_INVALID for a state that is no end;
 * SW_ERR_STATE as for the heartbeat. */
sw_status sw_store_search_finish(sw_store *s, int64_t study_id, int64_t number, const char *worker, int64_t tries,
                                 const sw_store_search_end *end);
/* All of a study's trials in number order; free with
 * sw_store_search_trial_list_free. */
sw_status sw_store_search_trials(sw_store *s, int64_t study_id, sw_store_search_trial **trials, size_t *n);

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
/* Every task key with a tuned policy or an online-tuning state, sorted; a
 * malloc'd array of *n malloc'd strings (free with sw_store_keys_free). */
sw_status sw_store_policy_keys(sw_store *s, char ***keys, size_t *n);
void sw_store_keys_free(char **keys, size_t n);
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
