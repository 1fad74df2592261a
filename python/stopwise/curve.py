"""Curves (a run's evaluations in order) and replay: where a policy would have
stopped a recorded curve. Over sw_curve_* and sw_replay (stop.h): the same
code path a live controller decides with."""

import ctypes
import math
import os
from dataclasses import dataclass
from typing import Optional

from . import _abi, _lib
from .errors import StopwiseError
from .policy import as_policy

# the short names report() takes, spelled as curves and the store spell them
ALIASES = {"em": "val_em", "loss": "val_loss"}


def _metric_name(key):
    return ALIASES.get(key, key)


class Curve:
    """A run's evaluations in order: tokens, step, wall and named metrics.

        Curve("runs/x/curve.csv")                           # stopwise's CSV format
        Curve([{"tokens": 1000, "em": 10.0, "loss": 2.1}, ...])   # rows
        Curve({"tokens": [1000, 2000], "val_em": [10.0, 20.0]})   # columns

    In rows and columns, `tokens` is required and must rise strictly; `step`
    and `wall` are optional; `em` and `loss` stand for val_em and val_loss, as
    in Controller.report; every other key is a metric. A missing value (a key
    left out, or None) is a missing cell; NaN is a value (diverged).
    """

    __slots__ = ("_h", "_L", "__weakref__")

    def __init__(self, source):
        L = _lib.lib()
        self._L = L
        self._h = None
        h = ctypes.c_void_p()
        err = _abi.sw_error()
        if isinstance(source, (str, os.PathLike)):
            if L.sw_curve_read_csv(os.fsencode(source), ctypes.byref(h), ctypes.byref(err)):
                raise _lib.fail(err)
            self._h = h
            return
        if L.sw_curve_create(ctypes.byref(h), ctypes.byref(err)):
            raise _lib.fail(err)
        self._h = h
        if isinstance(source, dict):
            source = _columns_to_rows(source)
        for i, row in enumerate(source):
            self._append(i, row)

    def _append(self, i, row):
        if not isinstance(row, dict):
            raise TypeError("curve row %d: a dict such as {'tokens': 1000, 'em': 50.0}, not %s" % (i + 1, type(row).__name__))
        if row.get("tokens") is None:
            raise StopwiseError("curve row %d: no 'tokens' (every evaluation needs its token count)" % (i + 1))
        tokens = row["tokens"]
        if not 0 <= tokens < 1 << 64:
            raise StopwiseError("curve row %d: tokens %r is not a count from 0 to 2^64-1" % (i + 1, tokens))
        metrics = []
        seen = {}
        for key, value in row.items():
            if key in ("tokens", "step", "wall") or value is None:
                continue
            name = _metric_name(key)
            if name in seen:
                raise StopwiseError("curve row %d: both '%s' and '%s' name %s" % (i + 1, seen[name], key, name))
            seen[name] = key
            metrics.append(_abi.sw_metric(name.encode(), float(value)))
        arr = (_abi.sw_metric * max(1, len(metrics)))(*metrics)
        ev = _abi.sw_eval(tokens, row.get("step") or 0, row.get("wall") or 0.0,
                          ctypes.cast(arr, ctypes.POINTER(_abi.sw_metric)), len(metrics))
        err = _abi.sw_error()
        if self._L.sw_curve_append(self._h, ctypes.byref(ev), ctypes.byref(err)):
            e = _lib.fail(err)
            msg = e.message[len("curve: "):] if e.message.startswith("curve: ") else e.message
            e.message = "curve row %d: %s" % (i + 1, msg)
            e.args = (e.message,)
            raise e

    def __del__(self):
        if getattr(self, "_h", None):
            self._L.sw_curve_free(self._h)
            self._h = None

    def __len__(self):
        return self._L.sw_curve_len(self._h)

    @property
    def source(self):
        """The file it was read from ("" when built in Python)."""
        return self._L.sw_curve_source(self._h).decode()

    @property
    def tokens(self):
        return self._L.sw_curve_tokens(self._h)[: len(self)]

    @property
    def steps(self):
        return self._L.sw_curve_steps(self._h)[: len(self)]

    @property
    def walls(self):
        return self._L.sw_curve_walls(self._h)[: len(self)]

    @property
    def columns(self):
        """The metric columns' names, in order."""
        L = self._L
        return [L.sw_curve_column_name(self._h, i).decode() for i in range(L.sw_curve_n_columns(self._h))]

    def column(self, name):
        """A metric column as a list, None where a cell is missing; KeyError
        when the curve has no such column."""
        present = ctypes.POINTER(ctypes.c_ubyte)()
        v = self._L.sw_curve_column(self._h, _metric_name(name).encode(), ctypes.byref(present))
        if not v:
            raise KeyError("curve has no column %r (it has %s)" % (name, ", ".join(self.columns) or "none"))
        n = len(self)
        return [v[i] if present[i] else None for i in range(n)]

    def rows(self):
        """The evaluations as dicts (tokens, step, wall, then the metrics
        present in that row), the form Curve(rows) takes."""
        cols = {name: self.column(name) for name in self.columns}
        out = []
        for i, (t, s, w) in enumerate(zip(self.tokens, self.steps, self.walls)):
            row = {"tokens": t, "step": s, "wall": w}
            for name, values in cols.items():
                if values[i] is not None:
                    row[name] = values[i]
            out.append(row)
        return out

    def write_csv(self, path):
        """Writes stopwise's CSV format (atomically), which `stopwise replay
        --curve` and Curve(path) read."""
        err = _abi.sw_error()
        if self._L.sw_curve_write_csv(self._h, os.fsencode(path), ctypes.byref(err)):
            raise _lib.fail(err)

    def __repr__(self):
        src = self.source
        return "<Curve %d evaluations%s, columns %s>" % (len(self), " from " + src if src else "", self.columns)


def _columns_to_rows(cols):
    if "tokens" not in cols:
        raise StopwiseError("curve columns: no 'tokens' column (every evaluation needs its token count)")
    lengths = {k: len(v) for k, v in cols.items()}
    n = lengths["tokens"]
    bad = [k for k, m in lengths.items() if m != n]
    if bad:
        raise StopwiseError("curve columns: %s %s %d values, 'tokens' has %d"
                            % ("column" if len(bad) == 1 else "columns", ", ".join(repr(b) for b in bad),
                               lengths[bad[0]], n))
    return [{k: v[i] for k, v in cols.items()} for i in range(n)]


def as_curve(curve):
    """A Curve from a Curve, a CSV path, rows or columns."""
    return curve if isinstance(curve, Curve) else Curve(curve)


def _nan_to_none(x):
    return None if isinstance(x, float) and math.isnan(x) else x


@dataclass(frozen=True)
class ReplayResult:
    """Where a policy stops a curve, and what the stop costs and keeps
    (fields as sw_replay_result in stop.h; EMs that cannot be measured are
    None)."""

    stopped: bool  # a rule fired (else it ran to the curve's end)
    diverged: bool
    stop_index: int  # 0-based evaluation where it stopped (the last if not)
    stop_tokens: int
    end_tokens: int  # the curve's last tokens
    stop_rule: Optional[str]  # None when nothing fired
    reason: str
    best_index: int  # best by the monitored metric up to the stop
    best_tokens: int
    best_value: Optional[float]
    best_em: Optional[float]  # val_em there
    curve_best_em: Optional[float]  # max val_em over the whole curve
    saved_tokens: int  # end_tokens - stop_tokens
    shortfall: Optional[float]  # curve_best_em - score_em: EM points lost
    annealed: bool  # the policy has a cooldown (scored on the curve's branches)
    anneal_em: Optional[float]
    anneal_predicted: bool
    anneal_tokens: int
    charged_tokens: int  # stop_tokens + the cooldown's tokens
    score_em: Optional[float]  # the EM the stop delivers

    @classmethod
    def _of(cls, L, r):
        return cls(
            stopped=bool(r.stopped),
            diverged=bool(r.diverged),
            stop_index=r.stop_index,
            stop_tokens=r.stop_tokens,
            end_tokens=r.end_tokens,
            stop_rule=L.sw_rule_kind_name(r.stop_rule).decode() if r.stopped else None,
            reason=r.reason.decode(errors="replace"),
            best_index=r.best_index,
            best_tokens=r.best_tokens,
            best_value=_nan_to_none(r.best_value),
            best_em=_nan_to_none(r.best_em),
            curve_best_em=_nan_to_none(r.curve_best_em),
            saved_tokens=r.saved_tokens,
            shortfall=_nan_to_none(r.shortfall),
            annealed=bool(r.annealed),
            anneal_em=_nan_to_none(r.anneal_em),
            anneal_predicted=bool(r.anneal_predicted),
            anneal_tokens=r.anneal_tokens,
            charged_tokens=r.charged_tokens,
            score_em=_nan_to_none(r.score_em),
        )


def replay(policy, curve):
    """Replays `policy` (a Policy or its text) over `curve` (a Curve, a CSV
    path, rows or columns) exactly as a live controller fed the same
    evaluations would decide; extrapolate predicts at the policy's budget, else
    the curve's last tokens. Returns a ReplayResult."""
    policy = as_policy(policy)
    curve = as_curve(curve)
    L = _lib.lib()
    r = _abi.sw_replay_result()
    err = _abi.sw_error()
    if L.sw_replay(policy._h, curve._h, ctypes.byref(r), ctypes.byref(err)):
        raise _lib.fail(err)
    return ReplayResult._of(L, r)


__all__ = ["Curve", "ReplayResult", "replay"]
