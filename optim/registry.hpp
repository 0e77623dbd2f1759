// The one list of optimizers. Each is one file in optim/ (optim/adam.cpp
// ...) that defines `const Optimizer <name>_optimizer`: its state slots, the
// update equations minimize appends to the graph, its element rule (the
// fused update's loop) and its name on the command line and in model files.
// A new optimizer is that file and its name added to DAGRAD_OPTIMIZERS
// below; the enum, the registry's table (optim/registry.cpp) and every
// list of choices (--optimizer, model.json's optimizer.kind, the narrow-net
// kernel) come from this one line. A name without its file is a link error
// (the table takes each definition's address), and tests/train/
// optimizer_test.cpp's sweep over the table trains and fuses each one.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// X(name): the optimizer called `name` on the command line, in files and
// in C++ (train::OptimizerKind::name), defined in its own file.
#define DAGRAD_OPTIMIZERS(X) X(gd) X(momentum) X(rmsprop) X(adam) X(adamw)

namespace dagrad::optim {

struct Optimizer;

enum class OptimizerKind : std::uint8_t {
#define DAGRAD_OPTIMIZER_ENUM(name) name,
  DAGRAD_OPTIMIZERS(DAGRAD_OPTIMIZER_ENUM)
#undef DAGRAD_OPTIMIZER_ENUM
};

const Optimizer& optimizer(OptimizerKind kind);
std::span<const Optimizer* const> all_optimizers();

std::string_view name_of(OptimizerKind k);
// InputError naming the choices for an unknown name.
OptimizerKind parse_optimizer(std::string_view name);
// The names, in the table's order: for CLI11's IsMember and the studio.
std::vector<std::string> optimizer_names();
// "gd, momentum, ... or adamw": for help texts and messages.
std::string optimizer_choices();
// The names of those that read a hyper-parameter (optim::hyper::beta2 ...):
// the values of --optimizer a flag such as --beta2 needs.
std::vector<std::string_view> optimizers_using(unsigned hyper);

}  // namespace dagrad::optim
