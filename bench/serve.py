#!/usr/bin/python3
"""dagrad's C++ serving API against ONNX Runtime on the same exported models.

  /usr/bin/python3 bench/serve.py [--build build] [--rounds 2] [--seconds 1]

For each shape (W-mb 784-128-64-10 relu + softmax, W-course 12288-20-7-5-1
relu + sigmoid, 4-16-3 relu + softmax; f32) it trains a model for two
iterations (`dagrad train --save`), exports it (`dagrad export`), then
times batches 1, 64 and 4096 at 1 and 2 threads:
  dagrad  build/dagrad_serve_bench (serve::InferencePlan::predict, rows layout)
  ORT     node bench/serve_ort.js (onnxruntime-node, intraOpNumThreads = threads)
alternating the two process by process, `--rounds` times; each cell is the
best of the rounds' medians (us per call). A 1-1 linear model gives ORT's
floor: its per-call overhead with next to no compute. Prints each ratio
(ORT time / dagrad time) against the issue's target at 1 thread: >= 3x at
batch 1, >= 1.2x at 64 and 4096.

ORT: `cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node`
(bench/ort/ is ignored by git; ORT_NODE_MODULES points elsewhere). Without
node or ORT the script times dagrad alone and says so; a missing dagrad
binary is an error (exit 2).
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SHAPES = [
    # name, layers, hidden, output, classes
    ("W-mb", [784, 128, 64, 10], "relu", "softmax", 10),
    ("W-course", [12288, 20, 7, 5, 1], "relu", "sigmoid", 2),
    ("4-16-3", [4, 16, 3], "relu", "softmax", 3),
]
FLOOR = ("floor 1-1", [1, 1], "relu", "linear", 0)
TARGETS = {1: 3.0, 64: 1.2, 4096: 1.2}


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()[-400:]}")
    return p.stdout


def make_model(dagrad, tmp, shape):
    name, layers, hidden, output, classes = shape
    tag = name.replace(" ", "_")
    rng = random.Random(7)
    m = 16
    x = os.path.join(tmp, f"{tag}_x.csv")
    y = os.path.join(tmp, f"{tag}_y.csv")
    with open(x, "w") as f:
        for _ in range(m):
            f.write(",".join(f"{rng.uniform(-1, 1):.4f}" for _ in range(layers[0])) + "\n")
    with open(y, "w") as f:
        for i in range(m):
            f.write(f"{rng.uniform(-1, 1):.4f}\n" if output == "linear" else f"{i % max(classes, 2)}\n")
    model = os.path.join(tmp, f"{tag}.dagrad")
    onnx = os.path.join(tmp, f"{tag}.onnx")
    run([dagrad, "train", "--data", x, "--labels", y, "--layers", ",".join(map(str, layers)),
         "--hidden", hidden, "--output", output, "--dtype", "f32", "--iters", "2", "--lr", "0.01",
         "--save", model])
    run([dagrad, "export", "--model", model, "-o", onnx])
    return model, onnx


def parse(out):
    res = {}
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "batch":
            res[int(f[1])] = float(f[3])
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=1.0, help="timed seconds per batch and process")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="1,64,4096")
    ap.add_argument("--only", default="", help="comma-separated shape names")
    a = ap.parse_args()
    dagrad = os.path.join(a.build, "dagrad")
    bench = os.path.join(a.build, "dagrad_serve_bench")
    for exe in (dagrad, bench):
        if not os.access(exe, os.X_OK):
            print(f"serve.py: error: {exe} is missing: build it (cmake --build {a.build} "
                  f"--target dagrad_cli dagrad_serve_bench)", file=sys.stderr)
            return 2
    node = shutil.which("node")
    ort_script = os.path.join(HERE, "serve_ort.js")
    have_ort = False
    if node:
        probe = subprocess.run([node, "-e", "require(process.env.ORT_NODE_MODULES ? "
                                "require('path').join(process.env.ORT_NODE_MODULES,'onnxruntime-node') : "
                                f"'{HERE}/ort/node_modules/onnxruntime-node')"],
                               capture_output=True, text=True)
        have_ort = probe.returncode == 0
    if not have_ort:
        why = "node is not installed" if not node else "onnxruntime-node is not installed"
        print(f"serve.py: skipping ONNX Runtime: {why} (cd bench/ort && "
              "ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node)")
    batches = [int(b) for b in a.batches.split(",")]
    threads = [int(t) for t in a.threads.split(",")]
    shapes = [s for s in SHAPES if not a.only or s[0] in a.only.split(",")]
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    tmp = tempfile.mkdtemp(prefix="dagrad_serve_")
    try:
        files = {s[0]: make_model(dagrad, tmp, s) for s in shapes + ([FLOOR] if have_ort else [])}
        best = {}  # (shape, threads, contender) -> {batch: [medians]}
        for r in range(a.rounds):
            for t in threads:
                for s in shapes + ([FLOOR] if have_ort else []):
                    model, onnx = files[s[0]]
                    common = ["--batch", ",".join(map(str, batches)), "--threads", str(t),
                              "--seconds", str(a.seconds)]
                    jobs = [("dagrad", [bench, model] + common)]
                    if have_ort:
                        jobs.append(("ORT", [node, ort_script, onnx] + common))
                    if r % 2:
                        jobs.reverse()  # alternate who goes first
                    for who, cmd in jobs:
                        if who == "dagrad" and s is FLOOR:
                            continue
                        for b, us in parse(run(cmd, env)).items():
                            best.setdefault((s[0], t, who), {}).setdefault(b, []).append(us)
        print(f"\nmedian us per call (best of {a.rounds} alternated rounds), f32, samples as rows")
        print("| shape | threads | batch | dagrad | ONNX Runtime | dagrad's speed relative to ORT | target (1 thread) |")
        print("|---|---|---|---|---|---|---|")
        misses = []
        for s in shapes:
            for t in threads:
                for b in batches:
                    d = min(best[(s[0], t, "dagrad")][b])
                    o = min(best[(s[0], t, "ORT")][b]) if have_ort else None
                    ratio = f"{o / d:.2f}x" if o else "-"
                    target = ""
                    if t == 1 and o:
                        ok = o / d >= TARGETS[b]
                        target = f">= {TARGETS[b]}x: {'met' if ok else 'MISSED'}"
                        if not ok:
                            misses.append(f"{s[0]} batch {b}: {o / d:.2f}x of {TARGETS[b]}x "
                                          f"({100 * (1 - (o / d) / TARGETS[b]):.0f}% short)")
                    print(f"| {s[0]} | {t} | {b} | {d:.2f} | {f'{o:.2f}' if o else '-'} | {ratio} | {target} |")
        if have_ort:
            for t in threads:
                fl = best[(FLOOR[0], t, "ORT")]
                print(f"ORT's floor (a 1-1 linear model), {t} thread(s): " +
                      ", ".join(f"batch {b} {min(fl[b]):.2f} us" for b in batches))
            print("targets: all met" if not misses else "targets missed: " + "; ".join(misses))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
