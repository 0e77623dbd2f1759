#include "dagrad/models/mlp.hpp"

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/dsl.hpp"

namespace dagrad::models {

double ModelSpec::keep_prob_of(int l) const {
  if (keep_prob.empty()) return 1.0;
  if (keep_prob.size() == 1) return keep_prob[0];
  return keep_prob[static_cast<std::size_t>(l - 1)];
}

Activation ModelSpec::activation_of(int l) const {
  if (hidden_each.empty()) return hidden;
  return hidden_each[static_cast<std::size_t>(l - 1)];
}

void ModelSpec::validate() const {
  if (layers.size() < 2)
    throw InputError(fmt::format("--layers needs at least 2 entries (n[0] and n[L]), got {}",
                                 layers.size()));
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (layers[i] <= 0)
      throw InputError(fmt::format("--layers: n[{}] = {} must be positive", i, layers[i]));
  if (output == Output::softmax && layers.back() < 2)
    throw InputError("--output softmax needs at least 2 output units");
  if (l2 < 0) throw InputError(fmt::format("--l2 {} must be >= 0", l2));
  const std::size_t hidden = layers.size() - 2;
  if (!hidden_each.empty() && hidden_each.size() != hidden)
    throw InputError(fmt::format("--hidden gives {} activations for {} hidden layers",
                                 hidden_each.size(), hidden));
  if (keep_prob.size() > 1 && keep_prob.size() != hidden)
    throw InputError(fmt::format("--keep-prob gives {} values for {} hidden layers",
                                 keep_prob.size(), hidden));
  for (double p : keep_prob)
    if (!(p > 0.0 && p <= 1.0))
      throw InputError(fmt::format("--keep-prob {} is not in (0, 1]", p));
}

std::vector<Expr> Mlp::params() const {
  std::vector<Expr> out;
  for (std::size_t l = 0; l < W.size(); ++l) {
    out.push_back(W[l]);
    out.push_back(b[l]);
  }
  return out;
}

std::vector<std::string> Mlp::param_names() const {
  std::vector<std::string> out;
  for (Expr p : params()) out.push_back(p.name());
  return out;
}

namespace {

Expr activate(Expr Z, const ModelSpec& spec, int l) {
  switch (spec.activation_of(l)) {
    case Activation::sigmoid: return sigmoid(Z);
    case Activation::tanh: return tanh(Z);
    case Activation::relu: return relu(Z);
    case Activation::leaky_relu: return leaky_relu(Z, spec.leaky_slope);
  }
  throw GraphError("unknown activation");
}

}  // namespace

Mlp build_mlp(Graph& g, const ModelSpec& spec, std::int64_t m) {
  spec.validate();
  if (m <= 0 && m != m_dim) throw InputError(fmt::format("m = {} samples: need at least one", m));
  const int L = spec.depth();
  Mlp model;
  model.X = g.input("X", {spec.layers[0], m});
  model.Y = g.input("Y", {spec.layers.back(), m});
  Expr A = model.X;
  for (int l = 1; l <= L; ++l) {
    BuildScope scope(g, Role::forward, l);
    const std::int64_t n = spec.layers[static_cast<std::size_t>(l)];
    const std::int64_t n_prev = spec.layers[static_cast<std::size_t>(l - 1)];
    Expr W = g.param(fmt::format("W{}", l), {n, n_prev});
    Expr b = g.param(fmt::format("b{}", l), {n, 1});
    Expr Z = (W * A + b).named(fmt::format("Z{}", l));
    if (l < L) {
      A = activate(Z, spec, l).named(fmt::format("A{}", l));
      if (const double kp = spec.keep_prob_of(l); kp < 1.0) {
        Expr D = dropout_mask(g, A.shape(), kp, spec.seed * 1000003u + static_cast<unsigned>(l))
                     .named(fmt::format("D{}", l));
        A = dropout(A, D).named(fmt::format("A{}_drop", l));
      }
    } else {
      A = spec.output == Output::sigmoid   ? sigmoid(Z).named(fmt::format("A{}", l))
          : spec.output == Output::softmax ? softmax(Z).named(fmt::format("A{}", l))
                                           : Z;  // linear: A[L] = Z[L]
    }
    model.W.push_back(W);
    model.b.push_back(b);
    model.Z.push_back(Z);
    model.A.push_back(A);
  }
  BuildScope scope(g, Role::forward, L);
  model.AL = model.A.back();
  model.cost = spec.output == Output::sigmoid   ? binary_cross_entropy(model.AL, model.Y)
               : spec.output == Output::softmax ? categorical_cross_entropy(model.AL, model.Y)
                                                : mean_squared_error(model.AL, model.Y);
  if (spec.l2 > 0) {
    model.penalty = l2_penalty(model.W, spec.l2, m).named("L2");
    model.cost.named("cost");
    model.J = (model.cost + model.penalty).named("J");
  } else {
    model.J = model.cost.named("J");
  }
  return model;
}

std::string_view name_of(Activation a) {
  constexpr std::string_view names[] = {"sigmoid", "tanh", "relu", "leaky_relu"};
  return names[static_cast<int>(a)];
}

std::string_view name_of(Output o) {
  constexpr std::string_view names[] = {"sigmoid", "softmax", "linear"};
  return names[static_cast<int>(o)];
}

Activation parse_activation(std::string_view s) {
  for (Activation a : {Activation::sigmoid, Activation::tanh, Activation::relu,
                       Activation::leaky_relu})
    if (name_of(a) == s) return a;
  throw InputError(fmt::format("unknown activation '{}' (use sigmoid, tanh, relu or leaky_relu)", s));
}

Output parse_output(std::string_view s) {
  if (s == "sigmoid") return Output::sigmoid;
  if (s == "softmax") return Output::softmax;
  if (s == "linear") return Output::linear;
  throw InputError(fmt::format("unknown output '{}' (use sigmoid, softmax or linear)", s));
}

}  // namespace dagrad::models
