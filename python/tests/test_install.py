"""Packaging: `pip install ./python` works (offline: a virtual environment with
Debian's setuptools, --no-build-isolation) and installs pure Python whose
metadata version is the library's; that package finds the libstopwise.so
`cmake --install` put under the same prefix, with no $STOPWISE_LIB; and
importing stopwise does not need the library at all."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import unittest

import support


def run(args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    if p.returncode:
        raise AssertionError("%s exited %d:\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p.stdout


class PipInstall(unittest.TestCase):
    def test_pip_install_then_cmake_install_under_one_prefix(self):
        tmp = support.tmpdir(self)
        # a copy: setuptools builds in the tree it is given (build/, *.egg-info)
        src = os.path.join(tmp, "src")
        shutil.copytree(os.path.join(support.source_dir(), "python"), src,
                        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "tests", "examples"))
        venv = os.path.join(tmp, "venv")
        run([sys.executable, "-m", "venv", "--system-site-packages", venv])
        py = os.path.join(venv, "bin", "python")
        run([py, "-m", "pip", "install", "--no-build-isolation", "--no-index", "--no-deps", "--quiet", src])
        env = {k: v for k, v in os.environ.items() if k not in ("STOPWISE_LIB", "PYTHONPATH", "LD_LIBRARY_PATH")}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        probe = textwrap.dedent("""
            import importlib.metadata, json, os, stopwise
            out = {"file": stopwise.__file__, "meta": importlib.metadata.version("stopwise")}
            try:
                out["lib"] = stopwise.library()
                out["stops"] = stopwise.Controller("target=5").report(tokens=1, em=6).stop
            except stopwise.LibraryNotFoundError as e:
                out["missing"] = str(e)
            print(json.dumps(out))
        """)
        # installed, before the library is: it imports, and says where it looked
        before = json.loads(run([py, "-c", probe], env=env, cwd=tmp))
        installed = os.path.join(venv, "lib", "python%d.%d" % sys.version_info[:2], "site-packages", "stopwise")
        self.assertEqual(os.path.dirname(before["file"]), installed)
        self.assertIn("install prefix %s" % venv, before["missing"])
        # what was installed is pure Python (no compiled extension)
        exts = [f for f in os.listdir(installed) if not f.endswith((".py", "__pycache__"))]
        self.assertEqual(exts, [])
        # cmake --install under the venv's prefix: found there
        run([support.env("STOPWISE_CMAKE"), "--install", support.env("STOPWISE_BINARY_DIR"), "--prefix", venv])
        after = json.loads(run([py, "-c", probe], env=env, cwd=tmp))
        path, version = after["lib"]
        self.assertTrue(path.startswith(os.path.join(venv, "lib")), path)
        self.assertEqual(after["meta"], version)
        self.assertTrue(after["stops"])


if __name__ == "__main__":
    support.main()
