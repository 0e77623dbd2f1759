// The files one run reads and writes, checked together before any work, so
// that no run destroys data or fails after writing half its outputs:
//   - an output may not be one of the inputs (the same file by device and
//     inode, or the same path once symlinks and ".." are resolved, for a file
//     that does not exist yet): --cost-log onto --data is refused;
//   - two outputs may not be one file (one would be lost);
//   - an output may not be a directory, a block device or a socket; its
//     directory must exist and be writable (a temp file is made there and
//     removed again); a character device or FIFO (/dev/null, a pipe) is
//     fine, and several outputs may share one, but a FIFO needs its reader
//     already: it is opened now, without waiting, and held for the writer;
//   - a writer that would refuse its path later refuses it now: a figure
//     that is not .svg/.png/.pdf (or needs rsvg-convert), a graph picture
//     without Graphviz.
// Every subcommand that writes a file fills one OutputSet with its flags and
// calls check() first.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dagrad::cli {

enum class OutputKind {
  file,     // any bytes: .npz, .csv, ...
  figure,   // viz::write_figure: .svg, .png, .pdf
  graph,    // viz::write_dot_file: .dot, .gv, .svg, .png, .pdf
};

class OutputSet {
 public:
  // `flag` names the path in messages ("--data"). An empty path is skipped,
  // and so is "-" (stdout) for an output.
  OutputSet& input(std::string_view flag, const std::string& path);
  OutputSet& output(std::string_view flag, const std::string& path, OutputKind kind = OutputKind::file);

  // InputError naming the flags and the path at fault; nothing is created.
  void check() const;

 private:
  struct Entry {
    std::string flag, path;
    OutputKind kind;
  };
  std::vector<Entry> inputs_, outputs_;
};

}  // namespace dagrad::cli
