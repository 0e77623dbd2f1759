// HDF5 files through the libhdf5 C API: the numeric datasets at the root of a
// file, such as the course's train_set_x (209,64,64,3) uint8 and train_set_y
// (209,) int64. libhdf5's own error printing is switched off; failures become
// InputError naming the file.
#pragma once

#include <chrono>
#include <filesystem>

#include "dagrad/io/npz.hpp"

namespace dagrad::io {

// Every integer or float dataset at the root, in name order, values as double
// and `descr` saying the stored type ("|u1", "<i8", "<f4", ...). Other
// datasets (strings such as list_classes) and groups are skipped.
// libhdf5 runs in a forked child (io/child_process.hpp): a file that makes it
// crash, or hang for `limit`, is an InputError naming the file.
NamedArrays read_h5(const std::filesystem::path& path,
                    std::chrono::milliseconds limit = std::chrono::seconds(60));

// The same datasets' names, shapes and types, without their values.
NamedArrays list_h5(const std::filesystem::path& path,
                    std::chrono::milliseconds limit = std::chrono::seconds(60));
// The indices [begin, end) of `axis` of one dataset, the other axes whole
// (an HDF5 hyperslab): one process's part of a data file. Only those values
// are read; libhdf5 runs in a child as for read_h5.
Array read_h5_range(const std::filesystem::path& path, const std::string& name, int axis,
                    std::int64_t begin, std::int64_t end,
                    std::chrono::milliseconds limit = std::chrono::seconds(60));

// The same reader in this process, without the child. NOTE: a corrupt file
// can crash this process inside libhdf5; only fuzz/fuzz_h5 calls it, so the
// sanitizers see our own code's faults directly.
NamedArrays read_h5_in_process(const std::filesystem::path& path);

// Writes each array as a root dataset, stored as the type its `descr` names
// ("|u1", "<i4", "<i8", "<f4", otherwise "<f8"). Atomic (AtomicFile).
void write_h5(const std::filesystem::path& path, const NamedArrays& arrays);

}  // namespace dagrad::io
