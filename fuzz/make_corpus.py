#!/usr/bin/python3
"""Writes the small seed files under fuzz/corpus/<target>/ (npy, npz, csv).

The h5 seeds were written by dagrad's own io::write_h5 (h5py is not installed
here) and are committed as they are. So are the model seeds (corpus/model/),
written by `dagrad train --save` on 12 samples: gd; Adam with a decaying
learning rate, mini-batches and normalization; a softmax in f32 with dropout,
L2 and momentum; a linear output with RMSprop. Run: /usr/bin/python3 fuzz/make_corpus.py
"""
import io
import os

import numpy as np

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(here, target), exist_ok=True)
    with open(os.path.join(here, target, name), "wb") as f:
        f.write(data)


def npy_bytes(a, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, a)
    else:
        np.lib.format.write_array(buf, a, version=version)
    return buf.getvalue()


arrays = {
    "f8_2d": np.arange(6, dtype="<f8").reshape(2, 3) / 7,
    "f4_1d": np.linspace(0, 1, 5, dtype="<f4"),
    "scalar": np.float64(0.5),
    "u1_4d": np.arange(24, dtype=np.uint8).reshape(2, 2, 2, 3),
    "i8": np.array([-1, 0, 7], dtype="<i8"),
    "i4_be": np.array([1, 2], dtype=">i4"),
    "bool": np.array([True, False]),
    "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    "empty": np.zeros((0, 3)),
}
for name, a in arrays.items():
    put("npy", name + ".npy", npy_bytes(a))
put("npy", "v2.npy", npy_bytes(arrays["f8_2d"], (2, 0)))
put("npy", "v3.npy", npy_bytes(arrays["f4_1d"], (3, 0)))

small = {"W1": np.arange(6.0).reshape(2, 3) * 0.1, "b1": np.zeros((2, 1)), "y": np.array([0, 1], dtype=np.int64)}
for name, save in (("savez", np.savez), ("savez_compressed", np.savez_compressed)):
    buf = io.BytesIO()
    save(buf, **small)
    put("npz", name + ".npz", buf.getvalue())

put("csv", "label_last.csv", b"0.5,-1,1\n2.25,3e2,0\r\n-0.125,+4,1\n")
put("csv", "one_column.csv", b"1\n0\n1\n")
put("csv", "ints.csv", b"17,31,56,22,33\n0,255,1,2,3\n")
put("csv", "floats.csv", b"-0.158986,0.423977\n1.2044422922543192,-inf\n1e-310,nan\n")


# ONNX seeds (python3-onnx): the forms torch.onnx.export writes (Gemm with
# transB, MatMul + Add, Flatten, a scalar Constant, Dropout, raw_data) and
# the form dagrad export writes (Sub/Div normalization, typed data, names).
try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    onnx = None
if onnx is not None:
    def tensor(name, a, raw=True):
        a = np.asarray(a, dtype=np.float32)
        if raw:
            return numpy_helper.from_array(a, name)
        return helper.make_tensor(name, TensorProto.FLOAT, a.shape, a.ravel().tolist())

    def model(nodes, inits, n_in, n_out, opset, in_dims=None, metadata=None):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", *(in_dims or [n_in])])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", n_out])
        m = helper.make_model(helper.make_graph(nodes, "g", [x], [y], inits),
                              opset_imports=[helper.make_opsetid("", opset)])
        if metadata:
            helper.set_model_props(m, metadata)
        return m.SerializeToString()

    w1, b1 = np.arange(6).reshape(3, 2) * 0.1 - 0.2, np.array([0.1, -0.1, 0.2])
    w2, b2 = np.array([[0.5, -0.3, 0.2]]), np.array([0.05])
    put("onnx", "gemm_relu_sigmoid.onnx", model(
        [helper.make_node("Gemm", ["x", "W1", "b1"], ["z1"], transB=1),
         helper.make_node("Relu", ["z1"], ["a1"]),
         helper.make_node("Gemm", ["a1", "W2", "b2"], ["z2"], transB=1),
         helper.make_node("Sigmoid", ["z2"], ["y"])],
        [tensor("W1", w1), tensor("b1", b1), tensor("W2", w2), tensor("b2", b2)], 2, 1, 14))
    put("onnx", "matmul_add_softmax.onnx", model(
        [helper.make_node("Flatten", ["x"], ["f"], axis=1),
         helper.make_node("MatMul", ["f", "Wt"], ["mm"]),
         helper.make_node("Add", ["mm", "b"], ["z"]),
         helper.make_node("LeakyRelu", ["z"], ["a"], alpha=0.1),
         helper.make_node("Dropout", ["a"], ["d"]),
         helper.make_node("Constant", [], ["two"], value=tensor("two", 2.0)),
         helper.make_node("Mul", ["d", "two"], ["s"]),
         helper.make_node("Softmax", ["s"], ["y"], axis=1)],
        [tensor("Wt", w1.T), tensor("b", b1)], 2, 3, 11))
    put("onnx", "flatten_4d.onnx", model(
        [helper.make_node("Flatten", ["x"], ["f"]),
         helper.make_node("Gemm", ["f", "W", "c"], ["z"], transB=1),
         helper.make_node("Tanh", ["z"], ["y"])],
        [tensor("W", np.ones((2, 4)) * 0.25), tensor("c", [0.5, -0.5])], 4, 2, 13, in_dims=[1, 2, 2]))
    put("onnx", "dagrad_normalized.onnx", model(
        [helper.make_node("Sub", ["x", "mu"], ["xc"]),
         helper.make_node("Div", ["xc", "sigma"], ["xn"]),
         helper.make_node("Gemm", ["xn", "W1", "b1"], ["Z1"], transB=1),
         helper.make_node("Tanh", ["Z1"], ["A1"]),
         helper.make_node("Add", ["A1", "A1"], ["R"]),
         helper.make_node("Gemm", ["R", "W2", "b2"], ["y"], transB=1)],
        [tensor("mu", [1.0, -2.0], False), tensor("sigma", [2.0, 0.5], False),
         tensor("W1", w1, False), tensor("b1", b1, False), tensor("W2", w2, False), tensor("b2", b2, False)],
        2, 1, 13, metadata={"dagrad.names": '["W1", "b1", "Z1", "A1", "R", "W2", "b2"]'}))
