"""The C declarations the binding uses: ctypes mirrors of the structs of
include/stopwise/*.h, field for field, and the prototype of every function
called. tests/python_abi.c prints the C compiler's sizes and offsets and
python/tests/test_abi.py compares them with these, so a header change that is
not mirrored here fails a test instead of corrupting memory.

Each prototype says whether the call is fast: fast ones (policies, the
controller, replay: microseconds) go through ctypes.PyDLL, which keeps the
GIL, so two Python threads can never be inside one controller at once and a
call costs less; slow ones (tune, the store's I/O) through ctypes.CDLL, which
releases the GIL while C runs (stopwise._lib binds them).
"""

import ctypes

# ---- the structs (mirrors of the public headers) -----------------------------

c_size_t = ctypes.c_size_t
c_u64 = ctypes.c_uint64
c_i64 = ctypes.c_int64
c_int = ctypes.c_int
c_uint = ctypes.c_uint
c_double = ctypes.c_double
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
P = ctypes.POINTER

SW_REASON_MAX = 320


class sw_error(ctypes.Structure):  # base.h
    _fields_ = [("status", c_int), ("msg", ctypes.c_char * 1024)]


class sw_metric(ctypes.Structure):  # stop.h
    _fields_ = [("name", c_char_p), ("value", c_double)]


class sw_eval(ctypes.Structure):  # stop.h
    _fields_ = [
        ("tokens", c_u64),
        ("step", c_i64),
        ("wall", c_double),
        ("metrics", P(sw_metric)),
        ("n_metrics", c_size_t),
    ]


class sw_decision(ctypes.Structure):  # stop.h
    _fields_ = [
        ("stop", c_int),
        ("diverged", c_int),
        ("rule", c_int),
        ("rule_index", c_int),
        ("reason", ctypes.c_char * SW_REASON_MAX),
    ]


class sw_replay_result(ctypes.Structure):  # stop.h
    _fields_ = [
        ("stopped", c_int),
        ("diverged", c_int),
        ("stop_index", c_size_t),
        ("stop_tokens", c_u64),
        ("end_tokens", c_u64),
        ("stop_rule", c_int),
        ("reason", ctypes.c_char * SW_REASON_MAX),
        ("best_index", c_size_t),
        ("best_tokens", c_u64),
        ("best_value", c_double),
        ("best_em", c_double),
        ("curve_best_em", c_double),
        ("saved_tokens", c_u64),
        ("shortfall", c_double),
        ("annealed", c_int),
        ("anneal_em", c_double),
        ("anneal_predicted", c_int),
        ("anneal_tokens", c_u64),
        ("charged_tokens", c_u64),
        ("score_em", c_double),
    ]


class sw_tune_options(ctypes.Structure):  # tune.h
    _fields_ = [
        ("epsilon", c_double),
        ("lambda_", c_double),
        ("objective", c_int),
        ("folds", c_int),
        ("budget", c_u64),
        ("families", c_uint),
        ("warmups", P(c_double)),
        ("n_warmups", c_size_t),
        ("threads", c_int),
        ("confidence", c_double),
        ("bootstrap", c_int),
        ("seed", c_u64),
        ("val_size", c_size_t),
        ("cooldowns", c_int),
    ]


class sw_store_options(ctypes.Structure):  # store.h
    _fields_ = [
        ("stale_after_s", c_double),
        ("eval_batch", c_int),
        ("flush_interval_s", c_double),
        ("busy_timeout_ms", c_int),
        ("create", c_int),
    ]


class sw_store_run_info(ctypes.Structure):  # store.h
    _fields_ = [
        ("name", c_char_p),
        ("task", c_char_p),
        ("config_json", c_char_p),
        ("policy", c_char_p),
        ("host", c_char_p),
        ("pid", c_i64),
        ("parent_run_id", c_i64),
        ("fork_tokens", c_u64),
    ]


class sw_store_run_result(ctypes.Structure):  # store.h
    _fields_ = [
        ("status", c_int),
        ("stop_rule", c_char_p),
        ("stop_reason", c_char_p),
        ("tokens", c_u64),
        ("best_tokens", c_u64),
        ("best_em", c_double),
        ("val_em", c_double),
        ("test_em", c_double),
    ]


class sw_store_run(ctypes.Structure):  # store.h
    _fields_ = [
        ("id", c_i64),
        ("name", c_char_p),
        ("task", c_char_p),
        ("config", c_char_p),
        ("policy", c_char_p),
        ("status", c_int),
        ("stop_rule", c_char_p),
        ("stop_reason", c_char_p),
        ("tokens", c_u64),
        ("best_tokens", c_u64),
        ("best_em", c_double),
        ("val_em", c_double),
        ("test_em", c_double),
        ("host", c_char_p),
        ("pid", c_i64),
        ("started", c_double),
        ("ended", c_double),
        ("heartbeat", c_double),
        ("n_evals", c_i64),
        ("parent_run_id", c_i64),
        ("fork_tokens", c_u64),
    ]


class sw_store_kv(ctypes.Structure):  # store.h
    _fields_ = [("key", c_char_p), ("value", c_char_p)]


class sw_store_run_filter(ctypes.Structure):  # store.h
    _fields_ = [
        ("task", c_char_p),
        ("has_status", c_int),
        ("status", c_int),
        ("study", c_char_p),
        ("tags", P(sw_store_kv)),
        ("n_tags", c_size_t),
        ("ids", P(c_i64)),
        ("n_ids", c_size_t),
        ("limit", c_size_t),
        ("branches", c_int),
        ("parent_run_id", c_i64),
    ]


class sw_store_metric(ctypes.Structure):  # store.h
    _fields_ = [("name", c_char_p), ("value", c_double)]


class sw_store_eval(ctypes.Structure):  # store.h
    _fields_ = [
        ("tokens", c_u64),
        ("step", c_i64),
        ("wall_s", c_double),
        ("val_em", c_double),
        ("val_loss", c_double),
        ("train_loss", c_double),
        ("metrics", P(sw_store_metric)),
        ("n_metrics", c_size_t),
    ]


class sw_store_curve(ctypes.Structure):  # store.h
    _fields_ = [("run_id", c_i64), ("n", c_size_t), ("evals", P(sw_store_eval))]


# The structs test_abi.py checks against the C compiler (name -> class).
STRUCTS = {
    cls.__name__: cls
    for cls in (
        sw_error,
        sw_metric,
        sw_eval,
        sw_decision,
        sw_replay_result,
        sw_tune_options,
        sw_store_options,
        sw_store_run_info,
        sw_store_run_result,
        sw_store_run,
        sw_store_kv,
        sw_store_run_filter,
        sw_store_metric,
        sw_store_eval,
        sw_store_curve,
    )
}

# ---- the functions -------------------------------------------------------------

# name: (restype, argtypes, fast). fast: called through PyDLL (keeps the GIL).
_ptr = c_void_p
PROTOS = {
    # base.h
    "sw_version": (c_char_p, [], True),
    "sw_parse_tokens": (c_int, [c_char_p, P(c_u64)], True),
    # stop.h: policies
    "sw_policy_parse_located": (c_int, [c_char_p, P(_ptr), P(c_size_t), P(c_size_t), P(sw_error)], True),
    "sw_policy_free": (None, [_ptr], True),
    "sw_policy_format": (c_size_t, [_ptr, ctypes.c_char_p, c_size_t], True),
    "sw_policy_monitor": (c_char_p, [_ptr], True),
    "sw_policy_maximize": (c_int, [_ptr], True),
    "sw_policy_warmup": (c_u64, [_ptr], True),
    "sw_policy_warmup_ignores": (c_int, [_ptr], True),
    "sw_policy_budget": (c_u64, [_ptr], True),
    "sw_policy_every": (c_u64, [_ptr], True),
    "sw_policy_n_rules": (c_size_t, [_ptr], True),
    "sw_policy_rule": (c_int, [_ptr, c_size_t], True),
    "sw_policy_rule_group": (c_int, [_ptr, c_size_t], True),
    "sw_policy_cooldown": (c_int, [_ptr, P(c_double), P(c_int)], True),
    "sw_policy_needs": (c_int, [_ptr, c_char_p], True),
    "sw_rule_kind_name": (c_char_p, [c_int], True),
    "sw_cooldown_shape_name": (c_char_p, [c_int], True),
    # stop.h: the controller
    "sw_controller_create": (c_int, [_ptr, c_u64, P(_ptr), P(sw_error)], True),
    "sw_controller_free": (None, [_ptr], True),
    "sw_controller_policy": (_ptr, [_ptr], True),
    "sw_controller_feed": (c_int, [_ptr, P(sw_eval), P(sw_decision)], True),
    "sw_controller_errmsg": (c_char_p, [_ptr], True),
    "sw_controller_count": (c_size_t, [_ptr], True),
    "sw_controller_stopped": (c_int, [_ptr], True),
    "sw_controller_best": (c_int, [_ptr, P(c_size_t), P(c_u64), P(c_double)], True),
    "sw_controller_prediction": (c_int, [_ptr, P(c_double), P(c_double), P(c_u64)], True),
    "sw_controller_save": (c_size_t, [_ptr, ctypes.c_char_p, c_size_t], True),
    "sw_controller_restore": (c_int, [ctypes.c_char_p, c_size_t, P(_ptr), P(sw_error)], True),
    # stop.h: curves and replay
    "sw_curve_create": (c_int, [P(_ptr), P(sw_error)], True),
    "sw_curve_free": (None, [_ptr], True),
    "sw_curve_append": (c_int, [_ptr, P(sw_eval), P(sw_error)], True),
    "sw_curve_read_csv": (c_int, [c_char_p, P(_ptr), P(sw_error)], False),
    "sw_curve_write_csv": (c_int, [_ptr, c_char_p, P(sw_error)], False),
    "sw_curve_len": (c_size_t, [_ptr], True),
    "sw_curve_tokens": (P(c_u64), [_ptr], True),
    "sw_curve_steps": (P(c_i64), [_ptr], True),
    "sw_curve_walls": (P(c_double), [_ptr], True),
    "sw_curve_n_columns": (c_size_t, [_ptr], True),
    "sw_curve_column_name": (c_char_p, [_ptr, c_size_t], True),
    "sw_curve_column": (P(c_double), [_ptr, c_char_p, P(P(ctypes.c_ubyte))], True),
    "sw_curve_source": (c_char_p, [_ptr], True),
    "sw_replay": (c_int, [_ptr, _ptr, P(sw_replay_result), P(sw_error)], True),
    # tune.h
    "sw_tune_default_options": (sw_tune_options, [], True),
    "sw_tune_objective_name": (c_char_p, [c_int], True),
    "sw_tune_family_find": (c_int, [c_char_p], True),
    "sw_tune_run": (c_int, [P(_ptr), c_size_t, P(sw_tune_options), P(_ptr), P(sw_error)], False),
    "sw_tune_report_free": (None, [_ptr], True),
    "sw_tune_report_json": (_ptr, [_ptr], True),
    "sw_tune_task_key": (c_int, [c_char_p, c_char_p, c_u64, c_char_p, c_u64, ctypes.c_char_p, c_size_t, P(sw_error)], True),
    "sw_tune_policy_for_task": (
        c_int,
        [_ptr, c_char_p, c_u64, ctypes.c_char_p, c_size_t, ctypes.c_char_p, c_size_t, P(c_int), P(sw_error)],
        False,
    ),
    # store.h
    "sw_run_status_str": (c_char_p, [c_int], True),
    "sw_run_status_parse": (c_int, [c_char_p, P(c_int)], True),
    "sw_store_options_default": (None, [P(sw_store_options)], True),
    "sw_store_open_with": (c_int, [c_char_p, P(sw_store_options), P(_ptr), P(sw_error)], False),
    "sw_store_close": (None, [_ptr], False),
    "sw_store_errmsg": (c_char_p, [_ptr], True),
    "sw_store_backend": (c_char_p, [_ptr], True),
    "sw_store_location": (c_char_p, [_ptr], True),
    "sw_store_run_begin": (c_int, [_ptr, P(sw_store_run_info), P(c_i64)], False),
    "sw_store_heartbeat": (c_int, [_ptr, c_i64], False),
    "sw_store_run_end": (c_int, [_ptr, c_i64, P(sw_store_run_result)], False),
    "sw_store_run_get": (c_int, [_ptr, c_i64, P(sw_store_run)], False),
    "sw_store_run_clear": (None, [P(sw_store_run)], True),
    "sw_store_runs_list": (c_int, [_ptr, P(sw_store_run_filter), P(P(sw_store_run)), P(c_size_t)], False),
    "sw_store_run_list_free": (None, [P(sw_store_run), c_size_t], True),
    "sw_store_log_eval": (c_int, [_ptr, c_i64, P(sw_store_eval)], False),
    "sw_store_flush": (c_int, [_ptr], False),
    "sw_store_curve_get": (c_int, [_ptr, c_i64, P(sw_store_curve)], False),
    "sw_store_curve_clear": (None, [P(sw_store_curve)], True),
    "sw_store_param_set": (c_int, [_ptr, c_i64, c_char_p, c_char_p], False),
    "sw_store_tag_set": (c_int, [_ptr, c_i64, c_char_p, c_char_p], False),
    "sw_store_policy_put": (c_int, [_ptr, c_char_p, c_char_p, c_char_p], False),
}
