#!/usr/bin/python3
"""Data-parallel peer: PyTorch DDP (gloo on 127.0.0.1) against `mpirun dagrad bench`.

The workload of issue 12: an MLP (default W-wide, 784,1024,1024,1 relu,
sigmoid output, f32), plain gradient descent, a global batch of --m samples
split over N processes as dagrad splits it (process r holds columns
[r M / N, (r + 1) M / N)), one thread per process. Each framework runs
--steps timed steps after --warmup; a step's time is the slowest process's
(every process times its step and the maximum is taken), and the table gives
the median step over --rounds rounds, alternated (dagrad 1, dagrad N, DDP N,
torch 1 per round), so a slow minute on the VM hits them all alike.

    /usr/bin/python3 bench/ddp.py --dagrad build/dagrad [--np 2] [--rounds 3] [--m 512]

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


def run_dagrad(exe, np_, layers, m, steps, warmup, bucket_mb):
    cmd = [exe, "bench", "--layers", ",".join(map(str, layers)), "--hidden", "relu", "--dtype", "f32",
           "--threads", "1", "--m", str(m), "--steps", str(steps), "--warmup", str(warmup), "--json"]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    if np_ > 1:
        cmd = ["mpirun", "-np", str(np_), "--bind-to", "core", "--oversubscribe"] + cmd + ["--bucket-mb", str(bucket_mb)]
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_btl="self,vader")
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["median_ms"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dagrad", default="build/dagrad")
    ap.add_argument("--np", type=int, default=2)
    ap.add_argument("--m", type=int, default=512)
    ap.add_argument("--layers", default="784,1024,1024,1")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bucket-mb", type=float, default=25.0)
    ap.add_argument("--port", type=int, default=29517)
    a = ap.parse_args()
    layers = [int(v) for v in a.layers.split(",")]
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
    rows = {}
    for r in range(a.rounds):
        if have_mpi:
            rows.setdefault("dagrad, 1 process", []).append(run_dagrad(a.dagrad, 1, layers, a.m, a.steps, a.warmup, a.bucket_mb))
            rows.setdefault(f"dagrad, mpirun -np {a.np}", []).append(
                run_dagrad(a.dagrad, a.np, layers, a.m, a.steps, a.warmup, a.bucket_mb))
        if have_torch:
            rows.setdefault(f"PyTorch DDP (gloo), {a.np} processes", []).append(
                run_ddp(a.np, layers, a.m, a.steps, a.warmup, 0.01, a.port + r))
            rows.setdefault("PyTorch, 1 process", []).append(torch_one(layers, a.m, a.steps, a.warmup, 0.01))
        print(f"round {r + 1}/{a.rounds}: " + ", ".join(f"{k} {v[-1]:.2f} ms" for k, v in rows.items()), file=sys.stderr)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"layers {a.layers}, f32, global batch {a.m}, 1 thread per process, median over {a.rounds} rounds\n")
    if have_torch:
        print(torch_env.blas_line(sys.modules["torch"]) + "\n")
    print("| configuration | median step (ms) | rounds (ms) |")
    print("|---|---:|---|")
    for k, v in med.items():
        print(f"| {k} | {v:.2f} | {', '.join(f'{x:.2f}' for x in rows[k])} |")
    one, many = med.get("dagrad, 1 process"), med.get(f"dagrad, mpirun -np {a.np}")
    ddp = med.get(f"PyTorch DDP (gloo), {a.np} processes")
    print()
    if one and many:
        print(f"- dagrad {a.np} processes vs 1: {one / many:.2f}x faster (target >= 1.6x)")
    if many and ddp:
        print(f"- dagrad {a.np} processes vs DDP {a.np} processes: {ddp / many:.2f}x faster (target >= 1.2x)")


if __name__ == "__main__":
    main()
