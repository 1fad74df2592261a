#!/usr/bin/env python3
"""A large Festival lexicon built from cmudict by deterministic transformations
(issue 9: measure evaluation cost on a ~440k-word lexicon).

Each cmudict entry ("word" pos (((phones) stress) ...)) yields itself and
derived words with derived pronunciations, in a fixed order, until the target
count is reached: word+s (+z), re+word (+r iy), word+ing (+ih ng), un+word
(+ah n), word+er (+er), word+ly (+l iy). The pronunciations are plausible, not
checked: the file exists to measure speed, not accuracy.

    bench/biglexicon.py [--lines 440000] [--out bench/results/lexicon-440k.out]
"""
import argparse
import re

SRC = "/usr/share/festival/dicts/cmu/cmudict-0.4.out"
ENTRY = re.compile(r'^\("([^"]+)" (\S+) \((.*)\)\)$')
SUFFIX = [("s", "((z) 0)"), ("ing", "((ih ng) 0)"), ("er", "((er) 0)"), ("ly", "((l iy) 0)")]
PREFIX = [("re", "((r iy) 0)"), ("un", "((ah n) 0)")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=440000)
    ap.add_argument("--out", default="bench/results/lexicon-440k.out")
    a = ap.parse_args()
    entries = []
    for line in open(SRC, encoding="latin-1"):
        m = ENTRY.match(line.strip())
        if m and m.group(1).isalpha():
            entries.append((m.group(1), m.group(2), m.group(3)))
    seen, out = set(), []

    def add(word, pos, sylls):
        if (word, pos) in seen or len(out) >= a.lines:
            return
        seen.add((word, pos))
        out.append('("%s" %s (%s))' % (word, pos, sylls))

    for w, p, s in entries:
        add(w, p, s)
    rounds = [(x, y, True) for x, y in SUFFIX] + [(x, y, False) for x, y in PREFIX]
    for fix, syll, is_suffix in rounds:
        for w, p, s in entries:
            if len(out) >= a.lines:
                break
            if is_suffix:
                add(w + fix, p, s + " " + syll)
            else:
                add(fix + w, p, syll + " " + s)
    with open(a.out, "w", encoding="latin-1") as f:
        f.write("MNCL\n" + "\n".join(out) + "\n")
    print("%s: %d entries" % (a.out, len(out)))


if __name__ == "__main__":
    main()
