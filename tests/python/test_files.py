"""Model files and ONNX shared with the CLI, and the same bits as `dagrad
train`: with the same seed and options, fit from Python and the CLI write
the same parameters bit for bit."""
import os
import subprocess

import numpy as np
import pytest

import dagrad as dg
from conftest import missing, planar


def write_csv(folder, X, Y):
    """One sample per line (X is n_x x m), labels in their own file, every
    double printed in full so the CLI reads back the same bits."""
    x, y = os.path.join(folder, "x.csv"), os.path.join(folder, "y.csv")
    np.savetxt(x, X.T, fmt="%.17g", delimiter=",")
    np.savetxt(y, Y.T, fmt="%d")
    return x, y


def train_cli(cli, *args):
    p = subprocess.run([cli, "train", "--threads", "1", "--print-every", "0", *map(str, args)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def saved_arrays(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files if not k.endswith(".json")}


def same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("case", [
    dict(layers=[2, 4, 1], hidden="tanh", init="xavier", seed=5, opts=dict(iterations=300, learning_rate=0.9),
         flags=["--iters", 300, "--lr", 0.9]),
    dict(layers=[2, 5, 3, 1], hidden="relu", init="he", seed=3,
         opts=dict(epochs=7, batch_size=32, optimizer="adam", learning_rate=0.01),
         flags=["--epochs", 7, "--batch-size", 32, "--optimizer", "adam", "--lr", 0.01]),
    dict(layers=[2, 6, 1], hidden="relu", init="he", seed=9, dtype="f32", keep_prob=0.8, l2=0.2,
         opts=dict(iterations=120, optimizer="momentum", learning_rate=0.05),
         flags=["--iters", 120, "--optimizer", "momentum", "--lr", 0.05, "--dtype", "f32", "--keep-prob", 0.8,
                "--l2", 0.2]),
])
def test_fit_writes_the_same_bits_as_dagrad_train(cli, tmp_path, case):
    dg.set_threads(1)
    X, Y = planar(150, seed=case["seed"])
    x, y = write_csv(tmp_path, X, Y)
    out = tmp_path / "cli.dagrad"
    train_cli(cli, "--layers", ",".join(map(str, case["layers"])), "--hidden", case["hidden"], "--init",
              case["init"], "--seed", case["seed"], "--data", x, "--labels", y, "--save", out, *case["flags"])
    model = dg.build_mlp(case["layers"], hidden=case["hidden"], seed=case["seed"], dtype=case.get("dtype"),
                         keep_prob=case.get("keep_prob"), l2=case.get("l2", 0.0))
    model.fit(X, Y, init=case["init"], **case["opts"])
    cli_values = saved_arrays(out)
    names = [n for n in model.value_names()]
    assert set(names) == set(cli_values), (names, list(cli_values))
    for n in names:
        assert same_bits(model[n], cli_values[n]), n
    py_file = tmp_path / "py.dagrad"
    model.save(py_file)
    py_values = saved_arrays(py_file)
    for n in names:
        assert same_bits(py_values[n], cli_values[n]), n


def test_resume_a_python_model_with_the_cli(cli, tmp_path):
    dg.set_threads(1)
    X, Y = planar(120, seed=11)
    x, y = write_csv(tmp_path, X, Y)
    model = dg.build_mlp([2, 4, 1], hidden="tanh", seed=2)
    model.fit(X, Y, iterations=50, learning_rate=0.5, init="xavier")
    model.save(tmp_path / "half.dagrad")
    train_cli(cli, "--resume", tmp_path / "half.dagrad", "--data", x, "--labels", y, "--iters", 100, "--save",
              tmp_path / "cli.dagrad")
    model.fit(X, Y, iterations=100)
    again = dg.load(tmp_path / "cli.dagrad")
    assert again.steps == model.steps == 100
    for n in model.value_names():
        assert same_bits(again[n], model[n]), n


def test_cli_predicts_what_python_predicts(cli, tmp_path):
    X, Y = planar(90, seed=4)
    x, _ = write_csv(tmp_path, X, Y)
    model = dg.build_mlp([2, 8, 1], hidden="relu")
    model.fit(X, Y, epochs=20, batch_size=16, optimizer="adam", learning_rate=0.01, normalize=True)
    model.save(tmp_path / "m.dagrad")
    p = subprocess.run([cli, "predict", "--model", tmp_path / "m.dagrad", "--data", x, "-o", tmp_path / "p.npy"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    cli_p = np.load(tmp_path / "p.npy")  # samples x units
    np.testing.assert_allclose(model.predict(X), cli_p.T, rtol=1e-12)
    # and a model the CLI trained, loaded here
    loaded = dg.load(tmp_path / "m.dagrad")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.evaluate(X, Y)["accuracy"] == model.evaluate(X, Y)["accuracy"]


def test_onnx_round_trip(cli, tmp_path):
    if not dg.onnx_available():
        missing("ONNX (libonnx-dev)", "the ONNX round trip")
    X, Y = planar(60, seed=6)
    model = dg.build_mlp([2, 5, 1], hidden="tanh")
    model.fit(X, Y, iterations=100, learning_rate=0.5)
    model.export_onnx(tmp_path / "py.onnx")
    back = dg.import_onnx(tmp_path / "py.onnx")
    np.testing.assert_allclose(back.predict(X), model.predict(X), rtol=1e-12)
    model.save(tmp_path / "m.dagrad")
    p = subprocess.run([cli, "export", "--model", tmp_path / "m.dagrad", "-o", tmp_path / "cli.onnx"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    np.testing.assert_allclose(dg.import_onnx(tmp_path / "cli.onnx").predict(X), model.predict(X), rtol=1e-12)


def test_bad_files_raise_with_the_file_named(tmp_path):
    bad = tmp_path / "bad.dagrad"
    bad.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ValueError, match="bad.dagrad"):
        dg.load(bad)
    with pytest.raises(ValueError):
        dg.load(tmp_path / "missing.dagrad")
    if dg.onnx_available():
        with pytest.raises(ValueError, match="bad.onnx"):
            (tmp_path / "bad.onnx").write_bytes(b"\x08\x07garbage")
            dg.import_onnx(tmp_path / "bad.onnx")


def test_set_params_from_npz_as_init_from(tmp_path):
    W1 = np.arange(8.0).reshape(4, 2) / 10
    np.savez(tmp_path / "p.npz", W1=W1, b1=np.zeros((4, 1)), W2=np.ones((1, 4)), b2=np.zeros((1, 1)))
    model = dg.build_mlp([2, 4, 1], hidden="tanh")
    model.set_params(tmp_path / "p.npz")
    np.testing.assert_array_equal(model["W1"], W1)
    with pytest.raises(ValueError, match="W2"):
        model.set_params({"W1": W1, "b1": np.zeros((4, 1)), "W2": np.ones((1, 3)), "b2": np.zeros((1, 1))})
