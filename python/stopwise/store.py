"""The store: where runs, their curves and tuned policies live, in an SQLite
file or a PostgreSQL database, the same one `stopwise runs ls` and
`train --store` use. Over sw_store_* (include/stopwise/store.h, docs/STORE.md)."""

import ctypes
import json
import math
import threading
import time
from dataclasses import dataclass
from typing import Optional

from . import _abi, _lib
from .curve import Curve
from .errors import StopwiseError

STATUSES = ("running", "completed", "stopped", "pruned", "diverged", "failed", "crashed")

_NAN = float("nan")


def _none_if_nan(x):
    return None if math.isnan(x) else x


def _s(b):
    return None if b is None else b.decode(errors="replace")


@dataclass(frozen=True)
class Run:
    """A run as stored (sw_store_run); unknown numbers are None."""

    id: int
    name: str
    task: str
    config: str  # JSON text
    policy: str
    status: str  # running, completed, stopped, pruned, diverged, failed, crashed
    stop_rule: Optional[str]
    stop_reason: Optional[str]
    tokens: int
    best_tokens: int
    best_em: Optional[float]
    val_em: Optional[float]
    test_em: Optional[float]
    host: str
    pid: int
    started: float  # Unix seconds, the store's clock
    ended: Optional[float]
    heartbeat: float
    evaluations: int
    parent_run_id: int  # a branch's trunk (0: not a branch)
    fork_tokens: int

    @classmethod
    def _of(cls, L, r):
        return cls(r.id, _s(r.name) or "", _s(r.task) or "", _s(r.config) or "{}", _s(r.policy) or "",
                   L.sw_run_status_str(r.status).decode(), _s(r.stop_rule), _s(r.stop_reason), r.tokens,
                   r.best_tokens, _none_if_nan(r.best_em), _none_if_nan(r.val_em), _none_if_nan(r.test_em),
                   _s(r.host) or "", r.pid, r.started, _none_if_nan(r.ended), r.heartbeat, r.n_evals,
                   r.parent_run_id, r.fork_tokens)


def _status_code(L, name):
    code = ctypes.c_int()
    if not isinstance(name, str) or L.sw_run_status_parse(name.encode(), ctypes.byref(code)):
        raise StopwiseError("run status must be one of %s, not %r" % (", ".join(STATUSES), name))
    return code.value


class Store:
    """A store handle: an SQLite file (a path) or PostgreSQL
    ("postgresql://user:pass@host:port/db").

        with Store("runs.db") as store:
            run = store.start_run(name="mlp seed 1", task="digits", policy=ctl.policy)
            run.log(tokens=t, em=em, loss=loss)        # per evaluation
            run.finish(decision=d, val_em=em_kept)     # how it ended
            store.runs(task="digits")                  # -> [Run, ...], newest first

    create=False: a missing store raises StopwiseError (status "not_found")
    instead of being created. Calls on one Store are serialized by a lock (the
    C handle is not thread-safe); several Stores, threads and processes may
    share one database.
    """

    def __init__(self, location, *, create=True, stale_after=None, eval_batch=None, flush_interval=None,
                 busy_timeout_ms=None):
        L = _lib.lib()
        self._L = L
        self._h = None
        self._lock = threading.RLock()
        opts = _abi.sw_store_options()
        L.sw_store_options_default(ctypes.byref(opts))
        opts.create = 1 if create else 0
        if stale_after is not None:
            opts.stale_after_s = stale_after
        if eval_batch is not None:
            opts.eval_batch = eval_batch
        if flush_interval is not None:
            opts.flush_interval_s = flush_interval
        if busy_timeout_ms is not None:
            opts.busy_timeout_ms = busy_timeout_ms
        h = ctypes.c_void_p()
        err = _abi.sw_error()
        if L.sw_store_open_with(str(location).encode(), ctypes.byref(opts), ctypes.byref(h), ctypes.byref(err)):
            raise _lib.fail(err)
        self._h = h

    def _locked(self):
        if self._h is None:
            raise StopwiseError("store: already closed", code=8)
        return self._lock

    def _fail(self, st):
        return StopwiseError(self._L.sw_store_errmsg(self._h).decode(errors="replace"), code=st)

    def close(self):
        """Flushes pending evaluations and closes; closing twice is a no-op."""
        with self._lock:
            if self._h:
                self._L.sw_store_close(self._h)
                self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        if getattr(self, "_h", None):
            self._L.sw_store_close(self._h)
            self._h = None

    @property
    def backend(self):
        """"sqlite" or "postgresql"."""
        with self._locked():
            return self._L.sw_store_backend(self._h).decode()

    @property
    def location(self):
        """The location, any password replaced by ***."""
        with self._locked():
            return self._L.sw_store_location(self._h).decode()

    def __repr__(self):
        return "<Store %s>" % (self.location if self._h else "closed")

    # ---- writing a run -----------------------------------------------------------

    def start_run(self, name="", task="", *, config=None, policy=None, host=None, tags=None, params=None):
        """Starts a run (status running) and returns its RunLog.
        config: a dict (stored as JSON) or JSON text; policy: a Policy or its
        text; tags, params: dicts of strings."""
        if config is None:
            config = "{}"
        elif not isinstance(config, str):
            config = json.dumps(config, sort_keys=True)
        info = _abi.sw_store_run_info(_lib.enc(name), _lib.enc(task), config.encode(),
                                      _lib.enc(None if policy is None else str(policy)), _lib.enc(host), 0, 0, 0)
        run_id = ctypes.c_int64()
        with self._locked():
            st = self._L.sw_store_run_begin(self._h, ctypes.byref(info), ctypes.byref(run_id))
            if st:
                raise self._fail(st)
            for setter, items in ((self._L.sw_store_tag_set, tags), (self._L.sw_store_param_set, params)):
                for k, v in (items or {}).items():
                    st = setter(self._h, run_id.value, str(k).encode(), str(v).encode())
                    if st:
                        raise self._fail(st)
        return RunLog(self, run_id.value)

    def flush(self):
        """Writes every pending evaluation now."""
        with self._locked():
            st = self._L.sw_store_flush(self._h)
            if st:
                raise self._fail(st)

    # ---- reading -------------------------------------------------------------------

    def run(self, run_id):
        """One run (a Run); StopwiseError "not_found" if there is none."""
        r = _abi.sw_store_run()
        with self._locked():
            st = self._L.sw_store_run_get(self._h, run_id, ctypes.byref(r))
            if st:
                raise self._fail(st)
            try:
                return Run._of(self._L, r)
            finally:
                self._L.sw_store_run_clear(ctypes.byref(r))

    def runs(self, *, task=None, status=None, study=None, tags=None, ids=None, limit=0):
        """Runs matching every filter given, newest first: task key, status
        (a word of STATUSES), study name, tags (dict; a value None matches any
        value), ids, limit (0: all)."""
        L = self._L
        f = _abi.sw_store_run_filter()
        f.task = _lib.enc(task)
        f.study = _lib.enc(study)
        if status is not None:
            f.has_status = 1
            f.status = _status_code(L, status)
        keep = []
        if tags:
            kv = (_abi.sw_store_kv * len(tags))(*[_abi.sw_store_kv(str(k).encode(), _lib.enc(None if v is None else str(v)))
                                                  for k, v in tags.items()])
            keep.append(kv)
            f.tags = ctypes.cast(kv, ctypes.POINTER(_abi.sw_store_kv))
            f.n_tags = len(tags)
        if ids is not None:
            arr = (ctypes.c_int64 * max(1, len(ids)))(*ids)
            keep.append(arr)
            f.ids = ctypes.cast(arr, ctypes.POINTER(ctypes.c_int64))
            f.n_ids = len(ids)
        f.limit = limit
        out = ctypes.POINTER(_abi.sw_store_run)()
        n = ctypes.c_size_t()
        with self._locked():
            st = L.sw_store_runs_list(self._h, ctypes.byref(f), ctypes.byref(out), ctypes.byref(n))
            if st:
                raise self._fail(st)
            try:
                return [Run._of(L, out[i]) for i in range(n.value)]
            finally:
                L.sw_store_run_list_free(out, n.value)

    def curve(self, run_id):
        """A run's committed evaluations as a Curve (tokens, step, wall,
        val_em, val_loss, train_loss where measured, and its other metrics),
        ready for replay()."""
        c = _abi.sw_store_curve()
        with self._locked():
            st = self._L.sw_store_curve_get(self._h, run_id, ctypes.byref(c))
            if st:
                raise self._fail(st)
            try:
                rows = []
                for i in range(c.n):
                    e = c.evals[i]
                    row = {"tokens": e.tokens, "step": e.step, "wall": e.wall_s}
                    for name in ("val_em", "val_loss", "train_loss"):
                        v = getattr(e, name)
                        if not math.isnan(v):
                            row[name] = v
                    for k in range(e.n_metrics):
                        row[e.metrics[k].name.decode()] = e.metrics[k].value
                    rows.append(row)
            finally:
                self._L.sw_store_curve_clear(ctypes.byref(c))
        return Curve(rows)


class RunLog:
    """A running run being written: log evaluations, then finish it."""

    def __init__(self, store, run_id):
        self.store = store
        self.id = run_id
        self._t0 = time.monotonic()
        self._last_tokens = 0
        self._em_at = {}  # tokens -> val_em logged, for finish's defaults
        self._best = None  # (em, tokens) of the best val_em logged

    def log(self, tokens, em=None, loss=None, step=None, *, train_loss=None, wall=None, **metrics):
        """Queues one evaluation (same arguments as Controller.report; wall
        defaults to seconds since start_run). Written in batches: by the
        store's eval_batch / flush_interval, and by flush, heartbeat and finish."""
        extra = [(k, v) for k, v in metrics.items() if v is not None]
        arr = (_abi.sw_store_metric * max(1, len(extra)))(*[_abi.sw_store_metric(k.encode(), v) for k, v in extra])
        e = _abi.sw_store_eval(tokens, step or 0, time.monotonic() - self._t0 if wall is None else wall,
                               _NAN if em is None else em, _NAN if loss is None else loss,
                               _NAN if train_loss is None else train_loss,
                               ctypes.cast(arr, ctypes.POINTER(_abi.sw_store_metric)), len(extra))
        s = self.store
        with s._locked():
            st = s._L.sw_store_log_eval(s._h, self.id, ctypes.byref(e))
            if st:
                raise s._fail(st)
        self._last_tokens = tokens
        if em is not None and not math.isnan(em):
            self._em_at[tokens] = em
            if self._best is None or em > self._best[0]:
                self._best = (em, tokens)

    def heartbeat(self):
        """Flushes pending evaluations and marks the run alive (a run whose
        heartbeat is older than the store's stale_after reads crashed)."""
        s = self.store
        with s._locked():
            st = s._L.sw_store_heartbeat(s._h, self.id)
            if st:
                raise s._fail(st)

    def finish(self, status=None, *, decision=None, rule=None, reason=None, tokens=None, best_tokens=None,
               best_em=None, val_em=None, test_em=None):
        """Records how the run ended (flushing its evaluations first).

        status    completed, stopped, pruned, diverged or failed; with a
                  Decision and no status: diverged, stopped or completed by it
        decision  the controller's last Decision: fills status, rule, reason
                  and the best checkpoint (best_tokens, and best_em from the
                  val_em logged there)
        tokens    training tokens used (default: the last logged)
        best_tokens, best_em   the best checkpoint (default: the decision's,
                  else the highest val_em logged)
        val_em, test_em        EM of the checkpoint kept (None: not measured)
        """
        L = self.store._L
        if decision is not None:
            if status is None:
                status = "diverged" if decision.diverged else "stopped" if decision.stop else "completed"
            rule = rule if rule is not None else decision.rule
            reason = reason if reason is not None else (decision.reason or None)
            if best_tokens is None and decision.best is not None:
                best_tokens = decision.best.tokens
                if best_em is None:
                    best_em = self._em_at.get(best_tokens)
        if status is None:
            raise StopwiseError("finish: give a status (completed, stopped, pruned, diverged, failed) or a decision")
        if best_tokens is None and self._best is not None:
            best_em = self._best[0] if best_em is None else best_em
            best_tokens = self._best[1]
        res = _abi.sw_store_run_result(_status_code(L, status), _lib.enc(rule), _lib.enc(reason),
                                       self._last_tokens if tokens is None else tokens,
                                       0 if best_tokens is None else best_tokens,
                                       _NAN if best_em is None else best_em, _NAN if val_em is None else val_em,
                                       _NAN if test_em is None else test_em)
        s = self.store
        with s._locked():
            st = L.sw_store_run_end(s._h, self.id, ctypes.byref(res))
            if st:
                raise s._fail(st)

    def __repr__(self):
        return "<RunLog run %d in %r>" % (self.id, self.store)


__all__ = ["Store", "RunLog", "Run", "STATUSES"]
