"""The tuner (thresholds chosen from recorded curves by replay, scored by
cross-validation) and what `train --stop auto` would use. Over sw_tune_run
and sw_tune_policy_for_task (include/stopwise/tune.h, docs/TUNING.md)."""

import contextlib
import ctypes
import json
import os
from dataclasses import dataclass

from . import _abi, _lib
from .curve import as_curve
from .errors import StopwiseError
from .policy import Policy
from .store import Store

_OBJECTIVES = ("constrained", "worst", "priced")


class TuneReport:
    """What sw_tune_run found: the policy chosen on all curves and its
    cross-validated figures. The whole report (families, folds, Pareto
    frontier, settings) is .data, the dict of `stopwise tune --json`."""

    def __init__(self, data):
        self.data = data
        self.policy = Policy(data["policy"])

    @property
    def family(self):
        return self.data["family"]

    @property
    def cv_tokens_fraction(self):
        """Mean fraction of the budget spent on held-out curves."""
        return self.data["cv_tokens_fraction"]

    @property
    def cv_shortfall(self):
        """Mean EM points lost on held-out curves."""
        return self.data["cv_shortfall"]

    @property
    def cv_worst_shortfall(self):
        return self.data["cv_worst_shortfall"]

    @property
    def pareto(self):
        """The tokens-vs-shortfall frontier: dicts with policy, family,
        tokens_fraction, shortfall, worst_shortfall, mean_tokens."""
        return self.data["pareto"]

    def __repr__(self):
        return "<TuneReport %s: CV tokens %.1f%%, CV shortfall %.3g points>" % (
            self.policy, 100 * self.cv_tokens_fraction, self.cv_shortfall)


def tune(curves, epsilon=None, *, folds=None, budget=None, objective=None, lambda_=None, families=None,
         warmups=None, threads=None, confidence=None, bootstrap=None, seed=None, val_size=None, cooldowns=None,
         task=None, store=None):
    """Tunes a policy's thresholds over `curves` (Curves, CSV paths, rows or
    columns; each needs val_em): the fewest tokens such that the mean EM lost
    against each curve's best is at most `epsilon` points (0.5), chosen with
    K-fold cross-validation (`folds`; 0 or None: one fold per curve).
    Every option left None takes the library's default (sw_tune_default_options):
    objective "constrained" | "worst" | "priced" (with lambda_), families
    (names: "patience", "gain", "extrapolate", "gl", "pq", "up"), warmups
    (fractions of the budget), confidence and bootstrap (noise-honest
    selection), seed, val_size, cooldowns, threads (OpenMP; 0: default).
    task: a task key (see tuned_policy) to save the chosen policy under, in
    `store` (a Store, a path or URL; None: $STOPWISE_STORE or ./stopwise.db),
    as `stopwise tune --task KEY` does; `train --stop auto` and tuned_policy
    then use it. Returns a TuneReport."""
    L = _lib.lib()
    held = [as_curve(c) for c in curves]
    opt = L.sw_tune_default_options()
    if epsilon is not None:
        opt.epsilon = epsilon
    if folds is not None:
        opt.folds = folds
    if budget is not None:
        opt.budget = budget
    if objective is not None:
        if objective not in _OBJECTIVES:
            raise StopwiseError("tune: objective must be one of %s, not %r" % (", ".join(_OBJECTIVES), objective))
        opt.objective = _OBJECTIVES.index(objective)
        if L.sw_tune_objective_name(opt.objective).decode() != objective:  # the enum's order changed
            raise StopwiseError("tune: objective %r is not the library's number %d" % (objective, opt.objective),
                                code=10)
    if lambda_ is not None:
        opt.lambda_ = lambda_
    if families is not None:
        bits = 0
        for name in families:
            f = L.sw_tune_family_find(name.encode())
            if f < 0:
                raise StopwiseError("tune: unknown family %r (patience, gain, extrapolate, gl, pq, up)" % (name,))
            bits |= 1 << f
        opt.families = bits
    keep = None
    if warmups is not None:
        keep = (ctypes.c_double * max(1, len(warmups)))(*warmups)
        opt.warmups = ctypes.cast(keep, ctypes.POINTER(ctypes.c_double))
        opt.n_warmups = len(warmups)
    for name, value in (("threads", threads), ("confidence", confidence), ("bootstrap", bootstrap),
                        ("seed", seed), ("val_size", val_size)):
        if value is not None:
            setattr(opt, name, value)
    if cooldowns is not None:
        opt.cooldowns = 1 if cooldowns else 0
    arr = (ctypes.c_void_p * max(1, len(held)))(*[c._h.value for c in held])
    rep = ctypes.c_void_p()
    err = _abi.sw_error()
    if L.sw_tune_run(arr, len(held), ctypes.byref(opt), ctypes.byref(rep), ctypes.byref(err)):
        raise _lib.fail(err)
    try:
        text = L.sw_tune_report_json(rep)
        if not text:
            raise StopwiseError("tune: out of memory writing the report", code=7)
        try:
            data = json.loads(ctypes.string_at(text).decode())
        finally:
            _lib.libc_free(text)
    finally:
        L.sw_tune_report_free(rep)
    del keep
    report = TuneReport(data)
    if task is not None:
        _save(L, report, task, store)
    return report


def _save(L, report, task, store):
    """Records the chosen policy for a task key, with the report (JSON)."""
    own = None
    if not isinstance(store, Store):
        store = own = Store(store or os.environ.get("STOPWISE_STORE") or "stopwise.db")
    try:
        with store._locked():
            st = L.sw_store_policy_put(store._h, task.encode(), report.data["policy"].encode(),
                                       json.dumps(report.data).encode())
            if st:
                raise store._fail(st)
    finally:
        if own is not None:
            own.close()


@dataclass(frozen=True)
class TunedPolicy:
    """What `train --stop auto` would use for a task."""

    policy: Policy
    tuned: bool  # False: no policy was tuned for the key, the conservative default
    why: str  # one line saying which ("tuned policy for KEY (CV tokens 41%, ...)")
    task_key: str  # DATA|MODEL|BUDGET|SCHEDULE|every=CADENCE


def tuned_policy(task, budget=None, *, model=None, schedule=None, every=0, store=None):
    """The policy `stopwise train --stop auto` would use for a task: the latest
    one `stopwise tune` saved for its task key in the store, else the
    conservative default (patience=10,diverge,warmup=budget/10).

    task      the data spec as `train --data` takes it ("cmudict",
              "synthetic:addition"; "cmudict+published" for train's
              --published), or a whole task key
              ("cmudict|default|2M|wsd|every=20k", as `tune` prints it)
    budget    tokens per run (int; with a whole task key, read from the key)
    model, schedule, every   as `train --model/--schedule/--eval-every`
              (None/0: the task's defaults)
    store     a Store, a path or URL, or None for $STOPWISE_STORE or
              ./stopwise.db, as train uses; a store that does not exist
              means "nothing tuned" (it is not created)
    Returns a TunedPolicy."""
    L = _lib.lib()
    err = _abi.sw_error()
    if "|" in task:
        key = task
        if budget is None:
            fields = key.split("|")
            if len(fields) < 3 or not fields[2]:
                raise StopwiseError("tuned_policy: task key %r has no budget field (DATA|MODEL|BUDGET|...)" % key)
            budget = _parse_tokens(fields[2], key)
    else:
        if budget is None:
            raise StopwiseError("tuned_policy: give the run's budget in tokens (budget=2_000_000)")
        buf = ctypes.create_string_buffer(1024)
        if L.sw_tune_task_key(task.encode(), _lib.enc(model), budget, _lib.enc(schedule), every or 0, buf,
                              len(buf), ctypes.byref(err)):
            raise _lib.fail(err)
        key = buf.value.decode()
    own = None
    if isinstance(store, Store):
        handle = store
    else:
        location = store or os.environ.get("STOPWISE_STORE") or "stopwise.db"
        try:
            handle = own = Store(location, create=False)
        except StopwiseError as e:
            if e.status != "not_found":
                raise
            handle = None
    try:
        policy = ctypes.create_string_buffer(1024)
        why = ctypes.create_string_buffer(1024)
        tuned = ctypes.c_int()
        with handle._locked() if handle else contextlib.nullcontext():
            st = L.sw_tune_policy_for_task(handle._h if handle else None, key.encode(), budget, policy, len(policy),
                                           why, len(why), ctypes.byref(tuned), ctypes.byref(err))
        if st:
            raise _lib.fail(err)
    finally:
        if own is not None:
            own.close()
    return TunedPolicy(Policy(policy.value.decode()), bool(tuned.value), why.value.decode(), key)


def _parse_tokens(text, key):
    """A token count as the library reads one ("2M", "1.5k", "20000")."""
    out = ctypes.c_uint64()
    if _lib.lib().sw_parse_tokens(text.encode(), ctypes.byref(out)):
        raise StopwiseError("tuned_policy: task key %r: budget %r is not a token count" % (key, text))
    return out.value


__all__ = ["tune", "TuneReport", "tuned_policy", "TunedPolicy"]
