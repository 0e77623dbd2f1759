#!/usr/bin/python3
"""Regression on a real data set: scikit-learn's diabetes data (442 patients,
10 features, a disease-progression score), dagrad's linear output and squared
error against closed-form least squares.

    /usr/bin/python3 peers/diabetes.py [--dagrad build/dagrad] [--out DIR] [--readme]

It writes the data as CSV (a seeded shuffle: 342 samples to train, 100 to
test), trains with `dagrad train --output linear` and reads `dagrad eval`:
  linear   --layers 10,1, full-batch gradient descent on standardized inputs:
           the same model as least squares, so it must reach the same cost
  mlp      --layers 10,16,1 relu, Adam on mini-batches of 32
and prints, for train and test, the cost J = 1/(2m) sum (a - y)^2 and R^2,
beside numpy's least squares (with an intercept) on the same split.
With --readme it also rewrites the table between the diabetes markers of
README.md. Exits 1 when the linear model's test cost is not within 0.5% of
least squares'. Skips (exit 0) when scikit-learn or numpy is missing.
"""
import argparse
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from sklearn.datasets import load_diabetes
except ImportError as e:  # the peer is missing: skip, as every peer script does
    print(f"diabetes.py: skipped, {e.name} is not installed (apt-get install python3-sklearn)")
    sys.exit(0)


def write_csv(path, X, y):
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%.17g")


def cost_and_r2(pred, y):
    cost = np.sum((pred - y) ** 2) / (2 * len(y))
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    return cost, r2


def least_squares(X, y, X_test, y_test):
    A = np.column_stack([X, np.ones(len(X))])
    w, *_ = np.linalg.lstsq(A, y, rcond=None)
    predict = lambda Z: np.column_stack([Z, np.ones(len(Z))]) @ w
    return cost_and_r2(predict(X), y), cost_and_r2(predict(X_test), y_test)


def dagrad_eval(dagrad, model, data):
    out = subprocess.run([dagrad, "eval", "--model", model, "--data", data], check=True,
                         capture_output=True, text=True).stdout
    values = dict(line.split(": ", 1) for line in out.strip().splitlines())
    return float(values["Cost"]), float(values["R^2"])


def write_readme(rows):
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
    begin, end = "<!-- diabetes:table begin -->\n", "<!-- diabetes:table end -->"
    text = open(path).read()
    table = "| model | train cost | train R^2 | test cost | test R^2 |\n|---|---|---|---|---|\n"
    for name, (tc, tr), (vc, vr) in rows:
        table += f"| {name} | {tc:.3f} | {tr:.4f} | {vc:.3f} | {vr:.4f} |\n"
    a, b = text.index(begin) + len(begin), text.index(end)
    open(path, "w").write(text[:a] + table + text[b:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dagrad", default="build/dagrad")
    ap.add_argument("--out", help="folder for the CSVs and models (default: a temp folder)")
    ap.add_argument("--readme", action="store_true", help="rewrite README.md's diabetes table")
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="dagrad-diabetes-")
    os.makedirs(out, exist_ok=True)

    X, y = load_diabetes(return_X_y=True)
    order = np.random.RandomState(0).permutation(len(y))
    train, test = order[:342], order[342:]
    train_csv, test_csv = os.path.join(out, "diabetes_train.csv"), os.path.join(out, "diabetes_test.csv")
    write_csv(train_csv, X[train], y[train])
    write_csv(test_csv, X[test], y[test])
    ls_train, ls_test = least_squares(X[train], y[train], X[test], y[test])

    runs = {
        "linear [10,1], gradient descent, lr 0.5, 5000 iterations": ["--layers", "10,1", "--output", "linear", "--normalize", "--lr", "0.5",
                   "--iters", "5000"],
        "MLP [10,16,1] relu, Adam lr 0.01, batch 32, 300 epochs": ["--layers", "10,16,1", "--hidden", "relu", "--output", "linear", "--normalize",
                "--optimizer", "adam", "--lr", "0.01", "--batch-size", "32", "--epochs", "300",
                "--seed", "1"],
    }
    rows = [("least squares (numpy lstsq)", ls_train, ls_test)]
    for name, flags in runs.items():
        model = os.path.join(out, f"diabetes_{name.split()[0].lower()}.dagrad")
        subprocess.run([a.dagrad, "train", "--data", train_csv, "--print-every", "0",
                        "--save", model, *flags], check=True, capture_output=True, text=True)
        rows.append((f"dagrad {name}", dagrad_eval(a.dagrad, model, train_csv),
                     dagrad_eval(a.dagrad, model, test_csv)))

    print(f"diabetes (scikit-learn), 342 train / 100 test; cost = 1/(2m) sum (a - y)^2")
    print(f"{'model':<66} {'train cost':>11} {'train R^2':>10} {'test cost':>10} {'test R^2':>9}")
    for name, (tc, tr), (vc, vr) in rows:
        print(f"{name:<66} {tc:11.3f} {tr:10.4f} {vc:10.3f} {vr:9.4f}")
    if a.readme:
        write_readme(rows)
    linear_test = rows[1][2][0]
    ok = abs(linear_test - ls_test[0]) <= 0.005 * ls_test[0]
    print(f"linear vs least squares, test cost: {linear_test:.3f} vs {ls_test[0]:.3f}: "
          f"{'agree' if ok else 'DIFFER'} (0.5%)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
