// The whole user-facing API in one include: #include <dagrad/dagrad.hpp>.
//   graph and DSL      Graph, Expr, m_dim, the ops (ops/dsl.hpp), gradients
//   models             models::Model (a graph plus its state), build_mlp
//   training           train::fit, Predictor, predict, evaluate, minimize
//   files              model files (save_model, load_model), graph files,
//                      parameter files (.npz), data sets (.h5, .npz, .csv)
//   running a graph    runtime::Executor
//   serving            serve::InferencePlan, serve::Context (one per thread)
#pragma once

#include "dagrad/autodiff/gradcheck.hpp"
#include "dagrad/autodiff/gradients.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/io/dataset.hpp"
#include "dagrad/io/params.hpp"
#include "dagrad/models/init.hpp"
#include "dagrad/models/mlp.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/models/normalize.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/serve/inference_plan.hpp"
#include "dagrad/train/data.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/optimizer.hpp"
#include "dagrad/train/params.hpp"
#include "dagrad/train/synthetic.hpp"
