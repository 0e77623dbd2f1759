"""Derived gradients against the notes' hand-written backprop in numpy and
against PyTorch's autograd."""
import numpy as np
import pytest

import dagrad as dg
from conftest import planar, two_layer


def numpy_backprop(X, Y, W1, b1, W2, b2):
    """The notes' C1W3 backward_propagation, written out."""
    m = X.shape[1]
    A1 = np.tanh(W1 @ X + b1)
    A2 = 1 / (1 + np.exp(-(W2 @ A1 + b2)))
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (W2.T @ dZ2) * (1 - A1 ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return dW1, db1, dW2, db2


def weights(seed=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((4, 2)), rng.standard_normal((4, 1)), rng.standard_normal((1, 4)), \
        rng.standard_normal((1, 1))


def test_gradients_match_the_notes_backprop():
    model, n = two_layer()
    X, Y = planar(50)
    W1, b1, W2, b2 = weights()
    grads = dg.gradients(model.cost, [n["W1"], n["b1"], n["W2"], n["b2"]])
    assert [g.name for g in grads] == ["dW1", "db1", "dW2", "db2"]
    got = dg.run(grads, dict(X=X, Y=Y, W1=W1, b1=b1, W2=W2, b2=b2))
    for g, want in zip(got, numpy_backprop(X, Y, W1, b1, W2, b2)):
        np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-15)


def test_second_order_is_a_graph_too():
    g = dg.Graph()
    x = g.param("x", (3, 1))
    J = dg.sum(dg.exp(x) * x)
    (dx,) = dg.gradients(J, [x])
    (ddx_sum,) = dg.gradients(dg.sum(dx), [x])  # d/dx sum((1 + x) e^x) = (2 + x) e^x
    v = np.array([[0.1], [-0.4], [1.3]])
    got = dg.run([dx, ddx_sum], {"x": v})
    np.testing.assert_allclose(got[0], (1 + v) * np.exp(v), rtol=1e-13)
    np.testing.assert_allclose(got[1], (2 + v) * np.exp(v), rtol=1e-13)


@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_gradients_match_pytorch(torch, hidden):
    rng = np.random.default_rng(7)
    layers = [3, 5, 4, 1]
    model = dg.build_mlp(layers, hidden=hidden, l2=0.3)
    X = rng.standard_normal((3, 30))
    Y = (rng.random((1, 30)) > 0.5).astype(float)
    Ws = [rng.standard_normal((b, a)) for a, b in zip(layers, layers[1:])]
    bs = [rng.standard_normal((b, 1)) * 0.1 for b in layers[1:]]
    feeds = {"X": X, "Y": Y}
    params = []
    for l, (W, b) in enumerate(zip(Ws, bs), start=1):
        feeds[f"W{l}"], feeds[f"b{l}"] = W, b
        params += [model.graph[f"W{l}"], model.graph[f"b{l}"]]
    grads = dg.gradients(model.cost, params)
    got = dg.run([model.cost] + grads, feeds)

    tW = [torch.tensor(W, requires_grad=True) for W in Ws]
    tb = [torch.tensor(b, requires_grad=True) for b in bs]
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
           "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01)}[hidden]
    A = torch.tensor(X)
    for l in range(len(tW)):
        Z = tW[l] @ A + tb[l]
        A = act(Z) if l < len(tW) - 1 else Z
    m = X.shape[1]
    J = torch.nn.functional.binary_cross_entropy_with_logits(A, torch.tensor(Y), reduction="sum") / m
    J = J + 0.3 / (2 * m) * sum((W ** 2).sum() for W in tW)
    J.backward()
    np.testing.assert_allclose(got[0][0, 0], J.item(), rtol=1e-12)
    want = [t.grad.numpy() for pair in zip(tW, tb) for t in pair]
    for g, w in zip(got[1:], want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-13)
