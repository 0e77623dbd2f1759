"""PyTorch loaded the same way by every peer script: the BLAS thread counts
pinned before any BLAS loads, and the BLAS it uses said.

Debian may link PyTorch (and numpy) to the pthread build of OpenBLAS, whose
threads torch.set_num_threads does not bind: only OPENBLAS_NUM_THREADS (and
OMP_NUM_THREADS for the OpenMP build), read once when the library loads,
do. A peer with the environment unset then runs its products on every core
(bench/ddp.py's "PyTorch, 1 process" took 27-31 ms so and 54 ms pinned to
one thread, issue 23). So every script under bench/ and peers/ that uses
torch starts with

    sys.path.insert(0, <this folder>)  # from bench/; peers/ has it already
    import torch_env
    torch_env.pin()                    # before numpy or torch is imported

and, once torch is imported, prints blas_line(torch): the BLAS its build
names (torch.__config__: BLAS_INFO, LAPACK_INFO), the BLAS libraries the
process actually mapped (/proc/self/maps) and the two variables.
"""
import os
import re
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
BLAS_NAMES = re.compile(r"openblas|libblas|libcblas|lapack|mkl|blis|libflame|armpl", re.I)
pinned = None  # the counts pin() set: a second call (a module of a pinned script) checks them


def loaded_blas():
    """The BLAS and LAPACK libraries mapped into this process, in map order."""
    found = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                fields = line.split(None, 5)
                path = fields[5].strip() if len(fields) == 6 else ""
                if path.startswith("/") and BLAS_NAMES.search(os.path.basename(path)) and path not in found:
                    found.append(path)
    except OSError:  # no procfs: nothing to say
        pass
    return found


def pin(threads=None):
    """Sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS: to `threads` when given,
    else to what the environment already says, or 1 (so a parent such as
    bench/peer.py that starts each child with chosen counts keeps them).
    RuntimeError when a BLAS is already loaded: it has read its thread count."""
    global pinned
    if pinned is not None:  # this process pinned already, before any BLAS loaded
        if threads is not None and any(os.environ.get(k) != str(threads) for k in THREAD_VARS):
            raise RuntimeError("torch_env.pin(%d): the threads were pinned to %s already"
                               % (threads, ", ".join(pinned)))
        return
    libs = loaded_blas()
    if libs or "torch" in sys.modules or "numpy" in sys.modules:
        raise RuntimeError("torch_env.pin: a BLAS is already loaded (%s); pin before importing numpy or torch"
                           % (", ".join(libs) or "numpy or torch is imported"))
    for k in THREAD_VARS:
        if threads is not None:
            os.environ[k] = str(threads)
        else:
            os.environ.setdefault(k, "1")
    pinned = ["%s=%s" % (k, os.environ[k]) for k in THREAD_VARS]


def config_blas(torch):
    """BLAS_INFO and LAPACK_INFO as torch.__config__.show() gives them."""
    found = re.findall(r"\b(BLAS_INFO|LAPACK_INFO)=([^,\s]+)", torch.__config__.show())
    return ", ".join("%s=%s" % kv for kv in found) or "no BLAS_INFO in torch.__config__"


def blas_line(torch):
    """One line: PyTorch's version, its BLAS, the libraries loaded, the threads."""
    libs = loaded_blas()
    threads = " ".join("%s=%s" % (k, os.environ.get(k, "unset")) for k in THREAD_VARS)
    return ("PyTorch %s: %s; loaded %s; %s, torch.get_num_threads() = %d"
            % (torch.__version__, config_blas(torch),
               ", ".join(libs) if libs else "no BLAS library in /proc/self/maps",
               threads, torch.get_num_threads()))


# ---- self-check (ctest peers.torch_env) ------------------------------------------

def _child():
    """Pins, loads numpy (and torch when installed), and prints the thread
    count the loaded OpenBLAS reports, or "none" without one."""
    import ctypes
    pin()
    import numpy  # noqa: F401
    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    for path in loaded_blas():
        try:
            print(ctypes.CDLL(path).openblas_get_num_threads())
            return 0
        except (OSError, AttributeError):
            continue
    print("none")
    return 0


def main():
    """With both variables unset, a process that pins and then loads its BLAS
    runs OpenBLAS on 1 thread; with OPENBLAS_NUM_THREADS=2 given, on 2 (on a
    machine of 2 or more cores). Exit 77 when numpy has no OpenBLAS to ask."""
    import subprocess
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return _child()
    bare = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    cases = [(bare, "1")]
    if (os.cpu_count() or 1) >= 2:
        cases.append((dict(bare, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2"), "2"))
    failed = 0
    for env, want in cases:
        got = subprocess.run([sys.executable, os.path.abspath(__file__), "--child"], env=env,
                             capture_output=True, text=True, timeout=120)
        out = got.stdout.strip()
        if got.returncode != 0:
            print("torch_env: the child failed: %s" % got.stderr.strip()[-300:])
            return 1
        if out == "none":
            print("torch_env: no OpenBLAS loaded with numpy; skipped")
            return 77
        given = {k: env[k] for k in THREAD_VARS if k in env} or "unset"
        ok = out == want
        failed += not ok
        print("environment %s: OpenBLAS runs %s threads (want %s)  %s" % (given, out, want, "PASS" if ok else "FAIL"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
