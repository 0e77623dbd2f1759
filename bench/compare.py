#!/usr/bin/python3
"""Two dagrad binaries (before and after a change) on bench/peer.py's workloads, 1 thread,
alternated round by round; prints the median over rounds of each run's median ms per step and
their ratio. This is dagrad's side of peer.py's ratios (PyTorch's side does not change), for the
"ratios stay within 2%" check of a change, in a fraction of peer.py's time. The command lines
and their environment are peer.py's own (`configs`, `mb_configs`).

    /usr/bin/python3 bench/compare.py BEFORE/dagrad AFTER/dagrad [ROUNDS=5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer  # noqa: E402


def workloads(dagrad):
    """(name, argv, env) of each 1-thread dagrad run peer.py times."""
    out = []
    for name, layers, act, m, dtypes in peer.WORKLOADS:
        for dtype in dtypes:
            argv, env = peer.configs(dagrad, name, layers, act, m, dtype, False, False)["dagrad1"]
            out.append((f"{name} {dtype}", argv, env))
    argv, env = peer.mb_configs(dagrad, False)["dagrad1"]
    out.append(("W-mb f32", argv, env))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", help="the dagrad binary before the change")
    ap.add_argument("after", help="the dagrad binary after it")
    ap.add_argument("rounds", nargs="?", type=int, default=5, help="alternated rounds (5)")
    args = ap.parse_args()
    for path in (args.before, args.after):
        if not os.access(path, os.X_OK):
            ap.error(f"{path}: not an executable file")
    if args.rounds < 1:
        ap.error(f"rounds: {args.rounds} is not >= 1")
    before, after, rounds = args.before, args.after, args.rounds
    runs = {"before": workloads(before), "after": workloads(after)}
    times = {(w, n): [] for w in runs for n, _, _ in runs[w]}
    for r in range(rounds):
        order = ("before", "after") if r % 2 == 0 else ("after", "before")
        for i in range(len(runs["before"])):
            for which in order:
                name, argv, env = runs[which][i]
                out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
                times[(which, name)].append(json.loads(out.strip().splitlines()[-1])["median_ms"])
    print("| workload (1 thread) | before ms | after ms | after / before |")
    print("|---|---|---|---|")
    for name, _, _ in runs["before"]:
        a, b = statistics.median(times[("before", name)]), statistics.median(times[("after", name)])
        print(f"| {name} | {a:.4f} | {b:.4f} | {b / a:.3f} |")


if __name__ == "__main__":
    main()
