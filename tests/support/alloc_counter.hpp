// The number of global operator new calls so far in the test program.
#pragma once

namespace dagrad::test {
long allocation_count();
}
