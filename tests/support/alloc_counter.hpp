// The number of heap allocations so far in the test program: global operator
// new calls and the C allocators (malloc, calloc, realloc, aligned_alloc,
// posix_memalign) called from the program's and libdagrad's code.
#pragma once

namespace dagrad::test {
long allocation_count();
}
