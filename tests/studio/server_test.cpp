// The studio's HTTP server against a small fake Api (no engine): the door
// (token, Host, Origin), the limits, the embedded assets and the event
// stream, spoken to over raw sockets on 127.0.0.1 so that every byte of a
// request is the test's own.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "dagrad/studio/assets.hpp"
#include "dagrad/studio/server.hpp"

namespace {

using namespace dagrad::studio;

// Echoes what it was asked, so a test sees what the server handed over.
class FakeApi : public Api {
 public:
  ApiResponse handle(const ApiRequest& r) override {
    ++calls;
    if (r.path == "bad") return {400, "application/json", R"({"error": "bad thing"})", ""};
    if (r.path == "download") return {200, "text/csv", "i,cost\n", "costs \"x\".csv"};
    std::string q;
    for (const auto& [k, v] : r.query) q += k + "=" + v + ";";
    return {200, "application/json", r.method + " " + r.path + " " + q + " " + std::to_string(r.body.size()), ""};
  }
  // A new event every few milliseconds: {"n": seq}, padded to `event_size` bytes.
  std::uint64_t next_event(std::uint64_t after, std::chrono::milliseconds wait, std::string& data) override {
    std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(5)));
    const std::uint64_t seq = ++events;
    if (seq <= after) return after;
    data = "{\"n\": " + std::to_string(seq) + "}";
    if (data.size() < event_size) data += std::string(event_size - data.size(), ' ');
    return seq;
  }
  std::size_t event_size = 0;
  void shutdown() override {}
  std::atomic<int> calls{0};
  std::atomic<std::uint64_t> events{0};
};

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{10, 0};  // a server that never answers fails the test instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

void send_all(int fd, const std::string& s) {
  std::size_t sent = 0;
  while (sent < s.size()) {
    const ssize_t n = ::send(fd, s.data() + sent, s.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may close early (413): the answer is what counts
    sent += static_cast<std::size_t>(n);
  }
}

// Everything the server sends until it closes (or 10 s of silence).
std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

struct Reply {
  int status = 0;
  std::string head, body;
  std::string header(const std::string& name) const {
    std::istringstream in(head);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string key = line.substr(0, colon);
      if (key.size() != name.size() ||
          !std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
        continue;
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      return value;
    }
    return "";
  }
};

Reply parse(const std::string& raw) {
  Reply r;
  const auto end = raw.find("\r\n\r\n");
  r.head = raw.substr(0, end);
  if (end != std::string::npos) r.body = raw.substr(end + 4);
  if (raw.size() > 12 && raw.starts_with("HTTP/1.")) r.status = std::stoi(raw.substr(9, 3));
  return r;
}

// One request on its own connection ("Connection: close"), the whole reply.
Reply exchange(std::uint16_t port, const std::string& request) {
  const int fd = connect_to(port);
  send_all(fd, request);
  const std::string raw = read_all(fd);
  ::close(fd);
  return parse(raw);
}

struct Studio {
  FakeApi api;
  std::string token = random_token();
  Server server;
  explicit Studio(ServerOptions o = {}, std::size_t event_size = 0) : server(api, (o.token = token, o)) {
    api.event_size = event_size;
    server.start();
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(server.port()); }
  // GET target with the right Host and any extra header lines.
  Reply get(const std::string& target, const std::string& extra = "") {
    return exchange(server.port(), "GET " + target + " HTTP/1.1\r\nHost: " + host() + "\r\n" + extra +
                                       "Connection: close\r\n\r\n");
  }
};

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("studio token: 32 hex digits, new each time", "[studio]") {
  const std::string a = random_token(), b = random_token();
  CHECK(a.size() == 32);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
}

TEST_CASE("studio url names the loopback address, the port and the token", "[studio]") {
  Studio s;
  CHECK(s.server.url() == "http://127.0.0.1:" + std::to_string(s.server.port()) + "/?token=" + s.token);
  CHECK(is_loopback("127.0.0.1"));
  CHECK(is_loopback("::1"));
  CHECK(is_loopback("localhost"));
  CHECK_FALSE(is_loopback("0.0.0.0"));
  CHECK_FALSE(is_loopback("192.168.1.1"));
}

TEST_CASE("studio serves the embedded page and assets with their types", "[studio]") {
  Studio s;
  const Reply page = s.get("/?token=" + s.token);
  REQUIRE(page.status == 200);
  CHECK(page.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(page.body == file_text(std::string(DAGRAD_SOURCE_DIR) + "/studio/assets/index.html"));
  CHECK(page.header("X-Content-Type-Options") == "nosniff");
  CHECK(page.header("Cache-Control") == "no-store");
  CHECK(page.header("Content-Security-Policy").starts_with("default-src 'self'; script-src 'self';"));
  const std::string cookie = page.header("Set-Cookie");
  CHECK(cookie == "dagrad_studio_" + std::to_string(s.server.port()) + "=" + s.token +
                      "; Path=/; HttpOnly; SameSite=Strict");
  // Every embedded file, by its extension, with the bytes of the file in the repository.
  int scripts = 0;
  for (const EmbeddedAsset& a : embedded_assets()) {
    const std::string name = a.name;
    const Reply r = s.get("/assets/" + name + "?token=" + s.token);
    INFO(name);
    REQUIRE(r.status == 200);
    CHECK(r.body == file_text(std::string(DAGRAD_SOURCE_DIR) + "/studio/assets/" + name));
    if (name.ends_with(".js")) {
      CHECK(r.header("Content-Type") == "text/javascript; charset=utf-8");
      ++scripts;
    }
    if (name.ends_with(".css")) CHECK(r.header("Content-Type") == "text/css; charset=utf-8");
    if (name.ends_with(".html")) CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
  }
  CHECK(scripts > 0);
  CHECK(find_asset("index.html") != nullptr);
  CHECK(find_asset("../index.html") == nullptr);
}

TEST_CASE("studio door: the token", "[studio]") {
  Studio s;
  const std::string cookie = "Cookie: dagrad_studio_" + std::to_string(s.server.port()) + "=" + s.token + "\r\n";
  const std::string wrong = std::string(32, '0');
  CHECK(s.get("/").status == 403);
  CHECK(s.get("/?token=" + wrong).status == 403);
  CHECK(s.get("/?token=" + s.token.substr(0, 31)).status == 403);
  CHECK(s.get("/assets/index.html").status == 403);
  CHECK(s.get("/api/state").status == 403);
  CHECK(s.get("/api/state?token=" + wrong).status == 403);
  CHECK(s.get("/events").status == 403);
  CHECK(s.get("/api/state", "X-Dagrad-Token: " + wrong + "\r\n").status == 403);
  // The page's assets take the cookie that the page set; the API does not.
  CHECK(s.get("/assets/index.html", cookie).status == 200);
  CHECK(s.get("/", cookie).status == 200);
  CHECK(s.get("/api/state", cookie).status == 403);
  CHECK(s.get("/assets/index.html", "Cookie: dagrad_studio_1=" + s.token + "\r\n").status == 403);
  CHECK(s.api.calls == 0);
  CHECK(s.get("/api/state", "X-Dagrad-Token: " + s.token + "\r\n").status == 200);
  CHECK(s.get("/api/state?token=" + s.token).status == 200);
  CHECK(s.api.calls == 2);
}

TEST_CASE("studio door: foreign Host or Origin gets 403", "[studio]") {
  Studio s;
  const std::string port = std::to_string(s.server.port());
  const std::string t = "/api/state?token=" + s.token;
  auto with_host = [&](const std::string& host) {
    return exchange(s.server.port(), "GET " + t + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
        .status;
  };
  CHECK(with_host("127.0.0.1:" + port) == 200);
  CHECK(with_host("localhost:" + port) == 200);
  CHECK(with_host("LOCALHOST:" + port) == 200);
  CHECK(with_host("[::1]:" + port) == 200);
  CHECK(with_host("evil.example:" + port) == 403);  // DNS rebinding
  CHECK(with_host("127.0.0.1") == 403);
  CHECK(with_host("127.0.0.1:1" + port) == 403);
  CHECK(with_host("192.168.0.7:" + port) == 403);  // bound to loopback only
  CHECK(exchange(s.server.port(), "GET " + t + " HTTP/1.1\r\nConnection: close\r\n\r\n").status == 403);
  CHECK(s.get(t, "Origin: http://127.0.0.1:" + port + "\r\n").status == 200);
  CHECK(s.get(t, "Origin: http://localhost:" + port + "\r\n").status == 200);
  CHECK(s.get(t, "Origin: http://evil.example\r\n").status == 403);  // CSRF
  CHECK(s.get(t, "Origin: http://127.0.0.1:8000\r\n").status == 403);
  CHECK(s.get(t, "Origin: https://127.0.0.1:" + port + "\r\n").status == 403);
  CHECK(s.get(t, "Origin: null\r\n").status == 403);
}

TEST_CASE("studio API: the request handed over, the answer sent back", "[studio]") {
  Studio s;
  const Reply r = s.get("/api/node?name=dZ%5B2%5D&rows=8&token=" + s.token + "&x=a+b");
  REQUIRE(r.status == 200);
  CHECK(r.body == "GET node name=dZ[2];rows=8;x=a b; 0");
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("Cache-Control") == "no-store");
  CHECK(r.header("X-Content-Type-Options") == "nosniff");
  const std::string body = R"({"lr": 0.5})";
  const Reply p = exchange(s.server.port(), "POST /api/config HTTP/1.1\r\nHost: " + s.host() +
                                                "\r\nX-Dagrad-Token: " + s.token + "\r\nContent-Length: " +
                                                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  CHECK(p.status == 200);
  CHECK(p.body == "POST config  11");
  CHECK(s.get("/api/bad?token=" + s.token).status == 400);
  const Reply d = s.get("/api/download?token=" + s.token);
  CHECK(d.header("Content-Disposition") == "attachment; filename=\"costs__x_.csv\"");
  CHECK(s.get("/api/x?token=%zz" + s.token).status == 400);  // a malformed escape
}

TEST_CASE("studio: unknown paths and path traversal get 404, other methods 405", "[studio]") {
  Studio s;
  const std::string t = "?token=" + s.token;
  CHECK(s.get("/nothing" + t).status == 404);
  CHECK(s.get("/index.html" + t).status == 404);
  CHECK(s.get("/assets/" + t).status == 404);
  CHECK(s.get("/assets/../CMakeLists.txt" + t).status == 404);
  CHECK(s.get("/assets/%2e%2e/CMakeLists.txt" + t).status == 404);
  CHECK(s.get("/assets/..%2f..%2fCMakeLists.txt" + t).status == 404);
  CHECK(s.get("/assets//etc/passwd" + t).status == 404);
  CHECK(s.get("/assets/..\\..\\CMakeLists.txt" + t).status == 404);
  CHECK(s.get("/../../../etc/passwd" + t).status == 404);
  CHECK(s.get("/assets/./index.html" + t).status == 404);
  const Reply put = exchange(s.server.port(), "PUT /api/config" + t + " HTTP/1.1\r\nHost: " + s.host() +
                                                  "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  CHECK(put.status == 405);
  const Reply post = exchange(s.server.port(), "POST /" + t + " HTTP/1.1\r\nHost: " + s.host() +
                                                   "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  CHECK(post.status == 405);
  CHECK(s.api.calls == 0);
}

TEST_CASE("studio limits: a large body gets 413, large headers 431, garbage 400", "[studio]") {
  Studio s;
  const std::string head = "POST /api/data?token=" + s.token + " HTTP/1.1\r\nHost: " + s.host() + "\r\n";
  // Refused from Content-Length, before any of the body is sent.
  const Reply big = exchange(s.server.port(), head + "Content-Length: " + std::to_string(ApiLimits::max_body + 1) +
                                                  "\r\n\r\n");
  CHECK(big.status == 413);
  // Chunked, so the size shows only while reading.
  std::string chunked = head + "Transfer-Encoding: chunked\r\n\r\n";
  const std::string chunk(1 << 20, 'x');
  for (int i = 0; i < 9; ++i) chunked += "100000\r\n" + chunk + "\r\n";
  chunked += "0\r\n\r\n";
  CHECK(exchange(s.server.port(), chunked).status == 413);
  // Exactly the limit passes.
  const Reply fits = exchange(s.server.port(), head + "Content-Length: " + std::to_string(ApiLimits::max_body) +
                                                   "\r\nConnection: close\r\n\r\n" + std::string(ApiLimits::max_body, 'y'));
  CHECK(fits.status == 200);
  CHECK(fits.body == "POST data  " + std::to_string(ApiLimits::max_body));
  CHECK(s.get("/api/state?token=" + s.token, "X-Big: " + std::string(9000, 'h') + "\r\n").status == 431);
  CHECK(s.get("/api/state?token=" + s.token + "&pad=" + std::string(9000, 'u')).status == 431);
  CHECK(exchange(s.server.port(), "HELLO\r\n\r\n").status == 400);
  CHECK(exchange(s.server.port(), "GET / HTTP/9.9\r\n\r\n").status == 400);
  CHECK(exchange(s.server.port(), "GET /\r\n\r\n").status == 400);
  // Still serving.
  CHECK(s.get("/api/state?token=" + s.token).status == 200);
}

TEST_CASE("studio events: a stream of data lines, and a client that leaves", "[studio]") {
  Studio s;
  const int fd = connect_to(s.server.port());
  send_all(fd, "GET /events?token=" + s.token + " HTTP/1.1\r\nHost: " + s.host() + "\r\n\r\n");
  std::string got;
  char buf[4096];
  // Until three events came (each "data: {...}\n\n").
  auto count = [&] {
    std::size_t n = 0, at = 0;
    while ((at = got.find("\ndata: {\"n\": ", at)) != std::string::npos) ++n, ++at;
    return n;
  };
  while (count() < 3) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    REQUIRE(n > 0);
    got.append(buf, static_cast<std::size_t>(n));
  }
  const Reply r = parse(got);
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == "text/event-stream");
  CHECK(r.header("Cache-Control") == "no-store");
  // The numbers rise (a slow reader may skip some, never goes back).
  std::istringstream in(r.body);
  std::string line;
  long last = 0;
  while (std::getline(in, line)) {
    if (!line.starts_with("data: ")) continue;
    if (line.find('}') == std::string::npos) break;  // the last one may be cut
    const long n = std::stol(line.substr(line.find(':', 6) + 1));
    CHECK(n > last);
    last = n;
  }
  ::close(fd);  // gone mid-stream
  // A second stream and the API still answer.
  const int fd2 = connect_to(s.server.port());
  send_all(fd2, "GET /events?token=" + s.token + " HTTP/1.1\r\nHost: " + s.host() + "\r\n\r\n");
  const ssize_t n = ::recv(fd2, buf, sizeof buf, 0);
  CHECK(n > 0);
  ::close(fd2);
  CHECK(s.get("/api/state?token=" + s.token).status == 200);
}

TEST_CASE("studio events: a client that stops reading is cut after the write time", "[studio]") {
  ServerOptions o;
  o.write_time = std::chrono::milliseconds(500);
  Studio s(o, 64 * 1024);  // 64 KiB events every 5 ms fill the socket's buffers in well under a second
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  const int small = 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(s.server.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  send_all(fd, "GET /events?token=" + s.token + " HTTP/1.1\r\nHost: " + s.host() + "\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::seconds(3));  // not reading
  // Meanwhile others are served.
  CHECK(s.get("/api/state?token=" + s.token).status == 200);
  // What was buffered drains, then the end: the server closed the stream
  // (a stream still open would keep sending, or time this read out).
  char buf[65536];
  ssize_t n = 0;
  std::size_t total = 0;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0 && total < (std::size_t{256} << 20)) total += static_cast<std::size_t>(n);
  CHECK(n == 0);
  ::close(fd);
}

TEST_CASE("studio: connections over the cap are closed, the server goes on", "[studio]") {
  ServerOptions o;
  o.max_connections = 3;
  Studio s(o);
  int idle[3];
  for (int& fd : idle) {
    fd = connect_to(s.server.port());
    send_all(fd, "G");  // a request begun: the connection counts
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int extra = connect_to(s.server.port());
  char c;
  CHECK(::recv(extra, &c, 1, 0) == 0);  // closed at once, no answer (a timeout would be -1)
  ::close(extra);
  for (int fd : idle) ::close(fd);
  // The closed ones free their places (the server sees the close a moment later).
  int status = 0;
  for (int i = 0; i < 50 && status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = s.get("/api/state?token=" + s.token).status;
  }
  CHECK(status == 200);
}
