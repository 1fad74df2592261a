"""Finding libstopwise.so: a missing library raises LibraryNotFoundError
naming every place looked and why each failed ($STOPWISE_LIB, build trees,
install prefixes, the system loader), at the first call that needs it, not
at import; the build tree of a checkout is found without $STOPWISE_LIB, a
sanitizer build tree is passed over, and a library of another version is
refused. Each case runs in a fresh python3 with a copy of the package."""

import os
import shutil
import subprocess
import sys
import textwrap
import unittest

import support

PACKAGE = os.path.join(support.source_dir(), "python", "stopwise")

# what the child prints: where the library came from, or the error's lines
PROBE = textwrap.dedent("""
    import stopwise                      # works without the library
    try:
        stopwise.Policy("patience=5")    # the first call that needs it
        print("LOADED", stopwise.library()[0])
    except stopwise.LibraryNotFoundError as e:
        print("ERROR", e.status)
        print(e)
        for where, path, why in e.looked:
            print("LOOKED", where, "|", path, "|", why)
""")


class Search(unittest.TestCase):
    def probe(self, package_parent, stopwise_lib=None):
        env = {k: v for k, v in os.environ.items() if k not in ("STOPWISE_LIB", "LD_LIBRARY_PATH", "PYTHONPATH")}
        env["PYTHONPATH"] = package_parent
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if stopwise_lib is not None:
            env["STOPWISE_LIB"] = stopwise_lib
        p = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env,
                           cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def setUp(self):
        self.tmp = support.tmpdir(self)

    def copy_package(self, parent):
        os.makedirs(parent, exist_ok=True)
        shutil.copytree(PACKAGE, os.path.join(parent, "stopwise"))
        return parent

    def test_stopwise_lib_that_does_not_exist(self):
        missing = os.path.join(self.tmp, "nowhere", "libstopwise.so")
        out = self.probe(os.path.dirname(PACKAGE), missing)
        self.assertTrue(out.startswith("ERROR not_found"), out)
        self.assertIn("$STOPWISE_LIB: %s (no such file)" % missing, out)
        self.assertIn("nothing else was tried", out)
        self.assertEqual(out.count("LOOKED"), 1)

    def test_stopwise_lib_a_folder_without_it_or_not_a_library(self):
        out = self.probe(os.path.dirname(PACKAGE), self.tmp)
        self.assertIn("$STOPWISE_LIB: %s (no such file)" % os.path.join(self.tmp, "libstopwise.so"), out)
        junk = os.path.join(self.tmp, "libstopwise.so")
        with open(junk, "w") as f:
            f.write("not an ELF file\n")
        out = self.probe(os.path.dirname(PACKAGE), junk)
        self.assertIn("$STOPWISE_LIB: %s (does not load:" % junk, out)

    def test_nothing_found_lists_every_place(self):
        parent = self.copy_package(os.path.join(self.tmp, "site"))
        out = self.probe(parent)
        if out.startswith("LOADED"):
            self.fail("this test needs a machine without an installed libstopwise, but one was found: %s" % out)
        self.assertTrue(out.startswith("ERROR not_found"), out)
        self.assertIn("LOOKED $STOPWISE_LIB | - | not set", out)
        self.assertIn("install prefix %s" % sys.prefix, out)
        self.assertIn("install prefix /usr/local | /usr/local/lib/libstopwise.so | no such file", out)
        self.assertIn("LOOKED system loader | libstopwise.so.0 |", out)
        self.assertNotIn("build tree", out)  # a copy outside a checkout has none
        self.assertIn("set STOPWISE_LIB to its path", out)

    def fake_checkout(self):
        repo = os.path.join(self.tmp, "repo")
        self.copy_package(os.path.join(repo, "python"))
        os.makedirs(os.path.join(repo, "include", "stopwise"))
        open(os.path.join(repo, "include", "stopwise", "stop.h"), "w").close()
        return repo

    def test_the_checkouts_build_tree_is_found(self):
        repo = self.fake_checkout()
        real = os.path.realpath(support.env("STOPWISE_LIB"))
        # a sanitizer build, newer, would abort python3 if loaded: passed over
        os.makedirs(os.path.join(repo, "build-asan"))
        with open(os.path.join(repo, "build-asan", "CMakeCache.txt"), "w") as f:
            f.write("STOPWISE_SANITIZE:BOOL=ON\n")
        os.symlink(real, os.path.join(repo, "build-asan", "libstopwise.so"))
        os.makedirs(os.path.join(repo, "build-release"))
        os.symlink(real, os.path.join(repo, "build-release", "libstopwise.so"))
        out = self.probe(os.path.join(repo, "python"))
        self.assertEqual(out.strip(), "LOADED %s" % os.path.join(repo, "build-release", "libstopwise.so"))
        # with REPO/build present, it comes first
        os.makedirs(os.path.join(repo, "build"))
        os.symlink(real, os.path.join(repo, "build", "libstopwise.so"))
        out = self.probe(os.path.join(repo, "python"))
        self.assertEqual(out.strip(), "LOADED %s" % os.path.join(repo, "build", "libstopwise.so"))

    def test_a_library_of_another_version_is_refused(self):
        src = os.path.join(self.tmp, "v.c")
        with open(src, "w") as f:
            f.write('const char *sw_version(void) { return "9.9.9"; }\n')
        lib = os.path.join(self.tmp, "libstopwise.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-o", lib, src], check=True)
        out = self.probe(os.path.dirname(PACKAGE), lib)
        self.assertIn("$STOPWISE_LIB: %s (version 9.9.9, this package is" % lib, out)
        # found in a build tree, it is passed over for the next candidate
        repo = self.fake_checkout()
        os.makedirs(os.path.join(repo, "build"))
        shutil.copy(lib, os.path.join(repo, "build", "libstopwise.so"))
        out = self.probe(os.path.join(repo, "python"))
        self.assertIn("LOOKED build tree | %s | version 9.9.9" % os.path.join(repo, "build", "libstopwise.so"), out)


if __name__ == "__main__":
    support.main()
