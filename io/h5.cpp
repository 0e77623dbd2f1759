#include "dagrad/io/h5.hpp"

#include <hdf5.h>

#include <unistd.h>

#include <bit>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/child_process.hpp"
#include "dagrad/io/read_file.hpp"

namespace dagrad::io {
namespace {

// Owns one hid_t and closes it with the matching H5?close.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

[[noreturn]] void fail(const std::filesystem::path& path, std::string_view what) {
  throw InputError(fmt::format("{}: HDF5 error while {}", path.string(), what));
}

void quiet_hdf5() {
  // libhdf5 prints its error stack to stderr by default; we report our own.
  H5open();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

// NOTE: libhdf5 trusts much of a file's metadata, so garbage is refused by its
// signature before the library sees it (no user block supported).
// Only a regular file is opened (a FIFO or a device would block or never end).
void check_signature(const std::filesystem::path& path) {
  static constexpr char signature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  char head[8] = {};
  const int fd = open_regular_file(path);
  const ssize_t got = ::read(fd, head, sizeof head);
  ::close(fd);
  if (got != 8 || std::memcmp(head, signature, 8) != 0)
    throw InputError(fmt::format("{}: not an HDF5 file (no HDF5 signature at byte 0)", path.string()));
}

// ---- reads outside the named file ------------------------------------------------
//
// libhdf5 opens other files by names the file itself chooses ("/etc/passwd",
// "../x", "/proc/self/environ"): a dataset's values in an external raw file
// (H5Pset_external), a virtual dataset (values mapped from other files), and
// an external or user-defined link. dagrad reads only the files it is given,
// so all of them are refused, naming the file and the dataset, as ONNX
// external data is refused.

std::string refusal(const std::filesystem::path& path, const std::string& name, std::string_view what) {
  return fmt::format("{}: dataset '{}' {}; dagrad reads only the files it is given: store the values in {} itself",
                     path.string(), excerpt(name, 60), what, path.filename().string());
}

// Storage in other files: external raw files or a virtual layout.
void check_storage(const std::filesystem::path& path, hid_t set, const std::string& name) {
  const Handle plist(H5Dget_create_plist(set), H5Pclose);
  if (!plist.ok()) fail(path, fmt::format("reading the storage of '{}'", name));
  if (H5Pget_external_count(plist.get()) != 0) {
    char file[4096] = {};
    off_t offset = 0;
    hsize_t size = 0;
    if (H5Pget_external(plist.get(), 0, sizeof file - 1, file, &offset, &size) < 0)
      fail(path, fmt::format("reading the external storage of '{}'", name));
    throw InputError(refusal(path, name, fmt::format("keeps its values in the external file '{}'", excerpt(file, 60))));
  }
  if (H5Pget_layout(plist.get()) == H5D_VIRTUAL)
    throw InputError(refusal(path, name, "is a virtual dataset, whose values come from other files"));
}

// The root link `name` must be hard or soft (both stay in this file).
void check_link(const std::filesystem::path& path, hid_t file, const std::string& name) {
  H5L_info_t info;
  if (H5Lget_info(file, name.c_str(), &info, H5P_DEFAULT) < 0) fail(path, fmt::format("inspecting '{}'", name));
  if (info.type == H5L_TYPE_HARD || info.type == H5L_TYPE_SOFT) return;
  std::string target = "another file";
  if (info.type == H5L_TYPE_EXTERNAL && info.u.val_size > 0 && info.u.val_size < (1u << 20)) {
    std::vector<char> value(info.u.val_size);
    const char *target_file = nullptr, *target_object = nullptr;
    unsigned flags = 0;
    if (H5Lget_val(file, name.c_str(), value.data(), value.size(), H5P_DEFAULT) >= 0 &&
        H5Lunpack_elink_val(value.data(), value.size(), &flags, &target_file, &target_object) >= 0 && target_file)
      target = fmt::format("the file '{}'", excerpt(target_file, 60));
  }
  throw InputError(refusal(path, name, fmt::format("is {} link to {}",
                                                   info.type == H5L_TYPE_EXTERNAL ? "an external" : "a user-defined",
                                                   target)));
}

// A soft link can lead on to an external link; libhdf5 asks this callback
// before it follows one, and a negative answer stops it. The file it named
// is kept for the message.
extern "C" herr_t refuse_external_link(const char*, const char*, const char* child_file, const char*, unsigned*,
                                       hid_t, void* refused) {
  try {  // no exception may cross libhdf5's C frames
    *static_cast<std::string*>(refused) = child_file && *child_file ? child_file : "another file";
  } catch (...) {
  }
  return -1;
}

// Access properties under which no external link is followed; the caller
// owns the list (a Handle with H5Pclose). `refused` gets the file of a link
// that was not followed.
hid_t no_external_links(hid_t list_class, std::string& refused) {
  const hid_t plist = H5Pcreate(list_class);
  if (plist >= 0 && H5Pset_elink_cb(plist, refuse_external_link, &refused) >= 0) return plist;
  if (plist >= 0) H5Pclose(plist);
  throw InputError("libhdf5: cannot make a link access property list");
}

// After a failed open or lookup of `name`: the refusal, when the failure was
// an external link not followed.
void check_refused(const std::filesystem::path& path, const std::string& name, const std::string& refused) {
  if (!refused.empty())
    throw InputError(refusal(path, name, fmt::format("leads through an external link to the file '{}'",
                                                     excerpt(refused, 60))));
}

// The indices [begin, end) of one axis of a dataset: a hyperslab.
struct Cut {
  int axis = -1;  // -1: the whole dataset
  std::int64_t begin = 0, end = 0;
};

// The hyperslab `cut` of a dataset whose whole shape `a` holds: only those
// values are read from the file.
Array read_cut(const std::filesystem::path& path, hid_t set, hid_t space, const std::string& name,
               const Cut& cut, Array a) {
  const auto axis = static_cast<std::size_t>(cut.axis);
  if (axis >= a.shape.size() || cut.begin < 0 || cut.end < cut.begin || cut.end > a.shape[axis])
    throw InputError(fmt::format("{}: dataset '{}' has no values [{}, {}) on axis {}", path.string(), name,
                                 cut.begin, cut.end, cut.axis));
  std::vector<hsize_t> start(a.shape.size(), 0), count(a.shape.begin(), a.shape.end());
  start[axis] = static_cast<hsize_t>(cut.begin);
  count[axis] = static_cast<hsize_t>(cut.end - cut.begin);
  a.shape[axis] = cut.end - cut.begin;
  std::uint64_t n = 1;
  for (const hsize_t c : count) n *= c;
  a.values.resize(n);
  if (n == 0) return a;
  const Handle memory(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
  if (!memory.ok() || H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0 ||
      H5Dread(set, H5T_NATIVE_DOUBLE, memory.get(), space, H5P_DEFAULT, a.values.data()) < 0)
    fail(path, fmt::format("reading part of dataset '{}'", name));
  return a;
}

// "|u1", "<i8", "<f4" ... for an integer or float type; "" for anything else.
std::string descr_of(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT && (size == 4 || size == 8)) return size == 4 ? "<f4" : "<f8";
  if (cls != H5T_INTEGER || (size != 1 && size != 2 && size != 4 && size != 8)) return "";
  const char kind = H5Tget_sign(type) == H5T_SGN_NONE ? 'u' : 'i';
  return fmt::format("{}{}{}", size == 1 ? '|' : '<', kind, size);
}

Array read_dataset(const std::filesystem::path& path, hid_t file, const std::string& name,
                   std::uintmax_t file_size, const Cut& cut = {}, bool values = true) {
  check_link(path, file, name);
  std::string refused;
  const Handle access(no_external_links(H5P_DATASET_ACCESS, refused), H5Pclose);
  const Handle set(H5Dopen2(file, name.c_str(), access.get()), H5Dclose);
  check_refused(path, name, refused);
  if (!set.ok()) fail(path, fmt::format("opening dataset '{}'", name));
  const Handle type(H5Dget_type(set.get()), H5Tclose);
  const Handle space(H5Dget_space(set.get()), H5Sclose);
  if (!type.ok() || !space.ok()) fail(path, fmt::format("reading the type of '{}'", name));
  check_storage(path, set.get(), name);
  Array a;
  a.descr = descr_of(type.get());
  if (a.descr.empty()) return a;
  const int nd = H5Sget_simple_extent_ndims(space.get());
  if (nd < 0 || nd > 32) fail(path, fmt::format("reading the shape of '{}'", name));
  std::vector<hsize_t> dims(static_cast<std::size_t>(nd));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  // Deflate packs at most 1032:1, so a dataset larger than that is corruption
  // (plus 1 Mi values of slack for tiny files; the slack is not multiplied:
  // fuzzing found a 4 KB file whose 1-byte dataset claimed 2.3 GB of doubles).
  std::uint64_t count = 1;
  const std::uint64_t limit = file_size * 1032 / H5Tget_size(type.get()) + (1u << 20);
  for (const hsize_t d : dims) {
    if (d != 0 && count > limit / d)
      throw InputError(fmt::format("{}: dataset '{}' claims more values than the file can hold", path.string(), name));
    count *= d;
    a.shape.push_back(static_cast<std::int64_t>(d));
  }
  a.dtype = a.descr == "<f4" ? DType::f32 : DType::f64;
  if (!values) return a;
  if (cut.axis >= 0) return read_cut(path, set.get(), space.get(), name, cut, std::move(a));
  a.values.resize(count);
  if (count > 0 && H5Dread(set.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.values.data()) < 0)
    fail(path, fmt::format("reading dataset '{}'", name));
  return a;
}

// Root link names in name order.
std::vector<std::string> root_names(const std::filesystem::path& path, hid_t file) {
  H5G_info_t info;
  if (H5Gget_info(file, &info) < 0) fail(path, "listing the root group");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) fail(path, "listing the root group");
    std::string name(static_cast<std::size_t>(len) + 1, '\0');
    H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<std::size_t>(len));
    names.push_back(std::move(name));
  }
  return names;
}

// Opens the file and calls f(file, file size) in this process.
template <class F>
auto with_h5_file(const std::filesystem::path& path, F f) {
  check_signature(path);
  quiet_hdf5();
  const Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) fail(path, "opening the file (corrupt or truncated?)");
  return f(file.get(), std::filesystem::file_size(path));
}

// Every integer or float dataset at the root, with its values or without.
NamedArrays root_datasets(const std::filesystem::path& path, bool values) {
  return with_h5_file(path, [&](hid_t file, std::uintmax_t file_size) {
    NamedArrays arrays;
    std::string refused;
    const Handle access(no_external_links(H5P_LINK_ACCESS, refused), H5Pclose);
    for (const std::string& name : root_names(path, file)) {
      check_link(path, file, name);
      H5O_info_t info;
      const herr_t found = H5Oget_info_by_name2(file, name.c_str(), &info, H5O_INFO_BASIC, access.get());
      check_refused(path, name, refused);
      if (found < 0)
        fail(path, fmt::format("inspecting '{}'", name));
      if (info.type != H5O_TYPE_DATASET) continue;
      Array a = read_dataset(path, file, name, file_size, {}, values);
      if (!a.descr.empty()) arrays.emplace_back(name, std::move(a));
    }
    return arrays;
  });
}

}  // namespace

NamedArrays read_h5_in_process(const std::filesystem::path& path) { return root_datasets(path, true); }

namespace {

// The child's arrays on the pipe, little-endian: u64 count, then per array
// u64-prefixed name and descr, a dtype byte, u64 rank, i64 dims, u64 value
// count and the doubles' bits.
class Writer {
 public:
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void text(const std::string& s) {
    u64(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  std::vector<std::uint8_t> bytes;
};

class Reader {
 public:
  Reader(const std::vector<std::uint8_t>& b, const std::filesystem::path& path) : b_(b), path_(path) {}
  std::uint64_t u64() {
    need(8);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{b_[at_ + i]} << (8 * i);
    at_ += 8;
    return v;
  }
  std::string text() {
    const std::uint64_t n = u64();
    need(n);
    std::string s(b_.begin() + static_cast<std::ptrdiff_t>(at_), b_.begin() + static_cast<std::ptrdiff_t>(at_ + n));
    at_ += n;
    return s;
  }
  // Guards each length read from the child against the bytes left.
  void need(std::uint64_t n, std::uint64_t width = 1) const {
    if (n > (b_.size() - at_) / width)
      throw InputError(fmt::format("{}: garbled reply from the HDF5 reader process at byte {}", path_.string(), at_));
  }
  std::uint8_t u8() {
    need(1);
    return b_[at_++];
  }
  bool done() const { return at_ == b_.size(); }

 private:
  const std::vector<std::uint8_t>& b_;
  const std::filesystem::path& path_;
  std::size_t at_ = 0;
};

std::vector<std::uint8_t> encode(const NamedArrays& arrays) {
  Writer w;
  w.u64(arrays.size());
  for (const auto& [name, a] : arrays) {
    w.text(name);
    w.text(a.descr);
    w.bytes.push_back(a.dtype == DType::f32 ? 4 : 8);
    w.u64(a.shape.size());
    for (const std::int64_t d : a.shape) w.u64(static_cast<std::uint64_t>(d));
    w.u64(a.values.size());
    for (const double v : a.values) w.u64(std::bit_cast<std::uint64_t>(v));
  }
  return std::move(w.bytes);
}

NamedArrays decode(const std::vector<std::uint8_t>& bytes, const std::filesystem::path& path) {
  Reader r(bytes, path);
  NamedArrays arrays;
  for (std::uint64_t count = r.u64(); count > 0; --count) {
    Array a;
    std::string name = r.text();
    a.descr = r.text();
    a.dtype = r.u8() == 4 ? DType::f32 : DType::f64;
    const std::uint64_t rank = r.u64();
    r.need(rank, 8);
    for (std::uint64_t k = 0; k < rank; ++k) a.shape.push_back(static_cast<std::int64_t>(r.u64()));
    const std::uint64_t n = r.u64();
    r.need(n, 8);
    a.values.resize(n);
    for (double& v : a.values) v = std::bit_cast<double>(r.u64());
    arrays.emplace_back(std::move(name), std::move(a));
  }
  if (!r.done()) r.need(~std::uint64_t{0});
  return arrays;
}

}  // namespace

NamedArrays list_h5(const std::filesystem::path& path, std::chrono::milliseconds limit) {
  check_signature(path);
  const ChildTask task{path.string(), "libhdf5 crashed while reading the file (corrupt HDF5)", limit};
  return decode(run_in_child(task, [&] { return encode(root_datasets(path, false)); }), path);
}

Array read_h5_range(const std::filesystem::path& path, const std::string& name, int axis, std::int64_t begin,
                    std::int64_t end, std::chrono::milliseconds limit) {
  check_signature(path);
  const ChildTask task{path.string(), "libhdf5 crashed while reading the file (corrupt HDF5)", limit};
  NamedArrays one = decode(run_in_child(task, [&] {
                             return encode(with_h5_file(path, [&](hid_t file, std::uintmax_t size) {
                               return NamedArrays{{name, read_dataset(path, file, name, size, Cut{axis, begin, end})}};
                             }));
                           }),
                           path);
  return std::move(one.front().second);
}

NamedArrays read_h5(const std::filesystem::path& path, std::chrono::milliseconds limit) {
  check_signature(path);  // garbage is refused here, without a child process
  const ChildTask task{path.string(), "libhdf5 crashed while reading the file (corrupt HDF5)", limit};
  return decode(run_in_child(task, [&] { return encode(read_h5_in_process(path)); }), path);
}

namespace {

hid_t file_type_of(const std::string& descr) {
  if (descr == "|u1") return H5T_STD_U8LE;
  if (descr == "<i4") return H5T_STD_I32LE;
  if (descr == "<i8") return H5T_STD_I64LE;
  if (descr == "<f4") return H5T_IEEE_F32LE;
  return H5T_IEEE_F64LE;
}

void write_dataset(const std::filesystem::path& path, hid_t file, const std::string& name, const Array& a) {
  std::size_t count = 1;
  for (const std::int64_t d : a.shape) count *= static_cast<std::size_t>(d);
  if (count != a.values.size())
    throw InputError(fmt::format("{}: dataset '{}' has {} values for its shape's {}", path.string(), name,
                                 a.values.size(), count));
  std::vector<hsize_t> dims(a.shape.begin(), a.shape.end());
  const Handle space(a.shape.empty() ? H5Screate(H5S_SCALAR)
                                     : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                     H5Sclose);
  const Handle set(H5Dcreate2(file, name.c_str(), file_type_of(a.descr), space.get(), H5P_DEFAULT,
                              H5P_DEFAULT, H5P_DEFAULT),
                   H5Dclose);
  if (!space.ok() || !set.ok()) fail(path, fmt::format("creating dataset '{}'", name));
  if (!a.values.empty() &&
      H5Dwrite(set.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.values.data()) < 0)
    fail(path, fmt::format("writing dataset '{}'", name));
}

}  // namespace

void write_h5(const std::filesystem::path& path, const NamedArrays& arrays) {
  AtomicFile out(path);
  quiet_hdf5();
  {
    const Handle file(H5Fcreate(out.temp_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!file.ok()) fail(path, "creating the file");
    for (const auto& [name, a] : arrays) write_dataset(path, file.get(), name, a);
  }
  out.commit();
}

}  // namespace dagrad::io
