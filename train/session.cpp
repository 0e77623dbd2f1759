#include "dagrad/train/session.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/transpose.hpp"
#include "dagrad/passes/optimize.hpp"
#include "dagrad/train/batches.hpp"

namespace dagrad::train {

namespace {

std::vector<NodeId> outputs_for(const models::Model& model, Use use) {
  std::vector<NodeId> out;
  if (use == Use::train) {
    out.push_back(model.cost().id);
    for (Expr a : model.updates().assigns) out.push_back(a.id);
    return out;
  }
  if (use == Use::evaluate) out.push_back(model.eval_cost().id);
  for (Expr o : model.outputs()) out.push_back(o.id);
  return out;
}

// The data `from` (rows x M) stored by sample: its transpose (M x rows).
runtime::Tensor stored_by_sample(const runtime::Tensor& from) {
  const Shape s = from.shape();
  runtime::Tensor t(from.dtype(), Shape{s.cols, s.rows});
  if (from.dtype() == DType::f32) ops::transpose_matrix(from.data<float>(), s.rows, s.cols, t.data<float>());
  else ops::transpose_matrix(from.data<double>(), s.rows, s.cols, t.data<double>());
  return t;
}

}  // namespace

Session::Session(models::Model& model, Use use, std::int64_t capacity, const passes::PassOptions& passes_in,
                 const dist::DataParallelOptions* data_parallel)
    : model_(model), epoch_(model.dtype(), {1, 1}) {
  if (use == Use::train && !model.minimized())
    throw GraphError("session: the model has no optimizer to train with (Model::minimize)");
  const std::vector<NodeId> outputs = outputs_for(model, use);
  // The Feeder feeds K-heavy inputs sample by sample where the pass chose to.
  passes::PassOptions passes = passes_in;
  passes.capacity = capacity;
  if (use != Use::predict && data_parallel) {
    // J and every gradient the updates read (or the evaluation cost) are
    // summed over the processes.
    std::vector<NodeId> sums{use == Use::train ? model.cost().id : model.eval_cost().id};
    if (use == Use::train)
      for (Expr d : model.updates().grads) sums.push_back(d.id);
    // A narrow net's fused step runs as its two stages with the sums between.
    compiled_ = dist::data_parallel_step(model.graph(), outputs, sums, *data_parallel, passes);
  } else {
    compiled_ = passes::optimize(model.graph(), outputs, passes);
  }
  runtime::ExecutorOptions eo;
  eo.capacity = capacity;
  exec_ = std::make_unique<runtime::Executor>(compiled_.graph, compiled_.outputs, eo);
  // Parameters and state are bound in place: a training run updates the
  // model's own tensors.
  for (NodeId id : exec_->schedule()) {
    const Node& n = compiled_.graph.node(id);
    if (n.op == OpKind::param || n.op == OpKind::state) exec_->bind(id, model.value(n.name));
  }
  if (use == Use::train && model.updates().epoch.valid()) {
    const NodeId e = map(model.updates().epoch);
    if (e != passes::no_node) exec_->bind(e, epoch_);
  }
}

NodeId Session::map(Expr model_node) const {
  if (model_node.graph != &model_.graph())
    throw GraphError("session: the node belongs to another graph than the model's");
  return compiled_.map[model_node.id];
}

bool Session::by_sample(Expr input) const {
  const NodeId id = map(input);
  if (id == passes::no_node) return false;
  const Shape declared = input.shape(), compiled = compiled_.graph.node(id).shape;
  return declared.rows != declared.cols && compiled == Shape{declared.cols, declared.rows};
}

void Session::set_epoch(std::int64_t epoch) { epoch_.set(0, static_cast<double>(epoch)); }

Feeder::Feeder(Session& session, std::vector<std::pair<Expr, runtime::Tensor>> data,
               std::int64_t capacity)
    : session_(session) {
  for (auto& [node, values] : data) {
    const NodeId id = session.map(node);
    if (samples_ == 0) samples_ = values.shape().cols;
    if (values.shape().cols != samples_)
      throw InputError(fmt::format("the data for input {} has {} samples, the others {}",
                                   node.name(), values.shape().cols, samples_));
    if (id == passes::no_node) continue;
    const std::int64_t rows = values.shape().rows, b = std::min(capacity, samples_);
    const DType dtype = session.graph().dtype();
    if (session.by_sample(node)) {
      inputs_.push_back({id, stored_by_sample(values), runtime::Tensor(dtype, Shape{b, rows}), {}, true});
      continue;
    }
    inputs_.push_back({id, std::move(values), runtime::Tensor(dtype, Shape{rows, b}), {}, false});
  }
}

namespace {

// Inputs with at least this many rows are gathered from a sample-major copy
// (gather_samples): for fewer rows a row's columns are few cache lines apart.
constexpr std::int64_t by_sample_rows = 16;

template <class T>
void gather(runtime::Tensor& by_sample, const runtime::Tensor& from,
            std::span<const std::int64_t> idx, runtime::Tensor& to) {
  const std::int64_t rows = from.shape().rows, m = from.shape().cols;
  if (rows < by_sample_rows) {
    gather_columns(from.data<T>(), rows, m, idx, to.data<T>());
    return;
  }
  if (by_sample.size() != from.size()) by_sample = stored_by_sample(from);
  gather_samples(std::as_const(by_sample).data<T>(), rows, idx, to.data<T>());
}

}  // namespace

void Feeder::feed(std::span<const std::int64_t> idx) {
  for (Input& in : inputs_) feed(in, idx);
}

void Feeder::feed(Input& in, std::span<const std::int64_t> idx) {
  const auto b = static_cast<std::int64_t>(idx.size());
  const std::int64_t planned = in.rows_layout ? in.batch.shape().rows : in.batch.shape().cols;
  if (b > planned)
    throw InputError(fmt::format("a batch of {} samples is more than the {} planned for", b, planned));
  const bool f32 = in.all.dtype() == DType::f32;
  if (in.rows_layout) {
    // The batch's samples are the buffer's first b rows: (b x rows).
    const std::int64_t rows = in.all.shape().cols;
    if (f32) gather_rows(std::as_const(in.all).data<float>(), rows, idx, in.batch.data<float>());
    else gather_rows(std::as_const(in.all).data<double>(), rows, idx, in.batch.data<double>());
    return bind(in, in.batch, 0, Shape{b, rows});
  }
  if (f32) gather<float>(in.by_sample, in.all, idx, in.batch);
  else gather<double>(in.by_sample, in.all, idx, in.batch);
  // The batch's columns are packed at the front of the buffer: (rows x b).
  bind(in, in.batch, 0, Shape{in.all.shape().rows, b});
}

void Feeder::bind(const Input& in, const runtime::Tensor& t, std::int64_t offset, Shape shape) {
  if (t.dtype() == DType::f32) session_.exec().bind(in.node, t.data<float>() + offset, shape);
  else session_.exec().bind(in.node, t.data<double>() + offset, shape);
}

void Feeder::feed_range(std::int64_t begin, std::int64_t end) {
  if (begin == 0 && end == samples_) {
    for (Input& in : inputs_) session_.exec().bind(in.node, std::as_const(in.all));
    return;
  }
  std::vector<std::int64_t> idx(static_cast<std::size_t>(end - begin));
  std::iota(idx.begin(), idx.end(), begin);
  // An input stored by sample binds the range's rows in place.
  for (Input& in : inputs_) {
    const std::int64_t rows = in.all.shape().cols;
    if (in.rows_layout) bind(in, in.all, begin * rows, Shape{end - begin, rows});
    else feed(in, idx);
  }
}

io::Matrix targets_for(const models::Model& model, const io::Matrix& Y, std::string_view origin) {
  const Expr labels = model.labels();
  const std::int64_t K = labels.shape().rows;
  if (Y.rows() == K) return Y;
  // Class numbers become one-hot columns for a softmax alone: K sigmoid
  // units or K linear outputs want K label rows, never a broadcast one.
  const bool classes = model.task() == models::Task::categorical;
  if (Y.rows() != 1 || !classes)
    throw InputError(fmt::format(
        "{}: the labels are ({}x{}) but the model's labels input {} is {} (n[L] = {}): give {} label "
        "rows, or for K classes numbered 0..K-1 use --output softmax with n[L] = K (one-hot targets); "
        "for one 0/1 label, or one real-valued target with --output linear, use n[L] = 1", origin, Y.rows(),
        Y.cols(), labels.name(), to_string(labels.shape()), K, K));
  io::Matrix one_hot(Shape{K, Y.cols()});
  for (std::int64_t i = 0; i < Y.cols(); ++i) {
    const double y = Y(0, i);
    if (!(y >= 0 && y < double(K) && y == std::floor(y)))
      throw InputError(fmt::format("{}: label {:g} of sample {} is not a class in 0..{}", origin, y,
                                   i, K - 1));
    one_hot(static_cast<std::int64_t>(y), i) = 1.0;
  }
  return one_hot;
}

std::vector<std::pair<Expr, runtime::Tensor>> sample_data(const models::Model& model,
                                                          const io::Dataset& data,
                                                          bool with_labels) {
  const DType dtype = model.dtype();
  std::vector<std::pair<Expr, runtime::Tensor>> out;
  const Expr X = model.features();
  if (data.X.rows() != X.shape().rows)
    throw InputError(fmt::format("{}: the data has {} features but the model's {} takes {} "
                                 "(n[0] = {})", data.origin, data.X.rows(), X.name(),
                                 X.shape().rows, X.shape().rows));
  if (model.normalization) {
    io::Matrix normalized = data.X;
    model.normalization->apply(normalized);
    out.emplace_back(X, runtime::Tensor::from_matrix(normalized, dtype));
  } else {
    out.emplace_back(X, runtime::Tensor::from_matrix(data.X, dtype));
  }
  const Expr Y = model.labels();
  if (with_labels && Y.valid() && Y.shape().symbolic())
    out.emplace_back(Y, runtime::Tensor::from_matrix(targets_for(model, data.Y, data.origin), dtype));
  const std::vector<Expr> inputs = model.sample_inputs();
  for (const auto& [name, values] : data.inputs) {
    auto it = std::find_if(inputs.begin(), inputs.end(), [&](Expr e) { return e.name() == name; });
    if (it == inputs.end())
      throw InputError(fmt::format("{}: the data gives '{}', but the model has no input of that "
                                   "name whose columns are samples", data.origin, name));
    if (values.rows() != it->shape().rows || values.cols() != data.samples())
      throw InputError(fmt::format("{}: '{}' is {} but the model's input is {} with {} samples",
                                   data.origin, name, to_string(values.shape),
                                   to_string(it->shape()), data.samples()));
    out.emplace_back(*it, runtime::Tensor::from_matrix(values, dtype));
  }
  return out;
}

}  // namespace dagrad::train
