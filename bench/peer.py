#!/usr/bin/python3
"""Peer benchmark: the same training steps in dagrad, PyTorch and numpy.

Run with /usr/bin/python3 (Debian's numpy and torch). Each configuration runs
in a child process with its thread settings in the environment, and the
configurations are alternated round by round (so that a slow minute on the
VM hits them all alike); the table gives the median over rounds of each
child's median ms per step, and ratios. Writes markdown to stdout.

W-tiny is also timed against bench/tiny_ref.c (the same step in plain C
loops, compiled here with `cc -O2`), alternated with the other configurations.
W-mb (784,128,64,10 relu + softmax, Adam, batch 64 over 8192 shuffled samples)
is the mini-batch workload: PyTorch eager, its GEMMs alone, and dagrad when
its `bench` has the mini-batch flags.

    /usr/bin/python3 bench/peer.py --dagrad build-perf/dagrad [--rounds 5] [--only W-tiny,W-mb]
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
import torch_env  # noqa: E402

# Before numpy or torch loads a BLAS: a child keeps the counts its parent's
# env_with gave it; the parent, which times nothing, one thread.
torch_env.pin()

WORKLOADS = [
    # name, layers, hidden activation, m, dtypes
    ("W-tiny", [2, 4, 1], "tanh", 400, ["f32"]),
    ("W-course", [12288, 20, 7, 5, 1], "relu", 209, ["f32", "f64"]),
    ("W-wide", [784, 1024, 1024, 1], "relu", 256, ["f32"]),
    ("W-deep", [256] + [256] * 8 + [1], "relu", 512, ["f32"]),
]


# W-mb: the mini-batch workload (issue 15), and its targets.
MB_LAYERS, MB_BATCH, MB_SAMPLES, MB_STEPS = [784, 128, 64, 10], 64, 8192, 300
TINY_TARGET, MB_TARGET = 12.0, 3.0
# GEMM-bound steps: at most this many times their GEMMs run bare; every
# workload faster than PyTorch eager at 1 thread by at least TORCH_TARGET;
# 1000 layers compiled in at most COMPILE_TARGET_MS.
GEMM_TARGET, TORCH_TARGET, COMPILE_TARGET_MS = 1.02, 1.1, 30.0


def steps_for(layers, m):
    flops = 6 * m * sum(a * b for a, b in zip(layers, layers[1:]))
    return max(10, min(2000, int(2e9 / max(flops, 1))))


# ---- child mode: one framework, one workload, prints one JSON line ----------

def child_numpy(layers, act, m, dtype, steps):
    import numpy as np
    rng = np.random.default_rng(1)
    t = np.float32 if dtype == "f32" else np.float64
    X = rng.standard_normal((layers[0], m)).astype(t)
    Y = (rng.standard_normal((1, m)) > 0).astype(t)
    W = [(rng.standard_normal((b, a)) * np.sqrt(2.0 / a)).astype(t) for a, b in zip(layers, layers[1:])]
    B = [np.zeros((b, 1), t) for b in layers[1:]]
    L, lr = len(W), t(0.01)

    def step():
        A, Zs, As = X, [], [X]
        for l in range(L):
            Z = W[l] @ A + B[l]
            if l < L - 1:
                A = np.tanh(Z) if act == "tanh" else np.maximum(Z, 0)
            else:
                A = 1 / (1 + np.exp(-Z))
            Zs.append(Z)
            As.append(A)
        AL = A
        cost = -np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
        dZ = AL - Y
        for l in reversed(range(L)):
            dW = (dZ @ As[l].T) / m
            db = dZ.sum(axis=1, keepdims=True) / m
            if l > 0:
                dA = W[l].T @ dZ
                dZ = dA * (1 - As[l] * As[l]) if act == "tanh" else dA * (Zs[l - 1] > 0)
            W[l] -= lr * dW
            B[l] -= lr * db
        return cost

    return time_steps(step, steps)


def child_torch(layers, act, m, dtype, steps, torch_threads, rows=False):
    """The step in PyTorch eager. rows=False: the notes' layout, as dagrad's
    (X is n_x x m, Z = W A + b). rows=True: PyTorch's own (X is m x n_x,
    Z = F.linear(A, W, b) = A W^T + b), the layout nn.Linear runs in."""
    import torch
    torch.set_num_threads(torch_threads)
    torch.manual_seed(1)
    t = torch.float32 if dtype == "f32" else torch.float64
    X = torch.randn(layers[0], m, dtype=t)
    Y = (torch.randn(1, m) > 0).to(t)
    W = [(torch.randn(b, a, dtype=t) * (2.0 / a) ** 0.5).requires_grad_() for a, b in zip(layers, layers[1:])]
    B = [torch.zeros(b, 1, dtype=t, requires_grad=True) for b in layers[1:]]
    f = torch.tanh if act == "tanh" else torch.relu
    lossf = torch.nn.functional.binary_cross_entropy_with_logits
    if rows:
        X, Y = X.t().contiguous(), Y.t().contiguous()
        B = [torch.zeros(b, dtype=t, requires_grad=True) for b in layers[1:]]

    def layer(l, A):
        return torch.nn.functional.linear(A, W[l], B[l]) if rows else W[l] @ A + B[l]

    def step():
        A = X
        for l in range(len(W) - 1):
            A = f(layer(l, A))
        J = lossf(layer(len(W) - 1, A), Y)
        for p in W + B:
            p.grad = None
        J.backward()
        with torch.no_grad():
            for p in W + B:
                p -= 0.01 * p.grad
        return J

    return time_steps(step, steps)


def mb_data():
    """W-mb's data: 8192 samples of 784 features, 10 classes, fixed seed."""
    import numpy as np
    rng = np.random.default_rng(15)
    X = rng.standard_normal((MB_SAMPLES, MB_LAYERS[0]), dtype=np.float32)
    centers = rng.standard_normal((MB_LAYERS[-1], MB_LAYERS[0]), dtype=np.float32)
    labels = np.argmax(X @ centers.T, axis=1).astype(np.int64)
    return X, labels


def child_torch_mb(steps, torch_threads):
    """One Adam step of the idiomatic PyTorch model on the next shuffled batch."""
    import torch
    torch.set_num_threads(torch_threads)
    torch.manual_seed(1)
    X, labels = mb_data()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(labels)
    L = MB_LAYERS
    model = torch.nn.Sequential(torch.nn.Linear(L[0], L[1]), torch.nn.ReLU(), torch.nn.Linear(L[1], L[2]),
                                torch.nn.ReLU(), torch.nn.Linear(L[2], L[3]))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    state = {"perm": torch.randperm(MB_SAMPLES), "pos": 0}

    def step():
        if state["pos"] + MB_BATCH > MB_SAMPLES:
            state["perm"], state["pos"] = torch.randperm(MB_SAMPLES), 0
        idx = state["perm"][state["pos"]:state["pos"] + MB_BATCH]
        state["pos"] += MB_BATCH
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
        loss.backward()
        opt.step()
        return loss

    return time_steps(step, steps)


def child_torch_mb_gemms(steps, torch_threads):
    """The W-mb step's GEMMs alone, back to back into preallocated outputs:
    per layer the forward product, dW and (below the top layer's input) dA."""
    import torch
    torch.set_num_threads(torch_threads)
    torch.manual_seed(1)
    L, b = MB_LAYERS, MB_BATCH
    calls = []
    for n_in, n_out in zip(L, L[1:]):
        a, w, g = torch.randn(b, n_in), torch.randn(n_out, n_in), torch.randn(b, n_out)
        calls.append((a, w.t(), torch.empty(b, n_out)))        # Z = A W^T
        calls.append((g.t(), a, torch.empty(n_out, n_in)))     # dW = dZ^T A
        if n_in != L[0]:
            calls.append((g, w, torch.empty(b, n_in)))         # dA = dZ W

    def step():
        for x, y, out in calls:
            torch.mm(x, y, out=out)

    return time_steps(step, steps)


def time_steps(step, steps):
    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return {"median_ms": 1e3 * statistics.median(times)}


def run_child(args):
    if args.child == "torch-mb":
        return print(json.dumps(child_torch_mb(args.steps, args.torch_threads)))
    if args.child == "torch-mb-gemms":
        return print(json.dumps(child_torch_mb_gemms(args.steps, args.torch_threads)))
    layers = [int(x) for x in args.layers.split(",")]
    if args.child == "numpy":
        out = child_numpy(layers, args.act, args.m, args.dtype, args.steps)
    else:
        out = child_torch(layers, args.act, args.m, args.dtype, args.steps, args.torch_threads,
                          rows=args.child == "torch-rows")
    if "torch" in sys.modules:
        out["blas"] = torch_env.blas_line(sys.modules["torch"])
    print(json.dumps(out))


# ---- parent mode -------------------------------------------------------------

def env_with(blas_threads):
    env = dict(os.environ)
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(blas_threads)
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


class Unavailable(Exception):
    """The command refused a flag this build does not have (exit 2)."""


def run_json(cmd, env):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if p.returncode == 2 and "not expected" in p.stderr:
        raise Unavailable(p.stderr.strip().splitlines()[0])
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr.strip()[-400:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def build_tiny_ref(tmp):
    """bench/tiny_ref.c compiled with `cc -O2`; None (with a note) without a compiler."""
    cc = shutil.which("cc")
    if not cc:
        print("note: no cc on PATH; the plain C W-tiny reference is skipped", file=sys.stderr)
        return None
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_ref.c")
    exe = os.path.join(tmp, "tiny_ref")
    p = subprocess.run([cc, "-O2", src, "-o", exe, "-lm"], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"note: cc -O2 tiny_ref.c failed, reference skipped: {p.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return exe


def configs(dagrad, name, layers, act, m, dtype, have_torch, have_numpy):
    spec = ",".join(map(str, layers))
    steps = steps_for(layers, m)
    me = [sys.executable, os.path.abspath(__file__), "--layers", spec, "--act", act, "--m", str(m),
          "--dtype", dtype, "--steps", str(steps)]
    bench = [dagrad, "bench", "--layers", spec, "--hidden", act, "--m", str(m), "--dtype", dtype,
             "--steps", str(steps), "--json"]
    out = {"dagrad1": (bench + ["--threads", "1"], env_with(1)),
           "dagrad2": (bench + ["--threads", "2"], env_with(2))}
    if have_torch:
        out["torch1"] = (me + ["--child", "torch", "--torch-threads", "1"], env_with(1))
        out["torchrows1"] = (me + ["--child", "torch-rows", "--torch-threads", "1"], env_with(1))
        out["torch2"] = (me + ["--child", "torch", "--torch-threads", "1"], env_with(2))
        out["torch2p"] = (me + ["--child", "torch", "--torch-threads", "2"], env_with(1))
    if have_numpy:
        out["numpy1"] = (me + ["--child", "numpy"], env_with(1))
    return out


def has(module):
    """Whether `module` can be imported, without importing it here: the
    parent loads no BLAS (the children pin their own threads)."""
    import importlib.util
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def blas_lines(rows, mb):
    """The distinct torch_env.blas_line of every timed PyTorch child."""
    runs = [r for _, _, cfg, _ in rows for rs in cfg.values() for r in rs]
    if mb:
        runs += [r for rs in mb[0].values() for r in rs]
    return sorted({r["blas"] for r in runs if "blas" in r})


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def alternate(cfg, rounds):
    """Runs every configuration once per round, rotating the order; a dagrad
    2-thread run whose core check failed is set aside (kept only when every
    one failed), and a configuration this build lacks is dropped."""
    keys = list(cfg)
    runs = {k: [] for k in keys}
    discarded, contended, missing = 0, [], {}
    for r in range(rounds):
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            if k in missing:
                continue
            try:
                res = run_json(*cfg[k])
            except Unavailable as e:
                missing[k] = str(e)
                continue
            if k == "dagrad2" and min(res["core_check_before"], res["core_check_after"]) < 1.5:
                discarded += 1
                contended.append(res)
                continue
            runs[k].append(res)
    if not runs.get("dagrad2"):
        # Every 2-thread run shared one core: show them, marked, rather than nothing.
        runs["dagrad2"] = contended
    return runs, discarded, missing


def measure(dagrad, rounds, have_torch, have_numpy, tiny_ref, only):
    rows = []
    for name, layers, act, m, dtypes in WORKLOADS:
        if only and name not in only:
            continue
        for dtype in dtypes:
            cfg = configs(dagrad, name, layers, act, m, dtype, have_torch, have_numpy)
            if name == "W-tiny" and tiny_ref:
                cfg["cref"] = ([tiny_ref, str(steps_for(layers, m))], env_with(1))
            runs, discarded, _ = alternate(cfg, rounds)
            rows.append((name, dtype, runs, discarded))
            print(f"measured {name} {dtype}", file=sys.stderr)
    return rows


def mb_configs(dagrad, have_torch):
    spec = ",".join(map(str, MB_LAYERS))
    bench = [dagrad, "bench", "--layers", spec, "--hidden", "relu", "--output", "softmax", "--optimizer", "adam",
             "--batch-size", str(MB_BATCH), "--samples", str(MB_SAMPLES), "--dtype", "f32",
             "--steps", str(MB_STEPS), "--json"]
    out = {"dagrad1": (bench + ["--threads", "1"], env_with(1)),
           "dagrad2": (bench + ["--threads", "2"], env_with(2))}
    if have_torch:
        me = [sys.executable, os.path.abspath(__file__), "--steps", str(MB_STEPS)]
        for kind, tag in (("torch-mb", "torch"), ("torch-mb-gemms", "tgemm")):
            out[tag + "1"] = (me + ["--child", kind, "--torch-threads", "1"], env_with(1))
            out[tag + "2"] = (me + ["--child", kind, "--torch-threads", "1"], env_with(2))
            out[tag + "2p"] = (me + ["--child", kind, "--torch-threads", "2"], env_with(1))
    return out


def med(runs, key, field="median_ms"):
    vals = [r[field] for r in runs.get(key, [])]
    return statistics.median(vals) if vals else float("nan")


def fmt_ms(x):
    return "n/a" if x != x else (f"{x:.4f}" if x < 0.1 else f"{x:.2f}")


def at_most(ratio, target):
    if ratio != ratio:
        return "n/a"
    return f"{ratio:.3f} (<= {target:g}: {'met' if ratio <= target else 'not met'})"


def table(rows):
    out = ["| workload | dtype | dagrad 1 thr | GEMMs only 1 thr | dagrad / GEMMs | PyTorch eager 1 thr "
           "| PyTorch rows 1 thr | numpy 1 thr | PyTorch / dagrad | dagrad 2 thr | GEMMs only 2 thr | dagrad / GEMMs "
           "| PyTorch best 2 cores | PyTorch / dagrad (2) | peak / lower bound |",
           "|" + "---|" * 15]
    for name, dtype, runs, discarded in rows:
        d1, g1 = med(runs, "dagrad1"), med(runs, "dagrad1", "gemm_median_ms")
        d2, g2 = med(runs, "dagrad2"), med(runs, "dagrad2", "gemm_median_ms")
        t1, n1 = med(runs, "torch1"), med(runs, "numpy1")
        # The target holds against PyTorch's faster layout (NaN-safe min).
        tr1 = med(runs, "torchrows1")
        tbest = min((x for x in (t1, tr1) if x == x), default=float("nan"))
        t2 = min(med(runs, "torch2"), med(runs, "torch2p"))
        a = runs["dagrad1"][0]
        note = f" ({discarded} of the 2-thread runs had 1 core)" if discarded else ""
        # A fused narrow-net step has no GEMMs: its ratio to them means nothing.
        fused = a.get("fused_net", False)
        r1 = "fused, no GEMMs" if fused else at_most(d1 / g1, GEMM_TARGET)
        r2 = "fused, no GEMMs" if fused else at_most(d2 / g2, GEMM_TARGET)
        out.append(f"| {name}{note} | {dtype} | {fmt_ms(d1)} | {fmt_ms(g1)} | {r1} | {fmt_ms(t1)} | {fmt_ms(tr1)} | "
                   f"{fmt_ms(n1)} | {verdict(tbest / d1, TORCH_TARGET)} | {fmt_ms(d2)} | {fmt_ms(g2)} | {r2} | "
                   f"{fmt_ms(t2)} | {t2 / d2:.2f}x | {a['arena_bytes']} / {a['lower_bound_bytes']} |")
    return "\n".join(out)


def verdict(ratio, target):
    if ratio != ratio:
        return "n/a"
    return f"{ratio:.2f}x (target {target:g}x: {'met' if ratio >= target else 'not met'})"


def tiny_ref_line(rows):
    for name, _, runs, _ in rows:
        if name != "W-tiny" or not runs.get("cref"):
            continue
        c, d1 = med(runs, "cref"), med(runs, "dagrad1")
        return (f"W-tiny against plain C loops (bench/tiny_ref.c, cc -O2, scalar libm), alternated in this run: "
                f"C {c * 1e3:.2f} us, dagrad 1 thread {d1 * 1e3:.2f} us per step: dagrad faster by "
                f"{verdict(c / d1, TINY_TARGET)}.")
    return None


def mb_table(runs, missing):
    d1, d2 = med(runs, "dagrad1"), med(runs, "dagrad2")
    g1, g2 = med(runs, "dagrad1", "gemm_median_ms"), med(runs, "dagrad2", "gemm_median_ms")
    t1, tg1 = med(runs, "torch1"), med(runs, "tgemm1")
    t2 = min(med(runs, "torch2"), med(runs, "torch2p"))
    tg2 = min(med(runs, "tgemm2"), med(runs, "tgemm2p"))
    out = ["| W-mb | dagrad | dagrad GEMMs only | dagrad outside GEMMs | PyTorch eager | PyTorch GEMMs alone "
           "| PyTorch outside GEMMs | PyTorch / dagrad |", "|" + "---|" * 8]
    for label, d, g, t, tg in (("1 thread", d1, g1, t1, tg1), ("best 2 cores", d2, g2, t2, tg2)):
        out.append(f"| {label} | {fmt_ms(d)} | {fmt_ms(g)} | {fmt_ms(d - g)} | {fmt_ms(t)} | {fmt_ms(tg)} "
                   f"| {fmt_ms(t - tg)} | {verdict(t / d, MB_TARGET)} |")
    out.append(f"\nPyTorch eager at 2 threads (torch.set_num_threads(2)): {fmt_ms(med(runs, 'torch2p'))} ms; "
               f"at 1 thread with 2 BLAS threads: {fmt_ms(med(runs, 'torch2'))} ms.")
    if "dagrad1" in missing:
        out.append(f"\ndagrad: not available in this build ({missing['dagrad1']})")
    return "\n".join(out)


def compile_times(dagrad):
    out = ["| layers | nodes after optimize | build + minimize (gradients, update) + optimize + plan (ms) |",
           "|---|---|---|"]
    for L in (10, 100, 1000):
        spec = ",".join(["16"] * (L + 1))
        res = run_json([dagrad, "bench", "--layers", spec, "--m", "8", "--steps", "1",
                        "--warmup", "0", "--json"], env_with(1))
        ms = res["compile_ms"]
        target = f" (target <= {COMPILE_TARGET_MS:g}: {'met' if ms <= COMPILE_TARGET_MS else 'not met'})" \
            if L == 1000 else ""
        out.append(f"| {L} | {res['nodes']} | {ms:.1f}{target} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dagrad", default="build-perf/dagrad")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", help="comma-separated workloads to run (W-tiny,W-course,W-wide,W-deep,W-mb)")
    ap.add_argument("--child", choices=["torch", "torch-rows", "numpy", "torch-mb", "torch-mb-gemms"])
    ap.add_argument("--layers")
    ap.add_argument("--act", default="relu")
    ap.add_argument("--m", type=int)
    ap.add_argument("--dtype", default="f32")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--torch-threads", type=int, default=1)
    args = ap.parse_args()
    if args.child:
        return run_child(args)
    have_torch, have_numpy = has("torch"), has("numpy")
    if not have_torch:
        print("note: torch is not importable; PyTorch columns are skipped", file=sys.stderr)
    if not have_numpy:
        print("note: numpy is not importable; numpy columns are skipped", file=sys.stderr)
    only = set(args.only.split(",")) if args.only else None
    with tempfile.TemporaryDirectory(prefix="dagrad-peer-") as tmp:
        tiny_ref = build_tiny_ref(tmp) if not only or "W-tiny" in only else None
        rows = measure(args.dagrad, args.rounds, have_torch, have_numpy, tiny_ref, only)
        mb = None
        if not only or "W-mb" in only:
            mb = alternate(mb_configs(args.dagrad, have_torch), args.rounds)
            print("measured W-mb", file=sys.stderr)
    print(f"Measured {datetime.datetime.now():%Y-%m-%d %H:%M} on {cpu_model()}, nproc = {os.cpu_count()}, "
          f"load average at the end {os.getloadavg()[0]:.1f}.\n")
    if rows:
        print("Median ms per training step (forward, cost, backward, update); median over "
              f"{args.rounds} alternated rounds. 'GEMMs only' is the same GEMMs back to back, each on the "
              "library dagrad's planner chose for its shape, timed by `dagrad bench` in the same process, "
              "alternating with the steps. PyTorch eager runs in the notes' layout "
              "(X is n_x x m, W @ A + b) and in its own ('rows': X is m x n_x, F.linear); 'PyTorch / dagrad' "
              "is against the faster of the two. PyTorch best 2 cores = the faster of (torch 1 thread, "
              "OpenBLAS 2) and (torch 2, OpenBLAS 1).\n")
        print(table(rows))
        line = tiny_ref_line(rows)
        if line:
            print("\n" + line)
    if mb:
        runs, _, missing = mb
        print(f"\nW-mb: {','.join(map(str, MB_LAYERS))} relu + softmax, Adam, batch {MB_BATCH}, f32, steps over "
              f"{MB_SAMPLES} shuffled samples (numpy seed 15); median ms per step over {args.rounds} alternated "
              "rounds. PyTorch is the idiomatic nn.Sequential / cross_entropy / optim.Adam step on the next "
              "batch of a shuffled epoch; its GEMMs alone are the step's 8 products (forward, dW, dA) with "
              "torch.mm into preallocated outputs. 'best 2 cores' as above.\n")
        print(mb_table(runs, missing))
    if not only:
        print("\nCompile time (MLP of width 16, m = 8):\n")
        print(compile_times(args.dagrad))
    blas = blas_lines(rows, mb)
    if blas:
        print("\nPyTorch's BLAS, as the timed children loaded it (peers/torch_env.py):\n")
        print("\n".join(f"- {b}" for b in blas))


if __name__ == "__main__":
    sys.exit(main())
