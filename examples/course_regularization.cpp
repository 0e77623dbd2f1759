// C2W1 Regularization: [2, 20, 3, 1] relu on the football set, lr 0.3,
// 30000 iterations: no regularization, L2 with lambda 0.7, and inverted
// dropout with keep_prob 0.86 on both hidden layers. The notebook
// initializes with np.random.seed(3), randn / sqrt(n_prev) (INIT_DIR/reg.npz).
// Dropout masks come from dagrad's own RNG, so that run differs from the
// notebook's draws even from the same weights.
#include "examples/course_common.hpp"

int main(int argc, char** argv) {
  const auto a = course::parse_args(argc, argv);
  const auto train_set = course::csv(a, "football_train");
  const auto test_set = course::csv(a, "football_test");
  struct Run { const char* name; double l2; double keep; const char* cost; const char* tr; const char* te; };
  const Run runs[] = {{"none", 0.0, 1.0, "0.138516", "94.79%", "91.50%"},
                      {"L2 0.7", 0.7, 1.0, "0.268092", "93.84%", "93.00%"},
                      {"dropout 0.86", 0.0, 0.86, "0.060483", "92.89%", "95.00%"}};
  fmt::print("regularization (C2W1), football, [2,20,3,1] relu, lr 0.3, 30000 iterations:\n");
  for (const Run& run : runs) {
    auto s = course::spec({2, 20, 3, 1}, dagrad::models::Activation::relu);
    s.l2 = run.l2;
    if (run.keep < 1.0) s.keep_prob = {run.keep};
    auto m = course::model(a, "reg", s, dagrad::models::Init::xavier, 3);
    const auto r = dagrad::train::fit(m, train_set, nullptr, course::options(0.3, 30000, 10000));
    course::row(fmt::format("{}: cost at iteration 20000", run.name), run.cost, course::cost_at(r, 20000));
    course::row(fmt::format("{}: train accuracy", run.name), run.tr, course::acc(m, train_set));
    course::row(fmt::format("{}: test accuracy", run.name), run.te, course::acc(m, test_set));
  }
}
