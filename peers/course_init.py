#!/usr/bin/python3
"""The deeplearning.ai notebooks' numpy initializations, saved as .npz for
`dagrad train --init-from` so dagrad starts from the course's exact weights.

    /usr/bin/python3 peers/course_init.py MODEL OUT.npz

MODEL (seed; formula; layer sizes as the notebooks use them):
  planar   C1W3 nn_model:          seed 2, randn * 0.01,          [2, 4, 1] (--hidden N sets 4)
  cat2     C1W4 two_layer_model:   seed 1, randn * 0.01,          [12288, 7, 1]
  catL     C1W4 L_layer_model:     seed 1, randn / sqrt(n_prev),  [12288, 20, 7, 5, 1]
  he       C2W1 initialization:    seed 3, randn * sqrt(2/n_prev), [2, 10, 5, 1]
  reg      C2W1 regularization:    seed 3, randn / sqrt(n_prev),  [2, 20, 3, 1]
  opt      C2W2 optimization:      seed 3, randn * sqrt(2/n_prev), [2, 5, 2, 1]
Biases are zeros of shape (n, 1). The draws are made layer by layer in the
order W1, W2, ... from numpy's legacy global RNG, as the notebooks do.
"""
import sys

import numpy as np

MODELS = {
    "planar": (2, lambda n_prev: 0.01, [2, 4, 1]),
    "cat2": (1, lambda n_prev: 0.01, [12288, 7, 1]),
    "catL": (1, lambda n_prev: 1 / np.sqrt(n_prev), [12288, 20, 7, 5, 1]),
    "he": (3, lambda n_prev: np.sqrt(2.0 / n_prev), [2, 10, 5, 1]),
    "reg": (3, lambda n_prev: 1 / np.sqrt(n_prev), [2, 20, 3, 1]),
    "opt": (3, lambda n_prev: np.sqrt(2 / n_prev), [2, 5, 2, 1]),
}


def main(argv):
    if len(argv) < 3 or argv[1] not in MODELS:
        sys.exit(__doc__)
    seed, scale, layers = MODELS[argv[1]]
    if argv[1] == "planar" and len(argv) == 5 and argv[3] == "--hidden":
        layers = [2, int(argv[4]), 1]
    np.random.seed(seed)
    params = {}
    for l in range(1, len(layers)):
        w = np.random.randn(layers[l], layers[l - 1])
        # Keep each notebook's operator: x / sqrt(n) and x * (1 / sqrt(n))
        # can differ in the last bit, and the costs should match every digit.
        if argv[1] in ("catL", "reg"):
            params[f"W{l}"] = w / np.sqrt(layers[l - 1])
        else:
            params[f"W{l}"] = w * scale(layers[l - 1])
        params[f"b{l}"] = np.zeros((layers[l], 1))
    np.savez(argv[2], **params)
    print(f"{argv[2]}: {argv[1]} layers {layers}, numpy seed {seed}")


if __name__ == "__main__":
    main(sys.argv)
