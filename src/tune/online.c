/* Online mode: a ladder of policies walked one audit at a time (tune.h).
 * The reasoning: a policy tuned once drifts out of date as data and models
 * change; re-tuning needs full-budget curves, and audits are exactly those,
 * at a cost of one full run in N. A good audit that the next, more aggressive
 * level would also have passed earns a step up; a bad audit costs two steps
 * and a ceiling, so the ladder does not oscillate around a level that fails. */
#include "stopwise/tune.h"
#include "data/json_num.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int ladder_p[] = {30, 20, 15, 10, 8, 6, 5, 4, 3, 2};

void sw_online_init(sw_online_state *s, uint64_t budget, int audit_every, double epsilon)
{
    memset(s, 0, sizeof *s);
    s->n_ladder = (int)(sizeof ladder_p / sizeof *ladder_p);
    for (int i = 0; i < s->n_ladder; i++) {
        if (budget)
            snprintf(s->ladder[i], sizeof s->ladder[i], "patience=%d,diverge,warmup=%llu", ladder_p[i],
                     (unsigned long long)(budget / 10));
        else
            snprintf(s->ladder[i], sizeof s->ladder[i], "patience=%d,diverge", ladder_p[i]);
    }
    s->level = 0;
    s->ceiling = s->n_ladder - 1;
    s->ceiling_audits = 3;
    s->audit_every = audit_every > 0 ? audit_every : 4;
    s->epsilon = epsilon >= 0 ? epsilon : 0.5;
}

void sw_online_next(sw_online_state *s, char *policy, size_t plen, int *audit)
{
    *audit = s->audit_every > 0 && s->runs % s->audit_every == 0;
    snprintf(policy, plen, "%s", *audit ? "none" : s->ladder[s->level]);
    s->runs++;
}

void sw_online_apply(sw_online_state *s, double s_cur, double s_next, double tokens_fraction)
{
    int before = s->level;
    if (!(s_cur <= s->epsilon)) { /* NaN counts as bad */
        s->ceiling = s->level > 0 ? s->level - 1 : 0;
        s->level = s->level >= 2 ? s->level - 2 : 0;
        s->good_streak = 0;
    } else {
        s->good_streak++;
        if (s->good_streak >= s->ceiling_audits && s->ceiling < s->n_ladder - 1) {
            s->ceiling++; /* a run of good audits lifts the ceiling one step */
            s->good_streak = 0;
        }
        if (s->level + 1 <= s->ceiling && s->level + 1 < s->n_ladder && s_next <= s->epsilon) s->level++;
    }
    if (s->n_history == SW_ONLINE_MAX_HISTORY) {
        memmove(s->history, s->history + 1, (SW_ONLINE_MAX_HISTORY - 1) * sizeof *s->history);
        s->n_history--;
    }
    sw_online_audit *a = &s->history[s->n_history++];
    a->run = s->runs - 1;
    a->level_before = before;
    a->level_after = s->level;
    a->shortfall = s_cur;
    a->next_shortfall = s_next;
    a->tokens_fraction = tokens_fraction;
}

static sw_status replay_text(const char *text, const sw_curve *c, sw_replay_result *r, sw_error *err)
{
    sw_policy *p;
    sw_status st = sw_policy_parse(text, &p, err);
    if (st) return st;
    st = sw_replay(p, c, r, err);
    sw_policy_free(p);
    return st;
}

sw_status sw_online_audit_curve(sw_online_state *s, const sw_curve *curve, uint64_t budget, sw_error *err)
{
    sw_status st = sw_curve_require(curve, "val_em", "an audit measures EM lost", err);
    if (st) return st;
    sw_replay_result cur, next;
    if ((st = replay_text(s->ladder[s->level], curve, &cur, err))) return st;
    double s_next = NAN;
    if (s->level + 1 < s->n_ladder) {
        if ((st = replay_text(s->ladder[s->level + 1], curve, &next, err))) return st;
        s_next = next.shortfall;
    }
    double b = budget ? (double)budget : (double)cur.end_tokens;
    sw_online_apply(s, cur.shortfall, s_next, b > 0 ? (double)cur.charged_tokens / b : NAN);
    return SW_OK;
}

/* Runs counted by an online state: far beyond any store's life, and low
 * enough that counting on and rounding to the next audit cannot overflow. */
#define SW_ONLINE_MAX_RUNS (INT64_C(1) << 62)

/* An integer field in [lo, hi]; absent reads as 0 (as before), anything else
 * outside the range sets *bad. */
static long long int_get(json_t *o, const char *k, long long lo, long long hi, int *bad)
{
    json_t *x = json_object_get(o, k);
    long long v = x ? (json_is_integer(x) ? (long long)json_integer_value(x) : lo - 1) : 0;
    if (v < lo || v > hi) {
        *bad = 1;
        return lo;
    }
    return v;
}

char *sw_online_to_json(const sw_online_state *s)
{
    json_t *o = json_object(), *lad = json_array(), *hist = json_array();
    if (!o || !lad || !hist) {
        json_decref(o);
        json_decref(lad);
        json_decref(hist);
        return NULL;
    }
    json_object_set_new(o, "version", json_integer(1));
    for (int i = 0; i < s->n_ladder; i++) json_array_append_new(lad, json_string(s->ladder[i]));
    json_object_set_new(o, "ladder", lad);
    json_object_set_new(o, "level", json_integer(s->level));
    json_object_set_new(o, "policy", json_string(s->ladder[s->level]));
    json_object_set_new(o, "ceiling", json_integer(s->ceiling));
    json_object_set_new(o, "good_streak", json_integer(s->good_streak));
    json_object_set_new(o, "ceiling_audits", json_integer(s->ceiling_audits));
    json_object_set_new(o, "runs", json_integer(s->runs));
    json_object_set_new(o, "audit_every", json_integer(s->audit_every));
    json_object_set_new(o, "epsilon", sw_json_num(s->epsilon));
    for (int i = 0; i < s->n_history; i++) {
        const sw_online_audit *a = &s->history[i];
        json_t *x = json_object();
        json_object_set_new(x, "run", json_integer(a->run));
        json_object_set_new(x, "level_before", json_integer(a->level_before));
        json_object_set_new(x, "level_after", json_integer(a->level_after));
        json_object_set_new(x, "shortfall", sw_json_num(a->shortfall));
        json_object_set_new(x, "next_shortfall", sw_json_num(a->next_shortfall));
        json_object_set_new(x, "tokens_fraction", sw_json_num(a->tokens_fraction));
        json_array_append_new(hist, x);
    }
    json_object_set_new(o, "audits", hist);
    char *txt = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(o);
    return txt;
}

sw_status sw_online_from_json(const char *text, sw_online_state *s, sw_error *err)
{
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    memset(s, 0, sizeof *s);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return sw_error_set(err, SW_ERR_FORMAT, "online state: line %d: %s; expected a JSON object", je.line, je.text);
    }
    sw_status st = SW_OK;
    json_t *lad = json_object_get(o, "ladder");
    if (!json_is_array(lad) || json_array_size(lad) == 0 || json_array_size(lad) > SW_ONLINE_MAX_LADDER) {
        st = sw_error_set(err, SW_ERR_FORMAT, "online state: 'ladder' must be an array of 1 to %d policies",
                          SW_ONLINE_MAX_LADDER);
        goto done;
    }
    s->n_ladder = (int)json_array_size(lad);
    for (int i = 0; i < s->n_ladder; i++) {
        const char *t = json_string_value(json_array_get(lad, (size_t)i));
        if (!t || strlen(t) >= sizeof s->ladder[i]) {
            st = sw_error_set(err, SW_ERR_FORMAT, "online state: ladder[%d] is not a policy text", i);
            goto done;
        }
        strcpy(s->ladder[i], t);
    }
    /* every integer is range-checked before it is narrowed: runs and levels
     * are incremented and used as ladder indices later */
    int bad = 0, top = s->n_ladder - 1;
    s->level = (int)int_get(o, "level", 0, top, &bad);
    s->ceiling = (int)int_get(o, "ceiling", 0, top, &bad);
    s->good_streak = (int)int_get(o, "good_streak", 0, INT_MAX, &bad);
    s->ceiling_audits = (int)int_get(o, "ceiling_audits", 1, INT_MAX, &bad);
    s->runs = (int64_t)int_get(o, "runs", 0, SW_ONLINE_MAX_RUNS, &bad);
    s->audit_every = (int)int_get(o, "audit_every", 1, INT_MAX, &bad);
    s->epsilon = sw_json_num_get(json_object_get(o, "epsilon"), NULL);
    if (bad || !(s->epsilon >= 0)) {
        st = sw_error_set(err, SW_ERR_FORMAT,
                          "online state: level, ceiling, good_streak, ceiling_audits, runs, audit_every or epsilon out of range");
        goto done;
    }
    json_t *hist = json_object_get(o, "audits");
    size_t nh = json_is_array(hist) ? json_array_size(hist) : 0;
    size_t skip = nh > SW_ONLINE_MAX_HISTORY ? nh - SW_ONLINE_MAX_HISTORY : 0;
    for (size_t i = skip; i < nh; i++) {
        json_t *x = json_array_get(hist, i);
        sw_online_audit *a = &s->history[s->n_history++];
        a->run = (int64_t)int_get(x, "run", -1, SW_ONLINE_MAX_RUNS, &bad); /* -1: applied before any run */
        a->level_before = (int)int_get(x, "level_before", 0, top, &bad);
        a->level_after = (int)int_get(x, "level_after", 0, top, &bad);
        if (bad) {
            st = sw_error_set(err, SW_ERR_FORMAT, "online state: audit %zu: run or level out of range", i);
            goto done;
        }
        a->shortfall = sw_json_num_get(json_object_get(x, "shortfall"), NULL);
        a->next_shortfall = sw_json_num_get(json_object_get(x, "next_shortfall"), NULL);
        a->tokens_fraction = sw_json_num_get(json_object_get(x, "tokens_fraction"), NULL);
    }
done:
    json_decref(o);
    return st;
}

/* One read-modify-write of a task's online state, run by the store inside one
 * transaction that holds the state's row lock (sw_store_state_update), so two
 * concurrent online runs of one task never lose each other's run or audit.
 * The store may call step() again after a lock conflict; every attempt starts
 * from the text it is given, so only the last attempt's results remain. */
typedef struct online_step {
    uint64_t budget;
    int audit_every;
    double epsilon;
    const sw_curve *curve; /* record: the audited curve; begin: NULL */
    /* results of the last attempt */
    sw_online_state s;
    int fresh, audit;
    int64_t run;
    char policy[256];
    sw_status st;
    sw_error err;
} online_step;

static sw_status step(const char *current, char **next, void *user_data)
{
    online_step *c = user_data;
    sw_online_state *s = &c->s;
    c->fresh = !current;
    c->st = SW_OK;
    if (!current) sw_online_init(s, c->budget, c->audit_every, c->epsilon);
    else if ((c->st = sw_online_from_json(current, s, &c->err))) return c->st;
    if (c->curve) {
        if ((c->st = sw_online_audit_curve(s, c->curve, c->budget, &c->err))) return c->st;
    } else {
        c->run = s->runs;
        sw_online_next(s, c->policy, sizeof c->policy, &c->audit);
    }
    if (!(*next = sw_online_to_json(s)))
        return c->st = sw_error_set(&c->err, SW_ERR_NOMEM, "online state: out of memory");
    return SW_OK;
}

static sw_status update(sw_store *store, const char *key, online_step *c, sw_error *err)
{
    sw_status st = sw_store_state_update(store, key, step, c);
    if (st && c->st) return sw_error_set(err, c->st, "%s", c->err.msg);
    if (st) return sw_error_set(err, st, "store: %s", sw_store_errmsg(store));
    return SW_OK;
}

sw_status sw_online_begin(sw_store *store, const char *task_key, uint64_t budget, int audit_every, double epsilon,
                          char *policy, size_t plen, int *audit, char *why, size_t wlen, sw_error *err)
{
    if (!store) return sw_error_set(err, SW_ERR_INVALID, "online mode keeps its state in the store; it needs one (drop --no-store)");
    online_step *c = calloc(1, sizeof *c); /* the state is ~20 kB: not on the caller's stack twice */
    if (!c) return sw_error_set(err, SW_ERR_NOMEM, "online state: out of memory");
    c->budget = budget;
    c->audit_every = audit_every;
    c->epsilon = epsilon;
    sw_status st = update(store, task_key, c, err);
    if (st) {
        free(c);
        return st;
    }
    const sw_online_state *sp = &c->s;
    int64_t run = c->run;
    int fresh = c->fresh;
    *audit = c->audit;
    snprintf(policy, plen, "%s", c->policy);
    if (*audit)
        snprintf(why, wlen,
                 "online run %lld for task %s%s: an audit, trained to the full budget; the current policy %s "
                 "(level %d of %d) is scored on its curve",
                 (long long)run, task_key, fresh ? " (new online state)" : "", sp->ladder[sp->level], sp->level + 1,
                 sp->n_ladder);
    else
        snprintf(why, wlen, "online run %lld for task %s: policy %s (level %d of %d; next audit at run %lld)",
                 (long long)run, task_key, policy, sp->level + 1, sp->n_ladder,
                 (long long)((run / sp->audit_every + 1) * sp->audit_every));
    free(c);
    return SW_OK;
}

sw_status sw_online_record(sw_store *store, const char *task_key, const sw_curve *curve, uint64_t budget,
                           char *why, size_t wlen, sw_error *err)
{
    if (!store) return sw_error_set(err, SW_ERR_INVALID, "online mode keeps its state in the store; it needs one");
    online_step *c = calloc(1, sizeof *c);
    if (!c) return sw_error_set(err, SW_ERR_NOMEM, "online state: out of memory");
    c->budget = budget;
    c->audit_every = 4;
    c->epsilon = 0.5;
    c->curve = curve;
    sw_status st = update(store, task_key, c, err);
    if (st) {
        free(c);
        return st;
    }
    const sw_online_state *sp = &c->s;
    const sw_online_audit *a = &sp->history[sp->n_history - 1];
    sw_snprintf(why, wlen, "audit: stopping with %s would have used %.0f%% of the budget and lost %.3g EM points "
             "(epsilon %.3g); level %d -> %d, next policy %s",
             sp->ladder[a->level_before], 100 * a->tokens_fraction, a->shortfall, sp->epsilon, a->level_before + 1,
             a->level_after + 1, sp->ladder[sp->level]);
    free(c);
    return SW_OK;
}
