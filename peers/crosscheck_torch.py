#!/usr/bin/python3
"""Cross-check dagrad's derived gradients against PyTorch autograd in float64.

For a few L-layer networks of the notes (relu / tanh / leaky relu hidden
layers, sigmoid or softmax output, L2), this script writes random data and
weights with numpy, asks the dagrad CLI for its analytic gradients

    dagrad gradcheck --layers ... --data D.npz --params P.npz --dump G.npz

and recomputes them with torch.autograd from the same arrays. It passes when
every dW[l], db[l] agrees to a relative difference
||g_dagrad - g_torch|| / (||g_dagrad|| + ||g_torch||) below 1e-10.

Usage:  /usr/bin/python3 peers/crosscheck_torch.py [PATH/TO/dagrad]
        (default: $DAGRAD, else build/dagrad under the repository root)
Exit:   0 agree (or torch is missing: skipped with a message), 1 disagree,
        2 the CLI could not be run.
"""
import os
import subprocess
import sys
import tempfile

import torch_env  # (this folder)

torch_env.pin()  # before numpy or torch loads a BLAS (peers/torch_env.py)

import numpy as np  # noqa: E402

TOLERANCE = 1e-10

# (layers, hidden, output, lambda, m, seed)
CASES = [
    ([6, 5, 4, 1], "relu", "sigmoid", 0.7, 20, 1),
    ([3, 8, 1], "tanh", "sigmoid", 0.0, 50, 2),
    ([5, 6, 4, 3], "leaky_relu", "softmax", 0.3, 16, 3),
    ([12288, 20, 7, 5, 1], "relu", "sigmoid", 0.0, 209, 4),  # the notes' deep network
]


def dagrad_binary():
    if len(sys.argv) > 1:
        return sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("DAGRAD", os.path.join(here, "..", "build", "dagrad"))


def make_arrays(layers, output, m, seed):
    """Data one sample per row (as the course ships it) and He-scaled weights."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, layers[0]))
    if output == "sigmoid":
        y = (rng.random(m) < 0.5).astype(np.float64)
    else:
        y = rng.integers(0, layers[-1], m).astype(np.float64)
    params = {}
    for l in range(1, len(layers)):
        params[f"W{l}"] = rng.standard_normal((layers[l], layers[l - 1])) * np.sqrt(2.0 / layers[l - 1])
        params[f"b{l}"] = 0.1 * rng.standard_normal((layers[l], 1))
    return x, y, params


def torch_gradients(torch, layers, hidden, output, lam, x, y, params):
    """The notes' forward pass and cost, differentiated by torch.autograd."""
    F = torch.nn.functional
    m = x.shape[0]
    A = torch.tensor(x.T)
    W = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
           "leaky_relu": lambda z: F.leaky_relu(z, 0.01)}[hidden]
    L = len(layers) - 1
    for l in range(1, L + 1):
        Z = W[f"W{l}"] @ A + W[f"b{l}"]
        A = act(Z) if l < L else Z
    if output == "sigmoid":
        cost = F.binary_cross_entropy_with_logits(A, torch.tensor(y[None, :]), reduction="sum") / m
    else:
        cost = F.cross_entropy(A.T, torch.tensor(y).long(), reduction="sum") / m
    penalty = lam / (2 * m) * sum((W[f"W{l}"] ** 2).sum() for l in range(1, L + 1))
    (cost + penalty).backward()
    return {"d" + k: v.grad.numpy() for k, v in W.items()}


def run_case(torch, exe, tmp, case):
    layers, hidden, output, lam, m, seed = case
    x, y, params = make_arrays(layers, output, m, seed)
    data, pfile, gfile = (os.path.join(tmp, f"{n}{seed}.npz") for n in ("D", "P", "G"))
    np.savez(data, X=x, Y=y)
    np.savez(pfile, **params)
    cmd = [exe, "gradcheck", "--layers", ",".join(map(str, layers)), "--hidden", hidden,
           "--output", output, "--l2", str(lam), "--data", data, "--params", pfile,
           "--dump", gfile, "--samples", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode not in (0, 1) or not os.path.exists(gfile):
        print(f"dagrad failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
        sys.exit(2)
    ours = dict(np.load(gfile))
    theirs = torch_gradients(torch, layers, hidden, output, lam, x, y, params)
    worst = 0.0
    for name, g in theirs.items():
        d = ours[name].reshape(g.shape)
        den = np.linalg.norm(d) + np.linalg.norm(g)
        worst = max(worst, 0.0 if den == 0 else np.linalg.norm(d - g) / den)
    label = f"{','.join(map(str, layers))} {hidden}/{output} l2={lam} m={m}"
    print(f"{label:<48} max relative difference {worst:.3e}  {'PASS' if worst < TOLERANCE else 'FAIL'}")
    return worst


def run_all(name, run_case, cases, tolerance, skipped=0):
    """Runs run_case(torch, exe, tmp, case) for every case in float64; the
    exit code: 0 within tolerance, 1 not, 2 no CLI, `skipped` without torch."""
    try:
        import torch
    except ImportError:
        print(f"{name}: PyTorch is not installed; skipped")
        return skipped
    print(torch_env.blas_line(torch))
    torch.set_default_dtype(torch.float64)
    exe = dagrad_binary()
    if not os.access(exe, os.X_OK):
        print(f"{name}: no dagrad executable at {exe} (pass its path)")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        worst = max(run_case(torch, exe, tmp, c) for c in cases)
    print(f"overall: max relative difference {worst:.3e} (tolerance {tolerance:g})")
    return 0 if worst < tolerance else 1


def main():
    return run_all("crosscheck_torch", run_case, CASES, TOLERANCE)


if __name__ == "__main__":
    sys.exit(main())
