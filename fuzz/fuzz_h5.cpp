// libFuzzer target: any bytes as an HDF5 file. libhdf5 opens paths, so the
// bytes go to one temp file per process first. It calls the in-process reader
// (read_h5_in_process), not read_h5's forked child, so ASan/UBSan see faults
// in our code directly. NOTE: libhdf5 itself is not instrumented and crashes
// on some corrupt files; fuzz/smoke.sh tells its crashes from ours by stack.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/h5.hpp"

namespace {

const std::string& scratch_path() {
  static const std::string path = [] {
    std::string p = "/tmp/dagrad-fuzz-h5-XXXXXX";
    const int fd = ::mkstemp(p.data());
    if (fd < 0) std::abort();
    ::close(fd);
    return p;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = scratch_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    dagrad::io::read_h5_in_process(path);
  } catch (const dagrad::InputError&) {
  }
  return 0;
}
