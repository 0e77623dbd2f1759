// A graph file whose dropout node's keep_prob differs from its mask's: the
// fused narrow-net step and the unfused ops must agree (the kernel scales by
// the node's own keep_prob as ops/dropout.cpp does, or leaves the net alone).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "dagrad/graph/graph_file.hpp"
#include "dagrad/models/mlp.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/passes/optimize.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/synthetic.hpp"

using namespace dagrad;

TEST_CASE("a dropout keep_prob that disagrees with its mask's trains the same fused and unfused",
          "[passes][fuse_net]") {
  models::ModelSpec spec;
  spec.layers = {2, 6, 1};
  spec.hidden = models::Activation::tanh;
  spec.keep_prob = {0.8};
  const models::Model built = models::build_mlp(spec, DType::f64);
  nlohmann::json j = nlohmann::json::parse(to_json(built.graph()));
  int edited = 0;
  for (auto& n : j["nodes"])
    if (n["op"] == "dropout") {
      n["attrs"]["keep_prob"] = 0.5;  // the mask still draws with 0.8
      ++edited;
    }
  REQUIRE(edited == 1);
  const io::Dataset d = train::make_moons(100, 0.2, 3);
  std::vector<std::vector<double>> params[2];
  for (bool fuse : {true, false}) {
    models::Model m = models::model_from_graph(graph_file_from_json(j.dump(), "edited.json"), "edited.json");
    m.seed = 3;
    train::FitOptions o;
    o.iterations = 6;
    o.optimizer = {train::OptimizerKind::adam, 0.01};
    o.out = nullptr;
    o.passes = fuse ? passes::PassOptions{} : passes::PassOptions::none();
    train::fit(m, d, nullptr, o);
    for (Expr p : m.params()) params[fuse].push_back(m.value(p.name()).to_matrix().values);
  }
  REQUIRE(params[0].size() == params[1].size());
  for (std::size_t p = 0; p < params[0].size(); ++p)
    for (std::size_t i = 0; i < params[0][p].size(); ++i)
      CHECK(params[1][p][i] == Approx(params[0][p][i]).epsilon(1e-12).margin(1e-12));
}
