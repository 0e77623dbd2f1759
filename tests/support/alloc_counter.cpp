// Counts heap allocations, so that runtime tests can check that a training
// step allocates nothing. Two doors are counted:
//   - the global operator new (and its nothrow form), replaced here;
//   - the C allocators malloc, calloc, realloc, aligned_alloc and
//     posix_memalign called from this program's own objects and from
//     libdagrad (the executor's arena is an aligned_alloc): the test binary
//     is linked with -Wl,--wrap=<name> for each (tests/CMakeLists.txt), so
//     those calls land in __wrap_<name> below, which counts and forwards to
//     the real one.
// NOTE: the replacement applies to the whole test program; it only counts and
// forwards, so other tests see no difference.
#include "tests/support/alloc_counter.hpp"

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> g_allocations{0};
void count() { g_allocations.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

extern "C" {
void* __real_malloc(std::size_t);
void* __real_calloc(std::size_t, std::size_t);
void* __real_realloc(void*, std::size_t);
void* __real_aligned_alloc(std::size_t, std::size_t);
int __real_posix_memalign(void**, std::size_t, std::size_t);

void* __wrap_malloc(std::size_t n) {
  count();
  return __real_malloc(n);
}
void* __wrap_calloc(std::size_t k, std::size_t n) {
  count();
  return __real_calloc(k, n);
}
void* __wrap_realloc(void* p, std::size_t n) {
  count();
  return __real_realloc(p, n);
}
void* __wrap_aligned_alloc(std::size_t alignment, std::size_t n) {
  count();
  return __real_aligned_alloc(alignment, n);
}
int __wrap_posix_memalign(void** p, std::size_t alignment, std::size_t n) {
  count();
  return __real_posix_memalign(p, alignment, n);
}
}

void* operator new(std::size_t n) {
  count();
  if (void* p = __real_malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// Catch2 allocates with new(std::nothrow); it must come from malloc as well, or
// ASan reports the free() in operator delete as an alloc-dealloc mismatch.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  count();
  return __real_malloc(n ? n : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace dagrad::test {
long allocation_count() { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace dagrad::test
