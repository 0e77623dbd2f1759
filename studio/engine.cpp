// The studio's engine (studio/engine.hpp): one lock around the training run
// and its inspector, a training thread that takes it in short slices, and
// the JSON endpoints of docs/studio.md.
#include "dagrad/studio/engine.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dagrad/autodiff/gradcheck.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/io/read_file.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/models/onnx.hpp"
#include "dagrad/studio/boundary.hpp"
#include "dagrad/studio/config.hpp"
#include "dagrad/studio/inspect.hpp"
#include "dagrad/studio/temp_dir.hpp"
#include "dagrad/studio/trainer.hpp"
#include "dagrad/train/data.hpp"
#include "dagrad/viz/notation.hpp"

namespace dagrad::studio {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto event_every = std::chrono::milliseconds(33);  // at most ~30 events a second
constexpr auto slice = std::chrono::milliseconds(8);         // the training thread's hold on the lock
constexpr std::size_t max_dev_points = 4000;
constexpr std::int64_t max_boundary = 128, max_unit_grid = 32;
constexpr std::int64_t max_value_cells = 4096;  // rows x cols of a node's value in one answer

// An answer to a request that cannot be served: 400 with its one line.
struct BadRequest {
  std::string message;
  int status = 400;
};

ApiResponse json_answer(const json& j, int status = 200) {
  ApiResponse r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

ApiResponse error_answer(const std::string& message, int status) {
  std::string line = message.substr(0, message.find('\n'));
  return json_answer(json{{"error", line}}, status);
}

json number_or_null(double v, bool valid = true) {
  return valid && std::isfinite(v) ? json(v) : json(nullptr);
}

std::int64_t query_int(const ApiRequest& r, const std::string& key, std::int64_t fallback,
                       std::int64_t lo, std::int64_t hi) {
  auto it = r.query.find(key);
  if (it == r.query.end() || it->second.empty()) return fallback;
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(it->second, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != it->second.size() || v < lo || v > hi)
    throw BadRequest{fmt::format("{}: '{}' is not an integer in [{}, {}]", key, it->second.substr(0, 40), lo, hi)};
  return v;
}

// Points (k, J) of a cost list kept at `stride`, at most `limit` of them.
json downsample(const std::vector<double>& costs, std::int64_t first, std::int64_t stride,
                std::size_t from, std::size_t limit) {
  json out = json::array();
  if (from >= costs.size()) return out;
  const std::size_t n = costs.size() - from;
  const std::size_t every = std::max<std::size_t>(1, (n + limit - 1) / limit);
  for (std::size_t k = from; k < costs.size(); k += every)
    out.push_back({first + static_cast<std::int64_t>(k) * stride, costs[k]});
  if ((costs.size() - 1 - from) % every != 0)
    out.push_back({first + static_cast<std::int64_t>(costs.size() - 1) * stride, costs.back()});
  return out;
}


std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size())
    s.replace(at, from.size(), to);
  return s;
}

// A CSV's text as `dagrad train --data` reads a file: written to a private
// file named `name` and loaded by train::load_data, so the parser and its
// messages are the CLI's; the messages name `name` and the line.
io::Dataset load_uploaded_csv(const std::string& text, const std::string& name) {
  TempDir dir;
  const std::filesystem::path file = dir.path / name;
  {
    std::ofstream out(file, std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) throw InputError(fmt::format("{}: cannot store the upload", name));
  }
  train::DataOptions o;
  o.class_labels = false;  // real labels are a regression
  try {
    io::Dataset d = train::load_data(file, o);
    d.origin = name;
    return d;
  } catch (const Error& e) {
    throw InputError(replace_all(e.what(), file.string(), name));
  }
}

}  // namespace

class Engine final : public Api {
 public:
  explicit Engine(const EngineOptions& o);
  ~Engine() override { shutdown(); }
  ApiResponse handle(const ApiRequest& request) override;
  std::uint64_t next_event(std::uint64_t after, std::chrono::milliseconds wait, std::string& data) override;
  void shutdown() override;

 private:
  // Holds the engine's lock; the training thread steps aside while one waits.
  class Lock {
   public:
    explicit Lock(Engine& e) : e_(e) {
      ++e_.waiting_;
      lock_ = std::unique_lock<std::mutex>(e_.mu_);
      --e_.waiting_;
    }
    void unlock() { lock_.unlock(); }

   private:
    Engine& e_;
    std::unique_lock<std::mutex> lock_;
  };

  ApiResponse dispatch(const ApiRequest& r, Lock& lock);
  void rebuild();  // a new run from source_ (pauses; same seed: same costs)
  void work();     // the training thread
  void publish();  // the state as the next event
  json state(bool events);
  void refresh_metrics();
  Inspector& inspector();

  json get_config();
  json post_config(const std::string& body);
  json post_data(const std::string& body);
  json post_control(const std::string& body);
  std::string boundary(const ApiRequest& r, Lock& lock);
  json nodes();
  json node_json(std::size_t k, std::int64_t rows, std::int64_t cols);
  json gradcheck();
  ApiResponse download(const std::string& what);

  std::mutex mu_;  // everything below, but the events
  RunSource source_;
  std::optional<UploadInfo> upload_info_;
  std::unique_ptr<Trainer> trainer_;
  std::unique_ptr<Inspector> inspector_;
  std::unique_ptr<BoundaryPlan> boundary_;
  std::vector<std::pair<Expr, runtime::Tensor>> inspect_data_;
  std::uint64_t generation_ = 0;
  bool running_ = false;
  int speed_ = 100;
  Metrics train_metrics_, dev_metrics_;
  std::int64_t metrics_step_ = -1;
  Clock::duration metrics_time_{};
  Clock::time_point metrics_at_{};
  std::vector<std::pair<std::int64_t, double>> dev_costs_;
  std::size_t events_sent_costs_ = 0;  // the costs the last event carried up to

  std::atomic<int> waiting_{0};
  std::atomic<bool> quit_{false};
  std::condition_variable work_cv_;
  std::thread worker_;
  Clock::time_point last_event_{};

  std::mutex ev_mu_;
  std::condition_variable ev_cv_;
  std::uint64_t ev_seq_ = 0;
  std::string ev_data_;
};

Engine::Engine(const EngineOptions& o) {
  Config c;
  if (!o.generate.empty()) {
    if (o.generate != "planar" && o.generate != "circles" && o.generate != "moons")
      throw InputError(fmt::format("--generate '{}' is not planar, circles or moons", o.generate));
    c.data = o.generate;
  }
  if (!o.data_path.empty()) {
    train::DataOptions d;
    d.class_labels = false;
    io::Dataset data = train::load_data(o.data_path, d);
    UploadInfo info{data.samples(), data.X.rows(), classes_of(data)};
    if (info.samples > ConfigLimits::max_upload_samples || info.features > ConfigLimits::max_upload_features)
      throw InputError(fmt::format("--data {}: {} samples of {} features; the studio takes at most {} of {}",
                                   o.data_path, info.samples, info.features,
                                   ConfigLimits::max_upload_samples, ConfigLimits::max_upload_features));
    upload_info_ = info;
    source_.data = std::move(data);
    c.data = "upload";
    c.layers = {info.features, 4, info.classes > 2 ? info.classes : 1};
    c.output = info.classes == 0 ? "linear" : info.classes > 2 ? "softmax" : "sigmoid";
    c.samples = std::clamp<std::int64_t>(info.samples, ConfigLimits::min_samples, ConfigLimits::max_samples);
  }
  if (!o.model_path.empty()) {
    source_.model_bytes = io::read_file_bytes(o.model_path);
    source_.model_origin = o.model_path;
    const models::Model m = models::model_from_bytes(source_.model_bytes, o.model_path);
    // A model built from a spec shows its settings; any other graph its
    // layer sizes as the notation reads them (W1, W2, ...).
    if (const viz::Notation nt = viz::Notation::from_graph(m.graph()); !nt.layers.empty()) c.layers = nt.layers;
    if (m.spec) {
      c.layers = m.spec->layers;
      c.hidden = {std::string(models::name_of(m.spec->hidden))};
      if (!m.spec->hidden_each.empty()) {
        c.hidden.clear();
        for (models::Activation a : m.spec->hidden_each) c.hidden.emplace_back(models::name_of(a));
      }
      c.output = std::string(models::name_of(m.spec->output));
      c.l2 = m.spec->l2;
      c.keep = m.spec->keep_prob.empty() ? std::vector<double>{1.0} : m.spec->keep_prob;
    }
    c.seed = m.seed;
    c.batch = m.batch_size;
    c.dtype = m.dtype() == DType::f32 ? "f32" : "f64";
    if (m.minimized()) {
      const train::OptimizerConfig& oc = m.optimizer();
      c.optimizer = std::string(train::name_of(oc.kind));
      c.lr = oc.learning_rate;
      c.beta1 = oc.beta1;
      c.beta2 = oc.beta2;
      c.epsilon = oc.epsilon;
      c.weight_decay = oc.weight_decay;
    }
  }
  if (!o.config.empty()) {
    try {
      c = apply_config(c, json::parse(o.config), upload_info_);
    } catch (const ConfigError& e) {
      throw InputError(e.message);
    } catch (const json::exception& e) {
      throw InputError(fmt::format("the configuration is not JSON: {}", e.what()));
    }
  }
  source_.config = c;
  rebuild();
  publish();  // the first event: a client that asks for the latest gets it at once
  worker_ = std::thread([this] { work(); });
}

void Engine::shutdown() {
  {
    std::lock_guard<std::mutex> l(mu_);
    quit_ = true;
    running_ = false;
  }
  work_cv_.notify_all();
  if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
  ev_cv_.notify_all();
}

void Engine::rebuild() {
  running_ = false;
  auto t = std::make_unique<Trainer>(source_);  // throws before anything changes
  boundary_.reset();
  trainer_ = std::move(t);
  inspector_.reset();
  inspect_data_.clear();
  ++generation_;
  dev_costs_.clear();
  metrics_step_ = -1;
  events_sent_costs_ = 0;
}

Inspector& Engine::inspector() {
  if (!inspector_) {
    inspector_ = std::make_unique<Inspector>(trainer_->model());
    inspect_data_ = train::sample_data(trainer_->model(), trainer_->train_set(), true);
  }
  const models::Model& m = trainer_->model();
  inspector_->evaluate(m, inspect_data_, trainer_->next_batch(),
                       (generation_ << 40) + static_cast<std::uint64_t>(m.steps));
  return *inspector_;
}

// The training and dev metrics at the current step, evaluated at most so
// often that evaluating costs training no more than ~5%.
void Engine::refresh_metrics() {
  const std::int64_t step = trainer_->model().steps;
  if (step == metrics_step_) return;
  const Clock::time_point now = Clock::now();
  if (running_ && metrics_step_ >= 0 && now - metrics_at_ < 20 * metrics_time_) return;
  train_metrics_ = trainer_->evaluate_train();
  dev_metrics_ = trainer_->evaluate_dev();
  metrics_at_ = Clock::now();
  metrics_time_ = metrics_at_ - now;
  metrics_step_ = step;
  if (dev_metrics_.valid) {
    if (!dev_costs_.empty() && dev_costs_.back().first == step) dev_costs_.pop_back();
    dev_costs_.emplace_back(step, dev_metrics_.cost);
    if (dev_costs_.size() > max_dev_points) {
      for (std::size_t i = 0; 2 * i < dev_costs_.size(); ++i) dev_costs_[i] = dev_costs_[2 * i];
      dev_costs_.resize((dev_costs_.size() + 1) / 2);
    }
  }
}

json Engine::state(bool event) {
  refresh_metrics();
  const Trainer& t = *trainer_;
  const models::Model& m = t.model();
  const bool regression = m.task() == models::Task::regression;
  json j{{"iteration", m.steps},
         {"epoch", m.epochs},
         {"generation", generation_},
         {"cost", number_or_null(t.last_cost(), t.has_cost())},
         {"train_cost", number_or_null(train_metrics_.cost, train_metrics_.valid)},
         {"dev_cost", number_or_null(dev_metrics_.cost, dev_metrics_.valid)},
         {"accuracy", number_or_null(train_metrics_.accuracy, train_metrics_.valid && !regression)},
         {"dev_accuracy", number_or_null(dev_metrics_.accuracy, dev_metrics_.valid && !regression)},
         {"r2", number_or_null(train_metrics_.r2, train_metrics_.valid && regression)},
         {"dev_r2", number_or_null(dev_metrics_.r2, dev_metrics_.valid && regression)},
         {"metrics_iteration", metrics_step_},
         {"running", running_},
         {"speed", speed_},
         {"batch_size", t.batch_size()},
         {"per_epoch", t.per_epoch()},
         {"diverged", t.diverged()},
         {"message", t.message()}};
  const std::vector<double>& costs = t.costs();
  const std::int64_t first = t.first_step(), stride = t.cost_stride();
  if (event) {
    // Only the costs since the last event (a client that misses one asks
    // GET state for the whole curve).
    if (events_sent_costs_ > costs.size()) events_sent_costs_ = 0;  // compacted
    j["costs"] = downsample(costs, first, stride, events_sent_costs_, 64);
    events_sent_costs_ = costs.size();
    j["dev_costs"] = dev_costs_.empty() ? json::array() : json::array({{dev_costs_.back().first, dev_costs_.back().second}});
  } else {
    j["costs"] = downsample(costs, first, stride, 0, 500);
    json dev = json::array();
    const std::size_t every = std::max<std::size_t>(1, dev_costs_.size() / 500);
    for (std::size_t k = 0; k < dev_costs_.size(); k += every) dev.push_back({dev_costs_[k].first, dev_costs_[k].second});
    j["dev_costs"] = dev;
  }
  return j;
}

void Engine::publish() {
  std::string data = state(true).dump(-1, ' ', false, json::error_handler_t::replace);
  {
    std::lock_guard<std::mutex> l(ev_mu_);
    ev_data_ = std::move(data);
    ++ev_seq_;
  }
  ev_cv_.notify_all();
  last_event_ = Clock::now();
}

std::uint64_t Engine::next_event(std::uint64_t after, std::chrono::milliseconds wait, std::string& data) {
  std::unique_lock<std::mutex> l(ev_mu_);
  if (after == 0 && ev_seq_ > 0) {
    data = ev_data_;
    return ev_seq_;
  }
  const std::uint64_t seen = after == 0 ? ev_seq_ : after;
  if (!ev_cv_.wait_for(l, wait, [&] { return ev_seq_ > seen || quit_.load(); }) || ev_seq_ <= seen)
    return after;
  data = ev_data_;
  return ev_seq_;
}

// The training thread: while playing, slices of updates under the lock,
// an event at most every 33 ms, and the lock handed to any waiting request
// between slices.
void Engine::work() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    work_cv_.wait(l, [&] { return quit_ || running_; });
    if (quit_) return;
    const Clock::time_point end = Clock::now() + slice;
    for (int done = 1; running_; ++done) {
      if (!trainer_->step()) {
        running_ = false;
        break;
      }
      if (speed_ < 100) break;
      if ((done & 7) == 0 && (waiting_.load(std::memory_order_relaxed) > 0 || Clock::now() >= end)) break;
    }
    if (!running_ || Clock::now() - last_event_ >= event_every) publish();
    const int speed = speed_;
    l.unlock();
    if (speed < 100) {
      // speed s < 100: 10^(4 (s - 1) / 99) updates a second, 1 to 10000.
      const double rate = std::pow(10.0, 4.0 * (speed - 1) / 99.0);
      std::this_thread::sleep_for(std::chrono::duration<double>(1.0 / rate));
    }
    while (waiting_.load() > 0 && !quit_) std::this_thread::yield();
    l.lock();
  }
}

json Engine::get_config() {
  json j = source_.config.to_json();
  if (!source_.model_bytes.empty()) j["model"] = source_.model_origin;
  return j;
}

json Engine::post_config(const std::string& body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception&) {
    throw BadRequest{"config: the body is not a JSON object"};
  }
  Config c;
  try {
    c = apply_config(source_.config, j, upload_info_);
  } catch (const ConfigError& e) {
    throw BadRequest{e.message};
  }
  RunSource next = source_;
  next.config = c;
  next.model_bytes.clear();  // a configuration builds a new MLP
  next.model_origin.clear();
  if (c.data != "upload") next.data.reset();
  std::swap(source_, next);
  try {
    rebuild();
  } catch (...) {
    std::swap(source_, next);
    throw;
  }
  publish();
  return get_config();
}

json Engine::post_data(const std::string& body) {
  if (body.size() > ApiLimits::max_body) throw BadRequest{"data: the upload is larger than 8 MiB", 413};
  io::Dataset d = load_uploaded_csv(body, "upload.csv");
  UploadInfo info{d.samples(), d.X.rows(), classes_of(d)};
  if (info.samples > ConfigLimits::max_upload_samples)
    throw BadRequest{fmt::format("upload.csv: {} samples; the studio takes at most {}", info.samples,
                                 ConfigLimits::max_upload_samples)};
  if (info.features > ConfigLimits::max_upload_features)
    throw BadRequest{fmt::format("upload.csv: {} features; the studio takes at most {}", info.features,
                                 ConfigLimits::max_upload_features)};
  if (info.samples < 2) throw BadRequest{"upload.csv: need at least 2 samples"};
  Config c = source_.config;
  c.data = "upload";
  std::vector<std::int64_t> hidden(c.layers.begin() + 1, c.layers.end() - 1);
  c.layers = {info.features};
  c.layers.insert(c.layers.end(), hidden.begin(), hidden.end());
  c.layers.push_back(info.classes > 2 ? info.classes : 1);
  c.output = info.classes == 0 ? "linear" : info.classes > 2 ? "softmax" : "sigmoid";
  if (c.batch > info.samples) c.batch = 0;
  try {
    c = apply_config(c, json::object(), info);
  } catch (const ConfigError& e) {
    throw BadRequest{e.message};
  }
  RunSource next;
  next.config = c;
  next.data = std::move(d);
  std::swap(source_, next);
  const std::optional<UploadInfo> old_info = upload_info_;
  upload_info_ = info;
  try {
    rebuild();
  } catch (...) {
    std::swap(source_, next);
    upload_info_ = old_info;
    throw;
  }
  publish();
  return json{{"samples", info.samples}, {"features", info.features}, {"classes", info.classes},
              {"config", get_config()}};
}

json Engine::post_control(const std::string& body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception&) {
    throw BadRequest{"control: the body is not a JSON object"};
  }
  if (!j.is_object()) throw BadRequest{"control: the body is not a JSON object"};
  if (j.contains("speed")) {
    const json& s = j["speed"];
    if (!s.is_number() || !(s.get<double>() >= 1 && s.get<double>() <= 100) || s.get<double>() != std::floor(s.get<double>()))
      throw BadRequest{fmt::format("speed: {} is not an integer in [1, 100]", s.dump().substr(0, 40))};
    speed_ = s.get<int>();
  }
  if (j.contains("action")) {
    const json& a = j["action"];
    const std::string action = a.is_string() ? a.get<std::string>() : "";
    if (action == "play") {
      running_ = !trainer_->diverged();
      work_cv_.notify_all();
    } else if (action == "pause") {
      running_ = false;
    } else if (action == "step") {
      running_ = false;
      trainer_->step();
    } else if (action == "epoch") {
      running_ = false;
      const std::int64_t per = trainer_->per_epoch();
      const std::int64_t target = (trainer_->model().steps / per + 1) * per;
      while (trainer_->model().steps < target && trainer_->step()) {
      }
    } else if (action == "reset") {
      rebuild();
    } else {
      throw BadRequest{fmt::format("action: '{}' is not play, pause, step, epoch or reset",
                                   a.dump().substr(0, 40))};
    }
  }
  publish();
  return state(false);
}

std::string Engine::boundary(const ApiRequest& r, Lock& lock) {
  const std::int64_t s = query_int(r, "size", 64, 2, max_boundary);
  const std::int64_t s2 = query_int(r, "units", 16, 2, max_unit_grid);
  if (!boundary_) boundary_ = std::make_unique<BoundaryPlan>(trainer_->model(), trainer_->all_data());
  const BoundaryData b = boundary_->compute(s, s2, trainer_->train_set(), trainer_->dev_set());
  lock.unlock();  // the numbers are copied out: format them while training goes on
  return to_json(b);
}

json Engine::nodes() {
  Inspector& in = inspector();
  json out = json::array();
  for (const NodeInfo& n : in.nodes())
    out.push_back({{"node", n.name}, {"op", n.op}, {"shape", n.shape}, {"phase", n.phase},
                   {"equation", n.equation}});
  return out;
}

json Engine::node_json(std::size_t k, std::int64_t rows, std::int64_t cols) {
  Inspector& in = inspector();
  const NodeInfo& n = in.nodes()[k];
  const NodeValue v = in.value(k, rows, cols);
  json inputs = json::array();
  for (NodeId id : n.inputs)
    for (const NodeInfo& o : in.nodes())
      if (o.id == id) inputs.push_back(o.name);
  json data = json::array();
  for (std::int64_t r = 0; r < v.shown_rows; ++r) {
    json row = json::array();
    for (std::int64_t c = 0; c < v.shown_cols; ++c)
      row.push_back(v.data[static_cast<std::size_t>(r * v.shown_cols + c)]);
    data.push_back(std::move(row));
  }
  return json{{"index", k}, {"node", n.name}, {"op", n.op}, {"shape", n.shape}, {"phase", n.phase},
              {"dims", {v.rows, v.cols}}, {"equation", n.equation}, {"inputs", inputs},
              {"iteration", trainer_->model().steps},
              {"value", {{"rows", v.shown_rows}, {"cols", v.shown_cols}, {"data", std::move(data)},
                         {"min", number_or_null(v.min)}, {"max", number_or_null(v.max)}}}};
}

json Engine::gradcheck() {
  inspector();  // inspect_data_: every sample input's data
  const models::Model& m = trainer_->model();
  autodiff::Feeds feeds;
  const std::span<const std::int64_t> batch = trainer_->next_batch();
  for (const auto& [e, all] : inspect_data_) {
    io::Matrix full = all.to_matrix();
    if (batch.empty()) {
      feeds.emplace_back(e.name(), std::move(full));
      continue;
    }
    io::Matrix part(Shape{full.rows(), static_cast<std::int64_t>(batch.size())});
    for (std::int64_t r = 0; r < full.rows(); ++r)
      for (std::size_t c = 0; c < batch.size(); ++c) part(r, static_cast<std::int64_t>(c)) = full(r, batch[c]);
    feeds.emplace_back(e.name(), std::move(part));
  }
  std::vector<NodeId> params, grads;
  std::int64_t count = 0;
  for (Expr p : m.params()) {
    params.push_back(p.id);
    feeds.emplace_back(p.name(), m.value(p.name()).to_matrix());
    count += p.shape().size();
  }
  for (Expr gexpr : m.updates().grads) grads.push_back(gexpr.id);
  autodiff::CheckOptions o;
  o.full = count <= 500;
  o.samples = 20;
  o.step = static_cast<std::uint64_t>(m.steps);
  o.warn = [](const std::string&) {};
  const autodiff::CheckReport rep = autodiff::gradcheck(m.graph(), m.cost().id, params, feeds, o, grads);
  json out = json::array();
  viz::Notation nt = viz::Notation::from_graph(m.graph());
  for (const autodiff::ParamCheck& p : rep.params) {
    json analytic = json::array();
    for (std::size_t k = 0; k < p.grad.values.size() && k < 16; ++k) analytic.push_back(p.grad.values[k]);
    out.push_back({{"param", nt.name(p.name)}, {"rel_error", p.rel_diff}, {"checked", p.checked},
                   {"kinks", p.kinks}, {"pass", p.pass}, {"analytic", std::move(analytic)},
                   {"iteration", m.steps}});
  }
  return out;
}

ApiResponse Engine::download(const std::string& what) {
  ApiResponse r;
  if (what == "model") {
    const std::vector<std::uint8_t> b = models::model_bytes(trainer_->model());
    r.body.assign(b.begin(), b.end());
    r.content_type = "application/octet-stream";
    r.filename = "model.dagrad";
  } else if (what == "onnx") {
    if (!models::onnx_available()) throw BadRequest{"download: this build has no ONNX (libonnx-dev)"};
    const std::vector<std::uint8_t> b = models::onnx_bytes(trainer_->model());
    r.body.assign(b.begin(), b.end());
    r.content_type = "application/octet-stream";
    r.filename = "model.onnx";
  } else if (what == "costs") {
    const Trainer& t = *trainer_;
    r.body = "iteration,cost\n";
    for (std::size_t k = 0; k < t.costs().size(); ++k)
      r.body += fmt::format("{},{}\n", t.first_step() + static_cast<std::int64_t>(k) * t.cost_stride(), t.costs()[k]);
    r.content_type = "text/csv";
    r.filename = "costs.csv";
  } else if (what == "latex") {
    r.body = inspector().latex();
    r.content_type = "text/x-tex";
    r.filename = "equations.tex";
  } else if (what == "svg") {
    r.body = inspector().svg();
    r.content_type = "image/svg+xml";
    r.filename = "graph.svg";
  } else {
    throw BadRequest{fmt::format("what: '{}' is not model, onnx, costs, latex or svg", what.substr(0, 40))};
  }
  return r;
}

ApiResponse Engine::dispatch(const ApiRequest& r, Lock& lock) {
  const bool get = r.method == "GET", post = r.method == "POST";
  const std::string& p = r.path;
  const auto need = [&](bool ok) {
    if (!ok) throw BadRequest{fmt::format("{} /api/{} is not served (see docs/studio.md)", r.method, p), 405};
  };
  if (p == "config") {
    need(get || post);
    return json_answer(get ? get_config() : post_config(r.body));
  }
  if (p == "optimizers") {
    need(get);
    return json_answer(optimizer_choices());
  }
  if (p == "data") {
    need(post);
    return json_answer(post_data(r.body));
  }
  if (p == "control") {
    need(post);
    return json_answer(post_control(r.body));
  }
  if (p == "state") {
    need(get);
    return json_answer(state(false));
  }
  if (p == "boundary") {
    need(get);
    ApiResponse a;
    a.body = boundary(r, lock);
    return a;
  }
  if (p == "graph") {
    need(get);
    ApiResponse a;
    a.body = inspector().svg();
    a.content_type = "image/svg+xml";
    return a;
  }
  if (p == "nodes") {
    need(get);
    return json_answer(nodes());
  }
  if (p == "node" || p == "step") {
    need(get);
    const std::int64_t rows = query_int(r, "rows", 8, 1, max_value_cells);
    const std::int64_t cols = query_int(r, "cols", 16, 1, max_value_cells);
    if (rows * cols > max_value_cells)
      throw BadRequest{fmt::format("rows x cols: {} x {} is more than {} numbers", rows, cols, max_value_cells)};
    Inspector& in = inspector();
    std::size_t k = 0;
    if (p == "node") {
      auto it = r.query.find("name");
      if (it == r.query.end()) throw BadRequest{"name: missing (e.g. ?name=dZ[2])"};
      auto found = in.find(it->second);
      if (!found) throw BadRequest{fmt::format("name: '{}' is no node of the plan", it->second.substr(0, 60))};
      k = *found;
    } else {
      k = static_cast<std::size_t>(
          query_int(r, "index", 0, 0, static_cast<std::int64_t>(in.nodes().size()) - 1));
    }
    json j = node_json(k, rows, cols);
    if (p == "step" || r.query.count("row") || r.query.count("col")) {
      // The chosen element, moved inside a node too small for it (the page
      // keeps one choice while stepping through nodes of every shape).
      const Shape s = in.shape_of(k);
      const std::int64_t i = std::min(query_int(r, "row", 0, 0, max_value_cells), std::max<std::int64_t>(s.rows - 1, 0));
      const std::int64_t c = std::min(query_int(r, "col", 0, 0, std::int64_t{1} << 40), std::max<std::int64_t>(s.cols - 1, 0));
      j["plugged"] = s.size() > 0 ? in.plugged(k, i, c) : "";
      j["row"] = i;
      j["col"] = c;
      j["count"] = in.nodes().size();
    }
    return json_answer(j);
  }
  if (p == "gradcheck") {
    need(get);
    return json_answer(gradcheck());
  }
  if (p == "download") {
    need(get);
    auto it = r.query.find("what");
    return download(it == r.query.end() ? std::string() : it->second);
  }
  return error_answer(fmt::format("/api/{} is no endpoint (see docs/studio.md)", p.substr(0, 60)), 404);
}

ApiResponse Engine::handle(const ApiRequest& r) {
  Lock lock(*this);
  try {
    return dispatch(r, lock);
  } catch (const BadRequest& e) {
    return error_answer(e.message, e.status);
  } catch (const Error& e) {  // InputError, GraphError, NumericError: the input's fault
    return error_answer(e.what(), 400);
  } catch (const std::bad_alloc&) {
    return error_answer("out of memory serving the request", 400);
  } catch (const std::exception& e) {
    return error_answer(fmt::format("internal error: {}", e.what()), 500);
  }
}

std::unique_ptr<Api> make_engine(const EngineOptions& options) { return std::make_unique<Engine>(options); }

}  // namespace dagrad::studio
