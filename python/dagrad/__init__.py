"""dagrad from Python: the same graph, derivation and trainer on numpy arrays.

    import numpy as np, dagrad as dg
    model = dg.build_mlp([2, 4, 1], hidden="tanh")          # or build a graph by hand
    model.fit(X, Y, iterations=10000, learning_rate=1.2)    # X (2, m), Y (1, m)
    print(dg.explain(model))                                # dZ[2] = A[2] - Y ...
    P = model.predict(X)                                    # (1, m)

A graph by hand reads like the notes (``@`` is the matrix product, ``+``
broadcasts b over the m columns)::

    model = dg.Model()
    X = model.input("X", (2, dg.m)); Y = model.input("Y", (1, dg.m))
    W1 = model.param("W1", (4, 2)); b1 = model.param("b1", (4, 1))
    W2 = model.param("W2", (1, 4)); b2 = model.param("b2", (1, 1))
    A1 = dg.tanh(W1 @ X + b1).named("A1")
    A2 = dg.sigmoid(W2 @ A1 + b2).named("A2")
    model.cost = dg.binary_cross_entropy(A2, Y).named("J")
    model.output = A2

Errors are dagrad's own: ShapeError, GraphError and InputError are
ValueErrors (a wrong shape or feed), a wrong dtype a TypeError.
"""
import shutil as _shutil
import subprocess as _subprocess

from . import _dagrad
from ._dagrad import (  # noqa: F401
    Error, ShapeError, GraphError, InputError, NumericError,
    Expr, Graph, Model, FitResult, m,
    run, matmul, mul, sigmoid, tanh, relu, leaky_relu, step, exp, log, square, sqrt, softmax,
    transpose, sum, mean, broadcast, pow, binary_cross_entropy, categorical_cross_entropy,
    mean_squared_error, l2_penalty, dropout, gradients, build_mlp, onnx_available, set_threads,
    threads,
)

__all__ = [
    "Error", "ShapeError", "GraphError", "InputError", "NumericError",
    "Expr", "Graph", "Model", "FitResult", "m",
    "run", "matmul", "mul", "sigmoid", "tanh", "relu", "leaky_relu", "step", "exp", "log", "square",
    "sqrt", "softmax", "transpose", "sum", "mean", "broadcast", "pow", "binary_cross_entropy",
    "categorical_cross_entropy", "mean_squared_error", "l2_penalty", "dropout", "gradients",
    "build_mlp", "onnx_available", "set_threads", "threads",
    "explain", "Explanation", "dot", "Svg", "gradcheck", "load", "import_onnx",
]


class Explanation:
    """The derived backward pass as the notes' equations (str, Markdown, LaTeX)."""

    def __init__(self, text, latex, lines):
        self.text = text
        self.latex = latex
        self.lines = lines  # [(lhs, rhs, shape), ...]

    def __str__(self):
        return self.text

    def __repr__(self):
        return self.text

    def _repr_markdown_(self):
        return "```\n" + self.text + "```\n"

    def _repr_latex_(self):
        return "$$\n" + self.latex + "$$"


def explain(model):
    """What gradients derived for `model`, read from its graph: dZ[2] = A[2] - Y, ...

    With an optimizer attached (after fit or minimize) its update equations follow.
    In Jupyter the result shows as LaTeX; str() gives the text form."""
    text, latex, lines = _dagrad._explain(model)
    return Explanation(text, latex, lines)


class Svg:
    """A picture: .svg (text), .source (the DOT text); draws inline in Jupyter."""

    def __init__(self, svg, source):
        self.svg = svg
        self.source = source

    def _repr_svg_(self):
        return self.svg

    def __str__(self):
        return self.svg

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.svg)


def dot(model, *, forward_only=False, collapse=False, layer=0, show_dead=False, legend=True, rankdir="TB"):
    """The graph `dagrad dot` draws (forward, derived backward, update) as SVG.

    Rendered by Graphviz's `dot` program (Debian's graphviz); without it a
    RuntimeError says so. The DOT text is in .source."""
    source = _dagrad._dot(model, forward_only=forward_only, collapse=collapse, layer=layer,
                          show_dead=show_dead, legend=legend, rankdir=rankdir)
    exe = _shutil.which("dot")
    if exe is None:
        raise RuntimeError("dot: Graphviz's `dot` program is not on PATH; install it (apt-get install graphviz) "
                           "or use .source of dagrad.dot(..., ) with another renderer")
    p = _subprocess.run([exe, "-Tsvg"], input=source.encode(), capture_output=True, check=False)
    if p.returncode != 0:
        raise RuntimeError("dot: Graphviz failed: " + p.stderr.decode(errors="replace").strip()[-300:])
    return Svg(p.stdout.decode("utf-8", errors="replace"), source)


def gradcheck(model_or_J, X=None, Y=None, *, wrt=None, feeds=None, eps=1e-7, threshold=1e-7, samples=20,
              full=False, seed=1):
    """The notes' gradient check: ||g - g_approx|| / (||g|| + ||g_approx||) per parameter.

    gradcheck(model, X, Y): the model's cost against its parameters (those
    without a value get their initial values first). gradcheck(J, wrt=[W, b],
    feeds={"X": X, ...}): any cost node. Returns a dict: passed, rel_diff,
    kinks and per parameter name, rel_diff, passed and the analytic grad."""
    if isinstance(model_or_J, Model):
        if X is None:
            raise TypeError("gradcheck(model, X, Y): X is missing")
        return _dagrad._gradcheck_model(model_or_J, X, Y, eps=eps, threshold=threshold, samples=samples,
                                        full=full, seed=seed)
    if isinstance(model_or_J, Expr):
        if wrt is None:
            raise TypeError("gradcheck(J, wrt=[...], feeds={...}): wrt is missing")
        if isinstance(wrt, Expr):
            wrt = [wrt]
        return _dagrad._gradcheck_graph(model_or_J, list(wrt), dict(feeds or {}), eps, threshold, samples,
                                        full, seed)
    raise TypeError(f"gradcheck: expected a Model or a cost Expr, got {type(model_or_J).__name__}")


def load(path):
    """A model file (.dagrad), as `dagrad train --save` and Model.save write it."""
    return Model.load(path)


def import_onnx(path, dtype=None):
    """A model from an ONNX file (as `dagrad import`)."""
    return Model.import_onnx(path, dtype)
