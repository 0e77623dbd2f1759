#!/usr/bin/python3
"""Check dagrad's ONNX export and import against python3-onnx and PyTorch.

1. Export. dagrad trains small MLPs (relu / tanh / leaky relu / sigmoid
   hidden layers; sigmoid, softmax and linear outputs; with and without
   --normalize; f32 and f64), writes them with `dagrad export`, and this
   script runs onnx.checker.check_model(full_check=True) on each file and
   evaluates its graph with numpy (an evaluator written here from the ONNX
   operator specs), against `dagrad predict` on the same raw features; where
   python3-opencv is installed, OpenCV's dnn module (a deployment runtime,
   float32 inside) runs each file too.
2. Import. PyTorch MLPs (1 to 4 layers; relu, tanh and leaky relu hidden
   layers; sigmoid, softmax and linear outputs; Flatten, Dropout, bias-free
   layers) are exported with torch.onnx.export at opsets 11 to 17, read by
   `dagrad import`, and `dagrad predict` is compared with PyTorch's outputs.
3. Fine-tuning. A PyTorch-trained MLP is imported; `dagrad eval` gives the
   cost PyTorch computes on the same data, and `dagrad train --resume`
   lowers it.

Agreement is the relative difference max|a - b| / max|b| over the whole
prediction; it must be below 1e-5 in float32. The f64 exports are held to
1e-12, or 1e-8 with leaky relu: ONNX's LeakyRelu alpha is a float, and
0.01f differs from dagrad's slope 0.01 by 2e-10 relative.

Usage:  /usr/bin/python3 peers/onnx_check.py [PATH/TO/dagrad]
        (default: $DAGRAD, else build/dagrad under the repository root)
Exit:   0 agree (or onnx / torch / dagrad's ONNX support is missing:
        skipped with a message), 1 disagree, 2 the CLI could not be run.
"""
import os
import subprocess
import sys
import tempfile

import torch_env  # (this folder)

torch_env.pin()  # before numpy or torch loads a BLAS (peers/torch_env.py)

import numpy as np  # noqa: E402

TOLERANCE = 1e-5
TOLERANCE_F64 = 1e-12
TOLERANCE_F64_LEAKY = 1e-8


def dagrad_binary():
    if len(sys.argv) > 1:
        return sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("DAGRAD", os.path.join(here, "..", "build", "dagrad"))


def run(exe, *args, cwd):
    proc = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"dagrad failed ({proc.returncode}): dagrad {' '.join(args)}\n{proc.stdout}{proc.stderr}")
        sys.exit(2)
    return proc.stdout


def rel_diff(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def moons(m, seed):
    """Two noisy half-moons, samples as rows, labels 0/1."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, m)
    upper = rng.random(m) < 0.5
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    X = np.stack([x, y], 1) + 0.1 * rng.standard_normal((m, 2))
    return X * 3 + 5, upper.astype(np.float64)  # off-centre: --normalize matters


def save_csv(path, rows):
    np.savetxt(path, np.atleast_2d(rows), delimiter=",", fmt="%.17g")


# ---- 1. numpy evaluation of dagrad's exported graph ----------------------------


def attr(node, name, default):
    import onnx
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def evaluate(model, X):
    """The graph's first output for X [batch, n_x], from the ONNX specs."""
    from onnx import numpy_helper
    dtype = np.float32 if model.graph.input[0].type.tensor_type.elem_type == 1 else np.float64
    t = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    t[model.graph.input[0].name] = X.astype(dtype)
    unary = {"Relu": lambda x: np.maximum(x, 0), "Tanh": np.tanh, "Exp": np.exp, "Log": np.log,
             "Sigmoid": lambda x: 1 / (1 + np.exp(-x)), "Sqrt": np.sqrt, "Neg": np.negative,
             "Identity": lambda x: x}
    binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power}
    for n in model.graph.node:
        x = [t[i] for i in n.input]
        if n.op_type == "Gemm":
            B = x[1].T if attr(n, "transB", 0) else x[1]
            A = x[0].T if attr(n, "transA", 0) else x[0]
            y = attr(n, "alpha", 1.0) * (A @ B)
            if len(x) > 2:
                y = y + attr(n, "beta", 1.0) * x[2]
        elif n.op_type in unary:
            y = unary[n.op_type](x[0])
        elif n.op_type in binary:
            y = binary[n.op_type](x[0], x[1])
        elif n.op_type == "LeakyRelu":
            y = np.where(x[0] > 0, x[0], attr(n, "alpha", 0.01) * x[0])
        elif n.op_type == "Softmax":
            e = np.exp(x[0] - x[0].max(axis=attr(n, "axis", -1), keepdims=True))
            y = e / e.sum(axis=attr(n, "axis", -1), keepdims=True)
        else:
            raise ValueError(f"no numpy rule for {n.op_type}")
        t[n.output[0]] = y.astype(dtype)
    return t[model.graph.output[0].name]


EXPORTS = [  # layers, hidden, output, normalize, dtype
    ("2,6,4,1", "relu", "sigmoid", True, "f32"),
    ("2,5,1", "tanh", "sigmoid", False, "f32"),
    ("2,8,6,4,2", "leaky_relu", "softmax", True, "f32"),
    ("2,7,3", "sigmoid", "softmax", False, "f32"),
    ("2,6,1", "relu", "linear", True, "f32"),
    ("2,6,4,1", "tanh", "sigmoid", True, "f64"),
    ("2,8,6,2", "leaky_relu", "softmax", False, "f64"),
]


def opencv_outputs(path, X):
    """The file run by OpenCV's dnn module, or None without python3-opencv."""
    try:
        import cv2
    except ImportError:
        return None
    net = cv2.dnn.readNetFromONNX(path)
    net.setInput(X.astype(np.float32))
    return net.forward()


def check_exports(exe, onnx, tmp):
    X, y = moons(300, 1)
    save_csv(os.path.join(tmp, "x.csv"), X)
    save_csv(os.path.join(tmp, "y.csv"), y[:, None])
    worst = {"f32": 0.0, "f64": 0.0, "f64 leaky": 0.0, "opencv": 0.0, "opencv runs": 0}
    for k, (layers, hidden, output, normalize, dtype) in enumerate(EXPORTS):
        model, onnx_file = f"e{k}.dagrad", f"e{k}.onnx"
        run(exe, "train", "--data", "x.csv", "--labels", "y.csv", "--layers", layers, "--hidden", hidden,
            "--output", output, "--dtype", dtype, "--iters", "300", "--lr", "0.1", "--print-every", "0",
            *(["--normalize"] if normalize else []), "--save", model, cwd=tmp)
        run(exe, "export", "--model", model, "-o", onnx_file, cwd=tmp)
        run(exe, "predict", "--model", model, "--data", "x.csv", "-o", f"p{k}.csv", cwd=tmp)
        path = os.path.join(tmp, onnx_file)
        onnx.checker.check_model(path, full_check=True)
        m = onnx.load(path)
        assert m.opset_import[0].version == 13
        assert [i.name for i in m.graph.initializer if i.name[0] in "Wb"][:2] == ["W1", "b1"]
        ours = np.loadtxt(os.path.join(tmp, f"p{k}.csv"), delimiter=",", ndmin=2)
        d = rel_diff(evaluate(m, X), ours)
        kind = "f64 leaky" if dtype == "f64" and hidden == "leaky_relu" else dtype
        worst[kind] = max(worst[kind], d)
        cv = opencv_outputs(path, X)
        if cv is not None:
            worst["opencv"] = max(worst["opencv"], rel_diff(cv, ours))
            worst["opencv runs"] += 1
        ops = ",".join(n.op_type for n in m.graph.node)
        print(f"export {layers:<10} {hidden:<10} {output:<7} {dtype} {'norm' if normalize else '    '} "
              f"full_check ok  numpy vs predict {d:.2e}"
              + (f"  OpenCV dnn vs predict {rel_diff(cv, ours):.2e}" if cv is not None else "")
              + f"  [{ops}]")
    return worst


# ---- 2. and 3. PyTorch models through dagrad import ---------------------------------


def torch_mlp(torch, layers, hidden, output, seed, bias=True, flatten=False, dropout=0.0):
    torch.manual_seed(seed)
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh,
           "leaky_relu": lambda: torch.nn.LeakyReLU(0.1)}[hidden]
    mods = [torch.nn.Flatten()] if flatten else []
    for l in range(1, len(layers)):
        mods.append(torch.nn.Linear(layers[l - 1], layers[l], bias=bias or l == 1))
        if l < len(layers) - 1:
            mods.append(act())
            if dropout:
                mods.append(torch.nn.Dropout(dropout))
    if output == "sigmoid":
        mods.append(torch.nn.Sigmoid())
    elif output == "softmax":
        mods.append(torch.nn.Softmax(dim=1))
    return torch.nn.Sequential(*mods).eval()


IMPORTS = [  # layers, hidden, output, opset, variant
    ([2, 1], "relu", "sigmoid", 11, {}),
    ([2, 8, 1], "relu", "sigmoid", 12, {}),
    ([2, 8, 6, 1], "tanh", "sigmoid", 13, {"dropout": 0.3}),
    ([2, 16, 8, 4, 3], "leaky_relu", "softmax", 14, {}),
    ([2, 6, 3], "tanh", "softmax", 15, {"bias": False}),  # bias-free layers: MatMul
    ([2, 10, 10, 1], "relu", "linear", 16, {"flatten": True}),
    ([2, 12, 6, 6, 4], "leaky_relu", "softmax", 17, {"dropout": 0.5}),
    ([5, 7, 1], "tanh", "sigmoid", 17, {}),
]


def export_torch(torch, net, n_x, path, opset):
    torch.onnx.export(net, torch.zeros(3, n_x), path, opset_version=opset, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})


def check_imports(exe, torch, tmp):
    worst = 0.0
    for k, (layers, hidden, output, opset, variant) in enumerate(IMPORTS):
        net = torch_mlp(torch, layers, hidden, output, k, **variant)
        X = np.random.default_rng(k).standard_normal((200, layers[0])) * 2
        export_torch(torch, net, layers[0], os.path.join(tmp, f"t{k}.onnx"), opset)
        run(exe, "import", f"t{k}.onnx", "-o", f"t{k}.dagrad", cwd=tmp)
        save_csv(os.path.join(tmp, f"tx{k}.csv"), X)
        run(exe, "predict", "--model", f"t{k}.dagrad", "--data", f"tx{k}.csv", "-o", f"tp{k}.csv", cwd=tmp)
        ours = np.loadtxt(os.path.join(tmp, f"tp{k}.csv"), delimiter=",", ndmin=2)
        with torch.no_grad():
            theirs = net(torch.tensor(X, dtype=torch.float32)).numpy()
        d = rel_diff(ours, theirs.reshape(ours.shape))
        worst = max(worst, d)
        extra = " ".join(f"{k}={v}" for k, v in variant.items())
        print(f"import opset {opset} {str(layers):<18} {hidden:<10} {output:<7} {extra:<14} "
              f"predict vs PyTorch {d:.2e}")
    return worst


def bce(p, y):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def check_fine_tune(exe, torch, tmp):
    """A PyTorch-trained MLP: dagrad eval's cost is PyTorch's, and train --resume lowers it."""
    X, y = moons(400, 7)
    mu, sigma = X.mean(0), X.std(0)
    net = torch_mlp(torch, [2, 16, 8, 1], "tanh", "sigmoid", 3)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    Xt = torch.tensor((X - mu) / sigma, dtype=torch.float32)
    yt = torch.tensor(y[:, None], dtype=torch.float32)
    net.train()
    for _ in range(60):  # deliberately short: there is more to learn
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy(net(Xt), yt).backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        torch_cost = float(torch.nn.functional.binary_cross_entropy(net(Xt), yt))
    export_torch(torch, net, 2, os.path.join(tmp, "ft.onnx"), 14)
    save_csv(os.path.join(tmp, "ftx.csv"), (X - mu) / sigma)
    save_csv(os.path.join(tmp, "fty.csv"), y[:, None])
    run(exe, "import", "ft.onnx", "-o", "ft.dagrad", cwd=tmp)
    out = run(exe, "eval", "--model", "ft.dagrad", "--data", "ftx.csv", "--labels", "fty.csv", cwd=tmp)
    dagrad_cost = float(out.split("Cost:")[1].split()[0])
    run(exe, "train", "--resume", "ft.dagrad", "--data", "ftx.csv", "--labels", "fty.csv", "--iters", "500",
        "--lr", "0.5", "--print-every", "0", "--cost-log", "ftc.csv", "--save", "tuned.dagrad", cwd=tmp)
    costs = np.loadtxt(os.path.join(tmp, "ftc.csv"), delimiter=",", skiprows=1)[:, 1]
    out = run(exe, "eval", "--model", "tuned.dagrad", "--data", "ftx.csv", "--labels", "fty.csv", cwd=tmp)
    tuned = float(out.split("Cost:")[1].split()[0])
    agree = abs(dagrad_cost - torch_cost) / torch_cost
    print(f"fine-tune: PyTorch cost {torch_cost:.6f}, dagrad eval of the import {dagrad_cost:.6f} "
          f"(relative {agree:.1e}); train --resume 500 iterations: {costs[0]:.6f} -> {tuned:.6f}")
    return agree < TOLERANCE and tuned < 0.9 * costs[0]


def main():
    try:
        import onnx
    except ImportError:
        print("onnx_check: python3-onnx is not installed; skipped")
        return 0
    exe = os.path.abspath(dagrad_binary())
    if not os.access(exe, os.X_OK):
        print(f"onnx_check: no dagrad executable at {exe} (pass its path)")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        probe = subprocess.run([exe, "import", "none.onnx", "-o", "x.dagrad"], cwd=tmp,
                               capture_output=True, text=True)
        if "without ONNX" in probe.stderr:
            print("onnx_check: this dagrad was built without ONNX support; skipped")
            return 0
        worst = check_exports(exe, onnx, tmp)
        ok = (worst["f32"] < TOLERANCE and worst["f64"] < TOLERANCE_F64
              and worst["f64 leaky"] < TOLERANCE_F64_LEAKY and worst["opencv"] < TOLERANCE)
        cv = (f"OpenCV dnn {worst['opencv']:.2e} ({TOLERANCE:g}, {worst['opencv runs']} files)"
              if worst["opencv runs"] else "OpenCV dnn: python3-opencv is not installed")
        print(f"export: max relative difference f32 {worst['f32']:.2e} (tolerance {TOLERANCE:g}), "
              f"f64 {worst['f64']:.2e} ({TOLERANCE_F64:g}), f64 leaky relu {worst['f64 leaky']:.2e} "
              f"({TOLERANCE_F64_LEAKY:g}); {cv}")
        try:
            import torch
        except ImportError:
            print("onnx_check: PyTorch is not installed; the import checks are skipped")
            return 0 if ok else 1
        print(torch_env.blas_line(torch))
        torch.set_num_threads(1)
        w = check_imports(exe, torch, tmp)
        print(f"import: max relative difference {w:.2e} (tolerance {TOLERANCE:g})")
        ok = ok and w < TOLERANCE
        ok = check_fine_tune(exe, torch, tmp) and ok
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
