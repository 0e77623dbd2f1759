// Runs the built `dagrad` binary (DAGRAD_CLI_PATH) as a black box for the
// robustness tests: fork + exec in a chosen directory, stdout and stderr
// captured to files, TMPDIR set to that directory (so a temp file left
// anywhere by dagrad is seen), and a wall-clock limit after which the child is
// killed, so a hang fails the test instead of stalling it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace dagrad::robustness {

struct CliResult {
  int exit_code = -1;   // -1 when killed by a signal or timed out
  int signal = 0;       // the signal that ended it, 0 if it exited
  bool timed_out = false;
  std::string out, err;
};

// How the child runs, beyond its arguments.
struct CliLimits {
  std::chrono::seconds wall{60};
  std::uint64_t address_space = 0;  // ulimit -v in bytes; 0: unchanged
  std::vector<std::string> launcher = {};  // dagrad runs under it: {"mpirun", "-np", "2"}
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A running `dagrad args...` in `dir`.
class CliProcess {
 public:
  CliProcess(const std::filesystem::path& dir, const std::vector<std::string>& args, CliLimits limits = {})
      : dir_(dir), limits_(limits), started_(std::chrono::steady_clock::now()) {
    const auto out_file = dir / ".cli-stdout", err_file = dir / ".cli-stderr";
    std::vector<std::string> argv_s = limits.launcher;
    argv_s.push_back(DAGRAD_CLI_PATH);
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;  // built before fork: the child only makes syscalls
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string tmpdir = "TMPDIR=" + dir.string();
    std::vector<std::string> env_s{tmpdir};
    for (char** e = environ; *e; ++e)
      if (!std::string_view(*e).starts_with("TMPDIR=")) env_s.emplace_back(*e);
    std::vector<char*> env;
    for (std::string& e : env_s) env.push_back(e.data());
    env.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::chdir(dir.c_str()) != 0) ::_exit(126);
      const int o = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0) ::_exit(126);
      ::dup2(o, STDOUT_FILENO);
      ::dup2(e, STDERR_FILENO);
      if (limits.address_space) {
        const rlimit r{limits.address_space, limits.address_space};
        ::setrlimit(RLIMIT_AS, &r);
      }
      ::execve(argv[0], argv.data(), env.data());
      ::_exit(127);
    }
  }

  pid_t pid() const { return pid_; }

  // Waits for the end (killing it past the wall limit) and collects its output.
  CliResult wait() {
    CliResult r;
    const auto deadline = started_ + limits_.wall;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        r.timed_out = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!r.timed_out && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (!r.timed_out && WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    r.out = slurp(dir_ / ".cli-stdout");
    r.err = slurp(dir_ / ".cli-stderr");
    std::filesystem::remove(dir_ / ".cli-stdout");
    std::filesystem::remove(dir_ / ".cli-stderr");
    return r;
  }

 private:
  std::filesystem::path dir_;
  CliLimits limits_;
  std::chrono::steady_clock::time_point started_;
  pid_t pid_ = -1;
};

// `dagrad args...` in `dir`, killed after `limit`.
inline CliResult run_cli(const std::filesystem::path& dir, const std::vector<std::string>& args,
                         std::chrono::seconds limit = std::chrono::seconds(60)) {
  return CliProcess(dir, args, {limit, 0}).wait();
}

inline CliResult run_cli(const std::filesystem::path& dir, const std::vector<std::string>& args,
                         const CliLimits& limits) {
  return CliProcess(dir, args, limits).wait();
}

// The subcommands the binary lists in `dagrad --help`.
inline std::vector<std::string> cli_commands(const std::filesystem::path& dir) {
  const CliResult r = run_cli(dir, {"--help"});
  std::vector<std::string> names;
  std::istringstream lines(r.out);
  bool in_list = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("Subcommands:")) {
      in_list = true;
      continue;
    }
    if (!in_list || line.size() < 3 || line[0] != ' ') continue;
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

// Non-empty lines of `text`.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) out.push_back(line);
  return out;
}

}  // namespace dagrad::robustness
