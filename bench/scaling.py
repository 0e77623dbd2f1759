#!/usr/bin/python3
"""The alpha-beta model of data-parallel training (docs/scaling.md).

A step on N nodes, each with a per-node batch of b samples, costs
    compute   b * c                          (c: measured seconds per sample, 1 thread)
    allreduce 2 (N-1)/N * S / beta + 2 (N-1) alpha   (ring: reduce-scatter + all-gather)
with S the gradient bytes (f32), beta the link bandwidth and alpha the
per-message latency. Without overlap the step is their sum; with the
allreduce hidden behind the backward pass (about 2/3 of the compute) it is
    b c / 3 + max(2 b c / 3, allreduce).
Efficiency = b c / step. Communication dominates when allreduce > b c,
that is below b* = allreduce / c samples per node.

    /usr/bin/python3 bench/scaling.py --c W-course=0.0141 --c W-wide=0.0742 --c W-deep=0.0252

(c in ms per sample; defaults are this machine's, docs/scaling.md) prints
the tables as markdown.
"""
import argparse

# name, layers, per-node batch of the table (the workload's bench batch)
WORKLOADS = [
    ("W-course", [12288, 20, 7, 5, 1], 209),
    ("W-wide", [784, 1024, 1024, 1], 256),
    ("W-deep", [256] * 9 + [1], 512),
]
NETWORKS = [  # name, bandwidth bytes/s, alpha seconds
    ("10 Gbit/s", 10e9 / 8, 25e-6),
    ("100 Gbit/s", 100e9 / 8, 5e-6),
]
NODES = [2, 4, 8, 16, 32, 64, 128, 256]


def param_bytes(layers):
    return 4 * sum(a * b + b for a, b in zip(layers, layers[1:]))


def allreduce(n, size, beta, alpha):
    return 2 * (n - 1) / n * size / beta + 2 * (n - 1) * alpha


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--c", action="append", default=[], help="NAME=ms per sample")
    a = ap.parse_args()
    c_ms = {"W-course": 0.0141, "W-wide": 0.0742, "W-deep": 0.0252}
    for kv in a.c:
        k, v = kv.split("=")
        c_ms[k] = float(v)
    for name, layers, b in WORKLOADS:
        c = c_ms[name] * 1e-3
        size = param_bytes(layers)
        print(f"### {name}: {size / 1e6:.2f} MB of f32 gradients, c = {c_ms[name]:.4f} ms/sample, "
              f"b = {b} samples per node (compute {1e3 * b * c:.2f} ms)\n")
        print("| network | N | allreduce (ms) | step, no overlap (ms) | efficiency | step, overlapped (ms) | efficiency | b* (samples/node) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for net, beta, alpha in NETWORKS:
            for n in NODES:
                t_ar = allreduce(n, size, beta, alpha)
                comp = b * c
                plain = comp + t_ar
                over = comp / 3 + max(2 * comp / 3, t_ar)
                print(f"| {net} | {n} | {1e3 * t_ar:.2f} | {1e3 * plain:.2f} | {comp / plain:.0%} | "
                      f"{1e3 * over:.2f} | {comp / over:.0%} | {t_ar / c:.0f} |")
        print()


if __name__ == "__main__":
    main()
