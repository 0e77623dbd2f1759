"""The DSL from Python: operators and functions against numpy's formulas,
models, explain and dot."""
import numpy as np
import pytest

import dagrad as dg
from conftest import planar, two_layer, which


def test_import_has_the_api():
    for name in ["Graph", "Model", "Expr", "m", "tanh", "sigmoid", "relu", "leaky_relu", "gradients", "explain",
                 "dot", "gradcheck", "build_mlp", "run", "binary_cross_entropy", "categorical_cross_entropy",
                 "mean_squared_error", "load", "import_onnx"]:
        assert hasattr(dg, name), name
    assert dg.m == -1


def test_operators_broadcast_as_the_notes():
    g = dg.Graph()
    A = g.input("A", (3, dg.m))
    c = g.input("c", (3, 1))
    r = g.input("r", (1, dg.m))
    W = g.input("W", (2, 3))
    rng = np.random.default_rng(1)
    a, cc, rr, w = rng.random((3, 5)) + 0.5, rng.random((3, 1)) + 0.5, rng.random((1, 5)) + 0.5, rng.random((2, 3))
    feeds = dict(A=a, c=cc, r=rr, W=w)
    exprs = [A + c, A - r, A * c, A / r, c - A, 2.0 * A, A * 3, A / 4, 1 - A, A + 1, 2 / A, -A, W @ A, A ** 2,
             A.T]
    want = [a + cc, a - rr, a * cc, a / rr, cc - a, 2 * a, a * 3, a / 4, 1 - a, a + 1, 2 / a, -a, w @ a, a ** 2,
            a.T]
    got = dg.run(exprs, feeds)
    for e, gval, wval in zip(exprs, got, want):
        np.testing.assert_allclose(gval, wval, rtol=1e-14, atol=1e-15, err_msg=repr(e))


def test_functions_match_numpy():
    g = dg.Graph()
    Z = g.input("Z", (4, dg.m))
    z = np.linspace(-3, 3, 24).reshape(4, 6)
    fns = [(dg.tanh(Z), np.tanh(z)), (dg.sigmoid(Z), 1 / (1 + np.exp(-z))), (dg.relu(Z), np.maximum(z, 0)),
           (dg.leaky_relu(Z, 0.1), np.where(z > 0, z, 0.1 * z)), (dg.exp(Z), np.exp(z)),
           (dg.square(Z), z * z), (dg.sum(Z, axis=1), z.sum(axis=1, keepdims=True)),
           (dg.sum(Z, axis=0), z.sum(axis=0, keepdims=True)), (dg.sum(Z), np.array([[z.sum()]])),
           (dg.mean(Z, axis=1), z.mean(axis=1, keepdims=True)),
           (dg.softmax(Z), np.exp(z) / np.exp(z).sum(axis=0, keepdims=True))]
    got = dg.run([e for e, _ in fns], {"Z": z})
    for (e, want), gval in zip(fns, got):
        np.testing.assert_allclose(gval, want, rtol=1e-13, atol=1e-15, err_msg=repr(e))


def test_costs_match_their_formulas():
    g = dg.Graph()
    Z = g.input("Z", (1, dg.m))
    Y = g.input("Y", (1, dg.m))
    A = dg.sigmoid(Z)
    z = np.array([[-2.0, -0.5, 0.3, 1.7, 4.0]])
    y = np.array([[0.0, 1.0, 0.0, 1.0, 1.0]])
    a = 1 / (1 + np.exp(-z))
    bce, mse = dg.run([dg.binary_cross_entropy(A, Y), dg.mean_squared_error(Z, Y)], {"Z": z, "Y": y})
    m = z.shape[1]
    np.testing.assert_allclose(bce[0, 0], -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum() / m, rtol=1e-13)
    np.testing.assert_allclose(mse[0, 0], ((z - y) ** 2).sum() / (2 * m), rtol=1e-13)
    g2 = dg.Graph()
    Z2 = g2.input("Z", (3, dg.m))
    Y2 = g2.input("Y", (3, dg.m))
    z2 = np.array([[1.0, 2.0], [0.5, -1.0], [-0.3, 0.0]])
    y2 = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    sm = np.exp(z2) / np.exp(z2).sum(axis=0)
    cce = dg.run(dg.categorical_cross_entropy(dg.softmax(Z2), Y2), {"Z": z2, "Y": y2})
    np.testing.assert_allclose(cce[0, 0], -(y2 * np.log(sm)).sum() / 2, rtol=1e-13)


def test_shape_error_names_the_nodes():
    g = dg.Graph()
    W2 = g.param("W2", (1, 4))
    A1 = g.input("A1", (3, dg.m))
    with pytest.raises(dg.ShapeError) as e:
        W2 @ A1
    assert "W2 (1x4)" in str(e.value) and "A1 (3xm)" in str(e.value)
    assert isinstance(e.value, ValueError)


def test_model_fits_predicts_and_evaluates():
    model, n = two_layer()
    X, Y = planar()
    r = model.fit(X, Y, iterations=1500, learning_rate=1.2, seed=2)
    assert r.iterations == 1500 and len(r.costs) == 1500
    assert r.costs[-1] < r.costs[0]
    P = model.predict(X)
    assert P.shape == (1, X.shape[1]) and P.dtype == np.float64
    # predict is the forward pass the graph computes from the trained values
    A2 = dg.run(n["A2"], {"X": X})
    np.testing.assert_allclose(P, A2, rtol=1e-12)
    e = model.evaluate(X, Y)
    assert e["task"] == "binary" and e["samples"] == X.shape[1]
    assert e["accuracy"] == pytest.approx(((P > 0.5) == Y).mean())
    assert model.steps == 1500


def test_per_epoch_callback_and_stop():
    model = dg.build_mlp([2, 3, 1], hidden="tanh")
    X, Y = planar(100)
    seen = []
    model.fit(X, Y, epochs=5, batch_size=32, learning_rate=0.1, callback=lambda ep, steps: seen.append((ep, steps)))
    assert [ep for ep, _ in seen] == [1, 2, 3, 4, 5]
    assert seen[-1][1] == 5 * 4  # 4 batches per epoch (32, 32, 32, 4)

    class Stop(Exception):
        pass

    def stop(ep, steps):
        if ep == 7:
            raise Stop()
    with pytest.raises(Stop):
        model.fit(X, Y, epochs=100, batch_size=32, learning_rate=0.1, callback=stop)
    assert model.epochs == 7
    model.fit(X, Y, epochs=8, batch_size=32, learning_rate=0.1)  # goes on from there
    assert model.epochs == 8


def test_print_every_prints_the_notes_lines(capsys):
    model = dg.build_mlp([2, 3, 1], hidden="tanh")
    X, Y = planar(50)
    model.fit(X, Y, iterations=20, learning_rate=0.5, print_every=10)
    out = capsys.readouterr().out
    assert "Cost after iteration 0:" in out and "Cost after iteration 10:" in out


def test_explain_derives_the_notes_equations():
    model = dg.build_mlp([2, 4, 1], hidden="tanh")
    e = dg.explain(model)
    text = str(e)
    assert "dZ[2] = A[2] - Y" in text
    assert "dW[1] = 1/m dZ[1] X^T" in text
    assert e._repr_latex_().startswith("$$") and "aligned" in e._repr_latex_()
    assert "dZ[2]" in e._repr_markdown_()


def test_dot_draws_svg():
    if which("dot") is None:
        from conftest import missing
        missing("Graphviz's dot (graphviz)", "dagrad.dot's SVG")
    model = dg.build_mlp([2, 4, 1], hidden="tanh")
    s = dg.dot(model)
    assert s._repr_svg_().lstrip().startswith("<?xml") or "<svg" in s.svg[:500]
    assert "dW[1]" in s.svg or "dW<SUB>" in s.source or "dW" in s.source
    assert "digraph" in s.source


def test_gradcheck_passes_and_catches():
    model = dg.build_mlp([3, 5, 1], hidden="tanh")
    rng = np.random.default_rng(4)
    X = rng.standard_normal((3, 20))
    Y = (rng.random((1, 20)) > 0.2).astype(float)  # mostly 1: db[2] is far from 0
    r = dg.gradcheck(model, X, Y)
    assert r["passed"] and r["rel_diff"] < 1e-7
    assert [p["name"] for p in r["params"]] == ["W1", "b1", "W2", "b2"]
    g = dg.Graph()
    x = g.input("x", (2, 1))
    w = g.param("w", (2, 1))
    J = dg.sum(dg.square(w * x))
    r2 = dg.gradcheck(J, wrt=[w], feeds={"x": np.array([[1.0], [2.0]]), "w": np.array([[0.5], [-1.0]])},
                      full=True)
    assert r2["passed"]
    w0, x0 = np.array([[0.5], [-1.0]]), np.array([[1.0], [2.0]])
    np.testing.assert_allclose(r2["params"][0]["grad"], 2 * w0 * x0 ** 2, rtol=1e-12)  # d/dw sum((w x)^2)


def test_mlp_builder_and_options():
    model = dg.build_mlp([4, 6, 3], hidden="relu", output="softmax", l2=0.1)
    assert model.task == "categorical"
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 60))
    y = rng.integers(0, 3, (1, 60)).astype(float)
    r = model.fit(X, y, epochs=3, batch_size=16, optimizer="adam", learning_rate=0.01)
    assert r.iterations == 12
    assert model.predict(X).shape == (3, 60)
    np.testing.assert_allclose(model.predict(X).sum(axis=0), 1.0, rtol=1e-12)
    assert sorted(n for n in model.value_names() if n[0] in "Wb") == ["W1", "W2", "b1", "b2"]
    with pytest.raises(ValueError):
        dg.build_mlp([4], hidden="relu")
    with pytest.raises(ValueError):
        dg.build_mlp([4, 2], hidden="swish")


def test_f32_models():
    model = dg.build_mlp([2, 4, 1], hidden="tanh", dtype="f32")
    X, Y = planar(64)
    model.fit(X, Y, iterations=10, learning_rate=0.5)
    P = model.predict(X.astype(np.float32))
    assert P.dtype == np.float32
    assert model["W1"].dtype == np.float32


def test_stubs_name_every_public_name():
    import ast
    import os
    stub = os.path.join(os.path.dirname(dg.__file__), "__init__.pyi")
    tree = ast.parse(open(stub).read())
    named = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            named.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            named.add(node.target.id)
    missing = [n for n in dg.__all__ if n not in named]
    assert not missing, f"__init__.pyi lacks {missing}"
    assert all(getattr(dg, n).__doc__ for n in ["run", "gradients", "build_mlp", "explain", "dot", "gradcheck"])
    assert dg.Model.fit.__doc__ and "callback" in dg.Model.fit.__doc__
