// libFuzzer target: any bytes as CSV text.
#include <cstdint>
#include <string_view>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    dagrad::io::parse_csv(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.csv");
  } catch (const dagrad::InputError&) {
  }
  return 0;
}
