// libFuzzer target: any bytes as an .npy. InputError is the expected outcome
// for garbage; any other exception escapes and aborts, which libFuzzer reports.
#include <cstdint>
#include <span>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const dagrad::io::Array a = dagrad::io::read_npy_bytes(std::span(data, size), "fuzz.npy");
    if (a.shape.size() <= 2) dagrad::io::to_matrix(a, "fuzz.npy");
  } catch (const dagrad::InputError&) {
  }
  return 0;
}
