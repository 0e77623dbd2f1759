// C1W4: the 2-layer network (12288, 7, 1), relu then sigmoid, on the cat
// images: lr 0.0075, 2500 iterations. The notebook initializes with
// np.random.seed(1), randn * 0.01 (INIT_DIR/cat2.npz reproduces it).
#include "examples/course_common.hpp"

int main(int argc, char** argv) {
  const auto a = course::parse_args(argc, argv);
  const auto train_set = course::csv(a, "cat_train", 255.0);
  const auto test_set = course::csv(a, "cat_test", 255.0);
  const auto s = course::spec({12288, 7, 1}, dagrad::models::Activation::relu);
  auto m = course::model(a, "cat2", s, dagrad::models::Init::small, 1);
  const auto r = dagrad::train::fit(m, train_set, nullptr, course::options(0.0075, 2500, 100));
  fmt::print("2-layer cat classifier (C1W4), lr 0.0075, 2500 iterations:\n");
  course::row("cost at iteration 2400", "0.048555", course::cost_at(r, 2400));
  course::row("train accuracy", "100.00%", course::acc(m, train_set));
  course::row("test accuracy", "72.00%", course::acc(m, test_set));
}
