// The whole user-facing API in one include.
#pragma once

#include "autodiff/gradients.hpp"
#include "graph/error.hpp"
#include "graph/graph.hpp"
#include "models/mlp.hpp"
#include "ops/dsl.hpp"
#include "runtime/executor.hpp"
