// Helpers shared by the [autodiff] tests: seeded random leaf values and a
// one-call evaluation of chosen nodes.
#pragma once

#include <cstdio>
#include <random>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "dagrad/autodiff/gradcheck.hpp"
#include "dagrad/graph/graph.hpp"
#include "dagrad/runtime/executor.hpp"

namespace dagrad::test {

enum class Fill { normal, positive, unit, away_from_zero, binary };

inline io::Matrix random_matrix(Shape s, std::mt19937_64& rng, Fill fill = Fill::normal) {
  io::Matrix m(s);
  std::normal_distribution<double> n(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (double& v : m.values) {
    switch (fill) {
      case Fill::normal:
        v = n(rng);
        break;
      case Fill::positive:
        v = 0.5 + 1.5 * u(rng);
        break;
      case Fill::unit:
        v = 0.1 + 0.8 * u(rng);
        break;
      case Fill::away_from_zero:
        v = (u(rng) < 0.5 ? -1 : 1) * (0.2 + u(rng));
        break;
      case Fill::binary:
        v = u(rng) < 0.5 ? 0.0 : 1.0;
        break;
    }
  }
  return m;
}

inline io::Matrix one_hot(Shape s, std::mt19937_64& rng) {
  io::Matrix m(s);
  for (std::int64_t j = 0; j < s.cols; ++j) m(static_cast<std::int64_t>(rng() % s.rows), j) = 1.0;
  return m;
}

// Values of `outputs` after one run of `g` (f64) on `feeds`.
inline std::vector<io::Matrix> evaluate(const Graph& g, const autodiff::Feeds& feeds,
                                        const std::vector<NodeId>& outputs,
                                        runtime::RunOptions run = {}) {
  runtime::Executor exec(g, outputs);
  for (const auto& [name, m] : feeds)
    if (auto id = g.find(name)) {
      bool scheduled = false;
      for (NodeId s : exec.schedule()) scheduled = scheduled || s == *id;
      if (scheduled) exec.bind(*id, m.values.data(), m.shape);
    }
  exec.run(run);
  std::vector<io::Matrix> out;
  for (NodeId id : outputs) {
    auto v = exec.values<double>(id);
    io::Matrix m(g.node(id).shape);
    std::copy(v.begin(), v.end(), m.values.begin());
    out.push_back(std::move(m));
  }
  return out;
}

struct CommandResult {
  int status = -1;
  std::string output;
};

// Runs a shell command line, capturing stdout and stderr.
inline CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  const int raw = ::pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

}  // namespace dagrad::test
