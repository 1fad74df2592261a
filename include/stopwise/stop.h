/* stopwise stop: the stopping brain. Rules, the policy text form, the
 * controller a training loop feeds evaluations to, learning curves (CSV) and
 * replay of a policy over a recorded curve.
 *
 * Depends on libc, libm and stopwise/base.h only, so a foreign training loop
 * (C, C++, or Python through ctypes) can link libstopwise_stop alone. Every
 * stateful object is an opaque handle; every type crossing this header is a
 * plain C type. docs/STOPPING.md is the user's guide (formulas, grammar,
 * examples).
 *
 * Thread safety: functions are reentrant; one handle must not be used by two
 * threads at once. A const sw_policy or sw_curve may be shared read-only.
 *
 * ---- The rules (stop when any term of the policy fires) ------------------
 *
 * A term is a rule or a group of rules (below, "Groups").
 *
 * Notation: v(i) is the monitored metric at evaluation i (i = 1, 2, ...),
 * oriented so that larger is better (mode min negates it internally), T(i) its
 * token count, E_va(i) and E_tr(i) the validation and training losses.
 *
 * patience=P[:min_delta=D|D%]
 *     Keras EarlyStopping semantics (Chollet et al., keras/callbacks): a
 *     reference r starts at -inf; evaluation i improves iff
 *         v(i) > r + D          (absolute D, default 0)
 *         v(i) > r + |r|·D/100  (relative D%, the scikit-learn `tol` idea)
 *     and then r = v(i), wait = 0; otherwise wait += 1. Fires when wait >= P.
 *     An exact tie is not an improvement. Small improvements below D do not
 *     move r, so a slow creep cannot keep a run alive forever.
 * target=V
 *     Fires when v(i) >= V (mode max) or <= V (mode min): good enough.
 * diverge[:max=X][:factor=K][:on=NAME]
 *     Fires when the monitored metric, train_loss or val_loss is non-finite
 *     (NaN or inf), when the loss L (metric NAME, default train_loss, falling
 *     back to val_loss when an evaluation has no NAME) exceeds X, or when
 *     L(i) > K · min_{j<=i} L(j). The run's status becomes diverged. The
 *     non-finite check ignores warmup (a NaN never recovers).
 * gl=ALPHA      Prechelt, "Early stopping - but when?", in Neural Networks:
 *     Tricks of the Trade, LNCS 1524, 1998, pp. 55-69, criterion GL_alpha:
 *         E_opt(i) = min_{j<=i} E_va(j),  GL(i) = 100 · (E_va(i)/E_opt(i) - 1)
 *     fires when GL(i) > ALPHA.
 * pq=ALPHA[:k=K]   Prechelt 1998, PQ_alpha, strips of K evaluations (K=5):
 *         P_k(i) = 1000 · ( sum_{j=i-K+1..i} E_tr(j) / (K · min_{j=i-K+1..i} E_tr(j)) - 1 )
 *     fires at the end of a strip (i a multiple of K) when GL(i)/P_k(i) > ALPHA.
 * up=S[:k=K]       Prechelt 1998, UP_s: at strip ends i (multiples of K),
 *     UP_1 fires when E_va(i) > E_va(i-K); UP_s fires when UP_{s-1} fired at
 *     i-K and E_va(i) > E_va(i-K): the validation error rose at the end of S
 *     successive strips.
 * gain=G[:window=W]
 *     Prices tokens directly. Smoothing: b(i) = max_{j<=i} v(j) (best so far,
 *     monotone, so noise cannot make it fall); over a trailing window of W
 *     evaluations (W=5)
 *         gain(i) = (b(i) - b(i-W)) / (T(i) - T(i-W)) · 1e6
 *     in metric points per million tokens; fires when gain(i) < G (needs i > W).
 * extrapolate=DELTA[:z=Z][:min_points=N][:at=TOKENS]
 *     Fits three saturating learning-curve families to v against t = T/H
 *     (H the horizon: `at`, else the policy's budget, else the budget given
 *     to sw_controller_create) by Levenberg-Marquardt least squares:
 *         pow3      v = c - a·t^(-alpha)
 *         exp3      v = c - a·exp(-b·t)
 *         log-power v = c / (1 + (t/e^b)^(-a))
 *     (the families of Domhan, Springenberg and Hutter, "Speeding up automatic
 *     hyperparameter optimization of deep neural networks by extrapolation of
 *     learning curves", IJCAI 2015). Each family m predicts mu_m = f_m(1) with
 *     the delta-method variance s_m^2 = g^T (s^2 (J^T J)^-1) g, s^2 = SSE/(n-3);
 *     families are combined with Akaike weights w_m ∝ exp(-AIC_m/2),
 *     AIC_m = n·ln(SSE_m/n) + 6:
 *         mu = sum w_m mu_m,  sd^2 = sum w_m (s_m^2 + (mu_m - mu)^2).
 *     Fires when mu + Z·sd - max_{j<=i} v(j) < DELTA (Z = 1.64 by default),
 *     i.e. even an optimistic prediction gains less than DELTA. Needs N
 *     evaluations with T > 0 (N = 6 by default, at least 4).
 * budget=N    (global) fires when T(i) >= N tokens, whatever the warmup.
 * warmup=N    (global) no rule fires while T(i) < N, except budget and the
 *             non-finite check of diverge. Rules still update their state.
 * warmup=N:ignore  (global; Keras EarlyStopping's start_from_epoch) the
 *             evaluations with T(i) < N are ignored entirely: no rule sees
 *             them (their state starts after the warm-up) and none is ever
 *             the best checkpoint. Budget and diverge's non-finite check
 *             still apply; the evaluations still count as fed.
 *
 * ---- Groups: AND and k-of-n ----------------------------------------------
 *
 * With F_j(i) = 1 when member rule j fires at evaluation i (past warm-up):
 *     all(r_1..r_n)  fires at i iff  sum_j F_j(i) = n     (AND)
 *     Kof(r_1..r_n)  fires at i iff  sum_j F_j(i) >= K    (1 <= K <= n)
 *     any(r_1..r_n)  fires at i iff  sum_j F_j(i) >= 1    (OR)
 * Members update their state at every evaluation. Groups do not nest;
 * diverge and the globals stay outside. The policy fires when any term does;
 * diverge first, then budget, then the first term as written. A group's
 * decision names its first firing member (rule, rule_index) and its reason
 * lists every firing member.
 *
 * ---- The cooldown -------------------------------------------------------------
 *
 * cooldown=C[:shape=linear|sqrt]  (global; not a rule, it never fires) what
 *     follows a stop at T_k tokens: the learning rate anneals to its floor
 *     over C·T_k further tokens (C in (0, 1], shape linear by default).
 *     Replay then scores the stop with the curve's branch results (see
 *     sw_replay).
 *
 * ---- The policy text form -----------------------------------------------
 *
 *     policy := "none" | term ("," term)*
 *     term   := item | group
 *     group  := ("all" | "any" | K "of") "(" item ("," item)* ")"
 *     item   := NAME ["=" VALUE] (":" OPTION ["=" VALUE])*
 * NAME is a rule above or, outside groups, a global: monitor=METRIC[:max|:min]
 * (default val_em:max; a metric whose name ends in "loss" defaults to min),
 * warmup=TOKENS[:ignore], budget=TOKENS, every=TOKENS (the evaluation
 * cadence, stored for the trainer), cooldown=C[:shape=linear|sqrt]. Tokens
 * accept k, M, G suffixes. No whitespace.
 * Examples: patience=5:min_delta=0.1,gain=0.2,diverge,warmup=1M
 *           all(patience=5,gain=0.1),diverge,warmup=1M:ignore,cooldown=0.1
 * Formatting prints terms in the order given, then the globals in the order
 * monitor, warmup, budget, every, cooldown; numbers in their shortest exact form;
 * options that were written, in each rule's documented order. A policy
 * written that way prints back identically; any policy prints to text that
 * parses to the same policy.
 */
#ifndef STOPWISE_STOP_H
#define STOPWISE_STOP_H

#include <stddef.h>
#include <stdint.h>

#include "stopwise/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sw_rule_kind {
    SW_RULE_NONE = 0,
    SW_RULE_PATIENCE,
    SW_RULE_TARGET,
    SW_RULE_DIVERGE,
    SW_RULE_GL,
    SW_RULE_PQ,
    SW_RULE_UP,
    SW_RULE_GAIN,
    SW_RULE_EXTRAPOLATE,
    SW_RULE_BUDGET
} sw_rule_kind;

/* The rule's name as the policy text spells it ("patience", ...; "none"). */
const char *sw_rule_kind_name(sw_rule_kind k);

/* ---- policy ----------------------------------------------------------------- */

typedef struct sw_policy sw_policy;

/* Parses the one-line text form into a new policy (*out, freed with
 * sw_policy_free). On failure *out is NULL and err says where: "policy
 * character 10 ('x' in 'patience=x'): patience needs ...". */
sw_status sw_policy_parse(const char *text, sw_policy **out, sw_error *err);
/* The same, also saying where a failure points, for callers that mark the
 * spot themselves (an editor, the Python binding's StopwiseError.position):
 * *column gets the 1-based character of `text` that the message names
 * ("policy character N") and *width the length of the faulty part there
 * (0 for a value left empty: "patience=" points at column 10, just past the
 * '='); both are 0 when the failure points at no character (no text, empty
 * text, out of memory) and on success. Either may be NULL. */
sw_status sw_policy_parse_located(const char *text, sw_policy **out, size_t *column, size_t *width, sw_error *err);
void sw_policy_free(sw_policy *p); /* NULL is a no-op */
/* Writes the canonical text form into buf (always NUL-terminated when cap > 0)
 * and returns its length, snprintf-style: a result >= cap means truncated. */
size_t sw_policy_format(const sw_policy *p, char *buf, size_t cap);

const char *sw_policy_monitor(const sw_policy *p); /* "val_em" by default */
int sw_policy_maximize(const sw_policy *p);        /* 1 max, 0 min */
uint64_t sw_policy_warmup(const sw_policy *p);     /* 0: none */
uint64_t sw_policy_budget(const sw_policy *p);     /* 0: none */
uint64_t sw_policy_every(const sw_policy *p);      /* 0: not set */
size_t sw_policy_n_rules(const sw_policy *p);      /* excluding the globals */
sw_rule_kind sw_policy_rule(const sw_policy *p, size_t i);
/* 1 when the warm-up ignores evaluations (warmup=N:ignore), 0 otherwise. */
int sw_policy_warmup_ignores(const sw_policy *p);
/* Groups: all(...), any(...), Kof(...). The group index of rule i (0-based),
 * -1 for a rule that is a term of its own. */
int sw_policy_rule_group(const sw_policy *p, size_t i);
size_t sw_policy_n_groups(const sw_policy *p);
/* Group g's members are rules first..first+count-1; it fires when at least
 * `need` of them fire at one evaluation. Returns 0 if there is no group g.
 * Any pointer may be NULL. */
int sw_policy_group(const sw_policy *p, size_t g, size_t *first, size_t *count, size_t *need);

/* The shape of the cooldown that follows a stop (the learning rate decays
 * from its plateau value to its floor over the cooldown's tokens):
 *   linear   lr(u) = lr_max - (lr_max - lr_min) u
 *   sqrt     lr(u) = lr_max - (lr_max - lr_min) sqrt(u)   (the 1-sqrt decay of
 *            Hägele et al., "Scaling Laws and Compute-Optimal Training Beyond
 *            Fixed Training Durations", 2024)
 * for u the fraction of the cooldown done. */
typedef enum sw_cooldown_shape { SW_COOLDOWN_LINEAR = 0, SW_COOLDOWN_SQRT = 1 } sw_cooldown_shape;
const char *sw_cooldown_shape_name(sw_cooldown_shape s); /* "linear", "sqrt" */
/* SW_ERR_INVALID unless name is "linear" or "sqrt". */
sw_status sw_cooldown_shape_parse(const char *name, sw_cooldown_shape *out);
/* The policy's cooldown clause: returns 1 and fills *frac (C in (0, 1]) and
 * *shape (linear unless written) when the policy has one, else 0. Either
 * pointer may be NULL. */
int sw_policy_cooldown(const sw_policy *p, double *frac, sw_cooldown_shape *shape);
/* The name of a branch column in a curve (docs/STOPPING.md, "Branches"):
 * "METRIC_annealed:c=C:shape=S" for metric METRIC, or with metric NULL
 * "anneal_tokens:c=C:shape=S"; C printed with %g. snprintf-style. */
size_t sw_anneal_column(const char *metric, double frac, sw_cooldown_shape shape, char *buf, size_t cap);

/* 1 if every evaluation fed under this policy must carry metric `name` (the
 * monitored metric; val_loss for gl, pq, up; train_loss for pq). */
int sw_policy_needs(const sw_policy *p, const char *name);

/* ---- evaluations and decisions ---------------------------------------------- */

typedef struct sw_metric {
    const char *name;  /* "val_em", "val_loss", "train_loss", or any other */
    double value;      /* EM in percent; NaN or inf means "diverged" */
} sw_metric;

/* One evaluation. The caller owns the metrics array; the controller copies
 * what it keeps. tokens must rise strictly from one evaluation to the next. */
typedef struct sw_eval {
    uint64_t tokens;   /* training tokens consumed so far */
    int64_t step;      /* optimizer steps so far */
    double wall;       /* wall seconds so far */
    const sw_metric *metrics;
    size_t n_metrics;
} sw_eval;

#define SW_REASON_MAX 320

typedef struct sw_decision {
    int stop;                 /* 1: stop now; 0: continue */
    int diverged;             /* 1: the diverge rule fired (run status diverged) */
    sw_rule_kind rule;        /* the rule that fired, SW_RULE_NONE to continue */
    int rule_index;           /* its index in the policy; -1 for none/budget */
    char reason[SW_REASON_MAX]; /* human-readable; "" when continuing */
} sw_decision;

/* ---- controller -------------------------------------------------------------- */

typedef struct sw_controller sw_controller;

/* Creates a controller for `policy` (copied: the caller may free it after).
 * `budget` is the run's token budget (0: unknown); extrapolate predicts at
 * its `at` option, else the policy's budget, else this one; without any it
 * is an error (SW_ERR_INVALID). Free with sw_controller_free. */
sw_status sw_controller_create(const sw_policy *policy, uint64_t budget, sw_controller **out, sw_error *err);
void sw_controller_free(sw_controller *c); /* NULL is a no-op */
/* The controller's copy of its policy (owned by the controller). */
const sw_policy *sw_controller_policy(const sw_controller *c);

/* Feeds one evaluation and fills *out with the decision. Errors (the state is
 * unchanged, message in sw_controller_errmsg): SW_ERR_INVALID for tokens not
 * above the previous evaluation's or a metric the policy needs that is
 * missing; SW_ERR_STATE when the controller already said stop. */
sw_status sw_controller_feed(sw_controller *c, const sw_eval *ev, sw_decision *out);
/* The last error message ("" if none); owned by the controller. */
const char *sw_controller_errmsg(const sw_controller *c);

size_t sw_controller_count(const sw_controller *c); /* evaluations fed */
int sw_controller_stopped(const sw_controller *c);
/* The best evaluation so far by the monitored metric (first of ties; a
 * non-finite value is never best): its 0-based index, tokens and value.
 * SW_ERR_NOT_FOUND before the first finite value. Any pointer may be NULL. */
sw_status sw_controller_best(const sw_controller *c, size_t *index, uint64_t *tokens, double *value);
/* The latest extrapolate prediction of the monitored metric at the horizon:
 * mean, standard deviation and the horizon in tokens. SW_ERR_NOT_FOUND when
 * the policy has no extrapolate rule or no fit exists yet. */
sw_status sw_controller_prediction(const sw_controller *c, double *mean, double *sd, uint64_t *horizon);

/* Serializes the whole state (policy included) as text into buf,
 * snprintf-style: returns the length, >= cap means truncated (call with
 * cap 0 to size the buffer). Doubles are written in hexadecimal (%a), so a
 * restored controller makes bit-identical decisions. */
size_t sw_controller_save(const sw_controller *c, char *buf, size_t cap);
/* Rebuilds a controller from a blob written by sw_controller_save. */
sw_status sw_controller_restore(const char *blob, size_t len, sw_controller **out, sw_error *err);

/* ---- curves ------------------------------------------------------------------- */

/* A run's evaluations in order: tokens, step, wall and named metric columns.
 * A metric cell may be missing (an empty CSV cell). */
typedef struct sw_curve sw_curve;

sw_status sw_curve_create(sw_curve **out, sw_error *err); /* empty */
void sw_curve_free(sw_curve *c);                          /* NULL is a no-op */
/* Appends an evaluation (tokens must rise); a new metric name adds a column,
 * missing in earlier rows. */
sw_status sw_curve_append(sw_curve *c, const sw_eval *ev, sw_error *err);

/* Reads CSV: a header line naming the columns, then one row per evaluation.
 * `tokens` is required; `step` and `wall` are optional; every other column is
 * a metric. Cells are numbers (nan and inf allowed for metrics), or empty for
 * missing. Errors (SW_ERR_FORMAT) name the file, the line and what was
 * expected; SW_ERR_NOT_FOUND/SW_ERR_IO when the file cannot be read.
 * Other tools' CSVs are read too, with the default options of
 * sw_curve_read_csv_with below; a header whose first column is tokens is
 * always this format, read exactly as before. */
sw_status sw_curve_read_csv(const char *path, sw_curve **out, sw_error *err);
/* The same from memory; `name` is used in messages. */
sw_status sw_curve_parse_csv(const char *text, size_t len, const char *name, sw_curve **out, sw_error *err);

/* ---- curves from other tools (docs/STOPPING.md, "Curves from other tools") ----
 *
 * The CSVs other tools write, recognised by their header:
 *   native       stopwise's own: a tokens column (as above)
 *   keras        Keras CSVLogger: epoch first, then the logs' keys
 *                (loss, accuracy, val_loss, val_accuracy, ...)
 *   lightning    Lightning CSVLogger metrics.csv: epoch and step columns;
 *                sparse rows (train and validation metrics on separate lines)
 *   mlflow       an MLflow metric-history export: one row per logged value,
 *                columns key, value, step (and run_id, timestamp in ms)
 *   wandb        a W&B run history (_step, _runtime, _timestamp and the
 *                logged keys; a pandas index column allowed) or a panel export
 *                (Step and "RUN - METRIC" columns, __MIN/__MAX ignored)
 *   tensorboard  TensorBoard's scalar download: Wall time,Step,Value
 * A header that fits none, or two, is SW_ERR_FORMAT naming the columns found
 * and the option that resolves it (a tokens column that is not first, beside
 * another tool's signature, fits two).
 *
 * Mapping. Every row with an x value is placed at
 *     tokens = round((x + e) · N)
 * N = tokens_per_step (1 when 0: the x axis counts as tokens), e = 1 for the
 * epoch column of Keras and Lightning (which number the epoch just finished
 * from 0), else 0; with x = tokens, tokens = x (a whole number). Rows with the
 * same x are one evaluation (their cells merged; of two values of one
 * column the later wins, except two of the metric: SW_ERR_FORMAT); rows
 * without the metric are dropped; x must never fall and tokens must rise.
 * The metric M (metric, else the one validation-accuracy column: val_em,
 * val_acc, val_accuracy, eval/accuracy, ...; none or several is
 * SW_ERR_FORMAT naming them) fills the column `target`, oriented:
 *     target = s · k · M,   s = -1 when M's mode (max/min) differs from
 *                           target_maximize, else +1;  k = scale
 * so a loss (mode min) read into val_em (maximized) is negated: val_em =
 * -loss, and "EM lost" is then in loss units. M also keeps its own column
 * (raw); every other numeric column comes along under its name (Keras's
 * "loss" as train_loss, a W&B panel's "RUN - METRIC" as METRIC), except axes
 * and clocks and names a stopwise CSV cannot hold (tokens, step, wall, or
 * with quotes, commas or outer spaces). step and wall come
 * from the file's step and time columns where it has them (wall in seconds
 * from the first row). For a native curve only metric/mode/scale apply (the
 * target column replaced by the oriented metric); the x options are
 * SW_ERR_INVALID there. */
typedef enum sw_curve_format {
    SW_CURVE_FORMAT_AUTO = 0, /* detect from the header */
    SW_CURVE_FORMAT_NATIVE,
    SW_CURVE_FORMAT_KERAS,
    SW_CURVE_FORMAT_LIGHTNING,
    SW_CURVE_FORMAT_MLFLOW,
    SW_CURVE_FORMAT_WANDB,
    SW_CURVE_FORMAT_TENSORBOARD
} sw_curve_format;
/* "auto", "native", "keras", "lightning", "mlflow", "wandb", "tensorboard". */
const char *sw_curve_format_name(sw_curve_format f);
/* The reverse; SW_ERR_INVALID for another name. */
sw_status sw_curve_format_parse(const char *name, sw_curve_format *out);

/* The x axis: AUTO is the format's own (keras: epoch; tensorboard, mlflow,
 * lightning, wandb: step, i.e. Step, step, step, _step or a panel's Step). */
typedef enum sw_curve_axis {
    SW_CURVE_AXIS_AUTO = 0,
    SW_CURVE_AXIS_STEP,
    SW_CURVE_AXIS_EPOCH,
    SW_CURVE_AXIS_TOKENS
} sw_curve_axis;
/* "auto", "step", "epoch", "tokens". */
const char *sw_curve_axis_name(sw_curve_axis a);
sw_status sw_curve_axis_parse(const char *name, sw_curve_axis *out);

typedef struct sw_curve_csv_options {
    sw_curve_format format;    /* AUTO: from the header */
    sw_curve_axis x;           /* AUTO: the format's own axis */
    const char *x_column;      /* the column holding x (NULL: the axis's column
                                  in that format: epoch, step, _step, Step,
                                  tokens); no epoch offset e when given */
    uint64_t tokens_per_step;  /* N above for step and epoch; 0: 1 */
    const char *metric;        /* NULL: the validation-accuracy column */
    int mode;                  /* 1 max, -1 min, 0: min for a name ending in
                                  "loss", else max */
    double scale;              /* k above; 0 means 1 */
    const char *target;        /* the column the metric fills; NULL: val_em */
    int target_maximize;       /* the target's orientation (1: larger is better) */
    const char *source_run;    /* a file holding several runs (MLflow run_id,
                                  W&B panel "RUN - METRIC"): the one to read */
} sw_curve_csv_options;
/* AUTO format and axis, N = 1, no metric, mode 0, scale 1, target val_em
 * maximized, no source run. */
void sw_curve_csv_options_default(sw_curve_csv_options *o);

/* What a read found (for messages and records). */
typedef struct sw_curve_csv_info {
    sw_curve_format format;
    char metric[256];   /* the column read as the metric ("" for a native
                           curve read without a metric option) */
    char target[64];    /* the column it filled */
    int maximize;       /* the metric's mode: 1 max, 0 min */
    int negated;        /* 1: target = -scale · metric */
    char x_column[256]; /* the column read as x ("tokens" for native) */
    sw_curve_axis x;
    size_t rows;        /* data rows in the file */
    double metric_min, metric_max; /* finite raw values of the metric
                                      (NaN when none) */
} sw_curve_csv_info;

/* Reads a curve from any of the formats above; o NULL means the defaults;
 * info (may be NULL) is filled on success. Errors as sw_curve_read_csv;
 * SW_ERR_INVALID for options that contradict each other or the file. */
sw_status sw_curve_read_csv_with(const char *path, const sw_curve_csv_options *o, sw_curve **out,
                                 sw_curve_csv_info *info, sw_error *err);
sw_status sw_curve_parse_csv_with(const char *text, size_t len, const char *name, const sw_curve_csv_options *o,
                                  sw_curve **out, sw_curve_csv_info *info, sw_error *err);
/* Writes the same format atomically (tokens,step,wall, then the metrics in
 * column order; doubles with %.17g, missing cells empty). */
sw_status sw_curve_write_csv(const sw_curve *c, const char *path, sw_error *err);
/* SW_ERR_FORMAT with "FILE:1: no column 'NAME' (...why)" unless present. */
sw_status sw_curve_require(const sw_curve *c, const char *column, const char *why, sw_error *err);

size_t sw_curve_len(const sw_curve *c);
const uint64_t *sw_curve_tokens(const sw_curve *c); /* len entries, owned by c */
const int64_t *sw_curve_steps(const sw_curve *c);
const double *sw_curve_walls(const sw_curve *c);
size_t sw_curve_n_columns(const sw_curve *c);       /* metric columns */
const char *sw_curve_column_name(const sw_curve *c, size_t i);
/* A metric column by name (NULL if absent): len values, NaN where missing or
 * not a number; present[i] (if non-NULL) tells missing (0) from NaN (1). */
const double *sw_curve_column(const sw_curve *c, const char *name, const unsigned char **present);
/* The file the curve was read from ("" if built in memory). */
const char *sw_curve_source(const sw_curve *c);

/* ---- replay ------------------------------------------------------------------- */

typedef struct sw_replay_result {
    int stopped;            /* 1: a rule fired; 0: ran to the end of the curve */
    int diverged;
    size_t stop_index;      /* 0-based evaluation where it stopped (last if not) */
    uint64_t stop_tokens;
    uint64_t end_tokens;    /* the curve's last tokens */
    sw_rule_kind stop_rule;
    char reason[SW_REASON_MAX];
    size_t best_index;      /* best by the monitored metric up to the stop */
    uint64_t best_tokens;
    double best_value;      /* the monitored metric there */
    double best_em;         /* val_em there (NaN without a val_em column) */
    double curve_best_em;   /* max val_em over the whole curve */
    uint64_t saved_tokens;  /* end_tokens - stop_tokens (the cooldown not counted) */
    double shortfall;       /* curve_best_em - score_em (EM lost) */
    /* With a cooldown (sw_policy_cooldown), scored on the curve's branches: */
    int annealed;           /* 1: the policy has a cooldown; else the fields
                               below equal their plain counterparts */
    double anneal_em;       /* val_em after the cooldown at the stop (NaN without) */
    int anneal_predicted;   /* 1: no fork at the stop; anneal_em and
                               anneal_tokens are predicted */
    uint64_t anneal_tokens; /* the cooldown's tokens at the stop (0 without) */
    uint64_t charged_tokens;/* stop_tokens + anneal_tokens */
    double score_em;        /* the EM the stop delivers: max(best_em, anneal_em) */
} sw_replay_result;

/* Replays `policy` over `curve` exactly as a live controller fed the same
 * evaluations would decide (same code path), predicting at the policy's
 * budget or else the curve's last tokens. No allocation per evaluation.
 * Errors as for sw_controller_feed, with the curve's file and line.
 *
 * Scoring. Without a cooldown: score_em = best_em (val_em at the best
 * checkpoint by the monitored metric up to the stop), charged_tokens =
 * stop_tokens, curve_best_em = max_i val_em(i), shortfall = curve_best_em -
 * score_em. With cooldown=C:shape=S the curve must carry that family's
 * branch columns (sw_anneal_column; else SW_ERR_FORMAT naming the missing
 * column). With B(k) = max_{j<=k} val_em(j), A(k) the annealed val_em and
 * a(k) the cooldown's tokens at row k, a stop at k (the last row when no rule
 * fires) scores
 *     score_em = max(best_em, A(k)),   charged_tokens = T(k) + a(k)
 * and curve_best_em = max_k max(B(k), A(k)) (the best any stop could give,
 * predicted rows included), so shortfall >= 0. At a row without a fork,
 *     A(k) = B(k) + g_p + (g_q - g_p) (T(k) - T(p)) / (T(q) - T(p)),
 *     g_j = A(j) - B(j)   (the cooldown gain at fork j),
 * p < k < q the neighbouring forks (the nearest fork's gain g outside them),
 * and a(k) = round(C · T(k)). */
sw_status sw_replay(const sw_policy *policy, const sw_curve *curve, sw_replay_result *out, sw_error *err);

/* ---- calibrated forecasts of the future maximum ---------------------------------
 *
 * What a run will reach by its horizon H: M = max_j v(j) over all its
 * evaluations up to H, forecast from the evaluations so far with an interval
 * calibrated on the task's earlier curves (split conformal prediction, Lei et
 * al. 2018). A base predictor gives a point p and a scale s on a prefix with
 * best so far b:
 *     SW_FORECAST_FIT   p = max(b, mu), s = sqrt(sd^2 + sigma^2): mu, sd the
 *                       extrapolate fit's prediction at H, sigma the noise of
 *                       one evaluation (successive differences);
 *     SW_FORECAST_GAIN  p = b, s = 1: the empirical future gain.
 * Reference prefixes at budget fractions f in [0.05, 0.95] give conformity
 * scores r = (M - p)/s; a forecast at fraction f reads the quantiles of the
 * scores nearest in f (at least 20) with the finite-sample correction:
 *     lo = max(b, p + r_(floor((m+1)a/2)) s),  hi = p + r_(ceil((m+1)(1-a/2))) s,
 * a = 1 - level. Without reference curves it falls back to p +- z sd
 * (calibrated = 0). docs/STOPPING.md has the coverage measured on real curves. */
typedef enum sw_forecast_method { SW_FORECAST_FIT = 0, SW_FORECAST_GAIN } sw_forecast_method;

typedef struct sw_forecaster sw_forecaster;

typedef struct sw_forecast {
    double best;       /* best so far */
    double mean;       /* point forecast of the future maximum (>= best) */
    double lo, hi;     /* interval at `level` (best <= lo <= hi) */
    double level;
    size_t n_scores;   /* calibration scores the interval was read from */
    int calibrated;    /* 0: no reference curves, the fit's normal interval */
} sw_forecast;

/* Learns the calibration from reference curves (full-length curves of the
 * same task; each one's last tokens is its horizon) on column `metric`
 * (maximize 0 negates it; the forecast is then of the negated metric).
 * n_refs may be 0. The curves are not kept. Free with sw_forecaster_free.
 * Errors: SW_ERR_INVALID for a level outside (0,1), SW_ERR_FORMAT when a
 * curve lacks the column. */
sw_status sw_forecaster_create(const sw_curve *const *refs, size_t n_refs, const char *metric, int maximize,
                               sw_forecast_method method, double level, sw_forecaster **out, sw_error *err);
void sw_forecaster_free(sw_forecaster *fc); /* NULL is a no-op */
size_t sw_forecaster_n_scores(const sw_forecaster *fc);
/* Forecasts from a run's first n evaluations (values oriented as at create)
 * towards `horizon` tokens. Reentrant: a forecaster may be shared by threads.
 * SW_ERR_NOT_FOUND before the first finite value. */
sw_status sw_forecaster_predict(const sw_forecaster *fc, const uint64_t *tokens, const double *values, size_t n,
                                uint64_t horizon, sw_forecast *out, sw_error *err);

/* Leave-one-curve-out check of the intervals: each curve in turn is cut at
 * `fraction` of its last tokens and forecast by a forecaster learned on the
 * others; coverage is the share whose true maximum fell inside. */
typedef struct sw_forecast_check {
    size_t n, covered;
    double coverage, mean_width, mean_abs_error;
} sw_forecast_check;
sw_status sw_forecast_coverage(const sw_curve *const *curves, size_t n_curves, const char *metric, int maximize,
                               sw_forecast_method method, double level, double fraction, sw_forecast_check *out,
                               sw_error *err);

/* The oracle on the same footing: the first row k whose score max(B(k),
 * A(k)) (B(k) alone without a cooldown) is within epsilon of curve_best_em;
 * only the policy's cooldown is read, its rules are not. Fills the same
 * fields as sw_replay (stop_index = k, stop_rule SW_RULE_NONE). */
sw_status sw_replay_oracle(const sw_policy *policy, const sw_curve *curve, double epsilon, sw_replay_result *out,
                           sw_error *err);

/* ---- branches: the cooldown families a curve carries ----------------------- */

/* The families (C, shape) of `metric` (NULL: val_em) whose two columns
 * (METRIC_annealed:c=C:shape=S and anneal_tokens:c=C:shape=S) the curve
 * has, in column order: returns how many, filling at most cap entries. */
size_t sw_curve_cooldowns(const sw_curve *c, const char *metric, double *frac, sw_cooldown_shape *shape, size_t cap);

/* How well the prediction between forks (sw_replay) predicts a fork it did
 * not see: each fork j is predicted from the others (leave one fork out),
 * e_j = predicted - measured. */
typedef struct sw_anneal_error {
    size_t n_forks;   /* forks with a finite result */
    size_t n;         /* forks predicted (0 with fewer than 2 forks) */
    double mae;       /* mean |e_j| (NaN when n = 0) */
    double rmse;      /* sqrt(mean e_j^2) */
    double bias;      /* mean e_j */
    double max_abs;   /* max |e_j| */
} sw_anneal_error;

/* Leave-one-fork-out error of family (frac, shape) of `metric` (NULL:
 * val_em) on curve c. SW_ERR_FORMAT as sw_replay for a missing family. */
sw_status sw_anneal_loo(const sw_curve *c, const char *metric, double frac, sw_cooldown_shape shape, sw_anneal_error *out,
                        sw_error *err);

#ifdef __cplusplus
}
#endif
#endif
