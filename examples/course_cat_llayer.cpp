// C1W4: the L-layer network [12288, 20, 7, 5, 1], relu then sigmoid, on the
// cat images: lr 0.0075, 2500 iterations. The notebook initializes with
// np.random.seed(1), randn / sqrt(n_prev) -- Xavier scaling -- which
// INIT_DIR/catL.npz reproduces; without it dagrad draws its own Xavier weights.
#include "examples/course_common.hpp"

int main(int argc, char** argv) {
  const auto a = course::parse_args(argc, argv);
  const auto train_set = course::csv(a, "cat_train", 255.0);
  const auto test_set = course::csv(a, "cat_test", 255.0);
  const auto s = course::spec({12288, 20, 7, 5, 1}, dagrad::models::Activation::relu);
  auto m = course::model(a, "catL", s, dagrad::models::Init::xavier, 1);
  const auto r = dagrad::train::fit(m, train_set, nullptr, course::options(0.0075, 2500, 100));
  fmt::print("L-layer cat classifier (C1W4), lr 0.0075, 2500 iterations:\n");
  course::row("cost at iteration 0", "0.771749", course::cost_at(r, 0));
  course::row("cost at iteration 2400", "0.092878", course::cost_at(r, 2400));
  course::row("train accuracy", "98.56%", course::acc(m, train_set));
  course::row("test accuracy", "80.00%", course::acc(m, test_set));
}
