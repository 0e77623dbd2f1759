"""numpy in and out (no copy where promised), hostile calls that must raise
and never crash, memory over 100,000 calls, threads and Ctrl-C."""
import gc
import itertools
import signal
import threading
import time

import numpy as np
import pytest

import dagrad as dg
from conftest import planar, two_layer


def rss_kb():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import resource
    return pages * resource.getpagesize() // 1024


# ---- no copy where promised ---------------------------------------------------------

def test_feeds_are_read_in_place_when_the_layout_allows():
    a = np.ones((3, 4))
    view, copied = dg._dagrad._matrix_view(a, "f64")
    assert np.shares_memory(view, a) and not copied
    a32 = np.ones((3, 4), dtype=np.float32)
    view, copied = dg._dagrad._matrix_view(a32, "f32")
    assert np.shares_memory(view, a32) and not copied
    # the layouts that copy: another dtype, a transposed or strided view
    for other, dtype in [(a32, "f64"), (a, "f32"), (a.T, "f64"), (a[:, ::2], "f64"), (a.astype(int), "f64")]:
        view, copied = dg._dagrad._matrix_view(other, dtype)
        assert copied and not np.shares_memory(view, other)
        np.testing.assert_array_equal(view, np.asarray(other, dtype=view.dtype).reshape(view.shape))


def test_predict_writes_into_out():
    model = dg.build_mlp([2, 3, 2], hidden="tanh", output="softmax")
    X, Y = planar(20)
    model.fit(X, Y, iterations=5, learning_rate=0.1)
    out = np.empty((2, 20))
    r = model.predict(X, out=out)
    assert r is out and np.shares_memory(r, out)
    np.testing.assert_allclose(out.sum(axis=0), 1.0, rtol=1e-12)
    # samples as rows: X (n_x, m) in Fortran order, out in Fortran order
    XF = np.asfortranarray(X)
    outF = np.empty((2, 20), order="F")
    assert model.predict(XF, out=outF) is outF
    np.testing.assert_allclose(outF, out, rtol=1e-12)
    # one sample as a 1-D array
    np.testing.assert_allclose(model.predict(X[:, 3]), out[:, 3], rtol=1e-12)


# ---- bad calls raise, the interpreter lives on -------------------------------------

def bad_calls():
    model, n = two_layer()
    X, Y = planar(30)
    model.fit(X, Y, iterations=2, learning_rate=0.1)
    other = dg.Graph()
    O = other.input("O", (2, dg.m))
    values = [None, 1, 2.5, "x", b"\x00", [], [[1, 2]], np.zeros((0, 0)), np.zeros((2, 3, 4)),
              np.array([[1 + 2j]]), np.array([["a"]]), np.full((2, 5), np.nan), np.ones((3, 7)),
              np.ones((1, 30)), np.ones((2, 30), dtype=np.float32)[:, ::2], object(), n["X"], O, -1, 10 ** 30]
    calls = [
        lambda v: model.predict(v),
        lambda v: model.predict(X, out=v),
        lambda v: model.fit(v, Y, iterations=1),
        lambda v: model.fit(X, v, iterations=1),
        lambda v: model.fit(X, Y, iterations=v),
        lambda v: model.fit(X, Y, iterations=1, optimizer=v),
        lambda v: model.fit(X, Y, iterations=1, batch_size=v),
        lambda v: model.fit(X, Y, iterations=1, callback=v),
        lambda v: model.evaluate(v, Y),
        lambda v: model.evaluate(X, v),
        lambda v: dg.run(n["A2"], {"X": v}),
        lambda v: dg.run(v, {"X": X}),
        lambda v: dg.run(n["A2"], {v: X}),
        lambda v: n["W1"] @ v,
        lambda v: n["A1"] + v,
        lambda v: v - n["A1"],
        lambda v: n["A1"] * v,
        lambda v: n["A1"] / v,
        lambda v: dg.tanh(v),
        lambda v: dg.sum(n["A1"], axis=v),
        lambda v: dg.leaky_relu(n["A1"], v),
        lambda v: dg.gradients(n["A2"], v),
        lambda v: dg.gradients(v, [n["W1"]]),
        lambda v: model.graph.input(v, (2, 2)),
        lambda v: model.graph.param("P", v),
        lambda v: model.__setitem__("W1", v),
        lambda v: model.__getitem__(v),
        lambda v: model.set_params(v),
        lambda v: model.save(v),
        lambda v: dg.load(v),
        lambda v: dg.build_mlp(v),
        lambda v: dg.build_mlp([2, 1], hidden=v),
        lambda v: dg.Model(v),
        lambda v: dg.gradcheck(model, v, Y),
        lambda v: dg.set_threads(v),
    ]
    return model, X, calls, values


@pytest.mark.filterwarnings("ignore:.*does not depend on:RuntimeWarning")
def test_hundreds_of_bad_calls_raise_python_errors():
    model, X, calls, values = bad_calls()
    before = model.predict(X)
    raised = 0
    for call, v in itertools.product(calls, values):
        try:
            call(v)
        except (ValueError, TypeError, KeyError, OverflowError, RuntimeError, IndexError, FileNotFoundError,
                OSError, ArithmeticError) as e:
            assert str(e), (call, v)
            assert "\n" not in str(e).strip() or isinstance(e, TypeError), str(e)
            raised += 1
        except Exception as e:  # anything else is a bug in the bindings
            pytest.fail(f"{type(e).__name__}: {e}")
    assert raised > 300
    # the model survived every one of them
    np.testing.assert_array_equal(model.predict(X), before) if model.steps == 2 else None
    assert np.isfinite(model.predict(X)).all()


def test_error_messages_are_dagrads():
    model, n = two_layer()
    X, Y = planar(10)
    with pytest.raises(ValueError, match=r"X.*\(2x"):
        dg.run(n["A2"], {"X": np.ones((3, 10)), "W1": np.ones((4, 2)), "b1": np.ones((4, 1)),
                         "W2": np.ones((1, 4)), "b2": np.ones((1, 1))})
    with pytest.raises(ValueError, match="param '(W|b)[12]' .* has no value"):
        dg.run(n["A2"], {"X": X})  # no parameter values yet
    with pytest.raises(TypeError, match="complex"):
        dg.run(n["A2"], {"X": X.astype(complex)})
    with pytest.raises(ValueError, match="element"):
        model.fit(np.full((2, 10), np.inf), Y, iterations=1)
    model.fit(X, Y, iterations=1)
    with pytest.raises(ValueError, match="3 rows"):
        model.predict(np.ones((3, 4)))
    with pytest.raises(ValueError, match="label"):
        model.fit(X, Y * 2, iterations=5)


# ---- memory and threads -----------------------------------------------------------

def test_no_growth_over_100000_calls():
    model = dg.build_mlp([2, 4, 1], hidden="tanh")
    X, Y = planar(64)
    model.fit(X, Y, iterations=3, learning_rate=0.1)
    x1 = np.ascontiguousarray(X[:, :1])
    out = np.empty((1, 1))
    g = dg.Graph()
    a = g.input("a", (2, 2))
    expr = dg.tanh(a * 2.0)
    feed = {"a": np.ones((2, 2))}
    for _ in range(2000):  # warm up: the predictor, numpy's caches
        model.predict(x1)
        model.predict(x1, out=out)
    gc.collect()
    before = rss_kb()
    for i in range(100_000):
        model.predict(x1)
        model.predict(x1, out=out)
        if i % 100 == 0:
            dg.run(expr, feed)
            try:
                model.predict(np.ones((3, 1)))
            except ValueError:
                pass
    gc.collect()
    grown = rss_kb() - before
    assert grown < 4096, f"resident memory grew by {grown} KiB over 100,000 calls"


def test_threads_predict_and_fit_side_by_side():
    X, Y = planar(200)
    shared = dg.build_mlp([2, 6, 1], hidden="tanh")
    shared.fit(X, Y, iterations=20, learning_rate=0.5)
    want = shared.predict(X)
    errors = []

    def predictor():
        try:
            for _ in range(300):
                np.testing.assert_array_equal(shared.predict(X), want)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    results = {}

    def trainer(k):
        try:
            m = dg.build_mlp([2, 4, 1], hidden="tanh", seed=k)
            m.fit(X, Y, iterations=200, learning_rate=0.5)
            results[k] = m.values()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=predictor) for _ in range(3)] + \
        [threading.Thread(target=trainer, args=(k,)) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    # a thread's training is the training of the same model alone
    for k in (1, 2):
        alone = dg.build_mlp([2, 4, 1], hidden="tanh", seed=k)
        alone.fit(X, Y, iterations=200, learning_rate=0.5)
        for name, v in alone.values().items():
            np.testing.assert_array_equal(results[k][name], v)


def test_ctrl_c_stops_fit_cleanly():
    X, Y = planar(400)
    model = dg.build_mlp([2, 16, 1], hidden="tanh")
    timer = threading.Timer(0.3, lambda: signal.raise_signal(signal.SIGINT))
    t0 = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, iterations=10 ** 8, learning_rate=0.5)
    timer.join()
    assert time.monotonic() - t0 < 30
    assert 0 < model.steps < 10 ** 8
    # the model holds the updates made so far and goes on
    assert np.isfinite(model.predict(X)).all()
    steps = model.steps
    model.fit(X, Y, iterations=steps + 5)
    assert model.steps == steps + 5


def test_building_on_a_graph_while_it_trains():
    model, n = two_layer()
    X, Y = planar(400)
    done = []
    t = threading.Thread(target=lambda: done.append(model.fit(X, Y, iterations=3000, learning_rate=0.5)))
    t.start()
    exprs = []
    while t.is_alive() or len(exprs) < 50:
        exprs.append(dg.tanh(n["W1"] @ n["X"] + n["b1"]) * 2.0)
        _ = exprs[-1].shape, repr(exprs[-1])
    t.join()
    assert done and done[0].iterations == 3000
    np.testing.assert_allclose(dg.run(exprs[-1], {"X": X}), 2 * np.tanh(model["W1"] @ X + model["b1"]), rtol=1e-12)
