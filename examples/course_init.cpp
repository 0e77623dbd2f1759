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

  auto oz = course::options(0.01, 15000, dagrad::train::Init::zeros, 1000);
  const auto rz = dagrad::train::fit(s, train_set, nullptr, oz);
  auto oh = course::options(0.01, 15000, dagrad::train::Init::he, 1000);
  oh.seed = 3;
  course::course_init(a, "he", s, oh);
  const auto rh = dagrad::train::fit(s, train_set, nullptr, oh);

  fmt::print("initialization (C2W1), circles, [2,10,5,1] relu, lr 0.01, 15000 iterations:\n");
  course::row("zeros: cost at iteration 14000", "0.693147", course::cost_at(rz, 14000));
  course::row("zeros: train accuracy", "50.00%", course::acc(s, rz, train_set));
  course::row("zeros: test accuracy", "50.00%", course::acc(s, rz, test_set));
  course::row("he: cost at iteration 14000", "0.073579", course::cost_at(rh, 14000));
  course::row("he: train accuracy", "99.33%", course::acc(s, rh, train_set));
  course::row("he: test accuracy", "96.00%", course::acc(s, rh, test_set));
}
