#include "dagrad/dist/comm.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

#if DAGRAD_WITH_MPI
#include <mpi.h>
#endif

namespace dagrad::dist {

bool built_with_mpi() { return DAGRAD_WITH_MPI != 0; }

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

namespace {

// The slice of an n-value bucket whose sum process `p` of `size` computes.
struct Slice {
  std::int64_t begin, count;
};
Slice slice_of(std::int64_t n, int p, int size) {
  const std::int64_t b = n * p / size, e = n * (p + 1) / size;
  return {b, e - b};
}

// One bucket's sum in flight: its slices go to their owners (phase 1), each
// owner adds what it got in rank order, then the sums go to everyone
// (phase 2). The buffers stay for the next step's sum of the same bucket.
// NOTE: every process must start collectives on a communicator in the same
// order. Phase 1 is started by the step's allreduce_start nodes (the same
// order everywhere) and phase 2 when phase 1 is seen to be done, which
// differs between processes: so each phase has a communicator of its own,
// and phase 2 is started in the order of phase 1 (a queue), whatever
// order the transfers finish in.
struct Bucket {
  enum class Phase { idle, scatter, gather };
  void* data = nullptr;
  std::int64_t count = 0;
  DType dtype = DType::f64;
  Phase phase = Phase::idle;
  bool awaited = false;  // started and not yet waited for (progress() may finish it first)
  std::vector<std::byte> received;  // size() slices of this process's part
  std::vector<int> send_counts, send_displs, recv_counts, recv_displs;
#if DAGRAD_WITH_MPI
  MPI_Request request = MPI_REQUEST_NULL;
#endif
};

constexpr NodeId blocking_sum = ~NodeId{0};

}  // namespace

struct Comm::Impl {
#if DAGRAD_WITH_MPI
  MPI_Comm comm = MPI_COMM_NULL;
  bool owned = false;  // made by split(): freed with the Comm
  // The phases' own duplicates of `comm`, made at the first sum.
  MPI_Comm scatter_comm = MPI_COMM_NULL, gather_comm = MPI_COMM_NULL;
#endif
  int rank = 0, size = 1;
  std::map<NodeId, Bucket> buckets;
  std::deque<Bucket*> scattering;  // in phase 1, in the order they started
  int in_flight = 0;
  // The progress thread (when MPI gave MPI_THREAD_MULTIPLE): while a bucket
  // is in flight it tests the transfers every few microseconds, under `mu`,
  // which every bucket's start and wait also hold (Bucket and the queue are
  // shared with it).
  std::mutex mu;
  std::condition_variable work;
  std::thread helper;
  bool stopping = false;
  std::exception_ptr helper_error;
  void helper_loop();
  void stop_helper();

  ~Impl();
  void start(NodeId id, void* data, std::int64_t count, DType dtype);
  void gather_next();
  void wait(NodeId id);
  void progress();
};

Comm::Comm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Comm::~Comm() = default;
Comm::Comm(Comm&&) noexcept = default;
Comm& Comm::operator=(Comm&&) noexcept = default;

int Comm::rank() const { return impl_->rank; }
int Comm::size() const { return impl_->size; }

Comm& Comm::self() {
  static Comm alone(std::make_unique<Impl>());
  return alone;
}

// ---- without MPI: one process ----------------------------------------------------

#if !DAGRAD_WITH_MPI

Environment::Environment(int&, char**&) {}
Environment::~Environment() = default;
bool Environment::active() { return false; }
void Environment::abort(int code) { std::exit(code); }

Comm::Impl::~Impl() = default;
void Comm::Impl::helper_loop() {}
void Comm::Impl::stop_helper() {}
void Comm::Impl::start(NodeId, void*, std::int64_t, DType) {}
void Comm::Impl::gather_next() {}
void Comm::Impl::wait(NodeId) {}
void Comm::Impl::progress() {}

Comm& Comm::world() { return self(); }
Comm Comm::split(int) const { return Comm(std::make_unique<Impl>()); }
void Comm::sum(std::span<double>) {}
void Comm::broadcast(std::span<std::byte>, int) {}
void Comm::broadcast(std::span<double>, int) {}
void Comm::broadcast(std::string&, int) {}
std::vector<double> Comm::gather(std::span<const double> values, int) {
  return {values.begin(), values.end()};
}
double Comm::max(double value) { return value; }
void Comm::barrier() {}
void Comm::start(NodeId, void*, std::int64_t, DType) {}
void Comm::wait(NodeId) {}
void Comm::progress() {}

#else

// ---- over MPI ----------------------------------------------------------------------

namespace {

bool g_initialized_here = false;
int g_thread_level = MPI_THREAD_FUNNELED;  // what MPI_Init_thread provided

// How the started buckets move while the step computes (docs/scaling.md
// has the measurements): by default a progress thread per communicator
// tests them every DAGRAD_MPI_PROGRESS_US microseconds (50) while one is in
// flight, as Horovod's background thread does; it needs MPI_THREAD_MULTIPLE.
// DAGRAD_MPI_PROGRESS=inline (or an MPI without that level) leaves the
// tests to the main thread, between kernels and between a long GEMM's
// panels (ops/gemm_progress.hpp).
bool progress_thread_wanted() {
  const char* v = std::getenv("DAGRAD_MPI_PROGRESS");
  return !v || std::string_view(v) != "inline";
}
std::chrono::microseconds progress_interval() {
  const char* v = std::getenv("DAGRAD_MPI_PROGRESS_US");
  const int us = v ? std::atoi(v) : 50;
  return std::chrono::microseconds(us > 0 ? us : 50);
}

void check(int rc, std::string_view what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw InputError(fmt::format("MPI {} failed: {}", what, std::string_view(text, static_cast<std::size_t>(len))));
}

int to_int(std::int64_t n, std::string_view what) {
  if (n < 0 || n > INT_MAX)
    throw InputError(fmt::format("MPI: {} of {} values is more than one message holds ({})", what, n, INT_MAX));
  return static_cast<int>(n);
}

MPI_Datatype mpi_type(DType t) { return t == DType::f32 ? MPI_FLOAT : MPI_DOUBLE; }

// out[i] = in_0[i] + in_1[i] + ... in rank order (in double, rounded once
// to T for float buckets).
template <class T>
void add_in_rank_order(const std::byte* received, int parts, std::int64_t count, T* out) {
  const T* in = reinterpret_cast<const T*>(received);
  for (std::int64_t i = 0; i < count; ++i) {
    double acc = in[i];
    for (int p = 1; p < parts; ++p) acc += in[p * count + i];
    out[i] = static_cast<T>(acc);
  }
}

}  // namespace

namespace {

// A library user's program under mpirun: an exception on one process must
// not leave the others waiting forever in a collective. One that escapes
// main (std::terminate) or unwinds past the Environment ends the whole job
// with one line naming the process and the error.
[[noreturn]] void abort_job(const char* how) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::string what = "an unknown exception";
  if (std::exception_ptr e = std::current_exception()) try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      what = x.what();
    } catch (...) {
    }
  std::fprintf(stderr, "dagrad: error: process %d of %d: %s (%s); ending the job (MPI_Abort)\n", rank, size,
               what.c_str(), how);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

}  // namespace

Environment::Environment(int& argc, char**& argv) {
  if (!launched_by_mpi() || active()) return;
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, progress_thread_wanted() ? MPI_THREAD_MULTIPLE : MPI_THREAD_FUNNELED,
                        &provided),
        "MPI_Init_thread");
  g_thread_level = provided;
  g_initialized_here = true;
  std::set_terminate([] { abort_job("uncaught"); });
}

Environment::~Environment() {
  if (!g_initialized_here || !active()) return;
  if (std::uncaught_exceptions() > 0 && Comm::world().size() > 1) abort_job("thrown past dist::Environment");
  MPI_Finalize();
  g_initialized_here = false;
}

bool Environment::active() {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  return init && !fin;
}

void Environment::abort(int code) {
  if (active()) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

void Comm::Impl::helper_loop() {
  const auto interval = progress_interval();
  std::unique_lock lock(mu);
  while (!stopping) {
    work.wait(lock, [&] { return stopping || in_flight > 0; });
    while (!stopping && in_flight > 0) {
      try {
        progress();
      } catch (...) {
        helper_error = std::current_exception();
        return;
      }
      lock.unlock();
      std::this_thread::sleep_for(interval);
      lock.lock();
    }
  }
}

void Comm::Impl::stop_helper() {
  if (!helper.joinable()) return;
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  work.notify_one();
  helper.join();
}

Comm::Impl::~Impl() {
  stop_helper();
  if (!Environment::active()) return;
  for (MPI_Comm* c : {&scatter_comm, &gather_comm})
    if (*c != MPI_COMM_NULL) MPI_Comm_free(c);
  if (owned && comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
}

void Comm::Impl::start(NodeId id, void* data, std::int64_t count, DType dtype) {
  if (size == 1) return;
  std::unique_lock lock(mu);
  if (helper_error) std::rethrow_exception(helper_error);
  if (!helper.joinable() && progress_thread_wanted() && g_thread_level >= MPI_THREAD_MULTIPLE)
    helper = std::thread([this] { helper_loop(); });
  if (scatter_comm == MPI_COMM_NULL) {  // collective: every process's first sum
    check(MPI_Comm_dup(comm, &scatter_comm), "MPI_Comm_dup");
    check(MPI_Comm_dup(comm, &gather_comm), "MPI_Comm_dup");
  }
  Bucket& b = buckets[id];
  if (b.awaited)
    throw GraphError(fmt::format("allreduce: bucket %{} started twice before its wait", id));
  b.data = data;
  b.count = count;
  b.dtype = dtype;
  b.send_counts.resize(static_cast<std::size_t>(size));
  b.send_displs.resize(static_cast<std::size_t>(size));
  b.recv_counts.resize(static_cast<std::size_t>(size));
  b.recv_displs.resize(static_cast<std::size_t>(size));
  const Slice mine = slice_of(count, rank, size);
  for (int p = 0; p < size; ++p) {
    const Slice s = slice_of(count, p, size);
    b.send_counts[p] = to_int(s.count, "a bucket slice");
    b.send_displs[p] = to_int(s.begin, "a bucket");
    b.recv_counts[p] = to_int(mine.count, "a bucket slice");
    b.recv_displs[p] = to_int(mine.count * p, "a bucket");
  }
  const std::size_t bytes = static_cast<std::size_t>(mine.count * size) * dtype_size(dtype);
  if (b.received.size() < bytes) b.received.resize(bytes);
  const MPI_Datatype t = mpi_type(dtype);
  check(MPI_Ialltoallv(data, b.send_counts.data(), b.send_displs.data(), t, b.received.data(),
                       b.recv_counts.data(), b.recv_displs.data(), t, scatter_comm, &b.request),
        "MPI_Ialltoallv");
  b.phase = Bucket::Phase::scatter;
  b.awaited = true;
  scattering.push_back(&b);
  ++in_flight;
  lock.unlock();
  work.notify_one();
}

// The oldest bucket in phase 1, once its slices have arrived (the request
// completed): its part of the sum, then phase 2.
void Comm::Impl::gather_next() {
  Bucket& b = *scattering.front();
  scattering.pop_front();
  const Slice mine = slice_of(b.count, rank, size);
  if (b.dtype == DType::f32)
    add_in_rank_order(b.received.data(), size, mine.count, static_cast<float*>(b.data) + mine.begin);
  else
    add_in_rank_order(b.received.data(), size, mine.count, static_cast<double*>(b.data) + mine.begin);
  for (int p = 0; p < size; ++p) {
    const Slice s = slice_of(b.count, p, size);
    b.recv_counts[p] = static_cast<int>(s.count);
    b.recv_displs[p] = static_cast<int>(s.begin);
  }
  check(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, b.data, b.recv_counts.data(),
                        b.recv_displs.data(), mpi_type(b.dtype), gather_comm, &b.request),
        "MPI_Iallgatherv");
  b.phase = Bucket::Phase::gather;
}

// Moves the transfers on without blocking: the buckets whose slices have
// arrived, oldest first, start phase 2; finished ones are done.
void Comm::Impl::progress() {
  while (!scattering.empty()) {
    int done = 0;
    check(MPI_Test(&scattering.front()->request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (!done) break;
    gather_next();
  }
  for (auto& [id, b] : buckets) {
    if (b.phase != Bucket::Phase::gather) continue;
    int done = 0;
    check(MPI_Test(&b.request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) b.phase = Bucket::Phase::idle, --in_flight;
  }
}

void Comm::Impl::wait(NodeId id) {
  if (size == 1) return;
  std::lock_guard lock(mu);
  if (helper_error) std::rethrow_exception(helper_error);
  const auto it = buckets.find(id);
  if (it == buckets.end() || !it->second.awaited)
    throw GraphError(fmt::format("allreduce: bucket %{} is waited for but was not started", id));
  Bucket& b = it->second;
  while (b.phase == Bucket::Phase::scatter) {  // phase 2 starts in phase 1's order
    check(MPI_Wait(&scattering.front()->request, MPI_STATUS_IGNORE), "MPI_Wait");
    gather_next();
  }
  if (b.phase == Bucket::Phase::gather) {
    check(MPI_Wait(&b.request, MPI_STATUS_IGNORE), "MPI_Wait");
    b.phase = Bucket::Phase::idle;
    --in_flight;
  }
  b.awaited = false;
}

Comm& Comm::world() {
  // Made again if MPI started (or ended) since the last call.
  static std::unique_ptr<Comm> w;
  static bool over_mpi = false;
  if (!w || over_mpi != Environment::active()) {
    over_mpi = Environment::active();
    auto impl = std::make_unique<Impl>();
    if (over_mpi) {
      impl->comm = MPI_COMM_WORLD;
      MPI_Comm_rank(MPI_COMM_WORLD, &impl->rank);
      MPI_Comm_size(MPI_COMM_WORLD, &impl->size);
    }
    w.reset(new Comm(std::move(impl)));
  }
  return *w;
}

Comm Comm::split(int color) const {
  auto impl = std::make_unique<Impl>();
  if (impl_->size == 1 && impl_->comm == MPI_COMM_NULL) return Comm(std::move(impl));
  MPI_Comm out = MPI_COMM_NULL;
  check(MPI_Comm_split(impl_->comm, color < 0 ? MPI_UNDEFINED : color, impl_->rank, &out),
        "MPI_Comm_split");
  if (out != MPI_COMM_NULL) {
    impl->comm = out;
    impl->owned = true;
    MPI_Comm_rank(out, &impl->rank);
    MPI_Comm_size(out, &impl->size);
  }
  return Comm(std::move(impl));
}

void Comm::sum(std::span<double> values) {
  if (impl_->size == 1 || values.empty()) return;
  impl_->start(blocking_sum, values.data(), static_cast<std::int64_t>(values.size()), DType::f64);
  impl_->wait(blocking_sum);
}

void Comm::broadcast(std::span<std::byte> bytes, int root) {
  if (impl_->size == 1) return;
  for (std::size_t at = 0; at < bytes.size(); at += INT_MAX) {
    const std::size_t n = std::min<std::size_t>(INT_MAX, bytes.size() - at);
    check(MPI_Bcast(bytes.data() + at, static_cast<int>(n), MPI_BYTE, root, impl_->comm), "MPI_Bcast");
  }
}

void Comm::broadcast(std::span<double> values, int root) {
  broadcast(std::as_writable_bytes(values), root);
}

void Comm::broadcast(std::string& text, int root) {
  if (impl_->size == 1) return;
  std::uint64_t n = text.size();
  broadcast(std::as_writable_bytes(std::span(&n, 1)), root);
  text.resize(n);
  broadcast(std::as_writable_bytes(std::span(text.data(), text.size())), root);
}

std::vector<double> Comm::gather(std::span<const double> values, int root) {
  if (impl_->size == 1) return {values.begin(), values.end()};
  const int mine = to_int(static_cast<std::int64_t>(values.size()), "a gather");
  std::vector<int> counts(static_cast<std::size_t>(impl_->size)), displs(counts.size());
  check(MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, root, impl_->comm), "MPI_Gather");
  std::vector<double> out;
  if (impl_->rank == root) {
    std::int64_t total = 0;
    for (std::size_t p = 0; p < counts.size(); ++p) {
      displs[p] = to_int(total, "a gather");
      total += counts[p];
    }
    out.resize(static_cast<std::size_t>(total));
  }
  check(MPI_Gatherv(values.data(), mine, MPI_DOUBLE, out.data(), counts.data(), displs.data(),
                    MPI_DOUBLE, root, impl_->comm),
        "MPI_Gatherv");
  return out;
}

double Comm::max(double value) {
  if (impl_->size == 1) return value;
  double out = value;
  check(MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MAX, impl_->comm), "MPI_Allreduce");
  return out;
}

void Comm::barrier() {
  if (impl_->size > 1) check(MPI_Barrier(impl_->comm), "MPI_Barrier");
}

void Comm::start(NodeId start, void* data, std::int64_t count, DType dtype) {
  impl_->start(start, data, count, dtype);
}

void Comm::wait(NodeId start) { impl_->wait(start); }

void Comm::progress() {
  if (impl_->helper.joinable()) return;  // the progress thread's work
  if (impl_->in_flight > 0) impl_->progress();
}

#endif

}  // namespace dagrad::dist
