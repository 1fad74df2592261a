/* A run's hooks into the stopping controller (stop/) and the store (store/):
 * every evaluation goes to the curve files, the controller and the store. */
#include "stopwise/stop.h"
#include "stopwise/store.h"
#include "train/trainer.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 if the run's row belongs to a process of this host that no longer exists
 * (killed), so resuming it cannot collide with a live writer. */
static int owner_is_gone(sw_store *s, int64_t run_id)
{
    sw_store_run run;
    char host[256] = "";
    if (sw_store_run_get(s, run_id, &run)) return 0;
    gethostname(host, sizeof host - 1);
    int gone = run.status == SW_RUN_RUNNING && run.host && !strcmp(run.host, host) && run.pid > 0 &&
               kill((pid_t)run.pid, 0) != 0 && errno == ESRCH;
    sw_store_run_clear(&run);
    return gone;
}

static sw_status store_log(sw_trainer *r, const sw_trainer_point *pt);

/* After a resume, writes the checkpoint's evaluations that the store lacks.
 * Evaluations are queued in batches, so a kill can leave the last ones of the
 * checkpoint's curve uncommitted (issue 10, defect 12); the checkpoint holds
 * them all. Only points past the store's last committed token count are
 * written, so running this twice, or after a flush that did land, doubles
 * nothing (and the store's (run_id, seq) key would refuse a double anyway). */
static sw_status store_backfill(sw_trainer *r, sw_store *s)
{
    if (!r->n_curve) return SW_OK;
    sw_store_curve c;
    sw_status st = sw_store_curve_get(s, r->res->run_id, &c);
    if (st) return sw_error_set(r->err, st, "store: %s", sw_store_errmsg(s));
    int any = c.n > 0;
    uint64_t have = any ? c.evals[c.n - 1].tokens : 0;
    sw_store_curve_clear(&c);
    size_t added = 0;
    for (size_t i = 0; i < r->n_curve && !st; i++)
        if (!any || r->curve[i].tokens > have) {
            st = store_log(r, &r->curve[i]);
            added++;
        }
    if (!st && added && (st = sw_store_flush(s))) return sw_error_set(r->err, st, "store: %s", sw_store_errmsg(s));
    return st;
}

/* Opens the store and starts (or, on --resume, takes back) the run's row. */
static sw_status store_begin(sw_trainer *r)
{
    if (!r->opt.store) return SW_OK;
    sw_store *s;
    sw_error e;
    sw_status st = sw_store_open(r->opt.store, &s, &e);
    if (st) return sw_error_set(r->err, st, "store: %s", e.msg);
    r->store = s;
    if (r->opt.resume && r->res->run_id >= 0) {
        if (owner_is_gone(s, r->res->run_id)) { /* no need to wait for its heartbeat to go stale */
            sw_store_close(s);
            sw_store_options so;
            sw_store_options_default(&so);
            so.stale_after_s = 0;
            if ((st = sw_store_open_with(r->opt.store, &so, &s, &e))) {
                r->store = NULL;
                return sw_error_set(r->err, st, "store: %s", e.msg);
            }
            r->store = s;
        }
        /* evaluations past the checkpoint are redone, so the store drops them */
        st = sw_store_run_resume(s, r->res->run_id, r->n_curve ? r->curve[r->n_curve - 1].tokens : 0);
        if (st == SW_ERR_NOT_FOUND) r->res->run_id = -1; /* removed meanwhile: start a new row */
        else if (st) return sw_error_set(r->err, st, "store: %s", sw_store_errmsg(s));
        else {
            r->owns_run = 1;
            return store_backfill(r, s);
        }
    }
    char *config = sw_trainer_config_json(r);
    sw_store_run_info info = {.name = r->opt.run_name, .task = sw_dataset_name(r->ds), .config_json = config,
                        .policy = r->opt.policy ? r->opt.policy : "none"};
    st = sw_store_run_begin(s, &info, &r->res->run_id);
    free(config);
    if (st) return sw_error_set(r->err, st, "store: %s", sw_store_errmsg(s));
    r->owns_run = 1;
    /* a run whose row was removed meanwhile starts a new one with its curve so far */
    return store_backfill(r, s);
}

/* An evaluation as the controller reads it (m: 3 metrics, owned by the caller). */
static void point_eval(const sw_trainer_point *pt, sw_metric *m, sw_eval *ev)
{
    m[0] = (sw_metric){"val_em", pt->val_em};
    m[1] = (sw_metric){"val_loss", pt->val_loss};
    m[2] = (sw_metric){"train_loss", pt->train_loss};
    *ev = (sw_eval){.tokens = pt->tokens, .step = (int64_t)pt->step, .wall = pt->wall_s, .metrics = m, .n_metrics = 3};
}

sw_status sw_trainer_hooks_begin(sw_trainer *r)
{
    sw_status st0 = store_begin(r);
    if (!st0) st0 = sw_trainer_forecast_begin(r);
    if (st0) return st0;
    return sw_trainer_hooks_rebuild(r);
}

sw_status sw_trainer_hooks_rebuild(sw_trainer *r)
{
    sw_controller_free(r->controller);
    r->controller = NULL;
    if (r->opt.policy && strcmp(r->opt.policy, "none")) {
        sw_policy *p;
        sw_status st = sw_policy_parse(r->opt.policy, &p, r->err);
        if (st) return st;
        sw_controller *c = NULL;
        st = sw_controller_create(p, r->opt.budget, &c, r->err);
        sw_policy_free(p);
        if (st) return st;
        r->controller = c;
        /* a resumed run replays its curve so far: the controller is a pure
         * function of the evaluations it was fed (a stop that a paired test
         * refuted was never fed) */
        for (size_t i = 0; i < r->n_curve; i++) {
            sw_metric m[3];
            sw_eval ev;
            sw_decision d;
            if (r->curve[i].vetoed) continue;
            point_eval(&r->curve[i], m, &ev);
            if ((st = sw_controller_feed(c, &ev, &d)))
                return sw_error_set(r->err, st, "resuming the stopping controller: %s", sw_controller_errmsg(c));
        }
    }
    return SW_OK;
}

/* Asks the controller about the newest evaluation. */
static sw_status consult(sw_trainer *r, const sw_trainer_point *pt, int *stop)
{
    sw_controller *c = r->controller;
    if (!c || r->in_cooldown) return SW_OK;
    sw_metric m[3];
    sw_eval ev;
    sw_decision d;
    point_eval(pt, m, &ev);
    sw_status st = sw_controller_feed(c, &ev, &d);
    if (st) return sw_error_set(r->err, st, "stopping controller: %s", sw_controller_errmsg(c));
    if (d.stop) {
        *stop = 1;
        r->diverged = d.diverged;
        snprintf(r->res->stop_rule, sizeof r->res->stop_rule, "%s", sw_rule_kind_name(d.rule));
        snprintf(r->res->stop_reason, sizeof r->res->stop_reason, "%s", d.reason);
        snprintf(r->note, sizeof r->note, "stop: %s", d.reason);
    }
    return SW_OK;
}

static sw_status store_log(sw_trainer *r, const sw_trainer_point *pt)
{
    if (!r->store) return SW_OK;
    sw_store_metric extra[7];
    size_t n = 0;
    if (pt->val_per >= 0) extra[n++] = (sw_store_metric){"val_per", pt->val_per}; /* sequence tasks */
    extra[n++] = (sw_store_metric){"lr", pt->lr};
    extra[n++] = (sw_store_metric){"cooldown", r->in_cooldown};
    if (!isnan(r->forecast.mean)) { /* the forecast as it stood at this evaluation (dashboards draw its band) */
        extra[n++] = (sw_store_metric){"forecast_em", r->forecast.mean};
        extra[n++] = (sw_store_metric){"forecast_lo", r->forecast.lo};
        extra[n++] = (sw_store_metric){"forecast_hi", r->forecast.hi};
    }
    if (!isnan(pt->test_em)) extra[n++] = (sw_store_metric){"test_em", pt->test_em}; /* --eval-test */
    sw_store_eval e = {.tokens = pt->tokens, .step = (int64_t)pt->step, .wall_s = pt->wall_s, .val_em = pt->val_em,
                       .val_loss = pt->val_loss, .train_loss = pt->train_loss, .metrics = extra, .n_metrics = n};
    double t = sw_now();
    /* queued, maybe not written yet: it does not count as a heartbeat */
    sw_status st = sw_store_log_eval(r->store, r->res->run_id, &e);
    r->store_s += sw_now() - t;
    return st ? sw_error_set(r->err, st, "store: %s", sw_store_errmsg(r->store)) : SW_OK;
}

sw_status sw_trainer_record(sw_trainer *r, const sw_trainer_point *pt, int *stop)
{
    sw_status st = sw_trainer_append_point(r, pt);
    if (!st) st = sw_trainer_write_curve(r, pt);
    if (!st) sw_trainer_forecast_update(r); /* before consult: a stop's reason replaces its note */
    if (!st) st = consult(r, pt, stop);
    if (!st) st = store_log(r, pt);
    return st;
}

sw_status sw_trainer_hooks_tick(sw_trainer *r)
{
    /* a quarter of the store's staleness threshold (60 s by default, or
     * STOPWISE_STALE_AFTER), so a live run never reads crashed */
    if (!r->store || sw_now() - r->last_heartbeat < sw_store_heartbeat_interval(r->store)) return SW_OK;
    double t = sw_now();
    sw_status st = sw_store_heartbeat(r->store, r->res->run_id);
    r->last_heartbeat = sw_now();
    r->store_s += r->last_heartbeat - t;
    return st ? sw_error_set(r->err, st, "store: %s", sw_store_errmsg(r->store)) : SW_OK;
}

static sw_run_status run_status(const char *s)
{
    sw_run_status v = SW_RUN_FAILED;
    sw_run_status_parse(s, &v);
    return v;
}

sw_status sw_trainer_hooks_end(sw_trainer *r)
{
    if (!r->store) return SW_OK;
    sw_store *s = r->store;
    const sw_train_result *res = r->res;
    sw_status st;
    if (!strcmp(res->status, "interrupted")) { /* as if killed: the row stays running */
        st = sw_store_flush(s);
    } else {
        sw_store_run_result out = {.status = run_status(res->status),
                             .stop_rule = res->stop_rule[0] ? res->stop_rule : NULL,
                             .stop_reason = res->stop_reason[0] ? res->stop_reason : NULL,
                             .tokens = res->tokens,
                             .best_tokens = res->best_tokens,
                             .best_em = res->best_val_em,
                             .val_em = res->val_em,
                             .test_em = res->test_em};
        st = sw_store_run_end(s, res->run_id, &out);
        if (!st && r->best_em >= 0) st = sw_store_artifact_add(s, res->run_id, "checkpoint", res->checkpoint, NULL);
    }
    return st ? sw_error_set(r->err, st, "store: %s", sw_store_errmsg(s)) : SW_OK;
}

void sw_trainer_hooks_fail(sw_trainer *r)
{
    /* Only a row this process began or took back is ours to mark: a refused
     * --resume (a completed run, a live one) leaves the record untouched. */
    if (!r->store || r->res->run_id < 0 || !r->owns_run) return;
    sw_store_run_result out = {.status = SW_RUN_FAILED, .stop_reason = r->err ? r->err->msg : NULL,
                         .tokens = r->tokens, .best_tokens = r->best_tokens,
                         .best_em = r->best_em >= 0 ? r->best_em : NAN, .val_em = NAN, .test_em = NAN};
    sw_store_run_end(r->store, r->res->run_id, &out); /* best effort: the first error is the one reported */
}

void sw_trainer_hooks_free(sw_trainer *r)
{
    sw_trainer_forecast_free(r);
    sw_controller_free(r->controller);
    r->controller = NULL;
    sw_store_close(r->store);
    r->store = NULL;
}
