/* Private to stop/: the policy, rule and controller layouts shared by the
 * parser, the controller, its serializer and replay. */
#ifndef SW_STOP_INTERNAL_H
#define SW_STOP_INTERNAL_H

#include "stopwise/stop.h"

#include <stddef.h>
#include <stdint.h>

#define SW_POLICY_MAX_RULES 16
#define SW_METRIC_NAME_MAX 64
#define SW_STRIP_MAX 1000 /* largest k for pq/up and window for gain */

/* Option bits: which options were written (formatting prints only those). */
enum {
    SW_OPT_MIN_DELTA = 1u << 0,
    SW_OPT_K = 1u << 1,
    SW_OPT_WINDOW = 1u << 2,
    SW_OPT_Z = 1u << 3,
    SW_OPT_MIN_POINTS = 1u << 4,
    SW_OPT_AT = 1u << 5,
    SW_OPT_MAX = 1u << 6,
    SW_OPT_FACTOR = 1u << 7,
    SW_OPT_ON = 1u << 8
};

typedef struct sw_rule {
    sw_rule_kind kind;
    double value;          /* patience P, target V, gl/pq alpha, up S, gain G, extrapolate DELTA */
    double min_delta;      /* patience */
    int relative;          /* patience: min_delta is a percentage */
    int k;                 /* pq, up: strip length in evaluations */
    int window;            /* gain */
    double z;              /* extrapolate */
    int min_points;        /* extrapolate */
    uint64_t at;           /* extrapolate horizon (0: policy/run budget) */
    double max_loss;       /* diverge (set bit SW_OPT_MAX) */
    double factor;         /* diverge (set bit SW_OPT_FACTOR) */
    char on[SW_METRIC_NAME_MAX]; /* diverge: the loss it watches */
    unsigned set;          /* SW_OPT_* written in the text */
    int group;             /* 0: a term of its own; g+1: a member of groups[g] */
} sw_rule;

#define SW_POLICY_MAX_GROUPS 8

/* How a group was written: all(...), any(...) or Kof(...). */
enum { SW_GROUP_ALL, SW_GROUP_ANY, SW_GROUP_KOF };

/* A group of rules that fires when at least `need` of its members fire at
 * the same evaluation. Members are rules[first .. first+count-1]. */
typedef struct sw_rule_group {
    int form;
    int need;
    int first, count;
} sw_rule_group;

struct sw_policy {
    char monitor[SW_METRIC_NAME_MAX];
    int maximize;
    int monitor_set, mode_set; /* written explicitly (for formatting) */
    uint64_t warmup, budget, every;
    int warmup_ignore;     /* warmup=N:ignore: evaluations before N are ignored */
    double cooldown;       /* cooldown=C: fraction of the tokens so far; 0: none */
    int cooldown_shape;    /* sw_cooldown_shape */
    int cooldown_shape_set;
    int n_rules;
    sw_rule rules[SW_POLICY_MAX_RULES];
    int n_groups;
    sw_rule_group groups[SW_POLICY_MAX_GROUPS];
};

/* Per-rule running state; every field is serialized. */
typedef struct sw_rule_state {
    double ref;            /* patience reference; diverge best loss; gl/pq E_opt */
    int have_ref;
    long wait;             /* patience: evaluations without improvement */
    uint64_t since;        /* patience: tokens of the last improvement */
    double ref_value;      /* patience: v at that improvement (as monitored) */
    double last_strip;     /* up: E_va at the previous strip end */
    int have_strip;
    long rises;            /* up: successive strip-end rises */
    /* extrapolate: warm-start parameters per family and their validity */
    uint64_t horizon;      /* extrapolate: tokens it predicts at */
    double theta[3][3];
    int theta_ok[3];
} sw_rule_state;

/* The values an evaluation carries, resolved by name once (feed) or by
 * column (replay), so both paths run the same core. */
enum { SW_SLOT_MONITOR, SW_SLOT_VAL_LOSS, SW_SLOT_TRAIN_LOSS, SW_SLOT_DIVERGE, SW_SLOT_N };
typedef struct sw_point {
    uint64_t tokens;
    double v[SW_SLOT_N];
    unsigned present; /* bit s set when slot s was given */
} sw_point;

struct sw_controller {
    sw_policy policy;
    uint64_t budget;     /* from create */
    uint64_t horizon;    /* extrapolate horizon, 0 if no extrapolate rule */
    char diverge_on[SW_METRIC_NAME_MAX]; /* the loss name of the first diverge rule */
    int stopped;
    size_t n, cap;
    /* history, n entries: tokens, oriented monitored value (larger is
     * better), validation and training loss (for Prechelt's strips) */
    uint64_t *tokens;
    double *mon;     /* oriented */
    double *best;    /* oriented best so far, -inf before the first finite */
    double *vloss, *tloss;
    double *scr_t, *scr_y; /* extrapolate scratch, cap entries */
    size_t best_index;
    int have_best;
    double pred_mean, pred_sd; /* original units */
    int have_pred;
    sw_rule_state rs[SW_POLICY_MAX_RULES];
    char errmsg[1024];
};

/* What a rule sees of the evaluation just appended to the history. */
typedef struct sw_rule_ctx {
    sw_controller *c;
    const sw_point *pt;
    size_t n;      /* its 0-based index in the history */
    size_t i;      /* n + 1: the 1-based evaluation number, as in Prechelt */
    double sign;   /* +1 mode max, -1 mode min */
    double v;      /* the oriented monitored value (larger is better) */
    double best;   /* the oriented best so far (-inf before the first finite) */
    double L;      /* the loss diverge watches (NAN if none), have_L if given */
    int have_L;
} sw_rule_ctx;

/* Updates rule r's state for the evaluation and says whether it fires: 0
 * no, 1 yes (subject to the warm-up), 2 yes whatever the warm-up (diverge's
 * non-finite check). The reason goes into reason (cap bytes). rules.c. */
int sw_rule_eval(const sw_rule_ctx *x, const sw_rule *r, sw_rule_state *s, char *reason, size_t cap);

/* One cooldown family of a curve, opened for scoring (anneal.c). */
typedef struct sw_anneal_family {
    const sw_curve *curve;
    double frac;
    size_t n, n_forks;
    const uint64_t *tokens;
    const double *base;                 /* the metric itself (val_em) */
    const double *em, *tok;             /* the branch columns */
    const unsigned char *em_present, *tok_present;
} sw_anneal_family;

/* Opens the family (c, shape) of `metric`: SW_ERR_FORMAT naming the missing
 * column, or a column without any fork result. */
sw_status sw_anneal_family_open(const sw_curve *c, const char *metric, double frac, sw_cooldown_shape shape,
                                sw_anneal_family *f, sw_error *err);
/* 1 if row k holds a finite branch result (and k != skip). */
int sw_anneal_is_fork(const sw_anneal_family *f, size_t k, size_t skip);
/* The annealed value predicted at row k from the forks other than `skip`:
 * best so far at k plus the cooldown gain (annealed - best so far at the
 * fork) interpolated linearly in tokens between the neighbouring forks, the
 * nearest fork's gain outside them. NAN without forks or a finite best. */
double sw_anneal_predict(const sw_anneal_family *f, size_t k, size_t skip);

/* Row k's annealed value and cooldown tokens (measured at a fork, else
 * predicted as sw_anneal_predict, tokens round(C x T_k)) for rows 0, 1, 2,
 * ... in one O(n) pass (replay). */
typedef struct sw_anneal_scan {
    const sw_anneal_family *f;
    size_t k;             /* the next row */
    double b;             /* best so far through row k-1 */
    size_t p, q;          /* previous and next fork ((size_t)-1: none) */
    double gp, gq, bq;    /* their gains; best so far at q */
} sw_anneal_scan;
void sw_anneal_scan_init(const sw_anneal_family *f, sw_anneal_scan *s);
void sw_anneal_scan_next(sw_anneal_scan *s, double *em, uint64_t *tokens, int *predicted);

/* Grows the history to hold at least `cap` evaluations. */
sw_status sw_controller_reserve(sw_controller *c, size_t cap);
/* The shared core: validates, updates and decides. `where` prefixes error
 * messages (e.g. "curve.csv:7: "). */
sw_status sw_controller_feed_point(sw_controller *c, const sw_point *pt, const char *where, sw_decision *out);
/* Extrapolation: fits the families to (t, y), n points, warm-starting from
 * and updating theta; returns 1 with mean/sd of the combined prediction at
 * t = 1 (t already divided by the horizon), else 0. */
int sw_extrapolate_fit(const double *t, const double *y, size_t n, double theta[3][3], int theta_ok[3],
                       double *mean, double *sd);

#endif
