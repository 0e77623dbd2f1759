// C2W1 Initialization: [2, 10, 5, 1] relu on the circles, lr 0.01, 15000
// iterations, once with zero weights (the notes' symmetry failure: the cost
// sits at log 2 and every prediction is 0) and once with He init (the
// notebook: np.random.seed(3), randn * sqrt(2 / n_prev); INIT_DIR/he.npz).
#include "examples/course_common.hpp"

int main(int argc, char** argv) {
  const auto a = course::parse_args(argc, argv);
  const auto train_set = course::csv(a, "circles_train");
  const auto test_set = course::csv(a, "circles_test");
  const auto s = course::spec({2, 10, 5, 1}, dagrad::models::Activation::relu);

  const auto o = course::options(0.01, 15000, 1000);
  auto mz = course::model(a, "zeros", s, dagrad::models::Init::zeros, 1, true);
  const auto rz = dagrad::train::fit(mz, train_set, nullptr, o);
  auto mh = course::model(a, "he", s, dagrad::models::Init::he, 3);
  const auto rh = dagrad::train::fit(mh, train_set, nullptr, o);

  fmt::print("initialization (C2W1), circles, [2,10,5,1] relu, lr 0.01, 15000 iterations:\n");
  course::row("zeros: cost at iteration 14000", "0.693147", course::cost_at(rz, 14000));
  course::row("zeros: train accuracy", "50.00%", course::acc(mz, train_set));
  course::row("zeros: test accuracy", "50.00%", course::acc(mz, test_set));
  course::row("he: cost at iteration 14000", "0.073579", course::cost_at(rh, 14000));
  course::row("he: train accuracy", "99.33%", course::acc(mh, train_set));
  course::row("he: test accuracy", "96.00%", course::acc(mh, test_set));
}
