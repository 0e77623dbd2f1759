// libFuzzer target: any bytes as an .npz, read both as plain arrays and as a
// dagrad parameter file (version and checksum in the zip comment).
#include <cstdint>
#include <span>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/npz.hpp"
#include "dagrad/io/params.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  try {
    dagrad::io::read_npz_bytes(bytes, "fuzz.npz");
  } catch (const dagrad::InputError&) {
  }
  try {
    dagrad::io::load_params_bytes(bytes, "fuzz.npz");
  } catch (const dagrad::InputError&) {
  }
  return 0;
}
