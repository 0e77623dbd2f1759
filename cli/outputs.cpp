#include "cli/outputs.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/viz/dot.hpp"
#include "dagrad/viz/svg.hpp"

namespace dagrad::cli {

namespace {

namespace fs = std::filesystem;

// What a path names: an existing file by device and inode, or, for a file not
// there yet, its absolute path with symlinks and ".." resolved.
struct Identity {
  bool exists = false;
  bool stream = false;  // a character device or FIFO: outputs may share it
  dev_t dev = 0;
  ino_t ino = 0;
  fs::path path;

  bool same_as(const Identity& o) const {
    if (exists && o.exists) return dev == o.dev && ino == o.ino;
    return !exists && !o.exists && path == o.path;
  }
};

Identity identify(const std::string& p) {
  Identity id;
  struct stat st{};
  if (::stat(p.c_str(), &st) == 0) {
    id.exists = true;
    id.stream = S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode);
    id.dev = st.st_dev;
    id.ino = st.st_ino;
    return id;
  }
  std::error_code ec;
  const fs::path target = io::resolve_symlinks(p);
  id.path = fs::weakly_canonical(fs::absolute(target, ec), ec);
  if (ec) id.path = fs::absolute(target).lexically_normal();
  return id;
}

std::string quoted(const std::string& path) { return fmt::format("'{}'", path); }

void check_kind(const std::string& flag, const std::string& path, OutputKind kind) {
  try {
    if (kind == OutputKind::figure) viz::check_figure_path(path);
    if (kind == OutputKind::graph) viz::check_dot_path(path);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", flag, e.what()));
  }
}

// Creates (and at once removes) the temp file the writer will use, so a
// missing or read-only directory, a directory or a block device at the path
// fail now. A device or FIFO is opened now, without waiting, and held open
// for the writer (io::hold_stream_output): a FIFO with no reader fails here,
// before the work, instead of hanging after it.
void probe(const std::string& flag, const std::string& path, const Identity& id) {
  try {
    if (id.stream) io::hold_stream_output(path);
    else const io::AtomicFile probe(path);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", flag, e.what()));
  }
}

}  // namespace

OutputSet& OutputSet::input(std::string_view flag, const std::string& path) {
  if (!path.empty()) inputs_.push_back({std::string(flag), path, OutputKind::file});
  return *this;
}

OutputSet& OutputSet::output(std::string_view flag, const std::string& path, OutputKind kind) {
  if (!path.empty() && path != "-") outputs_.push_back({std::string(flag), path, kind});
  return *this;
}

void OutputSet::check() const {
  std::vector<Identity> ins, outs;
  for (const Entry& e : inputs_) ins.push_back(identify(e.path));
  for (const Entry& e : outputs_) outs.push_back(identify(e.path));
  for (std::size_t k = 0; k < outputs_.size(); ++k) {
    const Entry& out = outputs_[k];
    for (std::size_t i = 0; i < inputs_.size(); ++i)
      if (ins[i].exists && outs[k].same_as(ins[i]))
        throw InputError(fmt::format("{} {} is the same file as {} {}: writing it would destroy the input; "
                                     "choose another path",
                                     out.flag, quoted(out.path), inputs_[i].flag, quoted(inputs_[i].path)));
    for (std::size_t j = 0; j < k; ++j)
      if (!outs[k].stream && outs[k].same_as(outs[j]))
        throw InputError(fmt::format("{} {} and {} {} are the same file: one output would be lost; "
                                     "give each its own path",
                                     outputs_[j].flag, quoted(outputs_[j].path), out.flag, quoted(out.path)));
    check_kind(out.flag, out.path, out.kind);
    probe(out.flag, out.path, outs[k]);
  }
}

}  // namespace dagrad::cli
