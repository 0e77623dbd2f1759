// dagrad's side of bench/serve.py: times serve::InferencePlan::predict on a
// saved model, samples as rows (ONNX's layout), as a C++ user calls it.
//   build/dagrad_serve_bench MODEL.dagrad --batch 1,64,4096 --threads 1 --reps 2000
// Prints one line per batch: "batch B median_us U min_us V calls N".
// Each batch is warmed up (the context's first call allocates), then timed
// call by call for about --seconds or --reps calls, whichever ends first.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "dagrad/graph/error.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/serve/inference_plan.hpp"

using namespace dagrad;

namespace {

std::vector<std::int64_t> parse_list(std::string_view s) {
  std::vector<std::int64_t> out;
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    out.push_back(std::atoll(std::string(s.substr(0, comma)).c_str()));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

template <class T>
void time_batch(const serve::InferencePlan& plan, std::int64_t batch, int reps, double seconds) {
  std::vector<T> x(std::size_t(batch * plan.inputs())), y(std::size_t(batch * plan.outputs()));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = T(std::sin(0.61 * double(i)));
  serve::Context ctx(plan);
  using Clock = std::chrono::steady_clock;
  const auto call = [&] { plan.predict(ctx, std::span<const T>(x), std::span<T>(y), serve::Layout::rows); };
  const auto warm_end = Clock::now() + std::chrono::duration<double>(std::min(0.2, seconds / 5));
  for (int i = 0; i < 3 || Clock::now() < warm_end; ++i) call();
  std::vector<double> us;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  for (int i = 0; i < reps && (i < 5 || Clock::now() < end); ++i) {
    const auto t0 = Clock::now();
    call();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  std::printf("batch %lld median_us %.3f min_us %.3f calls %zu\n", static_cast<long long>(batch),
              us[us.size() / 2], us.front(), us.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.dagrad [--batch 1,64,4096] [--threads N] [--reps N] [--seconds S]\n", argv[0]);
    return 2;
  }
  std::vector<std::int64_t> batches{1, 64, 4096};
  int threads = 1, reps = 2000;
  double seconds = 1.0;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string_view f = argv[i];
    if (f == "--batch") batches = parse_list(argv[i + 1]);
    else if (f == "--threads") threads = std::atoi(argv[i + 1]);
    else if (f == "--reps") reps = std::atoi(argv[i + 1]);
    else if (f == "--seconds") seconds = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr, "dagrad_serve_bench: error: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  try {
    runtime::set_threads(threads);
    const models::Model model = models::load_model(argv[1]);
    const serve::InferencePlan plan(model);
    std::printf("plan %s\n", plan.describe().c_str());
    for (std::int64_t b : batches) {
      if (plan.dtype() == DType::f32) time_batch<float>(plan, b, reps, seconds);
      else time_batch<double>(plan, b, reps, seconds);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dagrad_serve_bench: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
