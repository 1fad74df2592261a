/* stopwise tune: the tuner. Picks a stopping policy's thresholds from recorded
 * learning curves by replay, scores the choice by cross-validation on curves
 * it was not chosen on, reports the tokens-vs-EM-loss Pareto frontier, and
 * keeps a policy honest across production retrains (online mode).
 *
 * Depends on stop/ (policies, curves, sw_replay: the same code path as a live
 * controller) and store/ (tuned policies and online state per task key).
 * docs/TUNING.md is the user's guide.
 *
 * ---- Definitions --------------------------------------------------------------
 *
 * For a policy p and a curve c with budget B_c (the tuner's budget if given,
 * else the curve's last tokens), replaying p over c (sw_replay) gives
 *     f(p,c) = charged(p,c) / B_c          tokens fraction
 *     s(p,c) = R_c - score(p,c)
 * where score is the EM the stop delivers (the best checkpoint by the
 * monitored metric up to the stop; with a cooldown, the better of that and
 * the annealed EM at the stop), charged the tokens it costs (the cooldown's
 * included), and R_c the curve's reference, common to every candidate: the
 * best score any stop could give under the candidates' cooldown families
 * (max_i EM_c(i) without cooldowns). s is the shortfall in EM points.
 *
 * Cooldown families: when every curve carries branch columns
 * (sw_curve_cooldowns) and options.cooldowns is set, every candidate
 * (and "none") is replayed once per family with ",cooldown=C:shape=S"
 * appended, so the cooldown is tuned with the thresholds.
 *
 * Objective over a set S of curves (SW_TUNE_OBJECTIVE_*):
 *   CONSTRAINED (default)  minimise mean_S f  s.t.  mean_S s <= epsilon
 *   WORST                  minimise mean_S f  s.t.  max_S s  <= epsilon
 *   PRICED                 maximise mean_S EM(best) - lambda · mean_S T_stop/1e6,
 *                          i.e. minimise mean_S s + lambda · mean_S T_stop/1e6
 * CONSTRAINED also requires (noise-honest selection, options.confidence = q
 * > 0) that the q quantile of the mean shortfall over bootstrap resamples of
 * S (curves drawn with replacement, the same resamples for every candidate)
 * be <= epsilon.
 * Ties go to the smaller mean shortfall, then to the earlier candidate (the
 * candidates of a family are listed from conservative to aggressive). The
 * policy "none" (train to the budget) is always a candidate; when no
 * candidate is feasible the one with the smallest mean shortfall is chosen.
 *
 * Cross-validation: curve i belongs to fold i mod K. For each fold, the policy
 * is chosen on the curves of the other folds and scored on the fold's own
 * curves; cv_tokens_fraction and cv_shortfall are the means over every
 * held-out curve. K = number of curves is leave-one-curve-out. The whole
 * selection (the family too, for the overall choice) is inside the loop, so
 * the CV figures are honest estimates for the policy finally chosen on all
 * curves.
 *
 * ---- Candidate families -------------------------------------------------------
 *
 * Each family is a grid over its thresholds and the warm-up, every candidate
 * combined with `diverge`:
 *   patience     patience=P:min_delta=D
 *   gain         gain=G:window=W
 *   extrapolate  extrapolate=DELTA:z=Z
 *   gl           gl=ALPHA
 *   pq           pq=ALPHA
 *   up           up=S:k=K
 * (grids in src/tune/candidates.c and docs/TUNING.md).
 *
 * Thread safety: reentrant; the replay of many policies runs in parallel with
 * OpenMP inside sw_tune_run (the curves are shared read-only). */
#ifndef STOPWISE_TUNE_H
#define STOPWISE_TUNE_H

#include <stddef.h>
#include <stdint.h>

#include "stopwise/base.h"
#include "stopwise/stop.h"
#include "stopwise/store.h"
#include "stopwise/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sw_tune_objective {
    SW_TUNE_OBJECTIVE_CONSTRAINED = 0, /* fewest mean tokens, mean shortfall <= epsilon */
    SW_TUNE_OBJECTIVE_WORST,           /* fewest mean tokens, max shortfall <= epsilon  */
    SW_TUNE_OBJECTIVE_PRICED           /* max mean EM - lambda * mean tokens (M)        */
} sw_tune_objective;

/* "constrained", "worst", "priced" (static). */
const char *sw_tune_objective_name(sw_tune_objective o);

#define SW_TUNE_FAMILY_COUNT 6
/* The family names in order: patience, gain, extrapolate, gl, pq, up. */
const char *sw_tune_family_name(int family);
/* The index of a family by name, -1 if unknown. */
int sw_tune_family_find(const char *name);

typedef struct sw_tune_options {
    double epsilon;        /* EM points (default 0.5); must be >= 0            */
    double lambda;         /* PRICED: EM points per million tokens (default 0) */
    sw_tune_objective objective;
    int folds;             /* K; 0 = one fold per curve (leave-one-curve-out) */
    uint64_t budget;       /* B for every curve; 0 = each curve's last tokens  */
    /* Which families to search: bit f set for family f (default all). */
    unsigned families;
    /* Candidates' warm-up grid, as fractions of the budget (the median curve
     * end when budget is 0). NULL = the default {0, 0.05, 0.1, 0.2, 0.3}. */
    const double *warmups;
    size_t n_warmups;
    int threads;           /* OpenMP threads for the replay; 0 = default      */
    /* Noise-honest selection (CONSTRAINED): a candidate is feasible only when
     * the `confidence` quantile of its mean shortfall over B bootstrap
     * resamples of the curves (with replacement; the same resamples for
     * every candidate, from `seed`) is <= epsilon as well as the mean.
     * 0 = the plain mean (the old rule). Default 0.9, B = 200, seed 1. */
    double confidence;
    int bootstrap;
    uint64_t seed;
    /* Validation examples behind each EM, for the binomial standard error
     * the report compares epsilon with; 0 = the curves' `val_n` column when
     * they have one, else unknown. */
    size_t val_size;
    /* 1 (default): when every curve carries cooldown families (branch
     * columns, sw_curve_cooldowns), the candidates are every rule candidate
     * (and "none") x every such family; 0: ignore branch columns. */
    int cooldowns;
} sw_tune_options;

/* Fills the defaults listed above. */
sw_tune_options sw_tune_default_options(void);

/* Checks the options and the curves before any work. SW_ERR_INVALID for a
 * negative or non-finite epsilon or lambda, folds < 0, folds > n or a single
 * curve with K-fold (cross-validation needs at least two curves);
 * SW_ERR_FORMAT for a curve without a val_em column or without any finite
 * val_em (message names the curve's file). */
sw_status sw_tune_check(const sw_curve *const *curves, size_t n, const sw_tune_options *opt, sw_error *err);

/* ---- the report -------------------------------------------------------------- */

#define SW_TUNE_MAX_COOLDOWNS 16

typedef struct sw_tune_point {
    char *policy;          /* text form (owned by the report)                 */
    int family;            /* 0..SW_TUNE_FAMILY_COUNT-1, -1 for "none"         */
    double tokens_fraction;/* mean f over all curves                           */
    double shortfall;      /* mean s over all curves                           */
    double worst_shortfall;/* max s over all curves                            */
    double mean_tokens;    /* mean T_stop                                      */
} sw_tune_point;

typedef struct sw_tune_family_report {
    int family;
    size_t n_candidates;
    sw_tune_point chosen;     /* chosen on all curves (in-sample figures)      */
    double cv_tokens_fraction;/* held-out means                                */
    double cv_shortfall;
    double cv_worst_shortfall;
} sw_tune_family_report;

/* One fold of the overall cross-validation, as it was run: which curves the
 * choice read and which curves the score read (instrumented at the point
 * where replay results are read, so a leak would show). */
typedef struct sw_tune_fold {
    char *policy;             /* chosen on the training curves                 */
    unsigned char *chose_on;  /* n_curves flags: read while choosing           */
    unsigned char *scored_on; /* n_curves flags: read while scoring            */
    double tokens_fraction;   /* mean over the held-out curves                 */
    double shortfall;
} sw_tune_fold;

typedef struct sw_tune_report {
    size_t n_curves, n_candidates, n_folds;
    double epsilon, lambda;
    sw_tune_objective objective;
    uint64_t budget;          /* as given (0: curve ends)                       */
    sw_tune_point chosen;     /* the final policy, chosen on all curves         */
    double cv_tokens_fraction, cv_shortfall, cv_worst_shortfall;
    sw_tune_family_report families[SW_TUNE_FAMILY_COUNT];
    size_t n_families;        /* entries used in families[], in family order    */
    sw_tune_fold *folds;      /* n_folds entries                                */
    sw_tune_point *pareto;    /* non-dominated candidates by (tokens_fraction,
                                 shortfall), sorted by tokens_fraction          */
    size_t n_pareto;
    double replay_seconds;    /* wall time of the replay of all candidates      */
    size_t n_replays;         /* candidates x curves                            */
    double confidence;        /* as used (0: plain mean)                        */
    int bootstrap;
    double ucb_shortfall;     /* the chosen policy's bootstrap upper bound of
                                 the mean shortfall on all curves               */
    size_t n_cooldowns;       /* cooldown families tuned over (0: none)         */
    double cooldown_frac[SW_TUNE_MAX_COOLDOWNS];
    sw_cooldown_shape cooldown_shape[SW_TUNE_MAX_COOLDOWNS];
    size_t val_size;          /* validation examples (0: unknown)               */
    double em_se;             /* binomial standard error of one EM, in points:
                                 100 sqrt(p(1-p)/val_size), p the mean best EM
                                 of the curves / 100; NaN when unknown          */
    int epsilon_below_se;     /* 1: epsilon < em_se, the selection cannot tell
                                 such shortfalls from evaluation noise          */
} sw_tune_report;

/* Tunes over `n` curves (borrowed; not modified). On success *out is a new
 * report the caller frees with sw_tune_report_free. Errors: those of
 * sw_tune_check; a replay error names the curve and row. */
sw_status sw_tune_run(const sw_curve *const *curves, size_t n, const sw_tune_options *opt, sw_tune_report **out,
                      sw_error *err);
void sw_tune_report_free(sw_tune_report *r); /* NULL is a no-op */

/* The report as one JSON object (text malloc'd, caller frees): policy,
 * cv_tokens_fraction, cv_shortfall, cv_worst_shortfall, tokens_fraction,
 * shortfall, families {name: {policy, cv_tokens_fraction, cv_shortfall, ...}},
 * folds, pareto, and the settings. NULL when out of memory. */
char *sw_tune_report_json(const sw_tune_report *r);
/* The Pareto frontier as CSV (policy,family,tokens_fraction,shortfall,
 * worst_shortfall,mean_tokens), written atomically. */
sw_status sw_tune_pareto_write_csv(const sw_tune_report *r, const char *path, sw_error *err);

/* ---- the candidates and the replay table (building blocks, for bench/ and
 *      tests) ------------------------------------------------------------------ */

/* The candidate policies of `family` for the given budget (tokens; used to
 * turn warm-up fractions into tokens) as text: *texts is a malloc'd array of
 * *n malloc'd strings, conservative first; free with sw_tune_texts_free. */
sw_status sw_tune_candidates(int family, uint64_t budget, const double *warmups, size_t n_warmups, char ***texts,
                             size_t *n, sw_error *err);
void sw_tune_texts_free(char **texts, size_t n);

/* One replay outcome, as the tuner keeps it. */
typedef struct sw_tune_cell {
    uint64_t stop_tokens;
    uint64_t charged_tokens;/* stop_tokens + the cooldown's tokens (sw_replay) */
    double tokens_fraction; /* charged_tokens / B_c */
    double shortfall;       /* s(p,c) = curve_best_em - score_em; the
                               reference itself for a curve with no finite EM */
    double best_em;
    double score_em;        /* the EM the stop delivers (sw_replay) */
    double curve_best_em;   /* the curve's reference: the best score over
                               every policy of the table's families */
} sw_tune_cell;

/* Replays every policy over every curve: cells[p * n_curves + c] (caller
 * allocates n_policies * n_curves cells). budget as in sw_tune_options.
 * Parallel over policies with `threads` OpenMP threads (0 = default).
 * The shortfall's reference is common to every policy on a curve: the
 * largest curve_best_em sw_replay gave for it (max val_em, and the best
 * annealed score of each cooldown family the policies use). */
sw_status sw_tune_replay_table(const sw_policy *const *policies, size_t n_policies, const sw_curve *const *curves,
                               size_t n_curves, uint64_t budget, int threads, sw_tune_cell *cells, sw_error *err);

/* ---- where curves come from (tune --data, tune --runs) ----------------------- */

/* `tune --data`: K runs of one task to the full budget, run k with seed
 * seed + k on the training split less its k-th fold (validation shared). With
 * a wsd schedule and forks > 0 each run is a trunk with cooldown branches
 * (sw_train_options.forks; curve.csv carries the annealed columns), instead
 * of a full run with its own decay. */
typedef struct sw_tune_record_options {
    const char *data;        /* data spec (required)                                  */
    const char *model;       /* NULL: the task's default                              */
    const char *schedule;    /* NULL: the task's default                              */
    uint64_t budget;         /* tokens per run (required)                             */
    uint64_t eval_every;     /* 0: budget/100                                         */
    size_t eval_limit;       /* 0: sized by the trainer (select half; docs/TRAINING.md) */
    uint64_t seed;           /* run k: seed + k                                       */
    int runs;                /* K >= 2 (threads: the host's, sw_threads_set)          */
    const char *out_dir;     /* run k's folder: out_dir/fold-(k+1)                     */
    const char *store;       /* NULL: none                                            */
    int forks;               /* with a wsd schedule: fork points per trunk (0: none)  */
    const double *cooldowns; /* branch cooldown fractions (NULL: {0.05, 0.1, 0.2})    */
    size_t n_cooldowns;
    const sw_decay_shape *shapes; /* branch shapes (NULL: {linear, sqrt})            */
    size_t n_shapes;
} sw_tune_record_options;

/* What a caller sees of the runs: run_begin before run k (0-based) of n with
 * its options, progress during it (sw_train's callback), run_end after it.
 * Any may be NULL. */
typedef struct sw_tune_record_hooks {
    void (*run_begin)(int k, int n, const sw_train_options *o, void *user);
    sw_train_progress_fn progress;
    void (*run_end)(int k, int n, const sw_train_result *res, void *user);
    void *user;
} sw_tune_record_hooks;

/* Trains the runs and reads their curves: *curves is a malloc'd array of *n
 * curves (free each with sw_curve_free, then the array). On failure the
 * curves read so far are still returned in *curves and *n for the caller to free. */
sw_status sw_tune_record_curves(const sw_tune_record_options *o, const sw_tune_record_hooks *hooks,
                                sw_curve ***curves, size_t *n, sw_error *err);

/* A curve read from the store as stop/'s sw_curve (NaN metrics are "not
 * measured" and left out). Caller frees *out with sw_curve_free. */
sw_status sw_tune_store_curve_convert(const sw_store_curve *sc, sw_curve **out, sw_error *err);

/* `tune --runs QUERY`: run ids ("12,15,20-25"; every named run), "task=NAME",
 * "study=NAME" or a bare task name (completed runs only, branches excluded:
 * they are columns of their trunk's curve). Each run's curve comes with its
 * branches' annealed columns joined (sw_store_curve_get_joined), oldest run
 * first. `task` (may be NULL) receives the first run's task. Returns
 * SW_ERR_INVALID for a malformed query, SW_ERR_NOT_FOUND when nothing matches.
 * Memory as for sw_tune_record_curves. */
typedef struct sw_tune_truncated {
    int64_t run_id;
    char why[256]; /* "status stopped at 1.2M tokens", "its curve ends at ... of its budget" */
} sw_tune_truncated;
/* A run whose curve is truncated (it did not complete, or its last evaluation
 * is short of its budget) makes every policy look lossless: it is refused
 * (SW_ERR_INVALID naming the run) unless allow_truncated, and then listed in
 * *flagged (*n_flagged entries, malloc'd, free(); may be NULL when none). */
sw_status sw_tune_curves_from_store(sw_store *s, const char *query, int allow_truncated, sw_curve ***curves,
                                    size_t *n, char *task, size_t tcap, sw_tune_truncated **flagged,
                                    size_t *n_flagged, sw_error *err);

/* ---- task keys and `train --stop auto` --------------------------------------- */

/* The task key tuned policies and online state are stored under:
 * "DATA|MODEL|BUDGET|SCHEDULE|every=CADENCE", e.g.
 * "cmudict|default|2M|wsd|every=20k". MODEL is the canonical model spec when
 * `model` parses, else `model` as written, "default" when NULL; BUDGET and
 * CADENCE are formatted with sw_format_tokens; SCHEDULE is the schedule's
 * kind ("wsd", "cosine", ...; NULL means the task's default, a cosine), so a
 * policy tuned on wsd trunks is never applied to a cosine run; CADENCE is
 * eval_every, 0 meaning the trainer's default budget/100, so a policy that
 * counts evaluations (patience, strips) is never applied at another cadence.
 * Returns SW_ERR_INVALID for a schedule that does not parse or a key that does
 * not fit in cap. */
sw_status sw_tune_task_key(const char *data, const char *model, uint64_t budget, const char *schedule,
                           uint64_t eval_every, char *buf, size_t cap, sw_error *err);

/* The conservative default `--stop auto` uses when no policy was tuned for a
 * task: patience=10,diverge,warmup=B/10 (10 evaluations without any gain at
 * the default cadence of B/100, after the first tenth of the budget). */
void sw_tune_default_policy(uint64_t budget, char *buf, size_t cap);

/* Writes into `policy` the policy `train --stop auto` should use for the task
 * key: the latest tuned one in the store, else the conservative default; and
 * into `why` one line saying which ("tuned policy for KEY (CV tokens 41%,
 * CV shortfall 0.3 points)" or "no tuned policy for KEY: conservative
 * default"). *tuned (may be NULL) gets 1 or 0. `store` may be NULL (default).
 * A store error other than not-found is returned (message in err). */
sw_status sw_tune_policy_for_task(sw_store *store, const char *task_key, uint64_t budget, char *policy, size_t plen,
                                  char *why, size_t wlen, int *tuned, sw_error *err);

/* ---- online mode ---------------------------------------------------------------
 *
 * A ladder of policies of one family from conservative (level 0) to
 * aggressive. Every run uses the policy at the current level; run number r
 * (0, 1, ...) is an audit when r mod audit_every == 0: it trains to the full
 * budget, and its curve is replayed under the current level and the next one:
 *   s_cur <= epsilon and s_next <= epsilon   -> level + 1 (more aggressive)
 *   s_cur <= epsilon < s_next                -> stay
 *   s_cur >  epsilon                         -> level - 2 (back off, floor 0)
 * and after a back-off the level that failed becomes a ceiling the ladder
 * does not climb past until `ceiling_audits` good audits in a row.
 * The state is JSON text stored under the task key (sw_store_state_put). */

#define SW_ONLINE_MAX_LADDER 32
#define SW_ONLINE_MAX_HISTORY 64

typedef struct sw_online_audit {
    int64_t run;          /* run number                                       */
    int level_before, level_after;
    double shortfall;     /* s_cur                                            */
    double next_shortfall;/* s_next (NaN at the top of the ladder)            */
    double tokens_fraction; /* where the current policy would have stopped   */
} sw_online_audit;

typedef struct sw_online_state {
    char ladder[SW_ONLINE_MAX_LADDER][256];
    int n_ladder;
    int level;
    int ceiling;          /* highest level allowed (n_ladder-1 if none)       */
    int good_streak;      /* good audits since the last back-off              */
    int ceiling_audits;   /* good audits that lift a ceiling (default 3)      */
    int64_t runs;         /* runs begun so far                                */
    int audit_every;      /* N (default 4)                                    */
    double epsilon;
    sw_online_audit history[SW_ONLINE_MAX_HISTORY]; /* the latest audits      */
    int n_history;
} sw_online_state;

/* A fresh state: the default patience ladder for `budget` (patience 30, 20,
 * 15, 10, 8, 6, 5, 4, 3, 2 with diverge and warmup B/10), level 0. */
void sw_online_init(sw_online_state *s, uint64_t budget, int audit_every, double epsilon);
/* The state as JSON (malloc'd; NULL when out of memory) and back. */
char *sw_online_to_json(const sw_online_state *s);
sw_status sw_online_from_json(const char *json, sw_online_state *s, sw_error *err);
/* The next run: copies the policy to use (the current level's) and says
 * whether it is an audit (train to the full budget; then call
 * sw_online_audit_curve). Increments runs. */
void sw_online_next(sw_online_state *s, char *policy, size_t plen, int *audit);
/* The transition above, given the audit's shortfalls (what the tests script). */
void sw_online_apply(sw_online_state *s, double s_cur, double s_next, double tokens_fraction);
/* Replays the audited curve under the current and next level and applies the
 * transition. budget as in sw_tune_options (0 = the curve's end). */
sw_status sw_online_audit_curve(sw_online_state *s, const sw_curve *curve, uint64_t budget, sw_error *err);

/* Store wrappers for the trainer. begin: loads the task's state (creating it
 * with sw_online_init(budget, audit_every, epsilon) if absent), takes the
 * next run, saves the state, and returns the policy and the audit flag
 * (why: one line for the user). record: loads the state, audits the curve,
 * saves. */
sw_status sw_online_begin(sw_store *store, const char *task_key, uint64_t budget, int audit_every, double epsilon,
                          char *policy, size_t plen, int *audit, char *why, size_t wlen, sw_error *err);
sw_status sw_online_record(sw_store *store, const char *task_key, const sw_curve *curve, uint64_t budget,
                           char *why, size_t wlen, sw_error *err);

#ifdef __cplusplus
}
#endif
#endif
