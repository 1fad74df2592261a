"""The binding's ctypes structs have the C compiler's layout: the same size,
alignment, field names in order and offsets for every struct mirrored in
stopwise/_abi.py (tests/python_abi.c prints the C side), and the enums the
binding passes as ctypes.c_int are int-sized."""

import ctypes
import json
import subprocess
import unittest

import support
from stopwise import _abi


class Layout(unittest.TestCase):
    def test_every_mirrored_struct_matches_the_headers(self):
        c = json.loads(subprocess.run([support.env("STOPWISE_ABI_DUMP")], capture_output=True, text=True,
                                      check=True).stdout)
        enums = c.pop("enums")
        self.assertEqual(set(c), set(_abi.STRUCTS), "structs the C dump lists vs those _lib.py mirrors")
        for name, cls in _abi.STRUCTS.items():
            with self.subTest(struct=name):
                want = c[name]
                got = {f: getattr(cls, f).offset for f, _ in cls._fields_}
                self.assertEqual(list(got), list(want["fields"]), "field names and order")
                self.assertEqual(got, want["fields"], "offsets")
                self.assertEqual(ctypes.sizeof(cls), want["size"], "size")
                self.assertEqual(ctypes.alignment(cls), want["align"], "alignment")
        for name, size in enums.items():
            self.assertEqual(size, ctypes.sizeof(ctypes.c_int), name)


if __name__ == "__main__":
    support.main()
