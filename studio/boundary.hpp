// The studio's views over the input plane of a 2-feature model: the output
// (the decision boundary) on an s x s grid and every hidden unit A[l] on a
// smaller one, by one forward plan in inference mode over the grid's points,
// planned once per model and bound to the model's own parameters (read only).
//
// compute() runs under the engine's lock and copies the numbers out;
// to_json() formats them after the lock is released, so a page asking for
// the boundary every frame costs training little.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dagrad/io/dataset.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/runtime/executor.hpp"

namespace dagrad::studio {

struct BoundaryData {
  std::int64_t size = 0, units_size = 0, iteration = 0;
  double x[2] = {0, 0}, y[2] = {0, 0};
  std::string output;                 // probability, class or value
  std::vector<double> grid;           // size x size, the top row first
  std::vector<std::pair<int, int>> unit_ids;  // (layer, unit)
  std::vector<double> units;          // units_size^2 per unit, in unit_ids' order
  std::vector<double> points, dev_points;  // x, y, label per point
};

class BoundaryPlan {
 public:
  // InputError unless the model takes 2 features; `data` sets the plane's
  // extent (its range plus a tenth on each side).
  BoundaryPlan(models::Model& model, const io::Dataset& data);
  BoundaryData compute(std::int64_t size, std::int64_t units_size, const io::Dataset& train,
                       const io::Dataset& dev);

 private:
  void run_grid(std::int64_t n);
  models::Model& model_;
  std::unique_ptr<runtime::Executor> exec_;
  std::vector<std::pair<int, NodeId>> hidden_;
  runtime::Tensor grid_;
  double lo_[2], hi_[2];
};

// {"size", "units_size", "x", "y", "output", "grid", "units", "points",
// "dev_points", "iteration"} as docs/studio.md gives it; values to 4 digits.
std::string to_json(const BoundaryData& b);

}  // namespace dagrad::studio
