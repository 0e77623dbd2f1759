// Files written before the attributes were typed per op still load, with
// each op's attributes where its old file put them, and are written again
// in the same bytes. The fixtures were written by an earlier dagrad:
//   dagrad generate moons --m 40 -o moons.csv
//   dagrad train --data moons.csv --layers 2,4,3,1 --hidden leaky_relu --l2 0.3
//       --keep-prob 0.8 --optimizer adam --beta1 0.85 --lr 0.01 --iters 5
//       --print-every 0 --save adam_model_v1.dagrad
// and adam_graph_v2.json is that model file's graph.json.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "dagrad/graph/graph_file.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/train/fit.hpp"
#include "tests/train/train_test_util.hpp"

using namespace dagrad;

namespace {

const std::filesystem::path fixtures = std::filesystem::path(DAGRAD_SOURCE_DIR) / "tests" / "fixtures";

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<const Node*> nodes_of(const Graph& g, OpKind op) {
  std::vector<const Node*> out;
  for (NodeId id = 0; id < g.size(); ++id)
    if (g.node(id).op == op) out.push_back(&g.node(id));
  return out;
}

// The attributes the training command above gave the graph: Adam's beta1
// 0.85 on its assigns (6 parameters with W, v and s each, and t: 19), two
// dropout layers at 0.8, L2's lambda 0.3 over the bound m, leaky relu's 0.01.
void check_attributes(const Graph& g) {
  const auto assigns = nodes_of(g, OpKind::assign);
  CHECK(assigns.size() == 19);
  for (const Node* a : assigns) {
    CHECK(a->attr<HyperAttrs>().beta1 == 0.85);
    CHECK(a->attr<HyperAttrs>().beta2 == 0.999);
    CHECK(a->attr<HyperAttrs>().epsilon == 1e-8);
  }
  const auto masks = nodes_of(g, OpKind::dropout_mask);
  REQUIRE(masks.size() == 2);
  CHECK(masks[0]->attr<MaskAttrs>().keep_prob == 0.8);
  CHECK(masks[1]->attr<MaskAttrs>().keep_prob == 0.8);
  CHECK(masks[0]->attr<MaskAttrs>().seed != masks[1]->attr<MaskAttrs>().seed);
  for (const Node* d : nodes_of(g, OpKind::dropout)) CHECK(d->attr<DropoutAttrs>().keep_prob == 0.8);
  const auto l2 = nodes_of(g, OpKind::l2_penalty);
  REQUIRE(l2.size() == 1);
  CHECK(l2[0]->attr<L2Attrs>().lambda == 0.3);
  CHECK(l2[0]->attr<L2Attrs>().m == m_dim);
  const auto leaky = nodes_of(g, OpKind::leaky_relu);
  CHECK(leaky.size() == 2);
  for (const Node* n : leaky) CHECK(n->attr<SlopeAttrs>().slope == 0.01);
  // Each of the 3 layers' dW = 1/m dZ A^T holds a matmul with trans_b (in
  // the file as {"trans_b":true}), and its db = 1/m sum(dZ, axis=1) a sum
  // (as {"m_pow":-1,"axis":1}).
  int trans_b = 0, db = 0;
  for (const Node* n : nodes_of(g, OpKind::matmul)) trans_b += n->attr<MatmulAttrs>().trans_b;
  for (const Node* n : nodes_of(g, OpKind::sum))
    db += n->attr<SumAttrs>().axis == 1 && n->attr<SumAttrs>().scale == per_m;
  CHECK(trans_b == 3);
  CHECK(db == 3);
}

}  // namespace

TEST_CASE("old files: a graph file loads with its attributes and saves to the same bytes", "[graph][models]") {
  const std::string text = read_text(fixtures / "adam_graph_v2.json");
  REQUIRE(!text.empty());
  const GraphFile f = graph_file_from_json(text, "adam_graph_v2.json");
  CHECK(f.roles.cost == "J");
  check_attributes(f.graph);
  CHECK(to_json(f.graph, f.roles) == text);
}

TEST_CASE("old files: a model file loads with its attributes and predicts", "[models]") {
  models::Model m = models::load_model(fixtures / "adam_model_v1.dagrad");
  CHECK(m.steps == 5);
  CHECK(m.optimizer().beta1 == 0.85);
  check_attributes(m.graph());
  const io::Dataset data = test::tiny_moons(12);
  const io::Matrix p = train::predict(m, data.X);
  for (std::int64_t j = 0; j < p.cols(); ++j) {
    CHECK(p(0, j) > 0.0);
    CHECK(p(0, j) < 1.0);
  }
}
