"""Policy: the stopping rules in force for a run, in their one-line text form
(grammar and formulas: include/stopwise/stop.h, docs/STOPPING.md)."""

import ctypes

from . import _abi, _lib


class Policy:
    """A parsed stopping policy.

        p = Policy("patience=5:min_delta=0.1,gain=0.2,diverge,warmup=1M")
        str(p)      # the canonical text form, which parses back to the same policy

    A text that does not parse raises StopwiseError with .position (the
    1-based character the message points at), .width and .text.
    Immutable; equal policies have equal canonical text.
    """

    __slots__ = ("_h", "_L", "_text", "__weakref__")

    def __init__(self, text):
        if isinstance(text, Policy):
            text = str(text)
        if not isinstance(text, str):
            raise TypeError("a policy is its text form (str), not %s" % type(text).__name__)
        L = _lib.lib()
        h = ctypes.c_void_p()
        col, width = ctypes.c_size_t(), ctypes.c_size_t()
        err = _abi.sw_error()
        st = L.sw_policy_parse_located(text.encode(), ctypes.byref(h), ctypes.byref(col), ctypes.byref(width),
                                       ctypes.byref(err))
        if st:
            e = _lib.fail(err, text=text)
            if col.value:
                e.position, e.width = col.value, width.value
            raise e
        self._h, self._L = h, L
        self._text = _format(L, h)

    def __del__(self):
        h = getattr(self, "_h", None)
        if h:
            self._L.sw_policy_free(h)
            self._h = None

    def __str__(self):
        return self._text

    def __repr__(self):
        return "Policy(%r)" % self._text

    def __eq__(self, other):
        if isinstance(other, Policy):
            return self._text == other._text
        return NotImplemented

    def __hash__(self):
        return hash(self._text)

    def __reduce__(self):  # pickles as its text
        return (Policy, (self._text,))

    # ---- what the policy says -------------------------------------------------

    @property
    def monitor(self):
        """The monitored metric ("val_em" by default)."""
        return self._L.sw_policy_monitor(self._h).decode()

    @property
    def mode(self):
        """"max" or "min": which way the monitored metric improves."""
        return "max" if self._L.sw_policy_maximize(self._h) else "min"

    @property
    def warmup(self):
        """Tokens before any rule may fire (0: none)."""
        return self._L.sw_policy_warmup(self._h)

    @property
    def warmup_ignores(self):
        """True for warmup=N:ignore (evaluations before N are not seen at all)."""
        return bool(self._L.sw_policy_warmup_ignores(self._h))

    @property
    def budget(self):
        """The policy's own token budget (0: none)."""
        return self._L.sw_policy_budget(self._h)

    @property
    def every(self):
        """The evaluation cadence in tokens (0: not set)."""
        return self._L.sw_policy_every(self._h)

    @property
    def rules(self):
        """The rules' names in policy order ("patience", "gain", ...), group
        members included, globals excluded."""
        L = self._L
        return [L.sw_rule_kind_name(L.sw_policy_rule(self._h, i)).decode() for i in range(L.sw_policy_n_rules(self._h))]

    @property
    def cooldown(self):
        """(fraction, shape) of the policy's cooldown clause, or None."""
        L = self._L
        frac, shape = ctypes.c_double(), ctypes.c_int()
        if not L.sw_policy_cooldown(self._h, ctypes.byref(frac), ctypes.byref(shape)):
            return None
        return frac.value, L.sw_cooldown_shape_name(shape.value).decode()

    def needs(self, metric):
        """Whether every evaluation must carry `metric` under this policy (the
        monitored one; val_loss for gl, pq, up; train_loss for pq)."""
        return bool(self._L.sw_policy_needs(self._h, metric.encode()))


def _format(L, h):
    n = L.sw_policy_format(h, None, 0)
    buf = ctypes.create_string_buffer(n + 1)
    L.sw_policy_format(h, buf, n + 1)
    return buf.value.decode()


def as_policy(policy):
    """A Policy from a Policy or its text."""
    return policy if isinstance(policy, Policy) else Policy(policy)
