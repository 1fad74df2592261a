"""One version everywhere: the package's (__version__ and the metadata pip
installs, read from stopwise/_version.py) equals the library's run-time
sw_version(), SW_VERSION_STRING in base.h and project(VERSION) in CMake."""

import os
import re
import unittest

import support
import stopwise


class Version(unittest.TestCase):
    def test_package_and_library_agree(self):
        src = support.source_dir()
        path, lib_version = stopwise.library()
        self.assertEqual(os.path.realpath(path), os.path.realpath(support.env("STOPWISE_LIB")))
        with open(os.path.join(src, "include", "stopwise", "base.h")) as f:
            header = re.search(r'#define SW_VERSION_STRING "([^"]+)"', f.read()).group(1)
        with open(os.path.join(src, "CMakeLists.txt")) as f:
            cmake = re.search(r"project\(stopwise VERSION ([0-9.]+)", f.read()).group(1)
        with open(os.path.join(src, "python", "pyproject.toml")) as f:
            pyproject = f.read()
        # the metadata's version is read from _version.py, not written twice
        self.assertIn('version = {attr = "stopwise._version.__version__"}', pyproject)
        self.assertEqual((stopwise.__version__, lib_version, header), (cmake, cmake, cmake))


if __name__ == "__main__":
    support.main()
