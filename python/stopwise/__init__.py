"""stopwise for Python training loops: the stopping brain (policies, the
controller, replay, the tuner) and the run store of libstopwise, through
ctypes. docs/PYTHON.md is the guide.

    import stopwise
    ctl = stopwise.Controller("patience=5:min_delta=0.1,diverge,warmup=1M", budget=20_000_000)
    d = ctl.report(tokens=1_000_000, em=71.5, loss=0.83)
    if d.stop: ...

The library is found and loaded on first use (stopwise._lib has the search
order); stopwise.library() loads it now and says which file it is.
"""

from ._version import __version__
from .controller import Best, Controller, Decision, Prediction
from .curve import Curve, ReplayResult, replay
from .errors import LibraryNotFoundError, StopwiseError
from .policy import Policy
from .store import STATUSES, Run, RunLog, Store
from .tune import TunedPolicy, TuneReport, tune, tuned_policy


def library():
    """Loads libstopwise (if not yet) and returns (path, version)."""
    from . import _lib

    L = _lib.lib()
    return L.path, L.version


__all__ = [
    "__version__",
    "library",
    "Policy",
    "Controller",
    "Decision",
    "Best",
    "Prediction",
    "Curve",
    "ReplayResult",
    "replay",
    "tune",
    "TuneReport",
    "tuned_policy",
    "TunedPolicy",
    "Store",
    "RunLog",
    "Run",
    "STATUSES",
    "StopwiseError",
    "LibraryNotFoundError",
]
