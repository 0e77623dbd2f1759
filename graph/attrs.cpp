#include "dagrad/graph/attrs.hpp"

#include <array>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/graph/node.hpp"
#include "dagrad/ops/op.hpp"

namespace dagrad {

namespace {

template <std::size_t... I>
constexpr std::array<std::string_view, sizeof...(I)> names_of(std::index_sequence<I...>) {
  return {std::variant_alternative_t<I, AttrsVariant>::kind...};
}

constexpr auto attrs_names = names_of(std::make_index_sequence<std::variant_size_v<AttrsVariant>>());

}  // namespace

std::string_view attrs_name(std::size_t index) {
  return index < attrs_names.size() ? attrs_names[index] : "unknown";
}

void throw_wrong_attrs(std::size_t held, std::size_t wanted) {
  throw GraphError(fmt::format("{} attributes read as {} attributes", attrs_name(held),
                               attrs_name(wanted)));
}

void throw_wrong_attrs(const Node& n, std::size_t wanted) {
  const std::string_view op = ops::op_def(n.op).name;
  throw GraphError(fmt::format("{} node{} carries {} attributes, read as {} attributes", op,
                               n.name.empty() ? "" : fmt::format(" '{}'", n.name),
                               attrs_name(n.attrs.index()), attrs_name(wanted)));
}

void Attrs::set_scale(Scale s) {
  std::visit([&](auto& a) {
    if constexpr (requires { a.scale; }) a.scale = s;
    else throw GraphError(fmt::format("{} attributes have no scale", a.kind));
  }, v_);
}

}  // namespace dagrad
