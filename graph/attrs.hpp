// An op's attributes, typed per op: each op carries the one attribute type
// its declaration names (OpDef::attrs in its ops/<name>.cpp), holding only the
// fields it reads, and each field means one thing. A node holds them in
// Attrs, a variant; equality (and Graph's structural hash) covers the kind
// and its fields, so two nodes with the same op, operands and attributes are
// the same value.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>
#include <variant>

namespace dagrad {

namespace ops {
struct FusedNet;    // ops/fused_net.hpp: what a fused_net node computes
struct UpdateRule;  // ops/update_rule.hpp: an optimizer's element rule
}

// A scalar factor value * m^m_pow, with m the sample count bound when a plan
// runs: the notes' 1/m is Scale{1, -1} (per_m), lambda/m is Scale{lambda, -1}.
// Factors with m stay symbolic in the graph and are resolved by the kernels.
struct Scale {
  double value = 1.0;
  int m_pow = 0;

  constexpr Scale(double v = 1.0, int p = 0) : value(v), m_pow(p) {}  // NOLINT: a number is a Scale

  constexpr bool is_one() const { return value == 1.0 && m_pow == 0; }
  // value * m^m_pow. NOTE: a negative power divides (value / m rather than
  // value * (1/m)), so lambda/m has the bits of the division the notes write.
  double at(std::int64_t m) const {
    double v = value;
    for (int k = 0; k < m_pow; ++k) v *= static_cast<double>(m);
    for (int k = 0; k > m_pow; --k) v /= static_cast<double>(m);
    return v;
  }
  friend constexpr Scale operator*(Scale a, Scale b) {
    return {a.value * b.value, a.m_pow + b.m_pow};
  }
  friend constexpr Scale operator/(Scale a, Scale b) {
    return {a.value / b.value, a.m_pow - b.m_pow};
  }
  friend constexpr bool operator==(const Scale&, const Scale&) = default;
};

inline constexpr Scale per_m{1.0, -1};  // 1/m


// The ops that read nothing (add, exp, the costs, ...).
struct NoAttrs {
  static constexpr std::string_view kind = "no";
  friend bool operator==(const NoAttrs&, const NoAttrs&) = default;
};

// constant: every element is `value`.
struct ConstantAttrs {
  static constexpr std::string_view kind = "constant";
  double value = 0.0;
  friend bool operator==(const ConstantAttrs&, const ConstantAttrs&) = default;
};

// matmul, matmul_bias: scale * op(a) op(b), op(x) = x^T where the flag is set.
struct MatmulAttrs {
  static constexpr std::string_view kind = "matmul";
  Scale scale;  // the GEMM's alpha
  bool trans_a = false;
  bool trans_b = false;
  friend bool operator==(const MatmulAttrs&, const MatmulAttrs&) = default;
};

// affine: scale * x + offset.
struct AffineAttrs {
  static constexpr std::string_view kind = "affine";
  Scale scale;
  double offset = 0.0;
  friend bool operator==(const AffineAttrs&, const AffineAttrs&) = default;
};

// leaky_relu, step, step_mul: the slope where x <= 0.
struct SlopeAttrs {
  static constexpr std::string_view kind = "slope";
  double slope = 0.01;
  friend bool operator==(const SlopeAttrs&, const SlopeAttrs&) = default;
};

// sum: scale * the sum over `axis` (-1 all elements, 0 over rows, 1 over
// columns); keepdims false turns a row sum's (n x 1) into (1 x n).
struct SumAttrs {
  static constexpr std::string_view kind = "sum";
  Scale scale;  // 1/n for a mean
  std::int8_t axis = -1;
  bool keepdims = true;
  friend bool operator==(const SumAttrs&, const SumAttrs&) = default;
};

// l2_penalty: lambda/(2m) * sum ||W||^2, with m a count or m_dim (the bound
// sample count).
struct L2Attrs {
  static constexpr std::string_view kind = "l2";
  double lambda = 1.0;
  std::int64_t m = 0;
  friend bool operator==(const L2Attrs&, const L2Attrs&) = default;
};

// dropout_mask: D = (U < keep_prob), U from the RNG keyed by `seed`.
struct MaskAttrs {
  static constexpr std::string_view kind = "dropout mask";
  double keep_prob = 1.0;
  std::uint64_t seed = 0;
  friend bool operator==(const MaskAttrs&, const MaskAttrs&) = default;
};

// dropout: x * D / keep_prob while training.
struct DropoutAttrs {
  static constexpr std::string_view kind = "dropout";
  double keep_prob = 1.0;
  friend bool operator==(const DropoutAttrs&, const DropoutAttrs&) = default;
};

// An optimizer's hyper-parameters, as its assign nodes record them (for
// explain's symbols, the fused update and the model file's check).
struct HyperAttrs {
  static constexpr std::string_view kind = "hyper-parameter";
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double weight_decay = 0.0;  // decoupled weight decay
  friend bool operator==(const HyperAttrs&, const HyperAttrs&) = default;
};

// update: an optimizer's fused step, by its element rule (static, one per
// optimizer) with its hyper-parameters.
struct UpdateAttrs {
  static constexpr std::string_view kind = "update";
  HyperAttrs hyper;
  const ops::UpdateRule* rule = nullptr;
  friend bool operator==(const UpdateAttrs&, const UpdateAttrs&) = default;
};

// allreduce_part: where the operand's values start in the summed bucket.
struct BucketAttrs {
  static constexpr std::string_view kind = "bucket";
  std::int64_t offset = 0;
  friend bool operator==(const BucketAttrs&, const BucketAttrs&) = default;
};

// Which part of a narrow net's training step a fused_net node runs
// (ops/fused_net.hpp): all of it, or, in a data-parallel step, its
// gradients and then (once they are summed over the processes) its update.
enum class FusedStage : std::uint8_t { step, gradients, update };

// fused_net: its program and the nodes it replaced (shared, immutable), and
// the part of the step this node runs.
struct FusedNetAttrs {
  static constexpr std::string_view kind = "fused_net";
  std::shared_ptr<const ops::FusedNet> net;
  FusedStage stage = FusedStage::step;
  friend bool operator==(const FusedNetAttrs&, const FusedNetAttrs&) = default;
};

using AttrsVariant = std::variant<NoAttrs, ConstantAttrs, MatmulAttrs, AffineAttrs, SlopeAttrs,
                                  SumAttrs, L2Attrs, MaskAttrs, DropoutAttrs, HyperAttrs,
                                  UpdateAttrs, BucketAttrs, FusedNetAttrs>;

// The index of attribute type T in AttrsVariant (a compile error for a type
// that is not one).
template <class T, std::size_t I = 0>
constexpr std::size_t attrs_index() {
  static_assert(I < std::variant_size_v<AttrsVariant>, "not an attribute type of AttrsVariant");
  if constexpr (std::is_same_v<T, std::variant_alternative_t<I, AttrsVariant>>) return I;
  else return attrs_index<T, I + 1>();
}

// The kind's name in messages ("matmul attributes").
std::string_view attrs_name(std::size_t index);

// Throws GraphError: attributes of kind `held` read as `wanted`.
[[noreturn]] void throw_wrong_attrs(std::size_t held, std::size_t wanted);

// A node's attributes: one of the types above. Built implicitly from any of
// them (g.add(OpKind::matmul, {a, b}, MatmulAttrs{...})); NoAttrs when
// default, which Graph::add turns into the op's own type with its defaults.
class Attrs {
 public:
  Attrs() = default;
  template <class T, class = std::enable_if_t<!std::is_same_v<std::decay_t<T>, Attrs>>>
  Attrs(T a) : v_(std::move(a)) {}  // NOLINT: an attribute type is an Attrs

  std::size_t index() const { return v_.index(); }
  template <class T> bool is() const { return v_.index() == attrs_index<T>(); }
  // The attributes as T; GraphError when they are another kind. Node::attr
  // says which node.
  template <class T> const T& get() const {
    if (!is<T>()) throw_wrong_attrs(index(), attrs_index<T>());
    return *std::get_if<T>(&v_);
  }
  template <class T> T& get() {
    if (!is<T>()) throw_wrong_attrs(index(), attrs_index<T>());
    return *std::get_if<T>(&v_);
  }
  const AttrsVariant& variant() const { return v_; }

  // The factor a scaled op (matmul, matmul_bias, affine, sum) multiplies by;
  // one for the other kinds, which scale nothing.
  Scale scale_factor() const {
    return std::visit([](const auto& a) -> Scale {
      if constexpr (requires { a.scale; }) return a.scale;
      else return Scale{};
    }, v_);
  }
  bool has_scale() const {
    return std::visit([](const auto& a) { return requires { a.scale; }; }, v_);
  }
  // Sets a scaled op's factor; GraphError for a kind without one.
  void set_scale(Scale s);

  friend bool operator==(const Attrs&, const Attrs&) = default;

 private:
  AttrsVariant v_;
};

}  // namespace dagrad
