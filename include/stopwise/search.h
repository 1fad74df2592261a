/* stopwise search: recipe search over `train` options with token-denominated
 * pruning, shared by any number of workers through the store.
 *
 * Layered above tune/ (the policy pruner reads a task's tuned policy) and
 * store/ (studies, trials and their claims live there). Trials themselves are
 * trained by a runner the caller provides (the CLI starts `stopwise train` in
 * a child process; see sw_search_runner), so this layer never starts a
 * process and never prints. docs/SEARCH.md is the user's guide.
 *
 * ---- Spaces ---------------------------------------------------------------
 *
 * A space is a small text file, one `NAME = VALUE` per line (# starts a
 * comment, blank lines are skipped):
 *
 *     data      = synthetic:copy:n=300,len=4       a fixed train option
 *     model     = gpt:layers={layers},d={width}    a template over variables
 *     batch     = choice(16, 32, 64)               an option that is a dimension
 *     layers    = int(1, 3)                        a variable (no train option)
 *     width     = choice(16, 32)
 *     schedule  = constant:lr={lr}
 *     lr        = range(1e-3, 3e-2, log)
 *
 * A VALUE is a domain or text. Domains:
 *     choice(A, B, ...)     one of the items (an item may be "quoted" to hold
 *                           commas, parentheses or outer spaces)
 *     range(LO, HI)         a real number in [LO, HI], uniform
 *     range(LO, HI, log)    uniform in log: 0 < LO
 *     int(LO, HI)           a whole number in [LO, HI], uniform
 *     int(LO, HI, log)      uniform in log: 0 < LO
 * Text may be "quoted" and may name variables as {NAME}, replaced by their
 * values. NAME is a train option (without the dashes) or a variable; every
 * variable must be used by some option, every {NAME} must be defined, and no
 * NAME may appear twice. Which names are train options is the caller's
 * business (sw_space_option_line and friends let it check them, with lines).
 *
 * Points. A configuration is a point u in [0,1)^d, one coordinate per
 * dimension, mapped to values:
 *     choice of k     item floor(u k)
 *     range           LO + u (HI - LO);  log: LO (HI/LO)^u
 *     int             floor(LO + u (HI - LO + 1));  log: floor(LO ((HI+1)/LO)^u)
 *                     (clamped to [LO, HI])
 * Reals are written with 4 significant digits, and the point is then
 * "snapped" to the value written (the coordinate that maps to it: the middle
 * of a choice's or an integer's cell), so the point stored is the one that
 * was trained.
 *
 * ---- Samplers -------------------------------------------------------------
 *
 *   random   u uniform, from a generator seeded by (seed, trial number)
 *   halton   the scrambled Halton sequence: coordinate j of trial n is the
 *            radical inverse of n in the j-th prime base b_j, with every digit
 *            position's digits permuted by a permutation drawn from (seed, j,
 *            position) (Owen's random digit scrambling). The first b^m trials
 *            put exactly one point in each interval [k/b^m, (k+1)/b^m) of
 *            every base-b coordinate.
 *   tpe      the tree-structured Parzen estimator (Bergstra, Bardenet, Bengio
 *            and Kegl, "Algorithms for hyper-parameter optimization", NIPS
 *            2011): the first `startup` trials come from the Halton sequence;
 *            then the finished trials are ranked by score, the best
 *            g = min(25, ceil(gamma n)) form l and the rest g; per dimension a
 *            Parzen density l(x) (and g(x)) is a mixture with equal weights of
 *            a prior N(0.5, 1) and one normal per trial truncated to [0,1],
 *            bandwidth the larger gap to its neighbours clipped to
 *            [1/min(100, n+1), 1]; for choices, category weights count + 1.
 *            `candidates` draws from l; the one maximising l(x)/g(x) wins.
 *            Reproducible: the draws are seeded by (seed, trial number), so
 *            the same history gives the same proposal.
 *
 * ---- Pruners --------------------------------------------------------------
 *
 * A trial trains up to the study's budget B (tokens). A pruner stops it at
 * decision points, all counted in tokens; at each the trial's value is its
 * best validation EM so far (the trainer pauses at the first step at or past
 * the point, after that step's evaluation).
 *   none        no decision points.
 *   asha        successive halving, asynchronous (Li et al., "A system for
 *               massively parallel hyperparameter tuning", MLSys 2020), at rungs
 *               t_k = r eta^k < B (r = min, eta = reduction factor): with n
 *               trials that reached rung k (this one included) and m =
 *               floor(n/eta), the trial goes on iff its value is among the m
 *               best, or, while m = 0, iff it is the best (ties go on).
 *   hyperband   brackets s = 0..S, S = floor(log_eta(B/r)): bracket s is asha
 *               with rungs r eta^(s+k); each trial joins one bracket, drawn from
 *               (seed, trial number) with weights ceil((S+1)/(S-s+1) eta^(S-s))
 *               (Li et al., "Hyperband", JMLR 2018); it competes only with its
 *               bracket's trials.
 *   median      at t = warmup + k every < B (Optuna's MedianPruner): prunes iff
 *               at least `startup` trials finished and the trial's value is
 *               below the median of the values the finished trials (completed,
 *               not pruned) had at the same point.
 *   policy      stopwise's own: every trial trains under a stopping policy
 *               (default auto: the tuned policy for its task, else the
 *               conservative default), which stops it where its own curve
 *               stops paying; and at the asha rungs a trial is pruned when even
 *               an optimistic forecast of its final EM cannot reach the best
 *               finished trial (Domhan, Springenberg and Hutter, IJCAI 2015):
 *               hi < incumbent, hi the upper end of the level interval of the
 *               forecast of its maximum at B (sw_forecaster, fit method,
 *               calibrated on the finished trials' curves).
 *
 * Thread safety: reentrant; a space is read-only after parsing. */
#ifndef STOPWISE_SEARCH_H
#define STOPWISE_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "stopwise/base.h"
#include "stopwise/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- spaces ------------------------------------------------------------------ */

typedef enum sw_dim_kind { SW_DIM_CHOICE = 0, SW_DIM_RANGE, SW_DIM_INT } sw_dim_kind;

typedef struct sw_space sw_space;

/* Parses a space from text (`name` is used in messages: the file's path).
 * Errors are SW_ERR_FORMAT "NAME:LINE: what was expected". Free with
 * sw_space_free. */
sw_status sw_space_parse(const char *text, size_t len, const char *name, sw_space **out, sw_error *err);
/* Reads and parses a file (SW_ERR_NOT_FOUND / SW_ERR_IO when unreadable). */
sw_status sw_space_read(const char *path, sw_space **out, sw_error *err);
void sw_space_free(sw_space *s); /* NULL is a no-op */

/* The canonical text: one `name = value` line per entry in file order,
 * comments and extra spaces dropped, quotes only where needed. Two spaces
 * with the same canonical text are the same space. malloc'd (caller frees);
 * NULL when out of memory. */
char *sw_space_format(const sw_space *s);
/* The name given at parse time (the file), owned by the space. */
const char *sw_space_source(const sw_space *s);

/* The options (names that are not variables), in file order. An option is
 * fixed text, a template over variables, or itself a dimension
 * (sw_space_option_dim >= 0). Strings owned by the space. */
size_t sw_space_n_options(const sw_space *s);
const char *sw_space_option_name(const sw_space *s, size_t i);
int sw_space_option_line(const sw_space *s, size_t i);
/* The text (a template may hold {NAME}); NULL when the option is a dimension. */
const char *sw_space_option_text(const sw_space *s, size_t i);
/* Its dimension's index, or -1. */
int sw_space_option_dim(const sw_space *s, size_t i);
/* The option's index by name, -1 if the space does not set it. */
int sw_space_find_option(const sw_space *s, const char *name);

/* The dimensions, in file order (variables and options that are domains). */
size_t sw_space_n_dims(const sw_space *s);
const char *sw_space_dim_name(const sw_space *s, size_t d);
int sw_space_dim_line(const sw_space *s, size_t d);
sw_dim_kind sw_space_dim_kind(const sw_space *s, size_t d);
int sw_space_dim_log(const sw_space *s, size_t d);
double sw_space_dim_lo(const sw_space *s, size_t d); /* range and int bounds */
double sw_space_dim_hi(const sw_space *s, size_t d);
size_t sw_space_dim_n_choices(const sw_space *s, size_t d); /* 0 unless a choice */
const char *sw_space_dim_choice(const sw_space *s, size_t d, size_t k);

/* One configuration: the options a trial passes to `train`, and its
 * dimensions' values. All strings malloc'd, freed by sw_space_config_clear. */
typedef struct sw_space_config {
    size_t n_options;
    char **names;       /* option names, in the space's order */
    char **values;      /* their values, templates filled in */
    size_t n_dims;
    char **dim_values;  /* each dimension's value as text */
    char *params_json;  /* {"dim": value, ...}: numbers for ranges and ints,
                           strings for choices; dimensions in space order */
} sw_space_config;

/* Snaps point (n_dims coordinates in [0,1], clamped) in place to the values
 * it maps to (above) and fills *out. SW_ERR_INVALID for a point of the wrong
 * size; SW_ERR_NOMEM. */
sw_status sw_space_config_make(const sw_space *s, double *point, size_t n, sw_space_config *out, sw_error *err);
void sw_space_config_clear(sw_space_config *c); /* a zeroed config is a no-op */

/* ---- samplers ------------------------------------------------------------------ */

typedef enum sw_sampler_kind { SW_SAMPLER_RANDOM = 0, SW_SAMPLER_HALTON, SW_SAMPLER_TPE } sw_sampler_kind;

typedef struct sw_sampler_options {
    sw_sampler_kind kind;
    size_t startup;    /* tpe: trials drawn from the Halton sequence first (10) */
    double gamma;      /* tpe: the share of trials that form l(x) (0.2)         */
    size_t candidates; /* tpe: draws from l(x) per proposal (24)                */
} sw_sampler_options;

/* Parses "random", "halton" or "tpe[:startup=N,gamma=G,candidates=N]"
 * (defaults above); SW_ERR_INVALID naming the part that is wrong. */
sw_status sw_sampler_parse(const char *spec, sw_sampler_options *out, sw_error *err);
/* The canonical text (every option of tpe written), snprintf-style. */
size_t sw_sampler_format(const sw_sampler_options *o, char *buf, size_t cap);

/* A finished trial, as a model-based sampler learns from it: its point
 * (n_dims coordinates) and a score, larger is better (the caller ranks
 * trials that went further first: see sw_search_score). */
typedef struct sw_search_obs {
    const double *point;
    double score;
} sw_search_obs;

/* Proposes trial `number`'s point (n_dims coordinates in [0,1)), a pure
 * function of (options, space, seed, number, history). random and halton
 * ignore the history. */
sw_status sw_sampler_propose(const sw_sampler_options *o, const sw_space *space, uint64_t seed, uint64_t number,
                             const sw_search_obs *history, size_t n_history, double *point, sw_error *err);

/* The scrambled Halton point of index `index` in `dims` dimensions (at most
 * SW_HALTON_MAX_DIMS): the sequence the halton sampler draws from. */
#define SW_HALTON_MAX_DIMS 64
sw_status sw_halton_point(uint64_t seed, uint64_t index, size_t dims, double *point, sw_error *err);

/* A trial's score for samplers and rankings: rungs passed dominate, then the
 * value: score = depth * 1000 + value (EM is within [0, 100]). A NaN value
 * ranks lowest at its depth. */
double sw_search_score(int64_t depth, double value);

/* ---- pruners ------------------------------------------------------------------- */

typedef enum sw_pruner_kind {
    SW_PRUNER_NONE = 0,
    SW_PRUNER_ASHA,
    SW_PRUNER_HYPERBAND,
    SW_PRUNER_MEDIAN,
    SW_PRUNER_POLICY
} sw_pruner_kind;

#define SW_PRUNER_POLICY_MAX 512

typedef struct sw_pruner_options {
    sw_pruner_kind kind;
    int eta;              /* asha, hyperband, policy: reduction factor (3)      */
    uint64_t min_tokens;  /* the first rung r; 0 = B / eta^3                    */
    size_t startup;       /* median: finished trials before any pruning (5)     */
    uint64_t warmup;      /* median: first decision point; 0 = `every`          */
    uint64_t every;       /* median: spacing of the points; 0 = B / 8           */
    double level;         /* policy: the forecast interval's level (0.9)        */
    char policy[SW_PRUNER_POLICY_MAX]; /* policy: the trials' stopping policy ("auto") */
} sw_pruner_options;

/* Parses "none", "asha[:eta=N,min=TOKENS]", "hyperband[:eta=N,min=TOKENS]",
 * "median[:startup=N,warmup=TOKENS,every=TOKENS]" or "policy[:POLICY]" (all
 * after "policy:" is the policy text, e.g. policy:patience=5,diverge).
 * SW_ERR_INVALID naming the part that is wrong. */
sw_status sw_pruner_parse(const char *spec, sw_pruner_options *out, sw_error *err);
/* The canonical text, snprintf-style. */
size_t sw_pruner_format(const sw_pruner_options *o, char *buf, size_t cap);
/* Number of hyperband brackets for budget B (1 for the other pruners). */
int sw_pruner_n_brackets(const sw_pruner_options *o, uint64_t budget);
/* The bracket of trial `number` (0 unless hyperband). */
int sw_pruner_bracket(const sw_pruner_options *o, uint64_t budget, uint64_t seed, uint64_t number);
/* The decision points of a trial of bracket `bracket`, ascending, all below
 * the budget: writes at most cap and returns how many there are. */
size_t sw_pruner_points(const sw_pruner_options *o, uint64_t budget, int bracket, uint64_t *points, size_t cap);

/* What a pruner reads at decision point `rung` (0-based) of a trial. */
typedef struct sw_pruner_input {
    size_t rung;
    uint64_t tokens;        /* the decision point                                      */
    uint64_t budget;        /* B                                                       */
    double value;           /* the trial's best validation EM so far (NaN: none)       */
    const double *peers;    /* asha, hyperband: the other trials' values at this rung
                               (same bracket); median: the finished trials' values at
                               this point                                              */
    size_t n_peers;
    size_t n_finished;      /* median: trials finished (completed)                     */
    double incumbent;       /* policy: the best finished trial's value (NaN: none)    */
    const uint64_t *curve_tokens; /* policy: the trial's evaluations so far           */
    const double *curve_em;
    size_t curve_n;
    const void *forecaster; /* policy: an sw_forecaster calibrated on the finished
                               trials' curves, or NULL (uncalibrated)                  */
} sw_pruner_input;

typedef struct sw_pruner_decision {
    int prune;         /* 1: end the trial now */
    char reason[320];  /* one line, for the store and the trials table */
} sw_pruner_decision;

/* Decides at a decision point. Pure: the same input gives the same answer. */
sw_status sw_pruner_decide(const sw_pruner_options *o, const sw_pruner_input *in, sw_pruner_decision *out,
                           sw_error *err);

/* ---- importance ---------------------------------------------------------------- */

/* How much of the spread of the trials' scores each dimension explains: the
 * trials are ranked by score (ties share their mean rank); per dimension they
 * are grouped by value (a choice's items; a range's or int's coordinate in
 * k = max(2, round(sqrt(n/2))) equal-count bins) and epsilon-squared of the
 * ranks is computed,
 *     eps2 = (SS_between - (k-1) MS_within) / (SS_total + MS_within),
 * clipped at 0 (the correlation ratio corrected for the bins' own chance
 * share). importance[d] is eps2 normalised to sum to 1 (all 0 when none
 * explains anything). points is n x n_dims row-major. Needs n >= 3. */
sw_status sw_search_importance(const sw_space *s, const double *points, const double *scores, size_t n,
                               double *importance, sw_error *err);

/* ---- a study's stored trials ------------------------------------------------------- */

/* Forward: defined below with the studies. */
struct sw_search_settings;

/* A stored trial's point (its JSON array of n coordinates) into p;
 * SW_ERR_FORMAT naming the trial when it is not one. */
sw_status sw_search_trial_point(const sw_store_search_trial *t, size_t n, double *p, sw_error *err);
/* A finished trial's score as the samplers and every ranking see it:
 * sw_search_score of how far it got (a completed trial above all; a
 * hyperband bracket starts higher up) and its value. */
double sw_search_trial_score(const struct sw_search_settings *set, const sw_store_search_trial *t);
/* sw_search_importance over the finished (completed and pruned) trials,
 * scored as above: one share per dimension, malloc'd; NULL with fewer than 3
 * finished trials or none of the space's dimensions. */
double *sw_search_trials_importance(const sw_space *sp, const struct sw_search_settings *set,
                                    const sw_store_search_trial *t, size_t n);

/* ---- studies and workers --------------------------------------------------------- */

/* The settings a study is created with (they define it with its space). */
typedef struct sw_search_settings {
    sw_sampler_options sampler;
    sw_pruner_options pruner;
    uint64_t budget;       /* tokens per trial, B                                  */
    uint64_t total;        /* no new trial once the trials spent this many (0: no limit) */
    int64_t max_trials;    /* at most this many trials (0: no limit)              */
    uint64_t seed;         /* the samplers' seed and every trial's training seed  */
    int max_tries;         /* a trial whose worker died is re-queued until it has
                              been tried this often, then failed (3)              */
} sw_search_settings;

/* Canonical JSON of the settings (fixed key order; malloc'd) and back. */
char *sw_search_settings_json(const sw_search_settings *s);
sw_status sw_search_settings_parse(const char *json, sw_search_settings *out, sw_error *err);

/* The evaluation cadence of a trial of bracket `bracket`: about budget/100
 * (train's own default) and a divisor of every decision point, so that an
 * evaluation lands on each. */
uint64_t sw_search_eval_every(const sw_search_settings *s, int bracket);

/* One training segment a runner is asked for: trial `number`'s configuration
 * trained from scratch (resume 0) or continued from where its last segment
 * paused (resume 1), until `stop_after` tokens (0: to its end). */
typedef struct sw_search_segment {
    const char *study;
    int64_t number;
    int64_t attempt;            /* 1 for the first try, 2 after a re-queue, ... */
    const sw_space_config *config;
    uint64_t seed;
    uint64_t budget;
    uint64_t stop_after;
    int resume;
    const char *stop;           /* the stopping policy the pruner imposes, or NULL */
    uint64_t eval_every;        /* the cadence that lands evaluations on the points */
    const char *label;          /* the run's folder and name suffix; NULL: trial-NUMBER,
                                   or trial-NUMBER.ATTEMPT for a later try          */
} sw_search_segment;

/* What a segment gave. status is train's: "interrupted" (paused at
 * stop_after), "completed", "stopped", "diverged". The curve (tokens and
 * val_em of every evaluation so far, malloc'd, freed by the worker) feeds the
 * pruners. */
typedef struct sw_search_segment_result {
    char status[16];
    char reason[320];
    int64_t run_id;        /* the run in the store (-1: none)                    */
    uint64_t tokens;       /* the run's tokens so far                            */
    double best_val_em, val_em, test_em; /* at its end (NaN while interrupted)   */
    uint64_t *curve_tokens;
    double *curve_em;
    size_t curve_n;
} sw_search_segment_result;

/* Called by a runner about every second while a segment trains; returns 0
 * to go on, nonzero when the trial was taken from this worker (its heartbeat
 * went stale and another worker owns it now): the runner then ends the
 * segment (kills the training) and returns SW_ERR_STATE. */
typedef int (*sw_search_beat_fn)(void *ctx);

typedef struct sw_search_runner {
    /* Trains one segment. Returns SW_OK with *out filled (the training itself
     * may have failed: status "failed" with the reason), SW_ERR_INVALID when
     * train refused the configuration (bad input: the space is wrong), or
     * another status for a failure of the runner. */
    sw_status (*run)(void *user, const sw_search_segment *seg, sw_search_beat_fn beat, void *beat_ctx,
                     sw_search_segment_result *out, sw_error *err);
    void *user;
} sw_search_runner;

/* Progress lines for the caller to print (a trial claimed, a rung, an end). */
typedef void (*sw_search_log_fn)(const char *line, void *user);

typedef struct sw_search_worker_options {
    const char *worker;      /* this worker's name (host:pid)                        */
    double stale_after_s;    /* a running trial whose heartbeat is older is re-queued */
    double beat_every_s;     /* heartbeat interval (stale_after_s / 4, at most 15 s)  */
    double idle_sleep_s;     /* wait between claims while only others' trials run (0.5) */
    sw_search_log_fn log;
    void *log_user;
} sw_search_worker_options;

typedef struct sw_search_work_stats {
    size_t trials;           /* trials this worker ran to an end (any state) */
    uint64_t tokens;         /* tokens its segments trained                  */
} sw_search_work_stats;

/* Runs trials of the study until none is left to run: claims one (re-queues
 * stale ones first; creates the next when the limits allow, proposed by the
 * sampler), trains it segment by segment through the runner, reports its
 * value at every decision point, asks the pruner, and records its end. Waits
 * while only other workers' trials run (one of them may die and be
 * re-queued). Returns SW_OK when the study is finished; SW_ERR_INVALID when
 * train refused a configuration; the store's or runner's status otherwise.
 * `store` is this worker's own handle. */
sw_status sw_search_work(sw_store *store, int64_t study_id, const char *study, const sw_space *space,
                         const sw_search_settings *settings, const sw_search_runner *runner,
                         const sw_search_worker_options *opt, sw_search_work_stats *stats, sw_error *err);

#ifdef __cplusplus
}
#endif
#endif
