// Counts heap allocations by replacing the global operator new, so that
// runtime tests can check that a training step allocates nothing.
// NOTE: the replacement applies to the whole test program; it only counts and
// forwards to malloc, so other tests see no difference.
#include "tests/support/alloc_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// Catch2 allocates with new(std::nothrow); it must come from malloc as well, or
// ASan reports the free() in operator delete as an alloc-dealloc mismatch.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace dagrad::test {
long allocation_count() { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace dagrad::test
