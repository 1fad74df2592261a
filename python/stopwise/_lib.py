"""Finding and loading libstopwise.so.

ctypes (the standard library), ABI level: nothing is compiled, so the package
is pure Python and installs anywhere Python does (docs/PYTHON.md, "Why
ctypes"). The declarations are in stopwise._abi; the library is loaded twice
over one dlopen handle, as ctypes.CDLL (releases the GIL) and ctypes.PyDLL
(keeps it), and each function is bound through the one its prototype asks.

Search order (the first library that loads and has this package's version):
  1. $STOPWISE_LIB: a path to libstopwise.so, or a folder holding it; when set,
     nothing else is tried
  2. the build trees of the source checkout this package sits in: REPO/build,
     then REPO/build*/ newest first (sanitizer builds passed over)
  3. the install prefixes: the one this package was installed under (pip
     install --prefix P, a virtual environment), sys.prefix (unless /usr),
     /usr/local, /usr (each P/lib/<multiarch>, P/lib64, P/lib)
  4. the system loader (LD_LIBRARY_PATH, ldconfig's cache): libstopwise.so.0
"""

import ctypes
import os
import sys
import sysconfig
import threading
from pathlib import Path

from ._abi import PROTOS
from ._version import __version__
from .errors import LibraryNotFoundError, StopwiseError

LIB_NAME = "libstopwise.so"
SONAME = "libstopwise.so." + __version__.split(".")[0]

# libc's free, for the strings the library hands over (sw_tune_report_json)
_libc = ctypes.CDLL(None)
libc_free = _libc.free
libc_free.argtypes = [ctypes.c_void_p]
libc_free.restype = None


class Library:
    """The loaded library: .path, .version, and every function of
    _abi.PROTOS as an attribute (sw_controller_feed, ...)."""

    def __init__(self, path, cdll, pydll):
        self.path = path
        self.version = None
        try:  # the version first: an older or newer library may lack functions
            version = pydll.sw_version
        except AttributeError:
            raise StopwiseError("no function sw_version: not libstopwise", code=4) from None
        version.restype = ctypes.c_char_p
        version.argtypes = []
        self.version = version().decode()
        if self.version != __version__:
            raise StopwiseError("version %s, this package is %s" % (self.version, __version__), code=4)
        for name, (restype, argtypes, fast) in PROTOS.items():
            try:
                fn = getattr(pydll if fast else cdll, name)
            except AttributeError:
                raise StopwiseError("no function %s: built before this binding's sources; rebuild it" % name,
                                    code=4) from None
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name, fn)


# ---- finding it ------------------------------------------------------------------


def _multiarch():
    return sysconfig.get_config_var("MULTIARCH") or ""


def _prefix_dirs(prefix):
    prefix = Path(prefix)
    dirs = []
    if _multiarch():
        dirs.append(prefix / "lib" / _multiarch())
    dirs += [prefix / "lib64", prefix / "lib"]
    return dirs


def _source_checkout(pkg_dir):
    """The repository root when this package is python/stopwise of a checkout."""
    repo = pkg_dir.parent.parent
    if pkg_dir.parent.name == "python" and (repo / "include" / "stopwise" / "stop.h").is_file():
        return repo
    return None


def _installed_prefix(pkg_dir):
    """P when this package sits in P/lib/pythonX.Y/site-packages/stopwise (or
    Debian's P/lib/python3/dist-packages, P/local/lib/python3.11/dist-packages)."""
    parts = pkg_dir.parts
    for i in range(len(parts) - 1, 0, -1):
        if parts[i].startswith("python") and parts[i - 1] in ("lib", "lib64"):
            return Path(*parts[: i - 1])
    return None


def candidates():
    """Where the library is looked for, in order: (where, path) pairs, path a
    file to dlopen, or for the system loader a bare soname."""
    pkg_dir = Path(__file__).resolve().parent
    out = []
    repo = _source_checkout(pkg_dir)
    if repo is not None:
        out.append(("build tree", repo / "build" / LIB_NAME))
        others = [d / LIB_NAME for d in repo.glob("build?*") if (d / LIB_NAME).exists()]
        others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        out += [("build tree", p) for p in others]
    prefixes = []
    # sys.prefix is a virtual environment's or conda's; Debian's python3 has
    # /usr, which comes after /usr/local (where cmake --install puts it)
    for prefix in (_installed_prefix(pkg_dir), sys.prefix if sys.prefix != "/usr" else None, "/usr/local", "/usr"):
        if prefix is not None and Path(prefix) not in prefixes:
            prefixes.append(Path(prefix))
    for prefix in prefixes:
        out += [("install prefix %s" % prefix, d / LIB_NAME) for d in _prefix_dirs(prefix)]
    out.append(("system loader", SONAME))
    return out


def _sanitized(build_dir):
    """Whether a build tree was configured with sanitizers (STOPWISE_SANITIZE,
    STOPWISE_FUZZ): its library links the ASan runtime, which aborts the
    process when dlopen'ed into a Python that did not preload it."""
    try:
        cache = (build_dir / "CMakeCache.txt").read_text(errors="replace")
    except OSError:
        return False
    return "STOPWISE_SANITIZE:BOOL=ON" in cache or "STOPWISE_FUZZ:BOOL=ON" in cache


def _try(path, where, looked):
    """Loads one candidate; None (and a line in `looked`) if it does not do."""
    if where != "system loader" and not Path(path).exists():
        looked.append((where, str(path), "no such file"))
        return None
    if where == "build tree" and _sanitized(Path(path).parent):
        looked.append((where, str(path), "a sanitizer build: set STOPWISE_LIB and LD_PRELOAD the ASan runtime to use it"))
        return None
    try:
        cdll = ctypes.CDLL(str(path))
        pydll = ctypes.PyDLL(str(path))
    except OSError as e:
        looked.append((where, str(path), "does not load: %s" % e))
        return None
    try:
        return Library(str(path), cdll, pydll)
    except StopwiseError as e:
        looked.append((where, str(path), e.message))
        return None


def _not_found(looked, hint):
    lines = ["cannot load libstopwise.so %s; looked in:" % __version__]
    lines += ["  %s: %s (%s)" % (where, path, why) for where, path, why in looked]
    lines.append(hint)
    return LibraryNotFoundError("\n".join(lines), looked)


def load():
    """Finds and loads the library (see the module's search order); raises
    LibraryNotFoundError naming every place it looked and why each failed."""
    looked = []
    env = os.environ.get("STOPWISE_LIB", "")
    if env:
        path = Path(env)
        if path.is_dir():
            path = path / LIB_NAME
        lib = _try(path, "$STOPWISE_LIB", looked)
        if lib is None:
            raise _not_found(looked, "$STOPWISE_LIB is set, so nothing else was tried: point it at libstopwise.so "
                                     "(the build's or an installed one) or unset it.")
        return lib
    looked.append(("$STOPWISE_LIB", "-", "not set"))
    for where, path in candidates():
        lib = _try(path, where, looked)
        if lib is not None:
            return lib
    raise _not_found(looked, "Build it (cmake -S . -B build && cmake --build build), install it "
                             "(cmake --install build), or set STOPWISE_LIB to its path.")


_lock = threading.Lock()
_lib = None


def lib():
    """The library, loaded on first use (so `import stopwise` works without
    it, and the error comes from the first call that needs it)."""
    global _lib
    if _lib is None:
        with _lock:
            if _lib is None:
                _lib = load()
    return _lib


# ---- small helpers every module uses ---------------------------------------------


def fail(err, text=None):
    """A StopwiseError from an sw_error the library filled."""
    return StopwiseError(err.msg.decode(errors="replace"), code=err.status, text=text)


def enc(s):
    """A str as the UTF-8 bytes C wants (None stays None)."""
    return None if s is None else s.encode()
