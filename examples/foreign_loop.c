/* A training loop that is not stopwise's: logistic regression by SGD on a
 * synthetic two-class problem, stopped by a stopwise policy. It links only
 * libstopwise_stop and shows the whole controller API:
 *
 *   parse a policy -> create a controller -> feed an evaluation after each
 *   epoch -> keep the best checkpoint -> save the controller state midway and
 *   restore it (as a resumed job would) -> stop when told, restore the best.
 *
 * One "token" is one training example seen (the tabular convention). EM is
 * the validation accuracy in percent. Exit code 0 when the run stopped
 * before its budget, the restored controller decided exactly as the one
 * never saved would have (both are fed every later evaluation and compared,
 * and their saved states are compared byte for byte at the end), and the
 * best checkpoint was restored; 1 otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/stop.h"

#define D 20       /* features */
#define NTRAIN 2000
#define NVAL 500
#define EPOCHS 200 /* the budget: 200 epochs of 2000 examples = 400k tokens */

static uint64_t lcg = 12345;
static double uniform(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg >> 11) / 9007199254740992.0;
}
static double gauss(void) { return sqrt(-2 * log(uniform() + 1e-300)) * cos(6.283185307179586 * uniform()); }

static void make_data(double (*x)[D], int *y, int n, const double *w_true)
{
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < D; j++) s += (x[i][j] = gauss()) * w_true[j];
        y[i] = (s + 0.8 * gauss()) > 0; /* label noise: the best accuracy is < 100 */
    }
}

static double sigmoid(double z) { return 1 / (1 + exp(-z)); }

/* mean log loss and accuracy (percent) of weights w on a set */
static void evaluate(const double *w, double (*x)[D], const int *y, int n, double *loss, double *acc)
{
    double l = 0;
    int ok = 0;
    for (int i = 0; i < n; i++) {
        double z = w[D];
        for (int j = 0; j < D; j++) z += w[j] * x[i][j];
        double p = sigmoid(z);
        l -= y[i] ? log(p + 1e-12) : log(1 - p + 1e-12);
        ok += (p > 0.5) == y[i];
    }
    *loss = l / n;
    *acc = 100.0 * ok / n;
}

int main(void)
{
    static double xtr[NTRAIN][D], xva[NVAL][D];
    static int ytr[NTRAIN], yva[NVAL];
    double w_true[D];
    for (int j = 0; j < D; j++) w_true[j] = gauss();
    make_data(xtr, ytr, NTRAIN, w_true);
    make_data(xva, yva, NVAL, w_true);

    const char *text = "patience=10:min_delta=0.1,gain=0.5:window=10,diverge,warmup=20k";
    sw_policy *policy;
    sw_error err;
    if (sw_policy_parse(text, &policy, &err) != SW_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const uint64_t budget = (uint64_t)EPOCHS * NTRAIN;
    sw_controller *ctl;
    if (sw_controller_create(policy, budget, &ctl, &err) != SW_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    sw_policy_free(policy); /* the controller keeps its own copy */

    double w[D + 1] = {0}, best_w[D + 1] = {0};
    uint64_t tokens = 0;
    sw_decision dec = {0};
    int epoch, resumed = 0, same = 1;
    sw_controller *twin = NULL; /* the controller never saved, fed beside the restored one */
    for (epoch = 1; epoch <= EPOCHS; epoch++) {
        double lr = 0.0005, train_loss = 0; /* small on purpose: a slow climb to watch */
        for (int i = 0; i < NTRAIN; i++) {
            double z = w[D];
            for (int j = 0; j < D; j++) z += w[j] * xtr[i][j];
            double p = sigmoid(z), g = p - ytr[i];
            train_loss -= ytr[i] ? log(p + 1e-12) : log(1 - p + 1e-12);
            for (int j = 0; j < D; j++) w[j] -= lr * g * xtr[i][j];
            w[D] -= lr * g;
        }
        tokens += NTRAIN;
        double val_loss, val_em;
        evaluate(w, xva, yva, NVAL, &val_loss, &val_em);
        sw_metric m[] = {{"val_em", val_em}, {"val_loss", val_loss}, {"train_loss", train_loss / NTRAIN}};
        sw_eval ev = {.tokens = tokens, .step = (int64_t)epoch * NTRAIN, .wall = 0, .metrics = m, .n_metrics = 3};
        if (sw_controller_feed(ctl, &ev, &dec) != SW_OK) {
            fprintf(stderr, "feed: %s\n", sw_controller_errmsg(ctl));
            return 1;
        }
        if (twin) { /* the state check: the restored controller decides as the original does */
            sw_decision d2;
            if (sw_controller_feed(twin, &ev, &d2) != SW_OK) {
                fprintf(stderr, "feed: %s\n", sw_controller_errmsg(twin));
                return 1;
            }
            if (d2.stop != dec.stop || d2.rule != dec.rule || strcmp(d2.reason, dec.reason)) {
                fprintf(stderr, "epoch %d: the restored controller decided otherwise (%d '%s' vs %d '%s')\n", epoch,
                        dec.stop, dec.reason, d2.stop, d2.reason);
                same = 0;
            }
        }
        size_t best_index;
        if (sw_controller_best(ctl, &best_index, NULL, NULL) == SW_OK && best_index == sw_controller_count(ctl) - 1)
            memcpy(best_w, w, sizeof w); /* this evaluation is the best: checkpoint it */
        fprintf(stderr, "epoch %3d  tokens %6llu  train_loss %.4f  val_loss %.4f  val_em %.1f\n", epoch,
                (unsigned long long)tokens, train_loss / NTRAIN, val_loss, val_em);
        if (dec.stop) break;
        if (epoch == 10) {
            /* a resumable job saves the controller with its checkpoint and
             * restores it after a restart; decisions continue identically */
            size_t len = sw_controller_save(ctl, NULL, 0);
            char *blob = malloc(len + 1);
            sw_controller_save(ctl, blob, len + 1);
            twin = ctl; /* kept, to check the restored one against it */
            if (sw_controller_restore(blob, len, &ctl, &err) != SW_OK) {
                fprintf(stderr, "restore: %s\n", err.msg);
                return 1;
            }
            free(blob);
            resumed = 1;
        }
    }
    size_t bi;
    uint64_t bt;
    double bv;
    if (sw_controller_best(ctl, &bi, &bt, &bv) != SW_OK) return 1;
    memcpy(w, best_w, sizeof w); /* restore the best checkpoint */
    double vl, acc;
    evaluate(w, xva, yva, NVAL, &vl, &acc);
    printf("policy: %s\n", text);
    printf("stopped: %s after %llu of %llu tokens (%s)\n", dec.stop ? "yes" : "no", (unsigned long long)tokens,
           (unsigned long long)budget, dec.stop ? dec.reason : "budget spent");
    printf("best checkpoint: evaluation %zu at %llu tokens, val_em %.1f (restored: %.1f)\n", bi + 1,
           (unsigned long long)bt, bv, acc);
    printf("tokens saved: %llu (%.0f%%)\n", (unsigned long long)(budget - tokens), 100.0 * (double)(budget - tokens) / (double)budget);
    /* the two controllers end in the same state, byte for byte */
    size_t la = sw_controller_save(ctl, NULL, 0), lb = twin ? sw_controller_save(twin, NULL, 0) : 0;
    char *sa = malloc(la + 1), *sb = malloc(lb + 1);
    sw_controller_save(ctl, sa, la + 1);
    if (twin) sw_controller_save(twin, sb, lb + 1);
    int same_state = twin && la == lb && !memcmp(sa, sb, la);
    printf("state check: the restored controller %s\n",
           same && same_state ? "decided and ended exactly as the original" : "DIFFERS from the original");
    free(sa);
    free(sb);
    int ok = dec.stop && tokens < budget && resumed && same && same_state && acc == bv;
    sw_controller_free(ctl);
    sw_controller_free(twin);
    return ok ? 0 : 1;
}
