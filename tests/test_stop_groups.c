/* stop/: rules combined with AND (all), k-of-n (Kof) and OR (any, or the
 * plain comma list), the Keras-style warm-up that ignores evaluations, and
 * the cooldown clause, on hand-made curves worked out in the comments.
 * Tokens are 1k per evaluation, so evaluation i (1-based) has i*1000. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stop_helpers.h"
#include "stopwise/stop.h"

#define N(a) (sizeof(a) / sizeof *(a))

/* Feeds em (and vl when non-NULL); returns the 1-based evaluation that
 * stopped (0: none), the last decision in *d and the controller in *out
 * when non-NULL. */
static size_t feed(const char *policy, size_t n, const double *em, const double *vl, sw_decision *d, sw_controller **out)
{
    sw_policy *p;
    sw_error err;
    cr_assert_eq(sw_policy_parse(policy, &p, &err), SW_OK, "%s: %s", policy, err.msg);
    sw_controller *c;
    cr_assert_eq(sw_controller_create(p, 1000 * n, &c, &err), SW_OK, "%s", err.msg);
    sw_policy_free(p);
    size_t stop = 0;
    for (size_t i = 0; i < n; i++) {
        sw_metric m[2] = {{"val_em", em[i]}, {"val_loss", vl ? vl[i] : 1.0}};
        sw_eval ev = {.tokens = (i + 1) * 1000, .metrics = m, .n_metrics = 2};
        cr_assert_eq(sw_controller_feed(c, &ev, d), SW_OK, "%s", sw_controller_errmsg(c));
        if (d->stop) {
            stop = i + 1;
            break;
        }
    }
    if (out) *out = c;
    else sw_controller_free(c);
    return stop;
}

/* patience=2 on em: ref 10, 20, 30, 31 (i4); i5 ties (wait 1), i6 wait 2:
 * fires at i6; 35 at i7 resets it; i8 wait 1, i9 wait 2: fires again.
 * target=33 fires at i7, i8, i9. */
static const double em9[] = {10, 20, 30, 31, 31, 31, 35, 35, 35};
/* gl=5 on vl: E_opt 1, .9, .8, .8; i5 GL = 100(.85/.8-1) = 6.25 > 5, i6
 * 12.5, i7 18.75 fire; 0.7 at i8 is a new E_opt (GL 0), i9 GL 0. */
static const double vl9[] = {1.0, 0.9, 0.8, 0.8, 0.85, 0.9, 0.95, 0.7, 0.7};

Test(groups, all_fires_only_when_every_member_fires_at_one_evaluation)
{
    sw_decision d;
    /* OR: patience at i6. AND: i6 has patience but not target, i7 target
     * but not patience (it was reset), i9 both. */
    cr_assert_eq(feed("patience=2,target=33", N(em9), em9, NULL, &d, NULL), 6);
    cr_assert_eq(d.rule, SW_RULE_PATIENCE);
    cr_assert_eq(feed("target=33", N(em9), em9, NULL, &d, NULL), 7);
    cr_assert_eq(feed("all(patience=2,target=33)", N(em9), em9, NULL, &d, NULL), 9);
    cr_assert_eq(d.rule, SW_RULE_PATIENCE);
    cr_assert_eq(d.rule_index, 0);
    cr_assert(strstr(d.reason, "all of 2: patience: no val_em improvement > 0 for 2 evaluations"), "%s", d.reason);
    cr_assert(strstr(d.reason, "; target: val_em 35 reached 33 at 9k tokens"), "%s", d.reason);
    /* the member order does not change when it fires */
    cr_assert_eq(feed("all(target=33,patience=2)", N(em9), em9, NULL, &d, NULL), 9);
    cr_assert_eq(d.rule, SW_RULE_TARGET);
}

Test(groups, k_of_n_counts_members_firing_together)
{
    sw_decision d;
    /* fired per evaluation (patience, target, gl): i5 gl; i6 patience+gl;
     * i7 target+gl; i8 target; i9 patience+target. */
    cr_assert_eq(feed("any(patience=2,target=33,gl=5)", N(em9), em9, vl9, &d, NULL), 5);
    cr_assert_eq(d.rule, SW_RULE_GL);
    cr_assert_eq(d.rule_index, 2);
    cr_assert_eq(feed("1of(patience=2,target=33,gl=5)", N(em9), em9, vl9, &d, NULL), 5);
    cr_assert_eq(feed("2of(patience=2,target=33,gl=5)", N(em9), em9, vl9, &d, NULL), 6);
    cr_assert_eq(d.rule, SW_RULE_PATIENCE);
    cr_assert_eq(d.rule_index, 0);
    cr_assert(strstr(d.reason, "2 of 3 (2 fired): patience: "), "%s", d.reason);
    cr_assert(strstr(d.reason, "; gl: generalization loss 12.5 > 5"), "%s", d.reason);
    cr_assert_eq(feed("3of(patience=2,target=33,gl=5)", N(em9), em9, vl9, &d, NULL), 0);
    cr_assert_eq(feed("all(patience=2,target=33,gl=5)", N(em9), em9, vl9, &d, NULL), 0);
    /* terms in order: a group and a rule of its own beside it (OR) */
    cr_assert_eq(feed("3of(patience=2,target=33,gl=5),target=34", N(em9), em9, vl9, &d, NULL), 7);
    cr_assert_eq(d.rule, SW_RULE_TARGET);
    cr_assert_eq(d.rule_index, 3);
    /* a warm-up holds the whole group: at 7k nothing may fire before i7 */
    cr_assert_eq(feed("2of(patience=2,target=33,gl=5),warmup=7k", N(em9), em9, vl9, &d, NULL), 7);
}

Test(groups, warmup_ignore_drops_evaluations_not_just_firing)
{
    /* em 50 at i1 then a run that starts low and climbs. Plain warmup=2k:
     * patience sees 50 (ref), 10 wait 1, 12 wait 2 at 3k >= 2k: stops at i3
     * with the best checkpoint i1. warmup=2k:ignore: i1 (1k < 2k) is not
     * seen at all: ref 10 (i2), 12, 14 (i4); 13 wait 1, 13 wait 2 at i6. */
    static const double em[] = {50, 10, 12, 14, 13, 13, 13};
    sw_decision d;
    sw_controller *c;
    size_t bi;
    uint64_t bt;
    double bv;
    cr_assert_eq(feed("patience=2,warmup=2k", N(em), em, NULL, &d, &c), 3);
    cr_assert_eq(sw_controller_best(c, &bi, NULL, NULL), SW_OK);
    cr_assert_eq(bi, 0);
    sw_controller_free(c);
    cr_assert_eq(feed("patience=2,warmup=2k:ignore", N(em), em, NULL, &d, &c), 6);
    cr_assert_eq(sw_controller_best(c, &bi, &bt, &bv), SW_OK);
    cr_assert_eq(bi, 3);
    cr_assert_eq(bt, 4000);
    cr_assert_float_eq(bv, 14, 0);
    cr_assert_eq(sw_controller_count(c), 6, "ignored evaluations still count as fed");
    sw_controller_free(c);
    /* before the first evaluation past it there is no best at all */
    cr_assert_eq(feed("patience=2,warmup=3k:ignore", 2, em, NULL, &d, &c), 0);
    cr_assert_eq(sw_controller_best(c, NULL, NULL, NULL), SW_ERR_NOT_FOUND);
    sw_controller_free(c);
    /* a NaN during the ignored warm-up still stops a policy with diverge */
    static const double bad[] = {10, NAN, 12};
    cr_assert_eq(feed("patience=2,diverge,warmup=3k:ignore", N(bad), bad, NULL, &d, NULL), 2);
    cr_assert(d.diverged);
    cr_assert_eq(feed("patience=2,warmup=3k:ignore", N(bad), bad, NULL, &d, NULL), 0);
}

Test(groups, replay_and_resume_agree_with_a_live_feed)
{
    static const char *pols[] = {"2of(patience=2,target=33,gl=5)", "all(patience=2,target=33),diverge",
                                 "patience=2,warmup=3k:ignore", "any(gl=5,target=35),warmup=2k:ignore"};
    sw_curve *cv;
    cr_assert_eq(sw_curve_create(&cv, NULL), SW_OK);
    for (size_t i = 0; i < N(em9); i++) {
        sw_metric m[2] = {{"val_em", em9[i]}, {"val_loss", vl9[i]}};
        sw_eval ev = {.tokens = (i + 1) * 1000, .metrics = m, .n_metrics = 2};
        cr_assert_eq(sw_curve_append(cv, &ev, NULL), SW_OK);
    }
    for (size_t k = 0; k < N(pols); k++) {
        sw_decision d;
        sw_controller *live;
        size_t s = feed(pols[k], N(em9), em9, vl9, &d, &live);
        sw_policy *p;
        cr_assert_eq(sw_policy_parse(pols[k], &p, NULL), SW_OK);
        sw_replay_result r;
        sw_error err;
        cr_assert_eq(sw_replay(p, cv, &r, &err), SW_OK, "%s", err.msg);
        cr_assert_eq(r.stopped, s > 0, "%s", pols[k]);
        cr_assert_eq(r.stop_index + 1, s ? s : N(em9), "%s", pols[k]);
        size_t bi;
        cr_assert_eq(sw_controller_best(live, &bi, NULL, NULL), SW_OK);
        cr_assert_eq(r.best_index, bi, "%s", pols[k]);
        sw_controller_free(live);
        /* save after 4 evaluations, restore, feed the rest: same stop */
        sw_controller *a;
        cr_assert_eq(sw_controller_create(p, 9000, &a, NULL), SW_OK);
        size_t s2 = 0;
        for (size_t i = 0; i < N(em9) && !s2; i++) {
            if (i == 4) {
                size_t len = sw_controller_save(a, NULL, 0);
                char *blob = malloc(len + 1);
                sw_controller_save(a, blob, len + 1);
                cr_assert(strstr(blob, "policy "), "%s", blob);
                sw_controller_free(a);
                cr_assert_eq(sw_controller_restore(blob, len, &a, &err), SW_OK, "%s", err.msg);
                free(blob);
            }
            sw_metric m[2] = {{"val_em", em9[i]}, {"val_loss", vl9[i]}};
            sw_eval ev = {.tokens = (i + 1) * 1000, .metrics = m, .n_metrics = 2};
            cr_assert_eq(sw_controller_feed(a, &ev, &d), SW_OK);
            if (d.stop) s2 = i + 1;
        }
        cr_assert_eq(s2, s, "%s: resumed %zu, live %zu", pols[k], s2, s);
        sw_controller_free(a);
        sw_policy_free(p);
    }
    sw_curve_free(cv);
}

Test(groups, text_round_trips_and_accessors)
{
    static const char *texts[] = {
        "all(patience=5,gain=0.1)",
        "all(patience=5,gain=0.1),diverge",
        "2of(patience=5:min_delta=0.1,gl=5,gain=0.2:window=3),warmup=1M:ignore",
        "any(target=90,patience=3),all(gl=2,up=2:k=3),cooldown=0.1:shape=sqrt",
        "patience=3,cooldown=0.2",
        "cooldown=0.05:shape=linear",
    };
    sw_test_policy_round_trips(texts, sizeof texts / sizeof *texts);
    sw_policy *p;
    cr_assert_eq(sw_policy_parse("gain=1,2of(patience=5,gl=5,target=9),diverge,warmup=1M:ignore,cooldown=0.1:shape=sqrt",
                                 &p, NULL), SW_OK);
    cr_assert_eq(sw_policy_n_rules(p), 5);
    cr_assert_eq(sw_policy_n_groups(p), 1);
    cr_assert_eq(sw_policy_rule_group(p, 0), -1);
    cr_assert_eq(sw_policy_rule_group(p, 1), 0);
    cr_assert_eq(sw_policy_rule_group(p, 3), 0);
    cr_assert_eq(sw_policy_rule_group(p, 4), -1);
    size_t first, count, need;
    cr_assert(sw_policy_group(p, 0, &first, &count, &need));
    cr_assert_eq(first, 1);
    cr_assert_eq(count, 3);
    cr_assert_eq(need, 2);
    cr_assert_not(sw_policy_group(p, 1, NULL, NULL, NULL));
    cr_assert(sw_policy_warmup_ignores(p));
    cr_assert_eq(sw_policy_warmup(p), 1000000);
    double c;
    sw_cooldown_shape sh;
    cr_assert(sw_policy_cooldown(p, &c, &sh));
    cr_assert_float_eq(c, 0.1, 0);
    cr_assert_eq(sh, SW_COOLDOWN_SQRT);
    sw_policy_free(p);
    cr_assert_eq(sw_policy_parse("patience=2,warmup=1M", &p, NULL), SW_OK);
    cr_assert_not(sw_policy_warmup_ignores(p));
    cr_assert_not(sw_policy_cooldown(p, &c, &sh));
    sw_policy_free(p);
    cr_assert_eq(sw_policy_parse("cooldown=0.2", &p, NULL), SW_OK);
    cr_assert(sw_policy_cooldown(p, &c, &sh));
    cr_assert_eq(sh, SW_COOLDOWN_LINEAR);
    cr_assert_eq(sw_policy_n_rules(p), 0);
    sw_policy_free(p);
    char col[128];
    sw_anneal_column("val_em", 0.1, SW_COOLDOWN_LINEAR, col, sizeof col);
    cr_assert_str_eq(col, "val_em_annealed:c=0.1:shape=linear");
    sw_anneal_column(NULL, 0.05, SW_COOLDOWN_SQRT, col, sizeof col);
    cr_assert_str_eq(col, "anneal_tokens:c=0.05:shape=sqrt");
}

static void bad(const char *text, const char *part)
{
    sw_policy *p;
    sw_error err;
    cr_assert_eq(sw_policy_parse(text, &p, &err), SW_ERR_INVALID, "'%s' parsed", text);
    cr_assert(strstr(err.msg, part), "'%s': message '%s' lacks '%s'", text, err.msg, part);
}

Test(groups, parse_errors_point_at_the_bad_part)
{
    bad("all()", "empty group");
    bad("all(patience=5", "never closed");
    bad("patience=5)", "')' without its '('");
    bad("3of(patience=5,gl=2)", "3of needs at least 3 rules; the group has 2");
    bad("0of(patience=5)", "unknown group");
    bad("xof(patience=5)", "unknown group");
    bad("most(patience=5)", "unknown group");
    bad("all(diverge,patience=5)", "diverge cannot be inside a group");
    bad("all(warmup=1M)", "warmup is a global; it cannot be inside a group");
    bad("all(patience=5,any(gl=5))", "groups do not nest");
    bad("all(patience=5,,gl=5)", "empty rule in a group");
    bad("all(patience=5)x", "a group ends with ')'");
    bad("all(patience=x)", "policy character 14 ('x' in 'patience=x')");
    bad("cooldown=0", "cooldown needs a fraction of the tokens so far in (0, 1]");
    bad("cooldown=1.5", "in (0, 1]");
    bad("cooldown", "cooldown needs a fraction");
    bad("cooldown=0.1:shape=cos", "shape must be linear or sqrt");
    bad("cooldown=0.1:c=2", "cooldown's only option is shape");
    bad("cooldown=0.1,cooldown=0.2", "cooldown given twice");
    bad("warmup=1M:foo", "warmup's only option is ignore");
    bad("warmup=0:ignore", "ignores nothing");
}
