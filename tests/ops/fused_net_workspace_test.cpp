// The fused narrow-net step's scratch (each block of 256 samples' cost and
// gradient sums) is in the plan's arena (OpDef::workspace), not allocated by
// the kernel: its bytes are counted from the net's shape by hand here, the
// planner gives them a slot live at the fused step alone, and training still
// matches the unfused plan (tests/passes/fuse_net_test.cpp) through it.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "dagrad/io/dataset.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/ops/fused_net.hpp"
#include "dagrad/runtime/planner.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/session.hpp"

using namespace dagrad;

namespace {

models::Model net_2641(DType dtype) {
  models::ModelSpec s;
  s.layers = {2, 6, 4, 1};
  s.hidden = models::Activation::relu;
  models::Model m = models::build_mlp(s, dtype);
  m.minimize({});
  m.init_params(m.seed);
  return m;
}

std::size_t rounded(std::size_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

TEST_CASE("the fused step's per-block sums are in the memory plan, live at its step alone", "[ops][fuse_net]") {
  // 2-6-4-1: 6 (2 + 1) + 4 (6 + 1) + 1 (4 + 1) = 51 weights and biases.
  constexpr std::int64_t params = 51;
  for (const auto& [dtype, size] : {std::pair{DType::f64, sizeof(double)}, std::pair{DType::f32, sizeof(float)}}) {
    for (const std::int64_t m : {std::int64_t{1}, std::int64_t{256}, std::int64_t{1000}, std::int64_t{100000}}) {
      INFO(dtype_name(dtype) << " m = " << m);
      models::Model model = net_2641(dtype);
      train::Session session(model, train::Use::train, m);
      const runtime::MemoryPlan& plan = session.exec().plan();
      std::size_t found = 0;
      for (std::size_t s = 0; s < plan.values.size(); ++s) {
        const runtime::PlannedValue& v = plan.values[s];
        if (session.graph().node(v.id).op != OpKind::fused_net) {
          CHECK(v.workspace == runtime::no_slot);
          continue;
        }
        ++found;
        REQUIRE(v.workspace != runtime::no_slot);
        const runtime::SlotGroup& w = plan.groups[v.workspace];
        // One double cost and 51 sums per block of 256 samples.
        const auto blocks = static_cast<std::size_t>((m + 255) / 256);
        CHECK(w.bytes == rounded(blocks * (sizeof(double) + params * size)));
        CHECK(w.first == s);
        CHECK(w.last == s);
        CHECK(plan.arena_bytes >= w.offset + w.bytes);
        CHECK(runtime::describe_plan(session.graph(), plan).find(fmt::format("workspace {} bytes", w.bytes)) !=
              std::string::npos);
      }
      CHECK(found == 1);
      runtime::check_plan(session.graph(), plan);
    }
  }
}

TEST_CASE("a fused step past its plan's capacity plans again, workspace included", "[ops][fuse_net]") {
  // fit plans for the batch; a session planned for 10 samples and run on
  // 600 must give its kernel 3 blocks' sums, or the kernel refuses.
  models::Model model = net_2641(DType::f64);
  train::Session session(model, train::Use::train, 10);
  const std::size_t small = session.exec().arena_bytes();
  io::Matrix X({2, 600}), Y({1, 600});
  for (std::int64_t j = 0; j < 600; ++j) {
    X(0, j) = double(j % 7) / 7.0;
    X(1, j) = double(j % 5) / 5.0 - 0.5;
    Y(0, j) = j % 3 == 0 ? 1.0 : 0.0;
  }
  const runtime::Tensor x = runtime::Tensor::from_matrix(X, DType::f64), y = runtime::Tensor::from_matrix(Y, DType::f64);
  session.exec().bind(session.map(model.features()), x);
  session.exec().bind(session.map(model.labels()), y);
  session.run({});
  CHECK(session.exec().replans() == 1);
  CHECK(session.exec().arena_bytes() > small);
  CHECK(std::isfinite(session.scalar(model.cost())));
}
