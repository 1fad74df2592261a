"""Policies from Python: the text form round-trips, the accessors read what
the text says, and a malformed policy raises StopwiseError with the position
(1-based column) and width of the faulty part."""

import pickle
import unittest

import support
import stopwise


class Parsing(unittest.TestCase):
    def test_canonical_text_prints_back(self):
        for text in ("patience=5:min_delta=0.1,gain=0.2,diverge,warmup=1M",
                     "all(patience=5,gain=0.1),diverge,warmup=1M:ignore,cooldown=0.1",
                     "extrapolate=0.5:z=2:min_points=8:at=20M,budget=20M", "none"):
            p = stopwise.Policy(text)
            self.assertEqual(str(p), text)
            self.assertEqual(stopwise.Policy(str(p)), p)
            self.assertEqual(pickle.loads(pickle.dumps(p)), p)
        self.assertEqual(str(stopwise.Policy("warmup=1000000,patience=05")), "patience=5,warmup=1M")

    def test_accessors(self):
        p = stopwise.Policy("patience=5,gl=5,2of(gain=1,up=2,target=90),warmup=1M:ignore,budget=20M,every=200k,"
                            "cooldown=0.2:shape=sqrt")
        self.assertEqual(p.rules, ["patience", "gl", "gain", "up", "target"])
        self.assertEqual((p.monitor, p.mode), ("val_em", "max"))
        self.assertEqual((p.warmup, p.warmup_ignores, p.budget, p.every), (1_000_000, True, 20_000_000, 200_000))
        self.assertEqual(p.cooldown, (0.2, "sqrt"))
        self.assertTrue(p.needs("val_loss"))
        self.assertFalse(p.needs("train_loss"))
        q = stopwise.Policy("patience=3,monitor=val_loss")
        self.assertEqual((q.monitor, q.mode, q.cooldown), ("val_loss", "min", None))


class Errors(unittest.TestCase):
    def bad(self, text, position, part, words):
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.Policy(text)
        e = cm.exception
        self.assertEqual(e.status, "invalid")
        self.assertEqual(e.position, position, e.message)
        self.assertEqual(e.width, len(part))
        self.assertEqual(text[position - 1: position - 1 + e.width], part)
        self.assertEqual(e.text, text)
        self.assertIn("policy character %d ('%s'" % (position, part), str(e))
        self.assertIn(words, str(e))
        return e

    def test_a_malformed_policy_raises_with_the_position(self):
        self.bad("patience=x", 10, "x", "patience needs a whole number of evaluations")
        self.bad("patience=5,bogus=1", 12, "bogus", "unknown rule")
        self.bad("patience=5:foo=1", 12, "foo", "unknown option for patience")
        self.bad("patience=5, gain=1", 12, " ", "whitespace is not allowed")
        self.bad("warmup=abc", 8, "abc", "warmup needs a token count")
        self.bad("monitor=val_em:avg", 16, "avg", "monitor's mode must be max or min")
        e = self.bad("gain=0.2,patience=", 19, "", "patience needs a whole number")
        self.assertEqual(e.caret().splitlines()[1], " " * 18 + "^")

    def test_the_caret_marks_the_part(self):
        e = self.bad("patience=5,bogus=1", 12, "bogus", "unknown rule")
        self.assertEqual(e.caret(), "patience=5,bogus=1\n           ^^^^^")

    def test_errors_without_a_position(self):
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.Policy("")
        self.assertIsNone(cm.exception.position)
        self.assertIn("empty", str(cm.exception))
        self.assertEqual(cm.exception.caret(), "")
        with self.assertRaises(TypeError):
            stopwise.Policy(5)


if __name__ == "__main__":
    support.main()
