// The table of optimizers, indexed by OptimizerKind and made from the one
// list in optim/registry.hpp. Addresses only: no static-initialization order
// to worry about, and nothing a linker could drop.
#include "dagrad/optim/registry.hpp"

#include <array>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/optim/optimizer.hpp"

namespace dagrad::optim {

#define DAGRAD_OPTIMIZER_DECL(name) extern const Optimizer name##_optimizer;
DAGRAD_OPTIMIZERS(DAGRAD_OPTIMIZER_DECL)
#undef DAGRAD_OPTIMIZER_DECL

namespace {

#define DAGRAD_OPTIMIZER_ENTRY(name) &name##_optimizer,
constexpr std::array table{DAGRAD_OPTIMIZERS(DAGRAD_OPTIMIZER_ENTRY)};
#undef DAGRAD_OPTIMIZER_ENTRY

}  // namespace

const Optimizer& optimizer(OptimizerKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  if (i >= table.size()) throw GraphError(fmt::format("unknown optimizer kind {}", i));
  return *table[i];
}

std::span<const Optimizer* const> all_optimizers() { return table; }

std::string_view name_of(OptimizerKind k) { return optimizer(k).name; }

OptimizerKind parse_optimizer(std::string_view name) {
  for (std::size_t k = 0; k < table.size(); ++k)
    if (table[k]->name == name) return OptimizerKind(k);
  throw InputError(fmt::format("unknown --optimizer '{}' (use {})", name, optimizer_choices()));
}

std::vector<std::string> optimizer_names() {
  std::vector<std::string> out;
  for (const Optimizer* o : table) out.emplace_back(o->name);
  return out;
}

std::vector<std::string_view> optimizers_using(unsigned hyper) {
  std::vector<std::string_view> out;
  for (const Optimizer* o : table)
    if (o->uses & hyper) out.push_back(o->name);
  return out;
}

std::string optimizer_choices() {
  std::string s;
  for (std::size_t k = 0; k < table.size(); ++k)
    s += fmt::format("{}{}", k == 0 ? "" : k + 1 == table.size() ? " or " : ", ", table[k]->name);
  return s;
}

}  // namespace dagrad::optim
