// The studio's seam between HTTP and the engine. studio/server.cpp (HTTP,
// token, Host/Origin checks, size limits, SSE) turns each request under
// /api/ into an ApiRequest and hands it to an Api; studio/engine.cpp (the
// training session, node values, step-through, gradcheck, downloads)
// implements Api. Neither side knows the other's internals, so the engine is
// tested without sockets and the server with a small fake engine.
//
// Contract (docs/studio.md "JSON API" is the reference):
//   - `path` is the part after "/api/", e.g. "state", "node", "config".
//   - `query` holds the decoded query parameters (the token already removed).
//   - `body` is the raw request body, at most ApiLimits::max_body bytes
//     (the server answers 413 before an Api sees a larger one).
//   - Errors are answers, never exceptions: status 400 with
//     {"error": "<one line naming what is at fault>"}, 404 for an unknown path.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace dagrad::studio {

struct ApiRequest {
  std::string method;                        // "GET" or "POST"
  std::string path;                          // after "/api/"
  std::map<std::string, std::string> query;  // decoded
  std::string body;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string filename;  // non-empty: sent as an attachment (downloads)
};

struct ApiLimits {
  static constexpr std::size_t max_body = std::size_t{8} << 20;  // uploads: 8 MiB
};

class Api {
 public:
  virtual ~Api() = default;
  // Thread-safe: the server calls it from several connection threads at once.
  virtual ApiResponse handle(const ApiRequest& request) = 0;
  // The next server-sent event after `after` (a sequence number; 0 = the
  // latest now), waiting at most `wait`. Returns the event's sequence number
  // and sets `data` to one line of JSON, or returns `after` when none came.
  // Events are throttled by the engine (at most ~30 a second), so a slow
  // client misses frames instead of queueing them.
  virtual std::uint64_t next_event(std::uint64_t after, std::chrono::milliseconds wait,
                                   std::string& data) = 0;
  // Stops training threads; called once by the server on shutdown.
  virtual void shutdown() = 0;
};

}  // namespace dagrad::studio
