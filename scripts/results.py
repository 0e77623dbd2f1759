#!/usr/bin/python3
"""Runs every row of the "Reproduced course results" tables (README.md and
docs/results.md) with the built `dagrad` and rewrites both tables from what
the runs print. No number in those tables is typed by hand.

    /usr/bin/python3 scripts/results.py [--dagrad build/dagrad] [--data DIR] [--check]

--data    the course data folder (csv/ and orig/, see README "Course data");
          default ../shared/data/course. Without it the script says so and
          exits 0 without touching anything.
--check   run and compare with the tables instead of rewriting them; exit 1
          when a number differs.

"numpy init" runs start from the notebooks' own numpy weights, written by
peers/course_init.py (numpy needed; without it those cells read "n/a").
Takes several minutes (the cat runs are 2500 GEMM-bound iterations each).
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---- the experiments -----------------------------------------------------------
# Each run is the `dagrad train` arguments after "train", with $D for the data
# folder and $I for the folder of numpy weights. Each experiment names what it
# reads from the output: ("cost", N) the cost printed for iteration or epoch N,
# "train" / "test" the accuracies.

CATS = "--data $D/orig/train_catvnoncat.h5 --test $D/orig/test_catvnoncat.h5"
PLANAR = "--data $D/csv/planar_x.csv --labels $D/csv/planar_y.csv"
CIRCLES = ("--data $D/csv/circles_train_x.csv --labels $D/csv/circles_train_y.csv "
           "--test $D/csv/circles_test_x.csv --test-labels $D/csv/circles_test_y.csv")
FOOTBALL = ("--data $D/csv/football_train_x.csv --labels $D/csv/football_train_y.csv "
            "--test $D/csv/football_test_x.csv --test-labels $D/csv/football_test_y.csv")
MOONS = "--data $D/csv/moons_train_x.csv --labels $D/csv/moons_train_y.csv"


def exp(key, title, notes, base, numpy, own, reads, readme=None):
    """An experiment: `base` flags shared by both runs, `numpy` and `own` the
    flags of each init (numpy None: the same run as own)."""
    return dict(key=key, title=title, notes=notes, base=base, numpy=numpy, own=own, reads=reads,
                readme=readme)


def experiments():
    out = [
        exp("logreg", "C1W2 logistic regression, cats, zero init, lr 0.005, 2000 it: cost at 1900, train / test",
            "0.140872, 99.04% / 70%",
            f"{CATS} --layers 12288,1 --lr 0.005 --iters 2000 --print-every 100", None, "--init zeros",
            [("cost", 1900), "train", "test"],
            readme="Logistic regression, cats, zero init, lr 0.005, 2000 it: cost at 1900, train / test"),
        exp("planar", "C1W3 planar 2-4-1 tanh, lr 1.2, 10000 it: cost at 9000, accuracy", "0.218607, 90%",
            f"{PLANAR} --layers 2,4,1 --hidden tanh --lr 1.2 --iters 10000 --print-every 1000",
            "--init-from $I/planar.npz", "--init small --seed 2", [("cost", 9000), "train"],
            readme="Planar flower 2-4-1 tanh, lr 1.2, 10000 it: cost at 9000, accuracy"),
    ]
    for h, notes in [(1, "67.5%"), (2, "67.25%"), (3, "90.75%"), (4, "90.5%"), (5, "91.25%"), (20, "90.0%"),
                     (50, "90.25%")]:
        out.append(exp(f"planar_h{h}", f"planar sweep, {h} hidden units (5000 it): accuracy", notes,
                       f"{PLANAR} --layers 2,{h},1 --hidden tanh --lr 1.2 --iters 5000 --print-every 0",
                       f"--init-from $I/planar_h{h}.npz", "--init small --seed 2", ["train"]))
    out += [
        exp("cat2", "C1W4 2-layer cats (12288,7,1) relu, lr 0.0075, 2500 it: cost at 2400, train / test",
            "0.048555, 100% / 72%", f"{CATS} --layers 12288,7,1 --hidden relu --lr 0.0075 --iters 2500 --print-every 100",
            "--init-from $I/cat2.npz", "--init small --seed 1", [("cost", 2400), "train", "test"],
            readme="Cats 2-layer (12288,7,1), lr 0.0075, 2500 it: cost at 2400, train / test"),
        exp("catL", "C1W4 L-layer cats [12288,20,7,5,1] relu, lr 0.0075, 2500 it: cost at 0, at 2400, train / test",
            "0.771749, 0.092878, 98.56% / 80%",
            f"{CATS} --layers 12288,20,7,5,1 --hidden relu --lr 0.0075 --iters 2500 --print-every 100",
            "--init-from $I/catL.npz", "--init xavier --seed 1", [("cost", 0), ("cost", 2400), "train", "test"],
            readme="Cats L-layer [12288,20,7,5,1] relu, lr 0.0075, 2500 it: cost at 0, at 2400, train / test"),
        exp("catL_he", "same with --init he (own init only)", "-",
            f"{CATS} --layers 12288,20,7,5,1 --hidden relu --lr 0.0075 --iters 2500 --print-every 100",
            "", "--init he --seed 1", [("cost", 0), ("cost", 2400), "train", "test"]),
        exp("zeros", "C2W1 init, circles [2,10,5,1] relu, lr 0.01, 15000 it, zeros: cost at 14000, train / test",
            "0.693147, 50% / 50%", f"{CIRCLES} --layers 2,10,5,1 --hidden relu --lr 0.01 --iters 15000 --print-every 1000",
            None, "--init zeros", [("cost", 14000), "train", "test"],
            readme="Initialization, circles [2,10,5,1], lr 0.01, 15000 it, zeros: cost at 14000, train / test"),
        exp("he", "same, He: cost at 14000, train / test", "0.073579, 99.33% / 96%",
            f"{CIRCLES} --layers 2,10,5,1 --hidden relu --lr 0.01 --iters 15000 --print-every 1000",
            "--init-from $I/he.npz", "--init he --seed 3", [("cost", 14000), "train", "test"],
            readme="same, He: cost at 14000, train / test"),
    ]
    for key, flag, notes, title in [
            ("reg_none", "", "0.138516, 94.8% / 91.5%",
             "C2W1 regularization, football [2,20,3,1] relu, lr 0.3, 30000 it, none: cost at 20000, train / test"),
            ("reg_l2", "--l2 0.7", "0.268092, 93.8% / 93%", "same, L2 lambda 0.7"),
            ("reg_dropout", "--keep-prob 0.86", "0.060483, 92.9% / 95%", "same, dropout keep_prob 0.86 (note 2)")]:
        out.append(exp(key, title, notes,
                       f"{FOOTBALL} --layers 2,20,3,1 --hidden relu --lr 0.3 --iters 30000 --print-every 10000 {flag}".strip(),
                       "--init-from $I/reg.npz", "--init xavier --seed 3", [("cost", 20000), "train", "test"],
                       readme=title.replace("C2W1 regularization", "Regularization")))
    for opt, notes in [("gd", "79.7%"), ("momentum", "79.7%"), ("adam", "94%")]:
        out.append(exp(f"moons_{opt}",
                       f"C2W2 optimizers, moons [2,5,2,1] relu, batch 64, lr 0.0007, 10000 epochs, {opt}: train accuracy (note 3)",
                       notes,
                       f"{MOONS} --layers 2,5,2,1 --hidden relu --lr 0.0007 --epochs 10000 --batch-size 64 "
                       f"--optimizer {opt} --seed 3 --print-every 1000",
                       "--init-from $I/opt.npz", "--init he", ["train"],
                       readme=f"Optimizers, moons [2,5,2,1], batch 64, lr 0.0007, 10000 epochs, {opt}: train accuracy"))
    return out


NUMPY_WEIGHTS = [("planar", []), ("cat2", []), ("catL", []), ("he", []), ("reg", []), ("opt", [])] + \
    [(f"planar_h{h}", ["--hidden", str(h)]) for h in (1, 2, 3, 4, 5, 20, 50)]

# ---- running ---------------------------------------------------------------------------


def make_weights(init_dir):
    """The notebooks' numpy initializations; False when numpy is missing."""
    for name, extra in NUMPY_WEIGHTS:
        model = "planar" if name.startswith("planar") else name
        r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "peers/course_init.py"), model,
                            os.path.join(init_dir, name + ".npz")] + extra, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"results.py: peers/course_init.py failed ({r.stderr.strip()[:200]}); numpy-init cells are n/a")
            return False
    return True


def command(e, which):
    flags = e["own"] if which == "own" else e["numpy"]
    return f"train {e['base']} {flags}".strip()


def run(dagrad, cmd, data, init_dir):
    args = [dagrad] + shlex.split(cmd.replace("$D", data).replace("$I", init_dir))
    t0 = time.time()
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"results.py: `{' '.join(args)}` exited {r.returncode}: {r.stderr.strip()}")
    print(f"  {time.time() - t0:6.1f} s  {cmd}", flush=True)
    return r.stdout


def read(out, what):
    if isinstance(what, tuple):
        m = re.search(rf"^Cost after (?:iteration|epoch) {what[1]}: (\S+)$", out, re.M)
        return m.group(1) if m else "?"
    m = re.search(rf"^{'Train' if what == 'train' else 'Test'} accuracy: (\S+)$", out, re.M)
    return m.group(1) if m else "?"


def cell(out, reads):
    """'0.140872, 99.04% / 70.00%': costs by commas, accuracies train / test."""
    costs = [read(out, r) for r in reads if isinstance(r, tuple)]
    accs = [read(out, r) for r in reads if not isinstance(r, tuple)]
    return ", ".join(costs + [" / ".join(accs)] if accs else costs)


# ---- the tables ---------------------------------------------------------------------------


def results_table(rows):
    lines = ["| experiment | notes | dagrad (numpy init) | dagrad (own init) | command (`dagrad` + these flags; own init) |",
             "|---|---|---|---|---|"]
    for e, numpy_cell, own_cell in rows:
        lines.append(f"| {e['title']} | {e['notes']} | {numpy_cell} | {own_cell} | `{command(e, 'own')}` |")
    return "\n".join(lines)


def readme_table(rows):
    lines = ["| experiment | notes | dagrad (numpy init) | dagrad (own init) |", "|---|---|---|---|"]
    sweep = [r for r in rows if r[0]["key"].startswith("planar_h")]
    for e, numpy_cell, own_cell in rows:
        if e["key"].startswith("planar_h"):
            if e["key"] == "planar_h1":
                lines.append("| Planar hidden sizes 1, 2, 3, 4, 5, 20, 50 (5000 it): accuracy | "
                             + ", ".join(r[0]["notes"] for r in sweep) + " | "
                             + ", ".join(r[1] for r in sweep) + " | " + ", ".join(r[2] for r in sweep) + " |")
            continue
        if e["readme"]:
            lines.append(f"| {e['readme']} | {e['notes']} | {numpy_cell} | {own_cell} |")
    return "\n".join(lines)


def replace_between(path, name, body, check):
    text = open(path).read()
    begin, end = f"<!-- results:{name} begin -->", f"<!-- results:{name} end -->"
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < 0:
        sys.exit(f"results.py: {path} has no {begin} ... {end} markers")
    new = text[:i + len(begin)] + "\n" + body + "\n" + text[j:]
    if check:
        return new == text
    open(path, "w").write(new)
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dagrad", default=os.path.join(ROOT, "build/dagrad"))
    p.add_argument("--data", default=os.path.join(ROOT, "../shared/data/course"))
    p.add_argument("--check", action="store_true")
    a = p.parse_args()
    if not os.path.isdir(os.path.join(a.data, "csv")):
        print(f"results.py: no course data at {a.data} (see README, 'Course data'); nothing run")
        return 0
    if not os.access(a.dagrad, os.X_OK):
        sys.exit(f"results.py: {a.dagrad} is not built (cmake --build build --target dagrad_cli)")
    data = os.path.abspath(a.data)
    with tempfile.TemporaryDirectory() as init_dir:
        have_numpy = make_weights(init_dir)
        rows = []
        for e in experiments():
            own_out = run(a.dagrad, command(e, "own"), data, init_dir)
            own_cell = cell(own_out, e["reads"])
            if e["numpy"] is None:
                numpy_cell = "same (no draws)"
            elif e["numpy"] == "" or not have_numpy:
                numpy_cell = "-" if e["numpy"] == "" else "n/a"
            else:
                numpy_cell = cell(run(a.dagrad, command(e, "numpy"), data, init_dir), e["reads"])
            rows.append((e, numpy_cell, own_cell))
    ok = replace_between(os.path.join(ROOT, "docs/results.md"), "table", results_table(rows), a.check)
    ok = replace_between(os.path.join(ROOT, "README.md"), "table", readme_table(rows), a.check) and ok
    if a.check and not ok:
        print("results.py: the tables differ from what the runs print")
        return 1
    print("results.py: " + ("tables match the runs" if a.check else "README.md and docs/results.md rewritten"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
