#!/usr/bin/python3
"""The hostile-request test of `dagrad studio` (issue 20, docs/studio.md "The door").

    hostile.py PATH/TO/dagrad

Starts `dagrad studio --generate planar` on 127.0.0.1 (a free port), reads
the URL line from its stdout, and throws at it, on loopback only and bounded
in count and time: malformed request lines, huge headers, huge bodies, slow
clients (slowloris), half-closed and reset sockets, clients that leave an
event stream, a client that stops reading one, bad tokens, foreign Host and
Origin, path traversal, bad JSON and bad settings to the API, and concurrent
clients. After it a normal request must still succeed and the process be
alive; then SIGINT must stop it with exit code 0. Standard library only.
Prints one line per check; exits 1 if any failed. Stops itself: every
socket has a timeout and the whole run an alarm.
"""
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

LIMIT_S = 150          # the whole run; the server's own limits are 10 s per request
SOCKET_TIMEOUT = 15    # no single read may wait longer
MAX_BODY = 8 << 20     # ApiLimits::max_body
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def start(dagrad):
    proc = subprocess.Popen([dagrad, "studio", "--generate", "planar", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline().decode() if ready else ""
    m = re.fullmatch(r"studio: (http://127\.0\.0\.1:(\d+)/\?token=([0-9a-f]{32}))\n", line)
    if not m:
        proc.kill()
        sys.exit("FAIL the first line is not 'studio: http://127.0.0.1:PORT/?token=<32 hex>': %r (stderr %r)"
                 % (line, proc.stderr.read(2000) if proc.poll() is not None else b""))
    return proc, int(m.group(2)), m.group(3)


class Studio:
    def __init__(self, port, token):
        self.port, self.token = port, token
        self.host = "127.0.0.1:%d" % port

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=SOCKET_TIMEOUT)
        return s

    def raw(self, data, half_close=False):
        """Sends bytes, reads until the server closes; returns (status or 0, whole reply)."""
        s = self.connect()
        try:
            try:
                s.sendall(data)
                if half_close:
                    s.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server may answer and close before all is sent (413, 431)
            return parse(read_until_close(s))
        finally:
            s.close()

    def request(self, method, target, body=b"", headers=None, host=None):
        h = {"Host": self.host if host is None else host, "Connection": "close"}
        h.update(headers or {})
        if body or method == "POST":
            h["Content-Length"] = str(len(body))
        head = "%s %s HTTP/1.1\r\n" % (method, target) + "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
        return self.raw(head.encode() + body)

    def api(self, method, path, body=b""):
        return self.request(method, "/api/" + path, body, {"X-Dagrad-Token": self.token})


def read_until_close(s):
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        out += chunk
    return out


def parse(reply):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", reply)
    return (int(m.group(1)) if m else 0), reply


def body_of(reply):
    return reply.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in reply else b""


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def normal_request_works(st):
    status, reply = st.api("GET", "state")
    return status == 200 and "iteration" in json.loads(body_of(reply))


def malformed(st):
    cases = [b"\x00\x01\x02\x03\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/1.1 extra\r\n\r\n",
             b"G\xffT / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nHost\r\n\r\n",
             b"GET / HTTP/2.0\r\n\r\n", b"GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
             b"POST /api/config HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
             b"POST /api/config HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
             b"POST /api/config HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" % st.host.encode(),
             b"GET / HTTP/1.1\r\n\x7fbad: header\r\n\r\n", b"\r\n\r\n\r\n\r\n", b"GET  / HTTP/1.1\r\n\r\n"]
    for data in cases:
        status, reply = st.raw(data)
        check(400 <= status < 500, "malformed request %r -> %d" % (data[:40], status))


def huge_headers(st):
    status, _ = st.request("GET", "/api/state?token=" + st.token, headers={"X-Big": "h" * 100000})
    check(status == 431, "a 100 KB header -> %d" % status)
    many = {"X-H%d" % i: "v" * 90 for i in range(1000)}
    status, _ = st.request("GET", "/api/state?token=" + st.token, headers=many)
    check(status == 431, "1000 headers of 100 bytes -> %d" % status)
    status, _ = st.request("GET", "/?token=" + st.token + "&pad=" + "u" * 100000)
    check(status == 431, "a 100 KB request line -> %d" % status)
    # 50 MB of request line without a newline: read no further than the limit.
    before = rss_kib(st.pid)
    s = st.connect()
    sent = 0
    try:
        s.sendall(b"GET /?")
        chunk = b"a" * (1 << 20)
        for _ in range(50):
            s.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    status, _ = parse(read_until_close(s))
    s.close()
    grown = rss_kib(st.pid) - before
    check(status in (0, 431) and grown < 32 * 1024,
          "a request line without end: cut after %d MB sent, answer %d, server grew %d KiB" % (sent >> 20, status, grown))


def huge_bodies(st):
    head = "POST /api/data HTTP/1.1\r\nHost: %s\r\nX-Dagrad-Token: %s\r\n" % (st.host, st.token)
    status, _ = st.raw((head + "Content-Length: %d\r\n\r\n" % (100 << 20)).encode())
    check(status == 413, "Content-Length of 100 MB -> %d" % status)
    status, _ = st.raw((head + "Content-Length: %d\r\n\r\n" % (MAX_BODY + 1)).encode() + b"x" * (MAX_BODY + 1))
    check(status == 413, "a body one byte over 8 MiB, sent whole -> %d" % status)
    chunked = (head + "Transfer-Encoding: chunked\r\n\r\n").encode()
    chunked += b"".join(b"100000\r\n" + b"x" * (1 << 20) + b"\r\n" for _ in range(9)) + b"0\r\n\r\n"
    status, _ = st.raw(chunked)
    check(status == 413, "a chunked body of 9 MiB -> %d" % status)
    status, _ = st.raw(("POST /api/data HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n"
                        % (st.host, 100 << 20)).encode())
    check(status == 403, "a huge body without the token -> %d (the door first)" % status)


def slow_clients(st):
    """Slowloris: 20 connections that trickle a header a byte a second. The
    server cuts each when its request time (10 s) is out, and serves others
    meanwhile."""
    socks = [st.connect() for _ in range(20)]
    for s in socks:
        s.sendall(("GET /api/state?token=%s HTTP/1.1\r\nHost: %s\r\n" % (st.token, st.host)).encode())
    stop = time.monotonic() + 30
    closed = [False] * len(socks)
    served_meanwhile = False
    tick = 0
    while not all(closed) and time.monotonic() < stop:
        for i, s in enumerate(socks):
            if closed[i]:
                continue
            try:
                s.sendall(b"X")
                r, _, _ = select.select([s], [], [], 0)
                if r and not s.recv(4096):
                    closed[i] = True
            except OSError:
                closed[i] = True
        if tick == 2:
            served_meanwhile = normal_request_works(st)
        tick += 1
        time.sleep(1)
    for s in socks:
        s.close()
    check(served_meanwhile, "a normal request while 20 slow clients trickle headers")
    check(all(closed), "the server cut %d of 20 slow clients within 30 s" % sum(closed))


def half_closed(st):
    req = ("GET /api/state?token=%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (st.token, st.host)).encode()
    status, _ = st.raw(req, half_close=True)
    check(status == 200, "a whole request, then the client's half-close -> %d" % status)
    status, reply = st.raw(req[:20], half_close=True)
    check(status in (0, 400), "half a request, then half-close: closed, or 400 (got %d)" % status)
    for _ in range(10):
        s = st.connect()
        s.close()
    for _ in range(10):  # reset: SO_LINGER 0
        s = st.connect()
        s.sendall(req[:30])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    check(normal_request_works(st), "a normal request after 20 sockets closed or reset mid-request")


def events(st):
    req = ("GET /events?token=%s HTTP/1.1\r\nHost: %s\r\n\r\n" % (st.token, st.host)).encode()
    st.api("POST", "control", b'{"action": "play"}')
    got_events = 0
    for _ in range(20):
        s = st.connect()
        s.sendall(req)
        data = b""
        while b"\ndata: " not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        got_events += b"\ndata: " in data
        s.close()  # gone mid-stream
    check(got_events == 20, "20 event streams opened, read and left mid-stream (%d gave events)" % got_events)
    # One that never reads, with a tiny receive buffer: the server's writes stall, it cuts the
    # stream after its write time, and training and other clients go on.
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.settimeout(SOCKET_TIMEOUT)
    s.connect(("127.0.0.1", st.port))
    s.sendall(req)
    _, r1 = st.api("GET", "state")
    time.sleep(3)
    _, r2 = st.api("GET", "state")
    i1 = json.loads(body_of(r1))["iteration"]
    i2 = json.loads(body_of(r2))["iteration"]
    check(i2 > i1, "training goes on while a client does not read its stream (iteration %d -> %d)" % (i1, i2))
    s.close()
    st.api("POST", "control", b'{"action": "pause"}')


def door(st):
    t = "/api/state?token="
    for target in ["/api/state", t, t + "0" * 32, t + st.token[:-1], t + st.token + "0", t + st.token.upper(),
                   "/events", "/events?token=x", "/", "/?token=" + "f" * 32, "/assets/studio.js"]:
        status, _ = st.request("GET", target)
        check(status == 403, "bad token: GET %s -> %d" % (target[:60], status))
    status, _ = st.request("POST", "/api/control", b'{"action": "play"}',
                           {"Cookie": "dagrad_studio_%d=%s" % (st.port, st.token)})
    check(status == 403, "the page's cookie does not open the API -> %d" % status)
    good = t + st.token
    for host in ["evil.example:%d" % st.port, "evil.example", "127.0.0.1", "127.0.0.1:%d" % (st.port + 1),
                 "localhost.evil.example:%d" % st.port, "10.0.0.1:%d" % st.port, ""]:
        status, _ = st.request("GET", good, host=host)
        check(status == 403, "foreign Host %r -> %d" % (host, status))
    for origin in ["http://evil.example", "null", "http://127.0.0.1:%d" % (st.port + 1),
                   "https://127.0.0.1:%d" % st.port, "http://127.0.0.1:%d.evil.example" % st.port]:
        status, _ = st.request("POST", "/api/control", b'{"action": "pause"}',
                               {"Origin": origin, "X-Dagrad-Token": st.token})
        check(status == 403, "foreign Origin %r -> %d" % (origin, status))
    status, _ = st.request("GET", good, headers={"Origin": "http://" + st.host})
    check(status == 200, "our own Origin -> %d" % status)


def traversal(st):
    q = "?token=" + st.token
    for path in ["/../../../../etc/passwd", "/assets/../../CMakeLists.txt", "/assets/%2e%2e/%2e%2e/etc/passwd",
                 "/assets/..%2f..%2fetc%2fpasswd", "/assets//etc/passwd", "/assets/..\\..\\etc\\passwd",
                 "/assets/%252e%252e/etc/passwd", "/assets/studio.js/../../etc/passwd", "/etc/passwd",
                 "/assets/", "/assets/.", "/assets/index.html%00.js", "/api/../assets/studio.js",
                 "/./index.html", "/index.html"]:
        status, reply = st.request("GET", path + q)
        check(status == 404 and b"root:" not in reply, "traversal %s -> %d" % (path, status))


def bad_api(st):
    for path, body in [("config", b"{"), ("config", b"null"), ("config", b"[]"), ("config", b"\xff\xfe\x00"),
                       ("config", b'{"lr": "NaN"}'), ("config", b'{"lr": NaN}'), ("config", b'{"lr": -1}'),
                       ("config", b'{"lr": 1e999}'), ("config", b'{"layers": [2, 0, 1]}'),
                       ("config", b'{"layers": [2, 1000000, 1]}'), ("config", b'{"layers": "2,0,1"}'),
                       ("config", b'{"hidden": "nonsense"}'), ("config", b'{"seed": -3}'),
                       ("config", b"[" * 100000 + b"]" * 100000), ("config", b'{"a": ' * 50000),
                       ("control", b'{"action": "explode"}'), ("control", b'{"action": "play", "speed": 1e9}'),
                       ("data", b"1,2,0\n3,x,1\n"), ("data", b""), ("data", b"\x00" * 1000)]:
        status, reply = st.api("POST", path, body)
        ok = status == 400
        try:
            msg = json.loads(body_of(reply)).get("error", "")
            ok = ok and isinstance(msg, str) and msg and "\n" not in msg
        except ValueError:
            ok = False
        check(ok, "bad API input POST %s %r -> %d %s" % (path, body[:30], status, body_of(reply)[:100]))
    for target in ["node?name=nonsense", "node", "step?index=-1", "step?index=99999999999999999999",
                   "boundary?size=100000000", "download?what=passwd", "nothing"]:
        status, reply = st.api("GET", target)
        check(status in (400, 404), "bad API query GET %s -> %d" % (target, status))


def concurrent(st):
    results = []
    lock = threading.Lock()

    def client(k):
        ok = 0
        for i in range(15):
            if i % 3 == 0:
                status, _ = st.api("GET", "state")
            elif i % 3 == 1:
                status, _ = st.request("GET", "/assets/studio.js?token=" + st.token)
            else:
                status, _ = st.api("POST", "control", b'{"action": "step"}')
            ok += status == 200
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(LIMIT_S)
    check(sum(results) == 12 * 15, "12 clients at once, 15 requests each: %d of 180 answered 200" % sum(results))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: hostile.py PATH/TO/dagrad")
    signal.alarm(LIMIT_S)  # the run stops itself, whatever hangs
    proc, port, token = start(sys.argv[1])
    st = Studio(port, token)
    st.pid = proc.pid
    try:
        check(normal_request_works(st), "a normal request first")
        for part in [malformed, huge_headers, huge_bodies, door, traversal, bad_api, half_closed, events,
                     concurrent, slow_clients]:
            part(st)
            check(proc.poll() is None, "the server is alive after %s" % part.__name__)
        check(normal_request_works(st), "a normal request after it all")
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(20)
        except subprocess.TimeoutExpired:
            code = None
        check(code == 0, "Ctrl-C stops it cleanly (exit code %s)" % code)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print("%d failed" % len(failures) if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
