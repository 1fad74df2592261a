"""Controller: the stateful object a training loop reports evaluations to; it
answers continue or stop (with the rule and the reason) and which evaluation
is best so far. Over sw_controller_* (include/stopwise/stop.h)."""

import ctypes
import time
from typing import NamedTuple

from . import _abi, _lib
from .errors import StopwiseError
from .policy import Policy, _format, as_policy


class Best(NamedTuple):
    """The best evaluation so far by the monitored metric (first of ties)."""

    index: int  # 0-based, in the order reported
    tokens: int
    value: float  # the monitored metric there, as reported (not negated for min)


class Prediction(NamedTuple):
    """The extrapolate rule's latest forecast of the monitored metric."""

    mean: float
    sd: float
    horizon: int  # the tokens it predicts at


class Decision:
    """What the controller says after one evaluation.

    stop        True: stop training now
    rule        the rule that fired ("patience", "gain", ..., "budget"), None to continue
    reason      one line saying why ("" to continue)
    diverged    True when the diverge rule fired (the run's status is diverged)
    rule_index  the rule's index in the policy (-1 for none and budget)
    index       this evaluation's 0-based index; tokens: its token count
    best        Best(index, tokens, value) so far, None before a finite value
    prediction  Prediction(mean, sd, horizon) with an extrapolate rule that has
                a fit, else None
    is_best     True when this evaluation is the best so far: checkpoint now

    A Decision has no truth value: write `if d.stop:`, so that `if d:` cannot
    quietly mean something else.
    """

    __slots__ = ("stop", "rule", "reason", "diverged", "rule_index", "index", "tokens", "best", "prediction")

    def __init__(self, stop, rule, reason, diverged, rule_index, index, tokens, best, prediction):
        self.stop = stop
        self.rule = rule
        self.reason = reason
        self.diverged = diverged
        self.rule_index = rule_index
        self.index = index
        self.tokens = tokens
        self.best = best
        self.prediction = prediction

    @property
    def is_best(self):
        return self.best is not None and self.best.index == self.index

    def __bool__(self):
        raise TypeError("a Decision has no truth value: test decision.stop")

    def __repr__(self):
        if self.stop:
            head = "stop by %s: %s" % (self.rule, self.reason)
        else:
            head = "continue"
        return "<Decision %s at evaluation %d (%d tokens); best %r>" % (head, self.index, self.tokens, self.best)


_TOKENS_LIMIT = 1 << 64  # tokens are a uint64_t

# metric names as C strings, encoded once (report's hot path)
_names = {"val_em": b"val_em", "val_loss": b"val_loss", "train_loss": b"train_loss"}


def _cname(name):
    b = _names.get(name)
    if b is None:
        if not isinstance(name, str) or not name:
            raise TypeError("a metric name must be a non-empty str, got %r" % (name,))
        b = _names[name] = name.encode()
    return b


class Controller:
    """Feeds a training loop's evaluations to a stopping policy.

        ctl = Controller("patience=5,diverge,warmup=1M", budget=20_000_000)
        while ...:
            d = ctl.report(tokens=t, em=val_em, loss=val_loss)
            if d.is_best: save_checkpoint()
            if d.stop: break

    budget: the run's token budget (0: unknown); extrapolate predicts at its
    `at` option, else the policy's budget, else this one.
    Not for two threads at once (the C calls keep the GIL, so misuse cannot
    corrupt memory; it only interleaves evaluations).
    """

    def __init__(self, policy, budget=0):
        policy = as_policy(policy)
        L = _lib.lib()
        h = ctypes.c_void_p()
        err = _abi.sw_error()
        if budget is None:
            budget = 0
        if budget < 0:
            raise ValueError("budget must be >= 0 tokens, got %r" % (budget,))
        if L.sw_controller_create(policy._h, budget, ctypes.byref(h), ctypes.byref(err)):
            raise _lib.fail(err)
        self._setup(L, h, policy)

    def _setup(self, L, h, policy):
        self._L = L
        self._h = h
        self._policy = policy
        self._n = L.sw_controller_count(h)
        self._extrapolates = "extrapolate" in policy.rules
        self._t0 = time.monotonic()
        # buffers reused by every report (no allocation per call but the result)
        self._cap = 0
        self._ev = _abi.sw_eval()
        self._dec = _abi.sw_decision()
        self._bi, self._bt, self._bv = ctypes.c_size_t(), ctypes.c_uint64(), ctypes.c_double()
        self._pm, self._ps, self._ph = ctypes.c_double(), ctypes.c_double(), ctypes.c_uint64()
        self._ev_ref, self._dec_ref = ctypes.byref(self._ev), ctypes.byref(self._dec)
        self._best_refs = (ctypes.byref(self._bi), ctypes.byref(self._bt), ctypes.byref(self._bv))
        self._pred_refs = (ctypes.byref(self._pm), ctypes.byref(self._ps), ctypes.byref(self._ph))
        self._grow(4)

    def _grow(self, cap):
        self._metrics = (_abi.sw_metric * cap)()
        self._slots = [self._metrics[i] for i in range(cap)]
        self._ev.metrics = ctypes.cast(self._metrics, ctypes.POINTER(_abi.sw_metric))
        self._cap = cap

    def __del__(self):
        h = getattr(self, "_h", None)
        if h:
            self._L.sw_controller_free(h)
            self._h = None

    # ---- feeding -------------------------------------------------------------------

    def report(self, tokens, em=None, loss=None, step=None, *, train_loss=None, wall=None, **metrics):
        """Feeds one evaluation and returns the Decision.

        tokens      training tokens consumed so far (int); must rise strictly
        em          validation exact match in percent (metric val_em)
        loss        validation loss (metric val_loss)
        train_loss  training loss (metric train_loss)
        step        optimizer steps so far; wall: seconds so far (default:
                    since this controller was made)
        **metrics   any other metric by name (the policy may monitor one:
                    monitor=dev_acc)
        NaN or inf in a metric means diverged. Raises StopwiseError for tokens
        not above the previous evaluation's, a metric the policy needs that is
        missing, or a controller that already said stop.
        """
        if not 0 <= tokens < _TOKENS_LIMIT:  # ctypes would wrap it silently
            raise ValueError("tokens must be a count from 0 to 2^64-1, got %r" % (tokens,))
        n = 3 + len(metrics)
        if n > self._cap:
            self._grow(max(n, 2 * self._cap))
        s = self._slots
        k = 0
        if em is not None:
            s[0].name = b"val_em"
            s[0].value = em
            k = 1
        if loss is not None:
            s[k].name = b"val_loss"
            s[k].value = loss
            k += 1
        if train_loss is not None:
            s[k].name = b"train_loss"
            s[k].value = train_loss
            k += 1
        for name, value in metrics.items():
            if value is not None:
                s[k].name = _cname(name)
                s[k].value = value
                k += 1
        ev = self._ev
        ev.tokens = tokens
        ev.step = 0 if step is None else step
        ev.wall = time.monotonic() - self._t0 if wall is None else wall
        ev.n_metrics = k
        L = self._L
        h = self._h
        st = L.sw_controller_feed(h, self._ev_ref, self._dec_ref)
        if st:
            raise StopwiseError(L.sw_controller_errmsg(h).decode(errors="replace"), code=st)
        index = self._n
        self._n = index + 1
        best = None
        if L.sw_controller_best(h, *self._best_refs) == 0:
            best = Best(self._bi.value, self._bt.value, self._bv.value)
        prediction = None
        if self._extrapolates and L.sw_controller_prediction(h, *self._pred_refs) == 0:
            prediction = Prediction(self._pm.value, self._ps.value, self._ph.value)
        d = self._dec
        if d.stop:
            return Decision(True, L.sw_rule_kind_name(d.rule).decode(), d.reason.decode(errors="replace"),
                            bool(d.diverged), d.rule_index, index, tokens, best, prediction)
        return Decision(False, None, "", False, -1, index, tokens, best, prediction)

    # ---- what it knows ---------------------------------------------------------------

    @property
    def policy(self):
        """The Policy it decides by."""
        return self._policy

    @property
    def count(self):
        """Evaluations reported so far."""
        return self._n

    @property
    def stopped(self):
        """True once a decision said stop (report then raises)."""
        return bool(self._L.sw_controller_stopped(self._h))

    @property
    def best(self):
        """Best(index, tokens, value) so far, or None before a finite value."""
        if self._L.sw_controller_best(self._h, *self._best_refs):
            return None
        return Best(self._bi.value, self._bt.value, self._bv.value)

    @property
    def prediction(self):
        """The latest extrapolate Prediction, or None."""
        if self._L.sw_controller_prediction(self._h, *self._pred_refs):
            return None
        return Prediction(self._pm.value, self._ps.value, self._ph.value)

    # ---- resume -----------------------------------------------------------------------

    def state(self):
        """The whole state (policy included) as bytes: save it with the
        checkpoint; Controller.restore(blob) decides on exactly as this one
        would (doubles are kept bit for bit)."""
        L = self._L
        n = L.sw_controller_save(self._h, None, 0)
        buf = ctypes.create_string_buffer(n + 1)
        if L.sw_controller_save(self._h, buf, n + 1) != n:
            raise StopwiseError("controller state changed size while being saved", code=10)
        return buf.raw[:n]

    @classmethod
    def restore(cls, blob):
        """A controller rebuilt from state() (bytes, or the same as str)."""
        if isinstance(blob, str):
            blob = blob.encode()
        if not isinstance(blob, (bytes, bytearray, memoryview)):
            raise TypeError("restore takes the bytes state() gave, not %s" % type(blob).__name__)
        blob = bytes(blob)
        L = _lib.lib()
        h = ctypes.c_void_p()
        err = _abi.sw_error()
        if L.sw_controller_restore(blob, len(blob), ctypes.byref(h), ctypes.byref(err)):
            raise _lib.fail(err)
        self = cls.__new__(cls)
        self._h = None
        self._L = L
        try:
            policy = Policy(_format(L, L.sw_controller_policy(h)))
        except BaseException:
            L.sw_controller_free(h)
            raise
        self._setup(L, h, policy)
        return self

    def __reduce__(self):  # pickles (torch.save, multiprocessing) as its state
        return (Controller.restore, (self.state(),))

    def __repr__(self):
        return "<Controller %s: %d evaluations%s>" % (self.policy, self._n, ", stopped" if self.stopped else "")


__all__ = ["Controller", "Decision", "Best", "Prediction"]
