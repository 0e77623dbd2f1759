#!/usr/bin/env bash
# The main job: build dagrad, generate the notes' planar "flower" data set,
# train the notes' 2-4-1 tanh network on it, and write the results under
# out/ (or the folder given as $1):
#   planar.csv          the generated data (400 samples, label in the last column)
#   costs.csv           iteration,cost for every iteration
#   flower.dagrad       the trained model: graph, parameters, optimizer state
#                       (numpy.load reads its arrays, W1.npy ..., as an .npz)
#   eval.txt            dagrad eval of the saved model
#   features.csv        planar.csv without its label column: the new data predict reads
#   predictions.csv     the saved model's P(y = 1) for every sample
#   cost.svg/.png       the cost curve
#   boundary.svg/.png   the decision boundary over the data
#   graph.svg/.png      the forward, derived backward and update graph
#   backprop.txt        the backward pass and the update as the notes' equations
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
  --print-every 1000 --cost-log "$out/costs.csv" --save "$out/flower.dagrad" \
  --plot "$out/cost.svg" --plot-boundary "$out/boundary.svg" | tee "$out/train.log"
# The model file is all the other commands need.
$dagrad eval --model "$out/flower.dagrad" --data "$out/planar.csv" | tee "$out/eval.txt"
cut -d, -f1,2 "$out/planar.csv" > "$out/features.csv"
$dagrad predict --model "$out/flower.dagrad" --data "$out/features.csv" -o "$out/predictions.csv"

$dagrad dot --model "$out/flower.dagrad" -o "$out/graph.svg"
$dagrad explain --model "$out/flower.dagrad" | tee "$out/backprop.txt"

if command -v rsvg-convert >/dev/null; then
  for f in cost boundary graph; do rsvg-convert -o "$out/$f.png" "$out/$f.svg"; done
fi
echo "results written to $out/"
