// TEST-ONLY hook: while alive, op_def(kind) returns a copy of the op's entry
// whose gradient rule is `rule`, so a test can plant a wrong rule and check
// that gradcheck (and its per-node mode) catches and names it. The registry
// table itself stays const; overrides nest (the innermost wins) and are not
// thread-safe. Production code never constructs one.
#pragma once

#include "dagrad/ops/op.hpp"

namespace dagrad::ops {

class ScopedGradRuleOverride {
 public:
  ScopedGradRuleOverride(OpKind kind, GradRule rule);
  ~ScopedGradRuleOverride();
  ScopedGradRuleOverride(const ScopedGradRuleOverride&) = delete;
  ScopedGradRuleOverride& operator=(const ScopedGradRuleOverride&) = delete;

 private:
  OpDef def_;
  const OpDef* saved_;
};

}  // namespace dagrad::ops
