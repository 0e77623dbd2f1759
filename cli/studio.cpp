// dagrad studio: a local web page that trains a net live and steps through
// its derived graph node by node (docs/studio.md).
//   dagrad studio [--data FILE | --generate planar|circles|moons] [--model F.dagrad]
//                 [--port N] [--host ADDR]
// Prints one line, "studio: http://127.0.0.1:PORT/?token=TOKEN", and serves
// until SIGINT or SIGTERM; then stops training and exits 0.
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "dagrad/graph/error.hpp"

#ifdef DAGRAD_WITH_STUDIO
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>

#include "dagrad/studio/engine.hpp"
#include "dagrad/studio/server.hpp"
#endif

namespace dagrad::cli {

namespace {

struct StudioArgs {
  std::string data, generate, model, host = "127.0.0.1";
  std::int64_t port = 0;
};

#ifdef DAGRAD_WITH_STUDIO

// Ctrl-C and SIGTERM write a byte here; the main thread waits for it. (A
// pipe, because the signal may land on any of the server's threads, and a
// handler may do little more than write(2).)
int stop_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int) {
  const int saved = errno;
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(stop_pipe[1], &byte, 1);
  errno = saved;
}

void wait_for_stop_signal() {
  char byte = 0;
  while (::read(stop_pipe[0], &byte, 1) < 0 && errno == EINTR) {
  }
}

void catch_stop_signals() {
  if (::pipe2(stop_pipe, O_CLOEXEC) != 0) throw Error("cannot create the studio's signal pipe");
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // a browser that closes a tab mid-answer ends that answer only
}

int run_studio(const StudioArgs& a) {
  studio::EngineOptions engine;
  engine.data_path = a.data;
  engine.generate = a.generate;
  engine.model_path = a.model;
  std::unique_ptr<studio::Api> api = studio::make_engine(engine);

  studio::ServerOptions options;
  options.host = a.host;
  options.port = static_cast<std::uint16_t>(a.port);
  options.token = studio::random_token();
  studio::Server server(*api, options);  // binds now: a busy port fails here, before the URL line
  if (!studio::is_loopback(a.host))
    fmt::print(stderr,
               "dagrad: warning: --host {}: the studio is open to other machines; the token is its only lock, "
               "and it travels unencrypted\n",
               a.host);
  catch_stop_signals();
  server.start();
  fmt::print("studio: {}\n", server.url());
  std::fflush(stdout);  // a test or script reads this line from a pipe
  wait_for_stop_signal();
  server.stop();
  api->shutdown();
  return 0;
}

#else

int run_studio(const StudioArgs&) {
  throw InputError("this build has no studio (it needs Boost.Beast from libboost-dev: configure with "
                   "-DDAGRAD_WITH_STUDIO=ON)");
}

#endif

}  // namespace

void add_studio(CLI::App& app, Commands& out) {
  auto a = std::make_shared<StudioArgs>();
  CLI::App* c = app.add_subcommand("studio", "serve a local web page that trains a net live and steps through backprop");
  c->add_option("--data", a->data, "a data set to open: CSV (label last), .h5 or .npz");
  c->add_option("--generate", a->generate, "a generated data set to open (the default: planar)")
      ->check(CLI::IsMember({"planar", "circles", "moons"}));
  c->add_option("--model", a->model, "a saved model (.dagrad) to open; training it resumes it");
  c->add_option("--port", a->port, "the port to listen on (0: a free one)");
  c->add_option("--host", a->host, "the address to listen on; other than loopback, a warning");
  out.push_back({c, [a] { return run_studio(*a); }});
}

}  // namespace dagrad::cli
