// C2W2 Optimization: [2, 5, 2, 1] relu on the moons, mini-batches of 64
// (the last of 300 samples holds 44), lr 0.0007, 10000 epochs, with plain
// gradient descent, momentum (beta 0.9) and Adam (0.9, 0.999, 1e-8). The
// notebook's He init (np.random.seed(3)) is INIT_DIR/opt.npz; its shuffles
// use numpy's RNG and dagrad's its own, so the costs differ while the
// accuracies tell the same story.
#include <array>

#include "examples/course_common.hpp"

int main(int argc, char** argv) {
  using dagrad::train::OptimizerKind;
  const auto a = course::parse_args(argc, argv);
  const auto train_set = course::csv(a, "moons_train");
  const auto s = course::spec({2, 5, 2, 1}, dagrad::models::Activation::relu);
  const std::pair<OptimizerKind, const char*> runs[] = {
      {OptimizerKind::gd, "79.67%"}, {OptimizerKind::momentum, "79.67%"}, {OptimizerKind::adam, "94.00%"}};
  std::vector<std::array<std::string, 3>> rows;  // what, notes, dagrad
  for (auto [kind, notes] : runs) {
    auto o = course::options(0.0007, 0, 1000);
    o.epochs = 10000;
    o.batch_size = 64;
    o.optimizer.kind = kind;
    auto m = course::model(a, "opt", s, dagrad::models::Init::he, 3);
    dagrad::train::fit(m, train_set, nullptr, o);
    rows.push_back({fmt::format("{}: train accuracy", dagrad::train::name_of(kind)), notes,
                    course::acc(m, train_set)});
  }
  fmt::print("optimizers (C2W2), moons, [2,5,2,1] relu, batch 64, lr 0.0007, 10000 epochs:\n");
  for (const auto& [what, notes, ours] : rows) course::row(what, notes, ours);
}
