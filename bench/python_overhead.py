#!/usr/bin/python3
"""What driving dagrad from Python costs (issue 24's targets; a benchmark, not
a test: nothing here asserts on time).

  1. A W-tiny training step ([2, 4, 1] tanh, m = 400, f32, full-batch
     gradient descent) through Model.fit, against the C++ step
     (`dagrad bench`, the same plan timed in C++) and against the C++
     trainer (`dagrad train`, train::fit, per update); target within 1.2x
     of C++. And PyTorch eager on the same step (target: dagrad from
     Python at least 20x faster).
  2. The fixed cost of Model.predict on one sample against
     serve::InferencePlan::predict called from C++ (dagrad_serve_bench, batch
     1, the same model file); target at most 5 us more.

Every figure is the median of --rounds rounds, the configurations alternated
round by round, one thread everywhere (OMP/OpenBLAS pinned before torch loads).

    PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py [--build build] [--rounds 5]
"""
import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import dagrad as dg  # noqa: E402

LAYERS, M = [2, 4, 1], 400


def data(dtype=np.float32):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2, M)).astype(dtype)
    Y = (X[0:1] * X[1:2] > 0).astype(dtype)
    return X, Y


def python_fit_step_us(steps):
    """Per update of Model.fit (the GIL released, the callback hook in place)."""
    X, Y = data()
    model = dg.build_mlp(LAYERS, hidden="tanh", dtype="f32")
    model.fit(X, Y, iterations=50, learning_rate=0.5)  # attach, initialize, warm up
    t0 = time.perf_counter()
    model.fit(X, Y, iterations=50 + steps)
    return (time.perf_counter() - t0) / steps * 1e6


def cpp_bench_step_us(dagrad, steps):
    p = subprocess.run([dagrad, "bench", "--layers", "2,4,1", "--hidden", "tanh", "--m", str(M), "--dtype", "f32",
                        "--threads", "1", "--steps", str(steps), "--json"], capture_output=True, text=True, check=True)
    return json.loads(p.stdout)["median_ms"] * 1e3


def cpp_train_step_us(dagrad, folder, steps):
    """Per update of `dagrad train` (train::fit in C++): the difference of
    two runs, steps apart, so that start-up and loading cancel."""
    X, Y = data(np.float64)
    x, y = os.path.join(folder, "x.csv"), os.path.join(folder, "y.csv")
    if not os.path.exists(x):
        np.savetxt(x, X.T, fmt="%.9g", delimiter=",")
        np.savetxt(y, Y.T, fmt="%d")

    def run(n):
        t0 = time.perf_counter()
        subprocess.run([dagrad, "train", "--layers", "2,4,1", "--hidden", "tanh", "--dtype", "f32", "--threads", "1",
                        "--data", x, "--labels", y, "--iters", str(n), "--lr", "0.5", "--print-every", "0"],
                       capture_output=True, check=True)
        return time.perf_counter() - t0
    return (run(50 + steps) - run(50)) / steps * 1e6


def torch_step_us(steps):
    import torch
    torch.set_num_threads(1)
    X, Y = data()
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    g = torch.Generator().manual_seed(1)
    W1 = (torch.randn(4, 2, generator=g) * 0.5).requires_grad_()
    b1 = torch.zeros(4, 1, requires_grad=True)
    W2 = (torch.randn(1, 4, generator=g) * 0.5).requires_grad_()
    b2 = torch.zeros(1, 1, requires_grad=True)
    params = [W1, b1, W2, b2]

    def step():
        Z2 = W2 @ torch.tanh(W1 @ Xt + b1) + b2
        J = torch.nn.functional.binary_cross_entropy_with_logits(Z2, Yt)
        for p in params:
            p.grad = None
        J.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.5 * p.grad
    for _ in range(50):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps * 1e6


def python_predict_us(model, calls):
    x = np.ascontiguousarray(data()[0][:, 0])  # one sample, (2,)
    out = np.empty((1, 1), dtype=np.float32)
    x2 = x.reshape(2, 1)
    for _ in range(1000):
        model.predict(x)
    times = {}
    for name, f in [("predict(x)", lambda: model.predict(x)), ("predict(x, out=)", lambda: model.predict(x2, out=out))]:
        t0 = time.perf_counter()
        for _ in range(calls):
            f()
        times[name] = (time.perf_counter() - t0) / calls * 1e6
    return times


def cpp_predict_us(serve_bench, model_file, calls):
    p = subprocess.run([serve_bench, model_file, "--batch", "1", "--threads", "1", "--reps", str(calls)],
                       capture_output=True, text=True, check=True)
    m = re.search(r"batch 1 median_us (\S+)", p.stdout)
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=50000)
    ap.add_argument("--calls", type=int, default=100000)
    a = ap.parse_args()
    dagrad = os.path.join(a.build, "dagrad")
    serve_bench = os.path.join(a.build, "dagrad_serve_bench")
    dg.set_threads(1)
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
        print("note: PyTorch is missing (python3-torch): its column is skipped", file=sys.stderr)
    runs = {k: [] for k in ["py_fit", "cpp_bench", "cpp_train", "torch", "py_predict", "py_predict_out",
                            "cpp_predict"]}
    with tempfile.TemporaryDirectory() as tmp:
        X, Y = data()
        model = dg.build_mlp(LAYERS, hidden="tanh", dtype="f32")
        model.fit(X, Y, iterations=100, learning_rate=0.5)
        model_file = os.path.join(tmp, "tiny.dagrad")
        model.save(model_file)
        for r in range(a.rounds):
            runs["py_fit"].append(python_fit_step_us(a.steps))
            runs["cpp_bench"].append(cpp_bench_step_us(dagrad, a.steps))
            runs["cpp_train"].append(cpp_train_step_us(dagrad, tmp, a.steps))
            if have_torch:
                runs["torch"].append(torch_step_us(max(1000, a.steps // 10)))
            p = python_predict_us(model, a.calls)
            runs["py_predict"].append(p["predict(x)"])
            runs["py_predict_out"].append(p["predict(x, out=)"])
            if os.path.exists(serve_bench):
                runs["cpp_predict"].append(cpp_predict_us(serve_bench, model_file, a.calls))
    med = {k: statistics.median(v) for k, v in runs.items() if v}
    print(f"W-tiny step, f32, 1 thread, median of {a.rounds} rounds (us per update):")
    print(f"  Model.fit from Python      {med['py_fit']:8.2f}")
    print(f"  C++ step (dagrad bench)    {med['cpp_bench']:8.2f}   Python / C++ = {med['py_fit'] / med['cpp_bench']:.2f}x "
          f"(target <= 1.2x)")
    print(f"  C++ trainer (dagrad train) {med['cpp_train']:8.2f}   Python / C++ = {med['py_fit'] / med['cpp_train']:.2f}x")
    if "torch" in med:
        print(f"  PyTorch eager              {med['torch']:8.2f}   PyTorch / dagrad = {med['torch'] / med['py_fit']:.1f}x "
              f"(target >= 20x)")
    print("predict, one sample, f32 (us per call):")
    print(f"  Model.predict(x)           {med['py_predict']:8.2f}")
    print(f"  Model.predict(x, out=y)    {med['py_predict_out']:8.2f}")
    if "cpp_predict" in med:
        print(f"  C++ plan.predict           {med['cpp_predict']:8.2f}   overhead {med['py_predict'] - med['cpp_predict']:.2f} us "
              f"(out=: {med['py_predict_out'] - med['cpp_predict']:.2f} us; target <= 5 us)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
