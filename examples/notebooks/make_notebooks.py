#!/usr/bin/python3
"""Writes planar.ipynb and cats.ipynb from the cells below (the notebooks are
committed; rerun this after editing a cell). Needs python3-nbformat.

    /usr/bin/python3 examples/notebooks/make_notebooks.py
"""
import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))

FIND_DATA = '''import os
import numpy as np
import dagrad as dg

def course_data():
    """The course's data folder, as README "Course data" says: $DAGRAD_COURSE_DATA,
    else ../shared/data/course beside the repository (a fresh clone has none)."""
    if os.environ.get("DAGRAD_COURSE_DATA"):
        return os.environ["DAGRAD_COURSE_DATA"]
    here = os.path.abspath(os.getcwd())
    while not os.path.exists(os.path.join(here, "dagrad.hpp")) and os.path.dirname(here) != here:
        here = os.path.dirname(here)
    return os.path.join(os.path.dirname(here), "shared", "data", "course")

D = course_data()
if not os.path.isdir(os.path.join(D, "csv")):
    raise FileNotFoundError(f"the course data is not at {D}: see README 'Course data' "
                            "(set DAGRAD_COURSE_DATA to the folder holding orig/ and csv/)")
dg.set_threads(1)   # README's results table: f64, one thread
print("course data:", D)'''


def planar():
    cells = [
        new_markdown_cell("""# The planar flower with dagrad (C1W3)

The notes' 2-4-1 tanh network on the planar "flower" data, built with dagrad's
DSL from Python: the notebook's own initial weights, the graph and the
derived backward pass drawn inline, then 10,000 iterations of gradient descent
at lr 1.2. The printed digits are README's "Reproduced course results"
(numpy init column).

Run from a build: `PYTHONPATH=build/python jupyter notebook examples/notebooks/planar.ipynb`."""),
        new_code_cell(FIND_DATA),
        new_markdown_cell("The data: 400 points, X is (2, m) with one column per sample, Y is (1, m)."),
        new_code_cell('''X = np.loadtxt(os.path.join(D, "csv", "planar_x.csv"), delimiter=",").T
Y = np.loadtxt(os.path.join(D, "csv", "planar_y.csv")).reshape(1, -1)
print("X", X.shape, "Y", Y.shape)'''),
        new_markdown_cell("The model, as the notes write it: `@` is the matrix product, `+` broadcasts b over the columns."),
        new_code_cell('''def planar_model(n_h):
    model = dg.Model()
    X_ = model.input("X", (2, dg.m)); Y_ = model.input("Y", (1, dg.m))
    W1 = model.param("W1", (n_h, 2)); b1 = model.param("b1", (n_h, 1))
    W2 = model.param("W2", (1, n_h)); b2 = model.param("b2", (1, 1))
    Z1 = (W1 @ X_ + b1).named("Z1")
    A1 = dg.tanh(Z1).named("A1")
    Z2 = (W2 @ A1 + b2).named("Z2")
    A2 = dg.sigmoid(Z2).named("A2")
    model.cost = dg.binary_cross_entropy(A2, Y_).named("J")
    model.output = A2
    return model

def notes_init(n_h):
    """The notebook's initialize_parameters: seed 2, randn * 0.01, zero biases."""
    np.random.seed(2)
    W1 = np.random.randn(n_h, 2) * 0.01
    W2 = np.random.randn(1, n_h) * 0.01
    return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((1, 1))}

model = planar_model(4)
model.set_params(notes_init(4))
dg.dot(model)'''),
        new_markdown_cell("What `gradients` derived, read back from the graph:"),
        new_code_cell("dg.explain(model)"),
        new_markdown_cell("Training: gradient descent, lr 1.2, 10,000 iterations."),
        new_code_cell('''r = model.fit(X, Y, iterations=10000, learning_rate=1.2, print_every=1000)
accuracy = model.evaluate(X, Y)["accuracy"]
print(f"Cost after iteration 9000: {r.costs[9000]:.6f}")
print(f"Accuracy: {100 * accuracy:.2f}%")
print(f"README planar: {r.costs[9000]:.6f}, {100 * accuracy:.2f}%")'''),
        new_markdown_cell("The update the graph now holds, as the notes write it:"),
        new_code_cell("dg.explain(model)"),
        new_markdown_cell("Hidden layer sizes (5,000 iterations each, the notebook's initialization per size):"),
        new_code_cell('''sweep = []
for n_h in [1, 2, 3, 4, 5, 20, 50]:
    m_h = planar_model(n_h)
    m_h.set_params(notes_init(n_h))
    m_h.fit(X, Y, iterations=5000, learning_rate=1.2)
    acc = 100 * m_h.evaluate(X, Y)["accuracy"]
    print(f"Accuracy for {n_h} hidden units: {acc:.2f}%")
    sweep.append(f"{acc:.2f}%")
print("README planar sweep:", ", ".join(sweep))'''),
    ]
    return cells


def cats():
    cells = [
        new_markdown_cell("""# Cat or not with dagrad (C1W4)

The notes' 2-layer (12288, 7, 1) and L-layer [12288, 20, 7, 5, 1] relu
networks on the course's cat images, read with h5py, from the notebook's
own initial weights; the graph and its derivation drawn inline. The printed
digits are README's "Reproduced course results" (numpy init column).

Run from a build: `PYTHONPATH=build/python jupyter notebook examples/notebooks/cats.ipynb`."""),
        new_code_cell(FIND_DATA),
        new_markdown_cell("The images, flattened per sample and scaled to [0, 1] as the notebook does: X is (12288, m)."),
        new_code_cell('''import h5py

def load(name, prefix):
    with h5py.File(os.path.join(D, "orig", name), "r") as f:
        x = np.array(f[prefix + "_x"])
        y = np.array(f[prefix + "_y"])
    return x.reshape(x.shape[0], -1).T / 255, y.reshape(1, -1).astype(np.float64)

X, Y = load("train_catvnoncat.h5", "train_set")
X_test, Y_test = load("test_catvnoncat.h5", "test_set")
print("train", X.shape, "test", X_test.shape)'''),
        new_markdown_cell("The 2-layer model from the MLP builder, with the notebook's initialize_parameters (seed 1, randn * 0.01):"),
        new_code_cell('''model2 = dg.build_mlp([12288, 7, 1], hidden="relu")
np.random.seed(1)
W1 = np.random.randn(7, 12288) * 0.01
W2 = np.random.randn(1, 7) * 0.01
model2.set_params({"W1": W1, "b1": np.zeros((7, 1)), "W2": W2, "b2": np.zeros((1, 1))})
dg.dot(model2)'''),
        new_code_cell("dg.explain(model2)"),
        new_code_cell('''r2 = model2.fit(X, Y, iterations=2500, learning_rate=0.0075, print_every=500)
train2 = 100 * model2.evaluate(X, Y)["accuracy"]
test2 = 100 * model2.evaluate(X_test, Y_test)["accuracy"]
print(f"Cost after iteration 2400: {r2.costs[2400]:.6f}")
print(f"Train accuracy {train2:.2f}%, test accuracy {test2:.2f}%")
print(f"README cat2: {r2.costs[2400]:.6f}, {train2:.2f}% / {test2:.2f}%")'''),
        new_markdown_cell("The L-layer model, with the notebook's initialize_parameters_deep (seed 1, randn / sqrt(n[l-1])):"),
        new_code_cell('''layers = [12288, 20, 7, 5, 1]
modelL = dg.build_mlp(layers, hidden="relu")
np.random.seed(1)
params = {}
for l in range(1, len(layers)):
    params[f"W{l}"] = np.random.randn(layers[l], layers[l - 1]) / np.sqrt(layers[l - 1])
    params[f"b{l}"] = np.zeros((layers[l], 1))
modelL.set_params(params)
dg.dot(modelL, collapse=True)'''),
        new_code_cell('''rL = modelL.fit(X, Y, iterations=2500, learning_rate=0.0075, print_every=500)
trainL = 100 * modelL.evaluate(X, Y)["accuracy"]
testL = 100 * modelL.evaluate(X_test, Y_test)["accuracy"]
print(f"Cost after iteration 0: {rL.costs[0]:.6f}, after iteration 2400: {rL.costs[2400]:.6f}")
print(f"Train accuracy {trainL:.2f}%, test accuracy {testL:.2f}%")
print(f"README catL: {rL.costs[0]:.6f}, {rL.costs[2400]:.6f}, {trainL:.2f}% / {testL:.2f}%")'''),
        new_code_cell("dg.explain(modelL)"),
    ]
    return cells


def write(name, cells):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, os.path.join(HERE, name))


if __name__ == "__main__":
    write("planar.ipynb", planar())
    write("cats.ipynb", cats())
