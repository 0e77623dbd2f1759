"""Shared pieces of the Python suite: the module, the CLI, and the rule for
optional peers (torch): missing, a test skips with a message; under CI=true,
where scripts/setup-debian.sh installs them, it fails."""
import os
import shutil

import numpy as np
import pytest

import dagrad  # noqa: F401  (PYTHONPATH=<build>/python)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def under_ci():
    return os.environ.get("CI", "").lower() in ("true", "1")


def missing(what, unchecked):
    if under_ci():
        pytest.fail(f"CI=true, and {what} is missing: {unchecked} cannot run")
    pytest.skip(f"{what} is missing: {unchecked} skipped")


@pytest.fixture
def cli():
    path = os.environ.get("DAGRAD_CLI") or os.path.join(ROOT, "build", "dagrad")
    if not os.path.exists(path):
        missing(f"the dagrad CLI ({path})", "the round trips with the CLI")
    return path


@pytest.fixture
def torch():
    try:
        import torch as t
    except ImportError:
        missing("PyTorch (python3-torch)", "the comparison with PyTorch")
    t.set_default_dtype(t.float64)
    return t


def planar(m=200, seed=0):
    """Two features, labels from a quadrant rule: a set any 2-4-1 net can fit."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, m))
    Y = (X[0:1] * X[1:2] > 0).astype(np.float64)
    return X, Y


def two_layer(dtype="f64"):
    """The notes' 2-4-1 tanh network, by hand."""
    model = dagrad.Model(dtype)
    X = model.input("X", (2, dagrad.m))
    Y = model.input("Y", (1, dagrad.m))
    W1 = model.param("W1", (4, 2))
    b1 = model.param("b1", (4, 1))
    W2 = model.param("W2", (1, 4))
    b2 = model.param("b2", (1, 1))
    A1 = dagrad.tanh(W1 @ X + b1).named("A1")
    A2 = dagrad.sigmoid(W2 @ A1 + b2).named("A2")
    model.cost = dagrad.binary_cross_entropy(A2, Y).named("J")
    model.output = A2
    return model, dict(X=X, Y=Y, W1=W1, b1=b1, W2=W2, b2=b2, A1=A1, A2=A2)


def which(program):
    return shutil.which(program)
