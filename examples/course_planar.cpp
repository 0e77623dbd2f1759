// C1W3: the shallow network 2-4-1 (tanh, sigmoid) on the planar flower:
// lr 1.2, 10000 iterations, then the notebook's hidden-size sweep (5000
// iterations each). The notebook initializes with np.random.seed(2),
// randn * 0.01 (INIT_DIR/planar.npz and planar_h<N>.npz reproduce it).
#include "examples/course_common.hpp"

int main(int argc, char** argv) {
  using dagrad::models::Activation;
  const auto a = course::parse_args(argc, argv);
  const auto data = course::csv(a, "planar");
  auto s = course::spec({2, 4, 1}, Activation::tanh);
  auto m = course::model(a, "planar", s, dagrad::models::Init::small, 2);
  const auto r = dagrad::train::fit(m, data, nullptr, course::options(1.2, 10000, 1000));
  fmt::print("planar flower (C1W3), 2-4-1 tanh, lr 1.2, 10000 iterations:\n");
  course::row("cost at iteration 9000", "0.218607", course::cost_at(r, 9000));
  course::row("accuracy", "90.00%", course::acc(m, data));

  // The notebook's sweep: accuracy on the training set after 5000 iterations.
  const std::pair<std::int64_t, const char*> sweep[] = {
      {1, "67.50%"}, {2, "67.25%"}, {3, "90.75%"}, {4, "90.50%"},
      {5, "91.25%"}, {20, "90.00%"}, {50, "90.25%"}};
  fmt::print("hidden-size sweep, 5000 iterations each:\n");
  for (auto [n_h, notes] : sweep) {
    s.layers = {2, n_h, 1};
    auto os = course::options(1.2, 5000, 0);
    os.out = nullptr;
    auto ms = course::model(a, fmt::format("planar_h{}", n_h), s, dagrad::models::Init::small, 2, true);
    dagrad::train::fit(ms, data, nullptr, os);
    course::row(fmt::format("accuracy, {} hidden units", n_h), notes, course::acc(ms, data));
  }
}
