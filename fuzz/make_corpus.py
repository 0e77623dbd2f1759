#!/usr/bin/python3
"""Writes the small seed files under fuzz/corpus/<target>/ (npy, npz, csv).

The h5 seeds were written by dagrad's own io::write_h5 (h5py is not installed
here) and are committed as they are. Run: /usr/bin/python3 fuzz/make_corpus.py
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
