#!/usr/bin/python3
"""Counts what the test suite checks and writes the counts into
docs/reliability.md (between <!-- counts begin --> and <!-- counts end -->),
so the page's numbers come from the suite, not from a hand count.

    /usr/bin/python3 scripts/reliability.py [--tests build/tests/dagrad_tests] [--check]

It asks the built test binary, without running the tests:
  - the test cases, in total and per tag (Catch2's --list-tags);
  - the rows of the bad-input catalogue per class of bad input
    (the hidden test case tagged [catalogue_rows] in
    tests/robustness/catalogue_test.cpp lists them without running them).
--check compares instead of writing and exits 1 when the page is stale.
"""
import argparse
import collections
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def output_of(args, env=None):
    # Catch2 v2 exits with the number of listed items or of failures, so the
    # exit code says nothing; an empty answer does.
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    if not r.stdout.strip() or r.returncode < 0:
        sys.exit(f"reliability.py: {' '.join(args)} gave nothing (exit {r.returncode}): {r.stderr[:300]}")
    return r.stdout


def counts(tests):
    names = [l for l in output_of([tests, "--list-test-names-only"]).splitlines() if l.strip()]
    tags = {}
    for line in output_of([tests, "--list-tags"]).splitlines():
        m = re.match(r"^\s*(\d+)\s+(\[.*\])\s*$", line)
        if m:
            tags[m.group(2)] = int(m.group(1))
    rows = collections.Counter()
    for line in output_of([tests, "[catalogue_rows]"]).splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] == "row":
            rows[parts[1]] += 1
    return len(names), tags, rows


def table(total, tags, rows):
    out = [f"The suite has **{total} test cases**. By tag:", "", "| tag | test cases |", "|---|---|"]
    out += [f"| `{t}` | {n} |" for t, n in sorted(tags.items())]
    out += ["", f"The catalogue (`tests/robustness/catalogue_test.cpp`) has **{sum(rows.values())} rows**. By class:",
            "", "| class of bad input | rows |", "|---|---|"]
    out += [f"| {k} | {n} |" for k, n in sorted(rows.items())]
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tests", default=os.path.join(ROOT, "build/tests/dagrad_tests"))
    p.add_argument("--check", action="store_true")
    a = p.parse_args()
    if not os.access(a.tests, os.X_OK):
        sys.exit(f"reliability.py: {a.tests} is not built (cmake --build build)")
    body = table(*counts(a.tests))
    path = os.path.join(ROOT, "docs/reliability.md")
    text = open(path).read()
    begin, end = "<!-- counts begin -->", "<!-- counts end -->"
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < 0:
        sys.exit(f"reliability.py: {path} has no {begin} ... {end} markers")
    new = text[:i + len(begin)] + "\n" + body + "\n" + text[j:]
    if a.check:
        print("reliability.py: " + ("docs/reliability.md is current" if new == text else "docs/reliability.md is stale"))
        return 0 if new == text else 1
    open(path, "w").write(new)
    print("reliability.py: docs/reliability.md counts rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
