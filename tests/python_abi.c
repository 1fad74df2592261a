/* The layout of every struct the Python binding mirrors with ctypes
 * (python/stopwise/_abi.py), as the C compiler lays it out: one JSON object
 * {"STRUCT": {"size": N, "align": A, "fields": {"FIELD": OFFSET, ...}}, ...}
 * on stdout. python/tests/test_abi.py compares it with ctypes' layout, so a
 * header change the binding does not follow fails a test instead of
 * corrupting memory. Not a Criterion test: a tool that test runs. */
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>

#include "stopwise/stop.h"
#include "stopwise/store.h"
#include "stopwise/tune.h"

static int first_struct = 1, first_field;

static void begin(const char *name, size_t size, size_t align)
{
    printf("%s\n  \"%s\": {\"size\": %zu, \"align\": %zu, \"fields\": {", first_struct ? "{" : ",", name, size, align);
    first_struct = 0;
    first_field = 1;
}

static void field(const char *name, size_t off)
{
    printf("%s\"%s\": %zu", first_field ? "" : ", ", name, off);
    first_field = 0;
}

static void end(void) { printf("}}"); }

#define BEGIN(T) begin(#T, sizeof(T), alignof(T))
#define F(T, f) field(#f, offsetof(T, f))

int main(void)
{
    BEGIN(sw_error), F(sw_error, status), F(sw_error, msg), end();
    BEGIN(sw_metric), F(sw_metric, name), F(sw_metric, value), end();
    BEGIN(sw_eval), F(sw_eval, tokens), F(sw_eval, step), F(sw_eval, wall), F(sw_eval, metrics),
        F(sw_eval, n_metrics), end();
    BEGIN(sw_decision), F(sw_decision, stop), F(sw_decision, diverged), F(sw_decision, rule),
        F(sw_decision, rule_index), F(sw_decision, reason), end();
    BEGIN(sw_replay_result);
    F(sw_replay_result, stopped), F(sw_replay_result, diverged), F(sw_replay_result, stop_index);
    F(sw_replay_result, stop_tokens), F(sw_replay_result, end_tokens), F(sw_replay_result, stop_rule);
    F(sw_replay_result, reason), F(sw_replay_result, best_index), F(sw_replay_result, best_tokens);
    F(sw_replay_result, best_value), F(sw_replay_result, best_em), F(sw_replay_result, curve_best_em);
    F(sw_replay_result, saved_tokens), F(sw_replay_result, shortfall), F(sw_replay_result, annealed);
    F(sw_replay_result, anneal_em), F(sw_replay_result, anneal_predicted), F(sw_replay_result, anneal_tokens);
    F(sw_replay_result, charged_tokens), F(sw_replay_result, score_em);
    end();
    BEGIN(sw_tune_options);
    F(sw_tune_options, epsilon), field("lambda_", offsetof(sw_tune_options, lambda)), F(sw_tune_options, objective);
    F(sw_tune_options, folds), F(sw_tune_options, budget), F(sw_tune_options, families);
    F(sw_tune_options, warmups), F(sw_tune_options, n_warmups), F(sw_tune_options, threads);
    F(sw_tune_options, confidence), F(sw_tune_options, bootstrap), F(sw_tune_options, seed);
    F(sw_tune_options, val_size), F(sw_tune_options, cooldowns);
    end();
    BEGIN(sw_store_options), F(sw_store_options, stale_after_s), F(sw_store_options, eval_batch),
        F(sw_store_options, flush_interval_s), F(sw_store_options, busy_timeout_ms), F(sw_store_options, create), end();
    BEGIN(sw_store_run_info);
    F(sw_store_run_info, name), F(sw_store_run_info, task), F(sw_store_run_info, config_json);
    F(sw_store_run_info, policy), F(sw_store_run_info, host), F(sw_store_run_info, pid);
    F(sw_store_run_info, parent_run_id), F(sw_store_run_info, fork_tokens);
    end();
    BEGIN(sw_store_run_result);
    F(sw_store_run_result, status), F(sw_store_run_result, stop_rule), F(sw_store_run_result, stop_reason);
    F(sw_store_run_result, tokens), F(sw_store_run_result, best_tokens), F(sw_store_run_result, best_em);
    F(sw_store_run_result, val_em), F(sw_store_run_result, test_em);
    end();
    BEGIN(sw_store_run);
    F(sw_store_run, id), F(sw_store_run, name), F(sw_store_run, task), F(sw_store_run, config);
    F(sw_store_run, policy), F(sw_store_run, status), F(sw_store_run, stop_rule), F(sw_store_run, stop_reason);
    F(sw_store_run, tokens), F(sw_store_run, best_tokens), F(sw_store_run, best_em), F(sw_store_run, val_em);
    F(sw_store_run, test_em), F(sw_store_run, host), F(sw_store_run, pid), F(sw_store_run, started);
    F(sw_store_run, ended), F(sw_store_run, heartbeat), F(sw_store_run, n_evals), F(sw_store_run, parent_run_id);
    F(sw_store_run, fork_tokens);
    end();
    BEGIN(sw_store_kv), F(sw_store_kv, key), F(sw_store_kv, value), end();
    BEGIN(sw_store_run_filter);
    F(sw_store_run_filter, task), F(sw_store_run_filter, has_status), F(sw_store_run_filter, status);
    F(sw_store_run_filter, study), F(sw_store_run_filter, tags), F(sw_store_run_filter, n_tags);
    F(sw_store_run_filter, ids), F(sw_store_run_filter, n_ids), F(sw_store_run_filter, limit);
    F(sw_store_run_filter, branches), F(sw_store_run_filter, parent_run_id);
    end();
    BEGIN(sw_store_metric), F(sw_store_metric, name), F(sw_store_metric, value), end();
    BEGIN(sw_store_eval);
    F(sw_store_eval, tokens), F(sw_store_eval, step), F(sw_store_eval, wall_s), F(sw_store_eval, val_em);
    F(sw_store_eval, val_loss), F(sw_store_eval, train_loss), F(sw_store_eval, metrics), F(sw_store_eval, n_metrics);
    end();
    BEGIN(sw_store_curve), F(sw_store_curve, run_id), F(sw_store_curve, n), F(sw_store_curve, evals), end();
    /* the enums the binding passes as ctypes.c_int */
    printf(",\n  \"enums\": {\"sw_status\": %zu, \"sw_rule_kind\": %zu, \"sw_run_status\": %zu, "
           "\"sw_tune_objective\": %zu, \"sw_cooldown_shape\": %zu}",
           sizeof(sw_status), sizeof(sw_rule_kind), sizeof(sw_run_status), sizeof(sw_tune_objective),
           sizeof(sw_cooldown_shape));
    printf("\n}\n");
    return 0;
}
