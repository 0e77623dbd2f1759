// Shared by the examples/course_*.cpp programs: each reproduces one of the
// notes' experiments on the course data and prints the notes' number beside
// dagrad's. Usage: course_<name> DATA_DIR [INIT_DIR]
//   DATA_DIR  the course data folder (holding csv/ and orig/)
//   INIT_DIR  optional: .npz files written by peers/course_init.py, so the
//             run starts from the notebook's own numpy weights
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dagrad/io/params.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/train/data.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/params.hpp"

namespace course {

using namespace dagrad;

struct Args {
  std::filesystem::path data;
  std::optional<std::filesystem::path> init_dir;
};

inline Args parse_args(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: {} DATA_DIR [INIT_DIR]\n", argv[0]);
    std::exit(2);
  }
  // One thread, as `dagrad train` defaults to: OpenBLAS's sum order then
  // never changes from run to run (the planar run is chaotic after ~7700
  // iterations at lr 1.2 and would show it).
  runtime::set_threads(1);
  Args a{argv[1], std::nullopt};
  if (argc > 2) a.init_dir = argv[2];
  return a;
}

// csv/<stem>_x.csv with labels csv/<stem>_y.csv, one sample per row.
inline io::Dataset csv(const Args& a, const std::string& stem, double scale = 0.0) {
  train::DataOptions o;
  o.labels = a.data / "csv" / (stem + "_y.csv");
  o.scale = scale;
  return train::load_data(a.data / "csv" / (stem + "_x.csv"), o);
}

inline models::ModelSpec spec(std::vector<std::int64_t> layers, models::Activation hidden) {
  models::ModelSpec s;
  s.layers = std::move(layers);
  s.hidden = hidden;
  return s;
}

// The notes' MLP of `s`, starting from INIT_DIR/<name>.npz (the notebook's
// own numpy weights) when given and present, else from dagrad's seeded
// `init`; says which. `seed` seeds the init and the mini-batch shuffles.
inline models::Model model(const Args& a, const std::string& name, const models::ModelSpec& s,
                           models::Init init, std::uint64_t seed, bool quiet = false) {
  models::Model m = models::build_mlp(s, DType::f64);
  m.set_init(init);
  m.seed = seed;
  const auto path = a.init_dir ? *a.init_dir / (name + ".npz") : std::filesystem::path();
  if (a.init_dir && std::filesystem::exists(path)) {
    train::set_params(m, io::load_params(path), path.string());
    if (!quiet) fmt::print("init: the notebook's numpy weights from {}\n", path.string());
  } else if (!quiet) {
    fmt::print("init: dagrad's own seeded {} init (seed {}); the notebook's numpy draws differ\n",
               models::name_of(init), seed);
  }
  return m;
}

// The options shared by every run: gradient descent at `lr`, cost lines
// every `print_every`.
inline train::FitOptions options(double lr, std::int64_t iterations, std::int64_t print_every) {
  train::FitOptions o;
  o.optimizer.learning_rate = lr;
  o.iterations = iterations;
  o.print_every = print_every;
  o.progress = false;
  return o;
}

inline double percent(double fraction) { return 100.0 * fraction; }

inline void row(const std::string& what, const std::string& notes, const std::string& ours) {
  fmt::print("  {:<34} notes {:>10}   dagrad {:>10}\n", what, notes, ours);
}

// The cost of iteration i, or "-" when training stopped before it.
inline std::string cost_at(const train::FitResult& r, std::size_t i) {
  return i < r.costs.size() ? fmt::format("{:.6f}", r.costs[i]) : std::string("-");
}

inline std::string acc(models::Model& m, const io::Dataset& d) {
  return fmt::format("{:.2f}%", percent(train::evaluate(m, d).accuracy));
}

}  // namespace course
