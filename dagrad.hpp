// The whole user-facing API in one include.
#pragma once

#include "dagrad/autodiff/gradients.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph.hpp"
#include "dagrad/models/mlp.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/runtime/executor.hpp"
