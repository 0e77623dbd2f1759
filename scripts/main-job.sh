#!/usr/bin/env bash
# The main job: build dagrad, generate the notes' planar "flower" data set,
# train the notes' 2-4-1 tanh network on it, and write the results under
# out/ (or the folder given as $1):
#   planar.csv          the generated data (400 samples, label in the last column)
#   costs.csv           iteration,cost for every iteration
#   params.npz          the trained W1, b1, W2, b2 (numpy.load reads it)
#   cost.svg/.png       the cost curve
#   boundary.svg/.png   the decision boundary over the data
#   graph.svg/.png      the forward and derived backward graph
#   backprop.txt        the backward pass as the notes' equations
#   train.log           everything the trainer printed
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out}
mkdir -p "$out"

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)" --target dagrad_cli
dagrad=build/dagrad
spec=(--layers 2,4,1 --hidden tanh --output sigmoid --dtype f64 --seed 1)

$dagrad generate planar --m 400 --seed 1 -o "$out/planar.csv"
$dagrad train "${spec[@]}" --data "$out/planar.csv" --init small --lr 1.2 --iters 10000 \
  --print-every 1000 --cost-log "$out/costs.csv" --save "$out/params.npz" \
  --plot "$out/cost.svg" --plot-boundary "$out/boundary.svg" | tee "$out/train.log"
$dagrad dot "${spec[@]}" -o "$out/graph.svg"
$dagrad explain "${spec[@]}" | tee "$out/backprop.txt"

if command -v rsvg-convert >/dev/null; then
  for f in cost boundary graph; do rsvg-convert -o "$out/$f.png" "$out/$f.svg"; done
fi
echo "results written to $out/"
