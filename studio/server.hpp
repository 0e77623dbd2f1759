// The studio's HTTP server (Boost.Beast): the embedded page, the JSON API
// of an Api under /api/, and its events as a text/event-stream at /events,
// behind the door of docs/studio.md: the run's token, the Host and Origin
// checks, and bounds on every request (header and body sizes, the time a
// request may take to arrive, connections at once). Serves from a fixed
// pool of threads; no request path maps to the file system.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "dagrad/studio/api.hpp"

namespace dagrad::studio {

struct ServerOptions {
  std::string host = "127.0.0.1";  // an IPv4/IPv6 address, or "localhost"
  std::uint16_t port = 0;          // 0: a free port
  std::string token;               // required on every request; random_token()
  int threads = 4;                 // the pool that runs connections and Api::handle
  std::size_t max_connections = 64;
  std::size_t max_header = 8 * 1024;                 // request line and headers
  std::chrono::milliseconds request_time{10000};     // first byte to the end of the body
  std::chrono::milliseconds idle_time{30000};        // keep-alive, waiting for a first byte
  std::chrono::milliseconds write_time{10000};       // a write that makes no progress
  std::chrono::milliseconds heartbeat{15000};        // an SSE comment when no event came
};

// 128 bits from the kernel's random source (getrandom), as 32 hex digits.
std::string random_token();

// True for an address that only this machine reaches: 127.0.0.0/8, ::1, "localhost".
bool is_loopback(const std::string& host);

class Server {
 public:
  // Binds now (so port() is known before run()); throws std::runtime_error
  // with one line naming the address on failure (port in use, bad address).
  Server(Api& api, ServerOptions options);
  ~Server();  // stop(), then waits for the threads
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  // "http://127.0.0.1:PORT/?token=TOKEN" (an IPv6 host in brackets; for a
  // wildcard address, loopback).
  std::string url() const;

  // Starts the thread pool and the event pump, and returns.
  void start();
  // Stops accepting, closes every connection and joins the threads. Safe to
  // call more than once, from any thread but a pool thread. Does not call
  // Api::shutdown (the owner of the Api does).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dagrad::studio
