// The DSL a model is written in. It reads like the notes:
//
//   auto Z1 = W1 * X + b1;          // * between matrices is the matrix product
//   auto A1 = tanh(Z1);             // + broadcasts b1 (n x 1) over the m columns
//   auto J  = binary_cross_entropy(sigmoid(W2 * A1 + b2), Y);
//
// The element-wise product is the named function mul(a, b); `*` with a
// number scales. Every function adds nodes to the operands' graph and checks
// shapes as it goes, so a dimension error surfaces on the line that made it.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

#include "dagrad/graph/graph.hpp"

namespace dagrad {

// Matrix product a b. A transpose operand is folded into the BLAS call.
Expr matmul(Expr a, Expr b, Scale scale = 1.0);
// scale * op(a) op(b) with op(x) = x^T where the flag is set; no transpose
// node is created.
Expr matmul(Expr a, bool trans_a, Expr b, bool trans_b, Scale scale = 1.0);
Expr operator*(Expr a, Expr b);

// Broadcasting element-wise arithmetic: (n,m) with (n,1), (1,m) or (1,1).
Expr operator+(Expr a, Expr b);
Expr operator-(Expr a, Expr b);
Expr mul(Expr a, Expr b);
Expr operator/(Expr a, Expr b);
Expr operator-(Expr x);

// Arithmetic with a number: s * x + o as one affine node. A Scale may hold
// the sample count: per_m * sum(x) is (1/m) sum(x) for the m of each run.
Expr affine(Expr x, Scale scale, double offset);
Expr operator*(Scale s, Expr x);
Expr operator*(double s, Expr x);
Expr operator*(Expr x, double s);
Expr operator/(Expr x, double s);
Expr operator+(Expr x, double o);
Expr operator+(double o, Expr x);
Expr operator-(Expr x, double o);
Expr operator-(double o, Expr x);

Expr exp(Expr x);
Expr log(Expr x);
Expr square(Expr x);
Expr sqrt(Expr x);

Expr sigmoid(Expr z);                          // 1 / (1 + e^-z)
Expr tanh(Expr z);
Expr relu(Expr z);                             // max(0, z)
Expr leaky_relu(Expr z, double slope = 0.01);  // z > 0 ? z : slope z
// The derivative mask of (leaky) relu: z > 0 ? 1 : slope.
Expr step(Expr z, double slope = 0.0);

// Reductions. axis -1: all elements (1x1); 0: over rows (1 x m); 1: over
// columns (n x 1). keepdims=false on axis 1 gives a (1 x n) row, as numpy's
// 1-D result broadcasts as a row. A mean over m samples divides by the m
// bound at run time.
Expr sum(Expr x, int axis = -1, bool keepdims = true);
Expr mean(Expr x, int axis = -1, bool keepdims = true);
// x (n,1), (1,m) or (1,1) repeated to `shape`.
Expr broadcast(Expr x, Shape shape);
Expr transpose(Expr x);

// J = -(1/m) sum(Y log A + (1 - Y) log(1 - A)), A and Y (1 x m).
// When A = sigmoid(Z) the cost is computed from Z in a stable form.
Expr binary_cross_entropy(Expr A, Expr Y);
// Column-wise softmax: A(k, i) = e^Z(k,i) / sum_j e^Z(j,i).
Expr softmax(Expr Z);
// J = -(1/m) sum(Y log A), Y one-hot (K x m). Stable from Z when A = softmax(Z).
Expr categorical_cross_entropy(Expr A, Expr Y);
// J = 1/(2m) sum((A - Y)^2), A and Y (k x m): the regression cost.
Expr mean_squared_error(Expr A, Expr Y);
// lambda/(2m) sum_l ||W[l]||_F^2, m the number of samples: m_dim (the
// default) for the sample count bound at run time, as the cost's 1/m.
Expr l2_penalty(std::span<const Expr> W, double lambda, std::int64_t m = m_dim);
Expr l2_penalty(std::initializer_list<Expr> W, double lambda, std::int64_t m = m_dim);
// a^b element-wise, broadcasting.
Expr pow(Expr a, Expr b);

// Inverted dropout: D = (U < keep_prob) with U from a counter-based RNG keyed
// by (seed, step, element); the result is A * D / keep_prob while training
// and A in inference. The mask D is a node of its own, so backward reuses it.
Expr dropout_mask(Graph& g, Shape shape, double keep_prob, std::uint64_t seed);
Expr dropout(Expr A, Expr D);
Expr dropout(Expr A, double keep_prob, std::uint64_t seed);

// target := value, after every other reader of target has run: an update of
// a parameter or state leaf (train::minimize builds them). The node's value
// is the target after the write.
Expr assign(Expr target, Expr value);

}  // namespace dagrad
