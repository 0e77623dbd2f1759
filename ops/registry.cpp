// The one table of ops, indexed by OpKind. A new op is a file in ops/ that
// defines its OpDef (with the attribute type its nodes carry, OpDef::attrs,
// when it reads any), one line here and one enum entry in graph/node.hpp; the
// static_assert turns a forgotten line into a compile error. The table holds
// addresses only, so there is no static-initialization order to worry about
// and nothing a linker could drop.
#include <array>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/grad_override.hpp"
#include "dagrad/ops/op.hpp"

namespace dagrad::ops {

extern const OpDef input_op, param_op, state_op, constant_op, matmul_op, add_op, sub_op, mul_op,
    div_op, neg_op, affine_op, exp_op, log_op, square_op, sqrt_op, pow_op, sigmoid_op, tanh_op,
    relu_op, leaky_relu_op, step_op, sum_op, broadcast_op, transpose_op, bce_op, bce_logits_op,
    softmax_op, softmax_ce_op, categorical_ce_op, mse_op, l2_penalty_op, dropout_mask_op,
    dropout_op, assign_op, allreduce_start_op, allreduce_wait_op, allreduce_part_op,
    matmul_bias_op, step_mul_op, tanh_grad_mul_op, sigmoid_grad_mul_op,
    update_op, fused_net_op;

namespace {

constexpr std::array<const OpDef*, 43> table{
    &input_op,   &param_op,      &state_op,    &constant_op,      &matmul_op,
    &add_op,     &sub_op,        &mul_op,      &div_op,           &neg_op,
    &affine_op,  &exp_op,        &log_op,      &square_op,        &sqrt_op,
    &pow_op,     &sigmoid_op,    &tanh_op,     &relu_op,          &leaky_relu_op,
    &step_op,    &sum_op,        &broadcast_op, &transpose_op,    &bce_op,
    &bce_logits_op, &softmax_op, &softmax_ce_op, &categorical_ce_op, &mse_op,
    &l2_penalty_op, &dropout_mask_op, &dropout_op, &assign_op,
    // data-parallel sums: appear only after dist::data_parallel
    &allreduce_start_op, &allreduce_wait_op, &allreduce_part_op,
    // fused: appear only after passes::optimize
    &matmul_bias_op, &step_mul_op, &tanh_grad_mul_op, &sigmoid_grad_mul_op,
    &update_op,
    // fused: appears only after passes::fuse_nets
    &fused_net_op};

static_assert(table.size() == static_cast<std::size_t>(op_count),
              "every OpKind needs exactly one entry in the registry");

// Test-only: the OpDef a live ScopedGradRuleOverride substitutes, else null.
std::array<const OpDef*, table.size()> overrides{};

}  // namespace

const OpDef& op_def(OpKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  if (i >= table.size()) throw GraphError(fmt::format("unknown op kind {}", i));
  return overrides[i] ? *overrides[i] : *table[i];
}

ScopedGradRuleOverride::ScopedGradRuleOverride(OpKind kind, GradRule rule)
    : def_(op_def(kind)), saved_(overrides[static_cast<std::size_t>(kind)]) {
  def_.grad = rule;
  overrides[static_cast<std::size_t>(kind)] = &def_;
}

ScopedGradRuleOverride::~ScopedGradRuleOverride() {
  overrides[static_cast<std::size_t>(def_.kind)] = saved_;
}

std::span<const OpDef* const> all_ops() { return table; }

OpKind op_from_name(std::string_view name) {
  for (const OpDef* d : table)
    if (d->name == name) return d->kind;
  throw GraphError(fmt::format("unknown op '{}'", name));
}

}  // namespace dagrad::ops
