// The studio's HTTP server on Boost.Beast (asynchronous, one strand per
// connection, a fixed pool of threads). Beast's parser bounds the header and
// body; a tcp_stream deadline bounds the time a request may take, which is
// what cuts a slow client (slowloris) that trickles bytes. The event stream
// at /events is fed by one pump thread that asks Api::next_event and hands
// each frame to every subscriber; a subscriber that is still writing keeps
// only the newest frame, so a slow or dead client never holds the pump, and
// training never waits on a socket.
// NOTE: Debian's cpp-httplib 0.11.4 was tried first: it reads a whole
// request line or header line into memory before checking its length (a
// 200 MB request line grew the process by 200 MB), and it has no deadline
// for a request as a whole; hence Beast.
#include "dagrad/studio/server.hpp"

#include <sys/random.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dagrad/studio/assets.hpp"

namespace dagrad::studio {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// The page runs only its own files: no inline script, nothing from the
// network. Inline styles are allowed for KaTeX's style attributes.
constexpr const char* content_security_policy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// Equal strings, in time that depends on the lengths only (no early exit
// that would let a client find the token byte by byte).
bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded: %XY and '+' for a space.
std::optional<std::string> form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A request target in origin form, "/path?query". The path stays as sent
// (asset names are plain, so an escaped byte simply matches nothing).
struct Target {
  std::string path;
  std::map<std::string, std::string> query;  // decoded; the first of a repeated key
  std::optional<std::string> token;          // the query's `token`, taken out of `query`
};

// std::nullopt: not origin form, or a malformed %-escape in the query.
std::optional<Target> parse_target(std::string_view target) {
  if (target.empty() || target[0] != '/') return std::nullopt;
  Target t;
  const std::size_t q = target.find('?');
  t.path = std::string(target.substr(0, q));
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    auto key = form_decode(item.substr(0, eq));
    auto value = form_decode(eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1));
    if (!key || !value) return std::nullopt;
    if (*key == "token") {
      if (!t.token) t.token = std::move(*value);
    } else {
      t.query.emplace(std::move(*key), std::move(*value));
    }
  }
  return t;
}

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "".
std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const std::size_t semi = header.find(';');
    std::string_view item = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.size() > name.size() && item.substr(0, name.size()) == name && item[name.size()] == '=')
      return item.substr(name.size() + 1);
  }
  return {};
}

// "name.csv" as a quoted-string-safe file name (letters, digits, . _ -).
std::string safe_filename(std::string_view name) {
  std::string out;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    out += ok ? c : '_';
  }
  return out.empty() ? std::string("download") : out;
}

// An event's data as SSE lines: one "data:" line per line of it.
std::string sse_frame(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  while (true) {
    const std::size_t nl = data.find('\n');
    std::string_view line = data.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out += "data: ";
    out += line;
    out += '\n';
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
  }
  out += '\n';
  return out;
}

// ---- the door ------------------------------------------------------------------

class Door {
 public:
  Door(const net::ip::address& bound, std::uint16_t port, std::string token)
      : port_(port), token_(std::move(token)), wildcard_(bound.is_unspecified()) {
    const std::string p = std::to_string(port);
    for (std::string h : {std::string("127.0.0.1"), std::string("localhost"), std::string("[::1]"),
                          bound.is_v6() ? "[" + bound.to_string() + "]" : bound.to_string()}) {
      hosts_.push_back(h + ":" + p);
      if (port == 80) hosts_.push_back(h);  // a browser leaves out the default port
    }
  }

  // Host: one of the loopback names or the bound address, with our port; with
  // a wildcard bind, any IP address with our port (a DNS name never: that is
  // what a rebinding page sends).
  bool host_ok(std::string_view host) const {
    const std::string h = to_lower(host);
    if (std::find(hosts_.begin(), hosts_.end(), h) != hosts_.end()) return true;
    if (!wildcard_) return false;
    std::string_view addr = h;
    const std::size_t colon = addr.rfind(':');
    if (colon == std::string_view::npos || addr.substr(colon + 1) != std::to_string(port_)) return false;
    addr = addr.substr(0, colon);
    if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']') addr = addr.substr(1, addr.size() - 2);
    error_code ec;
    net::ip::make_address(std::string(addr), ec);
    return !ec;
  }

  bool origin_ok(std::string_view origin) const {
    constexpr std::string_view scheme = "http://";
    const std::string o = to_lower(origin);
    return o.starts_with(scheme) && host_ok(std::string_view(o).substr(scheme.size()));
  }

  bool token_ok(std::string_view given) const { return equal_constant_time(given, token_); }
  const std::string& token() const { return token_; }
  std::string cookie_name() const { return "dagrad_studio_" + std::to_string(port_); }

 private:
  std::uint16_t port_;
  std::string token_;
  bool wildcard_;
  std::vector<std::string> hosts_;
};

class Session;

// The subscribers of /events and the newest frame (which a new subscriber
// gets at once, so the page draws before training moves).
class Hub {
 public:
  void subscribe(const std::shared_ptr<Session>& s);
  void publish(std::string frame);

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<Session>> subscribers_;
  std::string last_;
};

// What every connection shares; outlives the io_context that runs them.
struct Shared {
  Api& api;
  ServerOptions options;
  Door door;
  Hub hub;
  std::atomic<std::size_t> connections{0};
};

using StringResponse = http::response<http::string_body>;

// ---- one connection ------------------------------------------------------------

enum class Route { page, asset, api, events, unknown };

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Shared& shared)
      : stream_(std::move(socket)), heartbeat_(stream_.get_executor()), shared_(shared) {
    ++shared_.connections;
  }
  ~Session() { --shared_.connections; }

  void start() {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::wait_request, shared_from_this()));
  }

  // From the hub's pump thread: onto this connection's strand.
  void post_offer(std::shared_ptr<const std::string> frame) {
    net::post(stream_.get_executor(), [self = shared_from_this(), frame = std::move(frame)]() mutable {
      self->offer(std::move(frame));
    });
  }

  // On this connection's strand: keep only the newest frame.
  void offer(std::shared_ptr<const std::string> frame) {
    if (!streaming_) return;
    pending_ = std::move(frame);
    if (!writing_) write_event();
  }

 private:
  // Keep-alive: up to idle_time for the first byte of the next request.
  void wait_request() {
    if (buffer_.size() > 0) return read_header();
    stream_.expires_after(shared_.options.idle_time);
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](error_code ec, std::size_t n) {
      if (ec) return self->close();
      self->buffer_.commit(n);
      self->read_header();
    });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_.options.max_header));
    // No body limit while the header is read: Beast would refuse a large
    // Content-Length there, before the door. on_header checks it after.
    // NOTE: not boost::none, which Beast 1.74 compares as "less than any
    // length", refusing even Content-Length: 0.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    deadline_ = std::chrono::steady_clock::now() + shared_.options.request_time;
    stream_.expires_at(deadline_);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    if (req.version() != 10 && req.version() != 11)
      return refuse(http::status::bad_request, "unsupported HTTP version (this server speaks 1.0 and 1.1)");
    target_ = parse_target(std::string_view(req.target().data(), req.target().size()));
    if (!target_) return refuse(http::status::bad_request, "malformed request target or query");
    if (auto refusal = check_door(req)) return refuse(refusal->first, refusal->second);
    if (const auto length = parser_->content_length(); length && *length > ApiLimits::max_body)
      return refuse(http::status::payload_too_large,
                    fmt::format("request body of {} bytes is over the limit of {} bytes", *length,
                                ApiLimits::max_body));
    parser_->body_limit(ApiLimits::max_body);  // a chunked body, as it comes
    if (to_lower(std::string_view(req[http::field::expect].data(), req[http::field::expect].size())) ==
        "100-continue") {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
      stream_.expires_after(shared_.options.write_time);
      http::async_write(stream_, *cont, [self = shared_from_this(), cont](error_code ec, std::size_t) {
        if (ec) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    stream_.expires_at(deadline_);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    stream_.expires_never();
    handle(parser_->release());
  }

  void on_read_error(error_code ec) {
    if (ec == http::error::header_limit)
      return refuse(http::status::request_header_fields_too_large,
                    fmt::format("request line and headers over {} bytes", shared_.options.max_header));
    if (ec == http::error::body_limit)
      return refuse(http::status::payload_too_large,
                    fmt::format("request body over the limit of {} bytes", ApiLimits::max_body));
    // The client went away, or was too slow (the stream closed the socket).
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted || ec == net::error::bad_descriptor)
      return close();
    // Anything else is a message Beast could not parse.
    refuse(http::status::bad_request, fmt::format("malformed HTTP request ({})", ec.message()));
  }

  static Route route_of(const std::string& path) {
    if (path == "/") return Route::page;
    if (path.starts_with("/assets/")) return Route::asset;
    if (path.starts_with("/api/")) return Route::api;
    if (path == "/events") return Route::events;
    return Route::unknown;
  }

  // docs/studio.md "The door": Host, Origin, token, method, in this order.
  std::optional<std::pair<http::status, std::string>> check_door(const http::request_header<>& req) const {
    using R = std::pair<http::status, std::string>;
    const Door& door = shared_.door;
    const auto host = req[http::field::host];
    if (host.empty() || !door.host_ok(std::string_view(host.data(), host.size())))
      return R{http::status::forbidden, "forbidden: the Host header is not this server's address"};
    if (const auto origin = req.find(http::field::origin); origin != req.end())
      if (!door.origin_ok(std::string_view(origin->value().data(), origin->value().size())))
        return R{http::status::forbidden, "forbidden: the Origin header is not this server's page"};
    const Route route = route_of(target_->path);
    bool token = target_->token && door.token_ok(*target_->token);
    if (const auto header = req.find("X-Dagrad-Token"); !token && header != req.end())
      token = door.token_ok(std::string_view(header->value().data(), header->value().size()));
    if (!token && route != Route::api && route != Route::events) {
      const auto cookies = req[http::field::cookie];
      const std::string name = door.cookie_name();
      const std::string_view value = cookie_value(std::string_view(cookies.data(), cookies.size()), name);
      token = !value.empty() && door.token_ok(value);
    }
    if (!token)
      return R{http::status::forbidden,
               "forbidden: no valid token (open the URL that `dagrad studio` printed)"};
    const http::verb method = req.method();
    const bool allowed = method == http::verb::get || (route == Route::api && method == http::verb::post);
    if (!allowed)
      return R{http::status::method_not_allowed,
               fmt::format("method {} not allowed on {}", std::string_view(req.method_string().data(),
                                                                           req.method_string().size()),
                           target_->path)};
    return std::nullopt;
  }

  void handle(http::request<http::string_body>&& req) {
    switch (route_of(target_->path)) {
      case Route::page: return send_asset(req, "index.html", true);
      case Route::asset: return send_asset(req, target_->path.substr(std::string_view("/assets/").size()), false);
      case Route::api: return send_api(req);
      case Route::events: return start_events(req);
      case Route::unknown: break;
    }
    send(text_response(http::status::not_found, fmt::format("not found: {}", target_->path), req.version(),
                       req.keep_alive()));
  }

  void send_asset(const http::request<http::string_body>& req, const std::string& name, bool page) {
    const EmbeddedAsset* asset = find_asset(name);
    if (!asset)
      return send(text_response(http::status::not_found, fmt::format("not found: {}", target_->path), req.version(),
                                req.keep_alive()));
    StringResponse res{http::status::ok, req.version()};
    res.set(http::field::content_type, asset->content_type);
    res.body().assign(asset->bytes());
    res.keep_alive(req.keep_alive());
    // The page's assets are then asked for by plain URLs: the browser sends
    // this cookie with them (and the API does not take it).
    if (page && target_->token)
      res.set(http::field::set_cookie,
              fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict", shared_.door.cookie_name(),
                          shared_.door.token()));
    send(std::move(res));
  }

  void send_api(const http::request<http::string_body>& req) {
    ApiRequest request;
    request.method = req.method() == http::verb::post ? "POST" : "GET";
    request.path = target_->path.substr(std::string_view("/api/").size());
    request.query = target_->query;
    request.body = req.body();
    ApiResponse answer;
    try {
      answer = shared_.api.handle(request);
    } catch (const std::exception& e) {
      answer = {500, "application/json", nlohmann::json{{"error", std::string("internal error: ") + e.what()}}.dump(), ""};
    }
    if (answer.status < 200 || answer.status > 599) answer.status = 500;
    StringResponse res{static_cast<http::status>(answer.status), req.version()};
    res.set(http::field::content_type, answer.content_type);
    if (!answer.filename.empty())
      res.set(http::field::content_disposition,
              fmt::format("attachment; filename=\"{}\"", safe_filename(answer.filename)));
    res.body() = std::move(answer.body);
    res.keep_alive(req.keep_alive());
    send(std::move(res));
  }

  static StringResponse text_response(http::status status, std::string text, unsigned version, bool keep_alive) {
    StringResponse res{status, version};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = std::move(text) + "\n";
    res.keep_alive(keep_alive);
    return res;
  }

  template <class Response>
  static void set_common_headers(Response& res) {
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Content-Security-Policy", content_security_policy);
    res.set("Referrer-Policy", "no-referrer");
    res.set("Cross-Origin-Resource-Policy", "same-origin");
    res.set("Cross-Origin-Opener-Policy", "same-origin");
  }

  void send(StringResponse&& res) {
    set_common_headers(res);
    res.prepare_payload();
    auto owned = std::make_shared<StringResponse>(std::move(res));
    stream_.expires_after(shared_.options.write_time);
    http::async_write(stream_, *owned, [self = shared_from_this(), owned](error_code ec, std::size_t) {
      if (ec) return self->close();
      if (!owned->keep_alive()) return self->linger_close();
      self->wait_request();
    });
  }

  // An answer before the request was read to its end: the connection cannot
  // carry another request, so it closes after this one.
  void refuse(http::status status, std::string text) {
    unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
    if (version != 10) version = 11;
    send(text_response(status, std::move(text), version, false));
  }

  // Half-closes, then reads and drops what the client still sends (a body
  // it began before our answer) for a little while, so that closing does not
  // reset the connection before the client has read the answer.
  void linger_close() {
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    stream_.expires_after(std::chrono::seconds(2));
    drain();
  }

  void drain() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(65536), [self = shared_from_this()](error_code ec, std::size_t n) {
      if (ec) return self->close();
      self->buffer_.commit(n);
      self->drain();
    });
  }

  void close() {
    streaming_ = false;
    heartbeat_.cancel();
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  // ---- /events --------------------------------------------------------------

  void start_events(const http::request<http::string_body>& req) {
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::ok, req.version());
    set_common_headers(*res);
    res->set(http::field::content_type, "text/event-stream");
    res->keep_alive(false);  // the stream ends when the connection does
    auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    stream_.expires_after(shared_.options.write_time);
    http::async_write_header(stream_, *serializer,
                             [self = shared_from_this(), res, serializer](error_code ec, std::size_t) {
                               if (ec) return self->close();
                               self->streaming_ = true;
                               self->shared_.hub.subscribe(self);
                               self->arm_heartbeat();
                             });
  }

  void write_event() {
    if (!pending_ || !streaming_) return;
    writing_ = true;
    auto frame = std::move(pending_);
    pending_.reset();
    stream_.expires_after(shared_.options.write_time);
    net::async_write(stream_, net::buffer(*frame), [self = shared_from_this(), frame](error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) return self->close();
      self->wrote_since_heartbeat_ = true;
      self->write_event();
    });
  }

  // A comment line when no event went out for a while: a client that has
  // gone is found by the failed write, and proxies keep the stream open.
  void arm_heartbeat() {
    heartbeat_.expires_after(shared_.options.heartbeat);
    heartbeat_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || !self->streaming_) return;
      if (!self->wrote_since_heartbeat_ && !self->writing_ && !self->pending_) {
        self->pending_ = std::make_shared<const std::string>(": ping\n\n");
        self->write_event();
      }
      self->wrote_since_heartbeat_ = false;
      self->arm_heartbeat();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  net::steady_timer heartbeat_;
  Shared& shared_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<Target> target_;
  std::chrono::steady_clock::time_point deadline_;
  // /events
  bool streaming_ = false, writing_ = false, wrote_since_heartbeat_ = false;
  std::shared_ptr<const std::string> pending_;
};

void Hub::subscribe(const std::shared_ptr<Session>& s) {
  std::shared_ptr<const std::string> first;
  {
    std::lock_guard lock(mutex_);
    subscribers_.push_back(s);
    if (!last_.empty()) first = std::make_shared<const std::string>(last_);
  }
  if (first) s->offer(std::move(first));  // already on its strand
}

void Hub::publish(std::string frame) {
  auto shared_frame = std::make_shared<const std::string>(frame);
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(mutex_);
    last_ = std::move(frame);
    std::erase_if(subscribers_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
    for (const auto& w : subscribers_)
      if (auto s = w.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) s->post_offer(shared_frame);
}

}  // namespace

std::string random_token() {
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(fmt::format("cannot draw the studio's token from getrandom: {}", std::strerror(errno)));
    }
    got += static_cast<std::size_t>(n);
  }
  std::string out;
  for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  error_code ec;
  const auto addr = net::ip::make_address(host, ec);
  return !ec && addr.is_loopback();
}

struct Server::Impl {
  Impl(Api& api, ServerOptions options, const net::ip::address& address)
      : shared{api, options, Door(address, 0, options.token), {}, {}}, acceptor(io, address.is_v6() ? tcp::v6() : tcp::v4()) {}

  void accept() {
    acceptor.async_accept(net::make_strand(io), [this](error_code ec, tcp::socket socket) {
      if (!acceptor.is_open()) return;
      if (ec) {
        // Out of file descriptors or the like: try again shortly, without spinning.
        retry.expires_after(std::chrono::milliseconds(50));
        retry.async_wait([this](error_code e) {
          if (!e) accept();
        });
        return;
      }
      if (shared.connections.load() >= shared.options.max_connections) {
        error_code ignored;
        socket.close(ignored);  // over the cap: closed at once
      } else {
        std::make_shared<Session>(std::move(socket), shared)->start();
      }
      accept();
    });
  }

  // One thread asks the Api for events and hands them to the subscribers.
  void pump() {
    std::uint64_t seq = 0;
    while (!stopping.load()) {
      std::string data;
      const std::uint64_t next = shared.api.next_event(seq, std::chrono::milliseconds(100), data);
      if (next != seq && !data.empty()) shared.hub.publish(sse_frame(data));
      seq = next;
    }
  }

  Shared shared;
  net::io_context io;  // after `shared`: destroyed first, with the sessions it still holds
  tcp::acceptor acceptor;
  net::steady_timer retry{io};
  std::uint16_t port = 0;
  std::string host;
  std::vector<std::thread> threads;
  std::thread pump_thread;
  std::atomic<bool> stopping{false};
  std::once_flag stopped;
  bool started = false;
};

namespace {
net::ip::address parse_host(const std::string& host) {
  if (host == "localhost") return net::ip::make_address_v4("127.0.0.1");
  error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (ec)
    throw std::runtime_error(
        fmt::format("--host '{}': not an IP address (give one such as 127.0.0.1 or ::1, or localhost)", host));
  return address;
}
}  // namespace

Server::Server(Api& api, ServerOptions options) {
  if (options.threads < 1) options.threads = 1;
  const net::ip::address address = parse_host(options.host);
  impl_ = std::make_unique<Impl>(api, options, address);
  tcp::acceptor& acceptor = impl_->acceptor;
  error_code ec;
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  acceptor.bind(tcp::endpoint(address, options.port), ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", options.host, options.port, ec.message()));
  impl_->port = acceptor.local_endpoint().port();
  // The URL to open: a wildcard address (0.0.0.0, ::) is no place to browse
  // to, so the URL names loopback, which the wildcard includes.
  if (address.is_unspecified())
    impl_->host = address.is_v6() ? "[::1]" : "127.0.0.1";
  else
    impl_->host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  // The door needs the port the kernel gave.
  impl_->shared.door = Door(address, impl_->port, options.token);
}

Server::~Server() { stop(); }

std::uint16_t Server::port() const { return impl_->port; }

std::string Server::url() const {
  return fmt::format("http://{}:{}/?token={}", impl_->host, impl_->port, impl_->shared.options.token);
}

void Server::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->accept();
  for (int i = 0; i < impl_->shared.options.threads; ++i) impl_->threads.emplace_back([this] { impl_->io.run(); });
  impl_->pump_thread = std::thread([this] { impl_->pump(); });
}

void Server::stop() {
  std::call_once(impl_->stopped, [this] {
    impl_->stopping = true;
    impl_->io.stop();
    for (std::thread& t : impl_->threads) t.join();
    if (impl_->pump_thread.joinable()) impl_->pump_thread.join();
    // No thread runs the connections now; they close as the io_context
    // destroys their pending handlers (with the server).
    error_code ignored;
    impl_->acceptor.close(ignored);
  });
}

}  // namespace dagrad::studio
