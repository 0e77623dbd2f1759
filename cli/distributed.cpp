#include "cli/distributed.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "dagrad/dist/comm.hpp"

namespace dagrad::cli {

bool is_root() { return dist::Comm::world().rank() == 0; }

void add_bucket_option(CLI::App* cmd, double& bucket_mb) {
  cmd->add_option("--bucket-mb", bucket_mb,
                  "data-parallel runs (mpirun): MiB of gradients summed over the processes at once; "
                  "a bucket starts as soon as its gradients exist, dW[L] first");
}

namespace {

// The process that differs from rank 0, the first if several do, and its
// account of the difference, on every process; nullopt when none differs.
std::optional<std::pair<int, std::string>> first_difference(const std::string& mine) {
  dist::Comm& world = dist::Comm::world();
  const int n = world.size();
  const double first = world.max(mine.empty() ? 0.0 : static_cast<double>(n - world.rank()));
  if (first == 0.0) return std::nullopt;
  const int rank = n - static_cast<int>(first);
  std::string text = mine;
  world.broadcast(text, rank);
  return std::pair{rank, text};
}

std::vector<std::string> split_args(const std::string& joined) {
  std::vector<std::string> out;
  std::size_t at = 0;
  for (std::size_t end; (end = joined.find('\0', at)) != std::string::npos; at = end + 1)
    out.push_back(joined.substr(at, end - at));
  return out;
}

// "'--batch-size 16'": the argument at i with its flag (the flag before a
// value, the value after a flag), or "nothing" past the end.
std::string shown(const std::vector<std::string>& a, std::size_t i) {
  if (i >= a.size()) return "nothing";
  auto is_flag = [](const std::string& s) { return s.size() > 1 && s[0] == '-' && !std::isdigit(static_cast<unsigned char>(s[1])); };
  std::string out = a[i];
  if (is_flag(a[i]) && i + 1 < a.size() && !is_flag(a[i + 1])) out += " " + a[i + 1];
  else if (!is_flag(a[i]) && i > 1 && is_flag(a[i - 1])) out = a[i - 1] + " " + out;
  return fmt::format("'{}'", out);
}

// How this process's arguments differ from rank 0's, or "".
std::string describe(const std::vector<std::string>& root, const std::vector<std::string>& mine) {
  std::size_t i = 0;
  while (i < root.size() && i < mine.size() && root[i] == mine[i]) ++i;
  if (i == root.size() && i == mine.size()) return "";
  const auto& world = dist::Comm::world();
  if (i == 0)
    return fmt::format("process {} of {} runs the command {} where process 0 runs {}", world.rank(), world.size(),
                       shown(mine, 0), shown(root, 0));
  return fmt::format("process {} of {} was started with {} where process 0 has {}", world.rank(), world.size(),
                     shown(mine, i), shown(root, i));
}

}  // namespace

void check_same_command(int argc, char** argv) {
  dist::Comm& world = dist::Comm::world();
  if (!world.distributed()) return;
  std::string joined;
  for (int k = 1; k < argc; ++k) (joined += argv[k]) += '\0';
  std::string root = joined;
  world.broadcast(root);
  const std::string mine = describe(split_args(root), split_args(joined));
  if (const auto d = first_difference(mine))
    throw JobError(fmt::format("{}: every process of an mpirun job must run the same command with the same "
                               "flags", d->second));
}

void check_same(std::string_view what, const std::string& mine) {
  dist::Comm& world = dist::Comm::world();
  if (!world.distributed()) return;
  std::string root = mine;
  world.broadcast(root);
  const std::string differs =
      root == mine ? "" : fmt::format("process {} of {} has {} {} where process 0 has {}", world.rank(), world.size(),
                                      what, mine, root);
  if (const auto d = first_difference(differs))
    throw JobError(fmt::format("{}: every process of an mpirun job must read the same data set", d->second));
}

void check_same_data(std::string_view flag, const io::Dataset& d) {
  check_same(flag, fmt::format("{} samples of {} features and {} label row(s)", d.total_samples(), d.X.rows(),
                               d.Y.rows()));
}

void write_pid_file() {
  const char* dir = std::getenv("DAGRAD_PID_DIR");
  if (!dir || !*dir) return;
  const auto path = std::filesystem::path(dir) / fmt::format("rank{}.pid", dist::Comm::world().rank());
  std::ofstream(path) << ::getpid() << "\n";
}

}  // namespace dagrad::cli
