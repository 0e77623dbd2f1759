#!/usr/bin/python3
"""Data-parallel peer: PyTorch DDP (gloo on 127.0.0.1) against `mpirun dagrad bench`.

The workloads of issues 12 and 23, each an MLP with relu hidden layers and a
sigmoid output in f32: W-wide (784,1024,1024,1), W-course (12288,20,7,5,1)
and W-deep (256 x 8 + 1, as bench/peer.py defines it); plain gradient
descent, a global batch of --m samples split over N processes as dagrad
splits it (process r holds columns [r M / N, (r + 1) M / N)), one thread
per process. Each framework runs --steps timed steps after --warmup; a
step's time is the slowest process's (every process times its step and the
maximum is taken), and the table gives the median step over --rounds
rounds, alternated (dagrad 1, dagrad N, DDP N, torch 1 per round, each
workload in turn), so a slow minute on the VM hits them all alike. The
ratios are printed against issue 23's targets (W-wide: N processes at least
1.75x one process and 1.4x DDP); the load average is printed before and
after, as the VM's other work moves every number.

    /usr/bin/python3 bench/ddp.py --dagrad build/dagrad [--np 2] [--rounds 3] [--m 512] [--only W-wide]

Needs Open MPI's mpirun for dagrad and torch with gloo for DDP; skips the
part whose peer is missing, with a message. Prints markdown to stdout.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
import torch_env  # noqa: E402

# One BLAS thread per process, set before torch loads (the DDP workers
# inherit it): torch.set_num_threads does not bind a pthread OpenBLAS.
torch_env.pin(1)


def ddp_worker(rank, world, port, layers, m, steps, warmup, lr, out):
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(1)
    mods = []
    for a, b in zip(layers, layers[1:]):
        lin = nn.Linear(a, b)
        nn.init.kaiming_normal_(lin.weight)
        nn.init.zeros_(lin.bias)
        mods += [lin, nn.ReLU()]
    model = nn.Sequential(*mods[:-1])
    ddp = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=lr)
    g = torch.Generator().manual_seed(2)
    X = torch.randn(m, layers[0], generator=g)
    Y = (torch.randn(m, 1, generator=g) > 0).float()
    lo, hi = m * rank // world, m * (rank + 1) // world
    x, y = X[lo:hi].contiguous(), Y[lo:hi].contiguous()
    loss_fn = nn.BCEWithLogitsLoss(reduction="sum")
    import time
    times = []
    for i in range(warmup + steps):
        dist.barrier()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        # The global mean: the local sum over the global count, times N
        # because DDP averages the processes' gradients.
        loss = loss_fn(ddp(x), y) * (world / m)
        loss.backward()
        opt.step()
        t = torch.tensor([time.perf_counter() - t0])
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        if i >= warmup:
            times.append(t.item())
    if rank == 0:
        with open(out, "w") as f:
            json.dump({"median_ms": 1e3 * statistics.median(times)}, f)
    dist.destroy_process_group()


def torch_one(layers, m, steps, warmup, lr):
    import time
    import torch
    import torch.nn as nn
    torch.set_num_threads(1)
    torch.manual_seed(1)
    mods = []
    for a, b in zip(layers, layers[1:]):
        mods += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*mods[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    X, Y = torch.randn(m, layers[0]), (torch.randn(m, 1) > 0).float()
    loss_fn = nn.BCEWithLogitsLoss()
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss_fn(model(X), Y).backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def run_ddp(np_, layers, m, steps, warmup, lr, port):
    import tempfile
    import torch.multiprocessing as mp
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "ddp.json")
        mp.spawn(ddp_worker, args=(np_, port, layers, m, steps, warmup, lr, out), nprocs=np_, join=True)
        with open(out) as f:
            return json.load(f)["median_ms"]


# name: layers (bench/peer.py's definitions).
WORKLOADS = {
    "W-wide": [784, 1024, 1024, 1],
    "W-course": [12288, 20, 7, 5, 1],
    "W-deep": [256] + [256] * 8 + [1],
}
# Issue 23's targets, W-wide's alone: N processes against 1, and against DDP.
TARGETS = {"W-wide": (1.75, 1.4)}


def run_dagrad(exe, np_, layers, m, steps, warmup, bucket_mb):
    cmd = [exe, "bench", "--layers", ",".join(map(str, layers)), "--hidden", "relu", "--dtype", "f32",
           "--threads", "1", "--m", str(m), "--steps", str(steps), "--warmup", str(warmup), "--json"]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    if np_ > 1:
        cmd = ["mpirun", "-np", str(np_), "--bind-to", "core", "--oversubscribe"] + cmd + ["--bucket-mb", str(bucket_mb)]
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_btl="self,vader")
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["median_ms"]


def verdict(ratio, target):
    if target is None:
        return "no target"
    return f"target >= {target}x: {'met' if ratio >= target else 'NOT met'}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dagrad", default="build/dagrad")
    ap.add_argument("--np", type=int, default=2)
    ap.add_argument("--m", type=int, default=512)
    ap.add_argument("--only", help="comma-separated workloads (W-wide,W-course,W-deep)")
    ap.add_argument("--layers", help="one other network instead, e.g. 784,1024,1024,1")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bucket-mb", type=float, default=25.0)
    ap.add_argument("--port", type=int, default=29517)
    a = ap.parse_args()
    if a.layers:
        work = {a.layers: [int(v) for v in a.layers.split(",")]}
    else:
        names = a.only.split(",") if a.only else list(WORKLOADS)
        for n in names:
            if n not in WORKLOADS:
                ap.error(f"--only: unknown workload {n!r}; choose from {', '.join(WORKLOADS)}")
        work = {n: WORKLOADS[n] for n in names}
    try:
        import torch  # noqa: F401
        import torch.distributed as dist
        have_torch = dist.is_available() and dist.is_gloo_available()
    except ImportError:
        have_torch = False
    if not have_torch:
        print("bench/ddp.py: torch with gloo not found (Debian's python3-torch): DDP not timed", file=sys.stderr)
    have_mpi = shutil.which("mpirun") is not None and os.path.exists(a.dagrad)
    if not have_mpi:
        print(f"bench/ddp.py: mpirun or {a.dagrad} not found: dagrad not timed", file=sys.stderr)
    load_before = os.getloadavg()
    one_k, many_k = "dagrad, 1 process", f"dagrad, mpirun -np {a.np}"
    ddp_k, torch_k = f"PyTorch DDP (gloo), {a.np} processes", "PyTorch, 1 process"
    rows = {w: {} for w in work}
    for r in range(a.rounds):
        for i, (w, layers) in enumerate(work.items()):
            row = rows[w]
            if have_mpi:
                row.setdefault(one_k, []).append(run_dagrad(a.dagrad, 1, layers, a.m, a.steps, a.warmup, a.bucket_mb))
                row.setdefault(many_k, []).append(run_dagrad(a.dagrad, a.np, layers, a.m, a.steps, a.warmup, a.bucket_mb))
            if have_torch:
                row.setdefault(ddp_k, []).append(
                    run_ddp(a.np, layers, a.m, a.steps, a.warmup, 0.01, a.port + len(work) * r + i))
                row.setdefault(torch_k, []).append(torch_one(layers, a.m, a.steps, a.warmup, 0.01))
            print(f"round {r + 1}/{a.rounds}, {w}: " + ", ".join(f"{k} {v[-1]:.2f} ms" for k, v in row.items()),
                  file=sys.stderr)
    load_after = os.getloadavg()
    print(f"f32, global batch {a.m}, 1 thread per process, median over {a.rounds} rounds; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after ({os.cpu_count()} CPUs)\n")
    if have_torch:
        print(torch_env.blas_line(sys.modules["torch"]) + "\n")
    print("| workload | configuration | median step (ms) | rounds (ms) |")
    print("|---|---|---:|---|")
    for w, row in rows.items():
        for k, v in row.items():
            print(f"| {w} | {k} | {statistics.median(v):.2f} | {', '.join(f'{x:.2f}' for x in v)} |")
    print()
    for w, row in rows.items():
        med = {k: statistics.median(v) for k, v in row.items()}
        one, many, ddp = med.get(one_k), med.get(many_k), med.get(ddp_k)
        t_one, t_ddp = TARGETS.get(w, (None, None))
        if one and many:
            print(f"- {w}: dagrad {a.np} processes vs 1: {one / many:.2f}x ({verdict(one / many, t_one)})")
        if many and ddp:
            print(f"- {w}: dagrad {a.np} processes vs DDP {a.np} processes: {ddp / many:.2f}x "
                  f"({verdict(ddp / many, t_ddp)})")


if __name__ == "__main__":
    main()
