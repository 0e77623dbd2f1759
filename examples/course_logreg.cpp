// C1W2: logistic regression on the cat images, as a 1-layer network
// (n[0] = 12288, one sigmoid unit), zero init, lr 0.005, 2000 iterations.
// Zero init makes the run deterministic, so the costs match the notes.
#include "examples/course_common.hpp"

int main(int argc, char** argv) {
  const auto a = course::parse_args(argc, argv);
  const auto train_set = course::csv(a, "cat_train", 255.0);
  const auto test_set = course::csv(a, "cat_test", 255.0);
  const auto s = course::spec({12288, 1}, dagrad::models::Activation::relu);
  auto m = course::model(a, "logreg", s, dagrad::models::Init::zeros, 1, true);
  const auto r = dagrad::train::fit(m, train_set, nullptr, course::options(0.005, 2000, 100));
  fmt::print("logistic regression (C1W2), zero init, lr 0.005, 2000 iterations:\n");
  course::row("cost at iteration 1900", "0.140872", course::cost_at(r, 1900));
  course::row("train accuracy", "99.04%", course::acc(m, train_set));
  course::row("test accuracy", "70.00%", course::acc(m, test_set));
}
