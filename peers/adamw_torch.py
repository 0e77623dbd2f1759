#!/usr/bin/python3
"""Check dagrad's AdamW against torch.optim.AdamW in float64.

For a few of the notes' networks, numpy writes random data and initial
weights; `dagrad train --optimizer adamw --init-from P.npz` trains them
full-batch for N updates and saves the parameters, and PyTorch trains the
same network from the same weights with torch.optim.AdamW (same lr, betas,
eps, weight_decay; its default weight_decay 0.01 where the case gives none,
so dagrad's default is checked too) on the same cost. It passes when every
parameter agrees within 1e-12, relative to max(1, |value|).

Usage:  /usr/bin/python3 peers/adamw_torch.py [PATH/TO/dagrad]
        (default: $DAGRAD, else build/dagrad under the repository root)
Exit:   0 agree, 77 torch is missing (skipped, with a message; 1 under CI=true),
        1 disagree, 2 the CLI could not be run.
"""
import os

import torch_env  # (this folder)

# Pinned before numpy or torch loads a BLAS: one thread, so its sums have one order.
torch_env.pin()

import subprocess  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

from crosscheck_torch import make_arrays, run_all  # noqa: E402  (this folder)

TOLERANCE = 1e-12

# (layers, hidden, lr, weight_decay (None: the default), betas, eps, iters, seed)
CASES = [
    ([2, 5, 3, 1], "tanh", 0.01, None, (0.9, 0.999), 1e-8, 40, 1),
    ([4, 8, 1], "relu", 0.05, 0.3, (0.8, 0.99), 1e-6, 25, 2),
    ([3, 6, 4, 1], "sigmoid", 0.002, 1.5, (0.9, 0.999), 1e-8, 30, 3),
]


def torch_adamw(torch, layers, hidden, lr, wd, betas, eps, iters, x, y, params):
    """The notes' forward pass and binary cross-entropy, trained by torch.optim.AdamW."""
    F = torch.nn.functional
    m = x.shape[0]
    X, Y = torch.tensor(x.T), torch.tensor(y[None, :])
    W = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    kwargs = {} if wd is None else {"weight_decay": wd}
    opt = torch.optim.AdamW(list(W.values()), lr=lr, betas=betas, eps=eps, **kwargs)
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[hidden]
    L = len(layers) - 1
    for _ in range(iters):
        opt.zero_grad()
        A = X
        for l in range(1, L + 1):
            Z = W[f"W{l}"] @ A + W[f"b{l}"]
            A = act(Z) if l < L else Z
        cost = F.binary_cross_entropy_with_logits(A, Y, reduction="sum") / m
        cost.backward()
        opt.step()
    return {k: v.detach().numpy() for k, v in W.items()}


def run_case(torch, exe, tmp, case):
    layers, hidden, lr, wd, betas, eps, iters, seed = case
    x, y, params = make_arrays(layers, "sigmoid", 64, seed)
    data, start, out = (os.path.join(tmp, f"{n}{seed}.npz") for n in ("D", "P", "O"))
    np.savez(data, X=x, Y=y)
    np.savez(start, **params)
    cmd = [exe, "train", "--layers", ",".join(map(str, layers)), "--hidden", hidden,
           "--data", data, "--init-from", start, "--optimizer", "adamw", "--lr", repr(lr),
           "--beta1", repr(betas[0]), "--beta2", repr(betas[1]), "--epsilon", repr(eps),
           "--iters", str(iters), "--dtype", "f64", "--threads", "1", "--save", out]
    if wd is not None:
        cmd += ["--weight-decay", repr(wd)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not os.path.exists(out):
        print(f"dagrad failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
        sys.exit(2)
    ours = dict(np.load(out))
    theirs = torch_adamw(torch, layers, hidden, lr, wd, betas, eps, iters, x, y, params)
    worst = 0.0
    for name, t in theirs.items():
        d = ours[name].reshape(t.shape)
        worst = max(worst, float(np.max(np.abs(d - t) / np.maximum(1.0, np.abs(t)))))
        moved = float(np.max(np.abs(t - params[name])))
        if moved < 1e-3:  # the check would be empty if nothing trained
            print(f"{name} moved only {moved:.1e}")
            return 1.0
    label = f"{','.join(map(str, layers))} {hidden} lr={lr} wd={'default' if wd is None else wd} {iters} it"
    print(f"{label:<44} max relative difference {worst:.3e}  {'PASS' if worst < TOLERANCE else 'FAIL'}")
    return worst


def main():
    # CI installs torch: a skip there is a failure.
    return run_all("adamw_torch", run_case, CASES, TOLERANCE, skipped=1 if os.environ.get("CI") == "true" else 77)


if __name__ == "__main__":
    sys.exit(main())
