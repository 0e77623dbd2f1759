#!/usr/bin/python3
"""Two dagrad binaries (before and after a change) on bench/peer.py's workloads, 1 thread,
alternated round by round; prints the median over rounds of each run's median ms per step and
their ratio. This is dagrad's side of peer.py's ratios (PyTorch's side does not change), for the
"ratios stay within 2%" check of a change, in a fraction of peer.py's time.

    /usr/bin/python3 bench/compare.py BEFORE/dagrad AFTER/dagrad [ROUNDS=5]
"""
import json, os, statistics, subprocess, sys
A, B = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
def steps_for(layers, m):
    flops = 6 * m * sum(a * b for a, b in zip(layers, layers[1:]))
    return max(10, min(2000, int(2e9 / max(flops, 1))))
W = [("W-tiny f32", [2,4,1], "tanh", 400, "f32"), ("W-course f32", [12288,20,7,5,1], "relu", 209, "f32"),
     ("W-course f64", [12288,20,7,5,1], "relu", 209, "f64"), ("W-wide f32", [784,1024,1024,1], "relu", 256, "f32"),
     ("W-deep f32", [256]*9+[1], "relu", 512, "f32")]
cfgs = []
for name, layers, act, m, dt in W:
    cfgs.append((name, ["bench", "--layers", ",".join(map(str, layers)), "--hidden", act, "--m", str(m),
                        "--dtype", dt, "--steps", str(steps_for(layers, m)), "--json", "--threads", "1"]))
cfgs.append(("W-mb f32", ["bench", "--layers", "784,128,64,10", "--hidden", "relu", "--output", "softmax",
                          "--optimizer", "adam", "--batch-size", "64", "--samples", "8192", "--dtype", "f32",
                          "--steps", "300", "--json", "--threads", "1"]))
env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
res = {(n, w): [] for n, _ in cfgs for w in "AB"}
for r in range(rounds):
    for n, args in cfgs:
        for w, exe in (("A", A), ("B", B)) if r % 2 == 0 else (("B", B), ("A", A)):
            out = subprocess.run([exe] + args, env=env, capture_output=True, text=True, check=True).stdout
            res[(n, w)].append(json.loads(out.strip().splitlines()[-1])["median_ms"])
print(f"| workload (1 thread) | main ms | branch ms | branch / main |")
print("|---|---|---|---|")
for n, _ in cfgs:
    a, b = statistics.median(res[(n, "A")]), statistics.median(res[(n, "B")])
    print(f"| {n} | {a:.4f} | {b:.4f} | {b/a:.3f} |")
