/* The resumable state of a run as JSON (train/train_state.h).
 *
 * JSON has no NaN or infinity, and jansson's json_real refuses them, so a
 * non-finite double is written as null (NaN) or the string "Infinity" /
 * "-Infinity", and read back as exactly that: a resumed run must replay the
 * same curve into its controller (an infinite val_loss and a NaN one are not
 * the same to Prechelt's UP rule). docs/ARCHITECTURE.md "Files a run writes". */
#include "train/train_state.h"
#include "data/json_num.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The shared number-or-null (data/json_num.h), with infinities as strings. */
static json_t *num(double v)
{
    if (isinf(v)) return json_string(v > 0 ? "Infinity" : "-Infinity");
    return sw_json_num(v);
}

/* The inverse of num(); *bad is set for anything else (a missing key too). */
static double num_get(json_t *x, int *bad)
{
    const char *t = json_string_value(x);
    if (t && !strcmp(t, "Infinity")) return INFINITY;
    if (t && !strcmp(t, "-Infinity")) return -INFINITY;
    return sw_json_num_get(x, bad);
}

char *sw_train_state_to_json(const sw_train_state *st)
{
    json_t *curve = json_array(), *s = json_object();
    for (size_t i = 0; curve && i < st->n_curve; i++) {
        const sw_trainer_point *p = &st->curve[i];
        json_array_append_new(curve, json_pack("[I,I,o,o,o,o,o,o,o,o,i,I,b,o]", (json_int_t)p->tokens,
                                               (json_int_t)p->step, num(p->wall_s), num(p->train_loss),
                                               num(p->val_loss), num(p->val_em), num(p->val_per), num(p->lr),
                                               num(p->val_em_raw), num(p->val_em_avg), p->weights,
                                               (json_int_t)p->n_eval, p->vetoed, num(p->test_em)));
    }
    if (!curve || !s || json_array_size(curve) != st->n_curve) {
        json_decref(curve);
        json_decref(s);
        return NULL;
    }
    json_object_set_new(s, "tokens", json_integer((json_int_t)st->tokens));
    json_object_set_new(s, "step", json_integer((json_int_t)st->step));
    json_object_set_new(s, "epoch", json_integer((json_int_t)st->epoch));
    json_object_set_new(s, "next_batch", json_integer((json_int_t)st->next_batch));
    json_object_set_new(s, "next_eval", json_integer((json_int_t)st->next_eval));
    json_object_set_new(s, "best_em", num(st->best_em));
    json_object_set_new(s, "best_tokens", json_integer((json_int_t)st->best_tokens));
    json_object_set_new(s, "optimizer_steps", json_integer((json_int_t)st->optimizer_steps));
    json_object_set_new(s, "elapsed_s", num(st->elapsed_s));
    json_object_set_new(s, "loss_sum", num(st->loss_sum));
    json_object_set_new(s, "loss_tokens", num(st->loss_tokens));
    json_object_set_new(s, "curve", curve);
    json_object_set_new(s, "run_id", json_integer(st->run_id));
    json_object_set_new(s, "best_loss", num(st->best_loss));
    json_object_set_new(s, "best_weights", json_integer(st->best_weights));
    json_object_set_new(s, "average_updates", json_integer((json_int_t)st->average_updates));
    if (st->has_plan)
        json_object_set_new(s, "eval_plan",
                            json_pack("{s:I, s:I, s:I, s:b, s:I, s:I, s:I}", "every", (json_int_t)st->plan_every, "sample",
                                      (json_int_t)st->plan_sample, "confirm", (json_int_t)st->plan_confirm,
                                      "calibrated", st->plan_calibrated, "confirmations",
                                      (json_int_t)st->plan_confirmations, "vetoes", (json_int_t)st->plan_vetoes,
                                      "final", (json_int_t)st->plan_final));
    char *text = json_dumps(s, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(s);
    return text;
}

sw_status sw_train_state_from_json(const char *text, sw_train_state *st, sw_error *err)
{
    memset(st, 0, sizeof *st);
    json_error_t je;
    json_t *s = text ? json_loads(text, 0, &je) : NULL;
    if (!json_is_object(s)) {
        json_decref(s);
        return sw_error_set(err, SW_ERR_FORMAT, "no train_state in its metadata");
    }
    int bad = 0;
    st->tokens = (uint64_t)json_integer_value(json_object_get(s, "tokens"));
    st->step = (uint64_t)json_integer_value(json_object_get(s, "step"));
    st->next_eval = (uint64_t)json_integer_value(json_object_get(s, "next_eval"));
    st->best_em = num_get(json_object_get(s, "best_em"), &bad);
    json_t *bl = json_object_get(s, "best_loss"); /* absent: a NaN, as older versions dropped it */
    st->best_loss = bl ? num_get(bl, &bad) : NAN;
    st->best_tokens = (uint64_t)json_integer_value(json_object_get(s, "best_tokens"));
    st->elapsed_s = num_get(json_object_get(s, "elapsed_s"), &bad);
    st->loss_sum = num_get(json_object_get(s, "loss_sum"), &bad);
    st->loss_tokens = num_get(json_object_get(s, "loss_tokens"), &bad);
    st->run_id = json_integer_value(json_object_get(s, "run_id"));
    st->optimizer_steps = (uint64_t)json_integer_value(json_object_get(s, "optimizer_steps"));
    st->epoch = (uint64_t)json_integer_value(json_object_get(s, "epoch"));
    st->next_batch = (uint64_t)json_integer_value(json_object_get(s, "next_batch"));
    st->best_weights = (int)json_integer_value(json_object_get(s, "best_weights"));
    st->average_updates = (uint64_t)json_integer_value(json_object_get(s, "average_updates"));
    json_t *plan = json_object_get(s, "eval_plan");
    if ((st->has_plan = json_is_object(plan))) {
        st->plan_every = (uint64_t)json_integer_value(json_object_get(plan, "every"));
        st->plan_sample = (size_t)json_integer_value(json_object_get(plan, "sample"));
        st->plan_confirm = (size_t)json_integer_value(json_object_get(plan, "confirm"));
        st->plan_calibrated = json_is_true(json_object_get(plan, "calibrated"));
        st->plan_confirmations = (size_t)json_integer_value(json_object_get(plan, "confirmations"));
        st->plan_vetoes = (size_t)json_integer_value(json_object_get(plan, "vetoes"));
        /* absent (older runs): whole splits */
        st->plan_final = (size_t)json_integer_value(json_object_get(plan, "final"));
    }
    json_t *curve = json_object_get(s, "curve"), *p;
    size_t n = json_array_size(curve), i;
    if (n && !(st->curve = malloc(n * sizeof *st->curve))) {
        json_decref(s);
        return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    }
    json_array_foreach(curve, i, p)
    {
        /* 8 fields before weight averaging and sized evaluation, 13 before the test sample, 14 since */
        size_t k = json_array_size(p);
        if (!json_is_array(p) || (k != 8 && k != 13 && k != 14)) bad = 1;
        st->curve[st->n_curve++] = (sw_trainer_point){
            .tokens = (uint64_t)json_integer_value(json_array_get(p, 0)),
            .step = (uint64_t)json_integer_value(json_array_get(p, 1)),
            .wall_s = num_get(json_array_get(p, 2), &bad),
            .train_loss = num_get(json_array_get(p, 3), &bad),
            .val_loss = num_get(json_array_get(p, 4), &bad),
            .val_em = num_get(json_array_get(p, 5), &bad),
            .val_per = num_get(json_array_get(p, 6), &bad),
            .lr = num_get(json_array_get(p, 7), &bad),
            .val_em_raw = k >= 13 ? num_get(json_array_get(p, 8), &bad) : NAN,
            .val_em_avg = k >= 13 ? num_get(json_array_get(p, 9), &bad) : NAN,
            .weights = k >= 13 ? (int)json_integer_value(json_array_get(p, 10)) : 0,
            .n_eval = k >= 13 ? (size_t)json_integer_value(json_array_get(p, 11)) : 0,
            .vetoed = k >= 13 && json_is_true(json_array_get(p, 12)),
            .test_em = k == 14 ? num_get(json_array_get(p, 13), &bad) : NAN,
        };
    }
    if (bad) {
        free(st->curve);
        memset(st, 0, sizeof *st);
        json_decref(s);
        return sw_error_set(err, SW_ERR_FORMAT,
                            "its train_state has a number that is neither a number, null nor \"Infinity\"/\"-Infinity\"");
    }
    json_decref(s);
    return SW_OK;
}
