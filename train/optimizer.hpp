// The optimizers live in optim/ (optim/optimizer.hpp, one file each, listed
// in optim/registry.hpp), which also keeps their train:: names:
// train::OptimizerKind::adam, train::OptimizerConfig, train::minimize.
#pragma once

#include "dagrad/optim/optimizer.hpp"
