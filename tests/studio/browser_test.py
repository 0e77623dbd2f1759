#!/usr/bin/python3
"""The studio in a real browser: headless Chromium driven by Selenium.

    browser_test.py [PATH/TO/dagrad]       (or the environment's DAGRAD_CLI)

Starts `dagrad studio --generate planar --port 0` itself, reads its
`studio: http://...` line, opens the page and checks what issue 20 asks:

  - the page loads with no console errors;
  - play makes the shown cost fall and the iteration rise;
  - the decision boundary's image changes while training;
  - clicking dZ[2] shows `dZ[2] = A[2] - Y`, and its numbers equal A[2] - Y,
    and the forward pass recomputed here from X, W and b;
  - step-through visits the nodes in the plan's order (forward, then
    backward, then update, each in the plan's order), each after its inputs;
  - rewind replays the same costs bit for bit;
  - a CSV with a bad row shows the CLI's message with the line number;
  - a shared URL (a second server) reproduces the costs bit for bit;
  - the gradient check table shows every parameter;
  - the download links answer the model, ONNX, cost log, LaTeX and SVG;
  - the optimizer choice lists GET optimizers' names (the registry's), each
    shows the fields of the hyper-parameters it reads, and AdamW's weight
    decay typed in reaches the server.

Screenshots go to $DAGRAD_STUDIO_SHOTS (default: a new temporary folder,
so a CI run writes nothing into the repository). Exit 0: passed; 1: failed;
77: skipped (no chromium, chromedriver or selenium; under CI=true that is a
failure instead). Every wait has a timeout, and the whole run is bounded.
"""
import json
import math
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

SKIP = 77
TOTAL_SECONDS = 300


def say(*args):
    print(*args, flush=True)


def missing_browser(why):
    if os.environ.get("CI", "").lower() == "true":
        say("FAIL: CI=true and the browser test cannot run:", why)
        sys.exit(1)
    say("SKIP: the browser test needs chromium, chromium-driver and python3-selenium (Debian):", why)
    sys.exit(SKIP)


try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
except ImportError as e:  # pragma: no cover
    missing_browser("python3-selenium: %s" % e)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
if not CHROMIUM:
    missing_browser("no chromium on PATH")
if not DRIVER:
    missing_browser("no chromedriver")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def wait_until(fn, what, timeout=20.0, every=0.05):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = fn()
            if last:
                return last
        except (Failure, WebDriverException, ValueError, KeyError, IndexError):
            pass
        time.sleep(every)
    raise Failure("timed out after %.0f s waiting for %s" % (timeout, what))


# ---- the studio process --------------------------------------------------------------

class Studio:
    """One `dagrad studio` process and its JSON API."""

    def __init__(self, dagrad):
        self.proc = subprocess.Popen([dagrad, "studio", "--generate", "planar", "--port", "0"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        lines = queue.Queue()

        def pump(stream, tag):
            for line in stream:
                lines.put((tag, line.rstrip("\n")))
            lines.put((tag, None))

        threading.Thread(target=pump, args=(self.proc.stdout, "out"), daemon=True).start()
        threading.Thread(target=pump, args=(self.proc.stderr, "err"), daemon=True).start()
        end = time.monotonic() + 30
        self.url = None
        while self.url is None:
            left = end - time.monotonic()
            if left <= 0:
                self.stop()
                raise Failure("dagrad studio printed no 'studio: http://' line within 30 s")
            try:
                tag, line = lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                if self.proc.poll() is not None:
                    raise Failure("dagrad studio exited with %s before printing its URL" % self.proc.returncode)
                continue
            if tag == "out" and line.startswith("studio: http://"):
                self.url = line[len("studio: "):].strip()
            elif tag == "err":
                say("  studio stderr:", line)
        parts = urllib.parse.urlsplit(self.url)
        self.base = "%s://%s" % (parts.scheme, parts.netloc)
        self.token = urllib.parse.parse_qs(parts.query)["token"][0]

    def api(self, path, query=None, body=None):
        url = self.base + "/api/" + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None
        headers = {"X-Dagrad-Token": self.token}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, headers=headers)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read().decode())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


# ---- the browser ---------------------------------------------------------------------

def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1500,1760", "--hide-scrollbars", "--force-device-scale-factor=1"]:
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        d = webdriver.Chrome(service=Service(DRIVER), options=o)
    except WebDriverException as e:
        missing_browser("chromedriver did not start chromium: %s" % str(e).splitlines()[0])
    d.set_page_load_timeout(30)
    d.set_script_timeout(30)
    return d


class Page:
    def __init__(self, driver, shots):
        self.d = driver
        self.shots = shots

    def t(self, testid):
        return self.d.find_element(By.CSS_SELECTOR, '[data-testid="%s"]' % testid)

    def text(self, testid):
        return self.t(testid).text.strip()

    def open(self, url):
        self.d.get(url)
        wait_until(lambda: self.d.execute_script("return document.body.getAttribute('data-ready')") == "1",
                   "the page to be ready (data-ready)", timeout=30)

    def iteration(self):
        s = self.text("iteration")
        check(re.fullmatch(r"\d+", s), "iteration %r is not an integer" % s)
        return int(s)

    def cost(self):
        return float(self.text("cost"))

    def click(self, testid):
        self.t(testid).click()

    def shot(self, name, testid=None):
        path = os.path.join(self.shots, name)
        if testid:
            self.t(testid).screenshot(path)
        else:
            self.d.save_screenshot(path)
        say("  screenshot", path)

    def errors(self, allow=()):
        out = []
        for e in self.d.get_log("browser"):
            if e.get("level") == "SEVERE" and not any(a in e.get("message", "") for a in allow):
                out.append(e["message"])
        return out

    def boundary_image(self):
        return self.d.execute_script("return document.querySelector('[data-testid=boundary]').toDataURL()")

    def running(self):
        return self.t("pause").is_displayed()

    def pause(self, studio):
        if self.running():
            self.click("pause")
        wait_until(lambda: not studio.api("state")["running"], "training to pause")
        wait_until(lambda: self.t("play").is_displayed(), "the play button to come back")

    def reset(self, studio):
        self.click("reset")
        wait_until(lambda: self.iteration() == 0 and studio.api("state")["iteration"] == 0,
                   "reset to iteration 0")

    def steps(self, studio, k):
        """k single updates with the page's button; the displayed cost after each."""
        shown = []
        for _ in range(k):
            before = studio.api("state")["iteration"]
            self.click("step")
            wait_until(lambda: studio.api("state")["iteration"] == before + 1 and self.iteration() == before + 1,
                       "one update")
            shown.append(self.t("cost").get_attribute("data-value"))
        return shown


# ---- the checks ------------------------------------------------------------------------

def check_load(page, studio):
    page.open(studio.url)
    errs = page.errors()
    check(not errs, "console errors on load: %s" % errs)
    check(page.iteration() == 0, "a fresh studio shows iteration %d" % page.iteration())
    graph_nodes = page.d.find_elements(By.CSS_SELECTOR, "[data-testid=graph] g[data-node]")
    check(len(graph_nodes) > 10, "the graph shows %d nodes with data-node" % len(graph_nodes))
    page.shot("studio_start.png")


def check_play(page, studio):
    c0 = page.cost()
    i0 = page.iteration()
    img0 = page.boundary_image()
    page.click("play")
    wait_until(page.running, "the pause button (training)")
    seen = set()
    fps = []
    end = time.monotonic() + 4
    while time.monotonic() < end:
        time.sleep(0.5)
        if page.running():
            seen.add(page.boundary_image())
            fps.append(page.d.execute_script("return Studio.stats.fps"))
    page.shot("studio_training.png")
    wait_until(lambda: page.iteration() > i0 + 50 and page.cost() < c0,
               "the cost to fall below %g and the iteration to rise past %d" % (c0, i0 + 50))
    page.pause(studio)
    seen.discard(img0)
    check(len(seen) >= 2, "the boundary took %d new images while training (want 2 or more)" % len(seen))
    say("  cost %g -> %g, iteration %d -> %d, page fps while training %s"
        % (c0, page.cost(), i0, page.iteration(), fps))


def node_values(studio, name):
    v = studio.api("node", {"name": name, "rows": 8, "cols": 16})["value"]
    return v["data"]  # rows of numbers


def check_dz2(page, studio):
    page.d.find_element(By.ID, "zoom-fit").click()
    g = page.d.find_element(By.CSS_SELECTOR, '[data-testid=graph] g[data-node="dZ[2]"]')
    try:
        g.click()
    except WebDriverException:  # covered by another shape: the click event itself
        page.d.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", g)
    wait_until(lambda: page.text("equation") == "dZ[2] = A[2] - Y",
               "the equation 'dZ[2] = A[2] - Y' (shown: %r)" % page.text("equation"))
    wait_until(lambda: page.d.find_elements(By.CSS_SELECTOR, "[data-testid=value] td"), "the value cells")
    rows = page.d.find_elements(By.CSS_SELECTOR, "[data-testid=value] tr")
    shown = [[float(td.get_attribute("data-v")) for td in tr.find_elements(By.TAG_NAME, "td")] for tr in rows]
    check(len(shown) == 1 and len(shown[0]) >= 8, "dZ[2]'s value shows %d rows" % len(shown))
    # 1. A[2] - Y, both read from the studio, subtracted here: the same bits.
    a2, y = node_values(studio, "A[2]"), node_values(studio, "Y")
    for j, v in enumerate(shown[0]):
        check(v == a2[0][j] - y[0][j], "dZ[2][0,%d] = %r, but A[2] - Y = %r - %r" % (j, v, a2[0][j], y[0][j]))
    # 2. The forward pass recomputed here from X and the parameters.
    x = node_values(studio, "X")
    w1, b1 = node_values(studio, "W[1]"), node_values(studio, "b[1]")
    w2, b2 = node_values(studio, "W[2]"), node_values(studio, "b[2]")
    for j, v in enumerate(shown[0]):
        a1 = [math.tanh(sum(w1[u][k] * x[k][j] for k in range(len(x))) + b1[u][0]) for u in range(len(w1))]
        z2 = sum(w2[0][u] * a1[u] for u in range(len(a1))) + b2[0][0]
        a = 1.0 / (1.0 + math.exp(-z2))
        check(abs(v - (a - y[0][j])) <= 1e-9, "dZ[2][0,%d] = %r, recomputed %r" % (j, v, a - y[0][j]))
    page.shot("studio_dz2.png")
    say("  dZ[2] = A[2] - Y on %d columns, equal to the recomputed forward pass" % len(shown[0]))


def check_step_through(page, studio):
    # The page walks the plan's schedule forward, then backward, then update,
    # each phase in the plan's order.
    rank = {"forward": 0, "backward": 1, "update": 2}
    plan = [n for _, n in sorted(enumerate(studio.api("nodes")), key=lambda kn: (rank[kn[1]["phase"]], kn[0]))]
    check(len(plan) > 5, "the schedule has %d nodes" % len(plan))
    names = [n["node"] for n in plan]
    order = {n: k for k, n in enumerate(names)}
    visited = []
    page.click("trace-first")
    for k in range(len(plan)):
        if k:
            page.click("trace-next")
        wait_until(lambda: page.text("trace-pos").startswith("%d / %d" % (k + 1, len(plan))) and
                   page.text("node-name") == names[k] and
                   page.d.find_element(By.CSS_SELECTOR, "g.sel[data-node]").get_attribute("data-node") == names[k],
                   "step %d to show %s" % (k + 1, names[k]), timeout=15)
        visited.append(page.text("node-name"))
        inputs = [a.text for a in page.d.find_elements(By.CSS_SELECTOR, "#node-inputs a")]
        for i in inputs:
            check(i not in order or order[i] < k, "step %d (%s) comes before its input %s" % (k + 1, names[k], i))
        if names[k] == "dZ[1]":
            page.shot("studio_step.png")
            plugged = page.text("plugged")
            check(plugged.startswith("dZ[1][0,0] = "), "the plugged-in equation %r" % plugged)
    check(visited == names, "step-through visited %s, the plan is %s" % (visited, names))
    say("  visited the %d nodes of the schedule in order" % len(plan))


def cost_log(studio):
    """The whole cost log (the download), as {iteration: the cost's exact text}."""
    req = urllib.request.Request(studio.base + "/api/download?what=costs", headers={"X-Dagrad-Token": studio.token})
    with urllib.request.urlopen(req, timeout=30) as r:
        lines = r.read().decode().splitlines()
    check(lines and lines[0] == "iteration,cost", "the cost log starts %r" % lines[:1])
    return {int(i): c for i, c in (line.split(",") for line in lines[1:])}


def run_costs(page, studio, k, seconds):
    """From a rewind: k updates by button, then play for a while; the costs."""
    page.reset(studio)
    shown = page.steps(studio, k)
    page.click("play")
    time.sleep(seconds)
    page.pause(studio)
    return shown, cost_log(studio), studio.api("state")["iteration"]


def check_rewind(page, studio):
    shown1, log1, n1 = run_costs(page, studio, 5, 1.5)
    page.reset(studio)
    shown2 = page.steps(studio, 5)
    page.click("play")
    wait_until(lambda: studio.api("state")["iteration"] >= n1, "the replay to pass iteration %d" % n1, timeout=60)
    page.pause(studio)
    log2 = cost_log(studio)
    check(shown1 == shown2, "the first 5 costs shown differ after a rewind: %s vs %s" % (shown1, shown2))
    common = sorted(set(log1) & set(log2))
    check(len(common) >= 10, "only %d logged iterations in common" % len(common))
    bad = [(i, log1[i], log2[i]) for i in common if log1[i] != log2[i]]
    check(not bad, "replayed costs differ: %s" % bad[:5])
    say("  rewind: %d costs replayed bit for bit (to iteration %d)" % (len(common), n1))


def check_bad_csv(page, studio, dagrad, tmp):
    path = os.path.join(tmp, "bad.csv")
    with open(path, "w") as f:
        f.write("0.1,0.2,0\n0.3,0.4,1\n0.5,oops,1\n0.7,0.8,0\n")
    cli = subprocess.run([dagrad, "train", "--data", path, "--layers", "2,4,1", "--iters", "1"],
                         capture_output=True, text=True, timeout=60)
    check(cli.returncode == 2, "dagrad train on a bad CSV exited %d" % cli.returncode)
    line_re = r"(?::|line )(\d+):? (.*)"  # bad.csv:3: field 2 ... (or "line 3")
    m_cli = re.search(line_re, cli.stderr.strip().splitlines()[-1] if cli.stderr.strip() else "")
    check(m_cli, "the CLI's message names no line: %r" % cli.stderr)
    page.t("csv").send_keys(path)
    wait_until(lambda: page.t("data-error").is_displayed() and page.text("data-error"), "the upload's error")
    shown = page.text("data-error")
    m_page = re.search(line_re, shown)
    check(m_page, "the page's message names no line: %r" % shown)
    check(m_page.group(1) == m_cli.group(1) == "3", "line %s on the page, %s from the CLI (want 3)"
          % (m_page.group(1), m_cli.group(1)))
    check(m_page.group(2).strip() == m_cli.group(2).strip(),
          "the page says %r, the CLI %r" % (shown, cli.stderr.strip()))
    page.shot("studio_csv_error.png", "data-error")
    say("  bad CSV: %r (CLI: %r)" % (shown, cli.stderr.strip()))


def set_field(page, elem_id, value):
    e = page.d.find_element(By.ID, elem_id)
    e.send_keys(Keys.CONTROL, "a")  # (clear() leaves a number input's text in Chromium)
    e.send_keys(str(value))
    e.send_keys(Keys.TAB)


def check_shared_url(page, studio, dagrad):
    set_field(page, "seed", 7)
    wait_until(lambda: "seed=7" in page.d.current_url, "seed=7 in the URL")
    set_field(page, "lr", 0.8)
    wait_until(lambda: "lr=0.8" in page.d.current_url and studio.api("config")["lr"] == 0.8, "lr=0.8 in the URL")
    url = page.d.current_url
    config_a = studio.api("config")
    page.reset(studio)
    costs_a = page.steps(studio, 6)
    # The same link, opened on another studio (its own token).
    other = Studio(dagrad)
    try:
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        q["token"] = [other.token]
        shared = other.base + "/?" + urllib.parse.urlencode(q, doseq=True)
        page.open(shared)
        config_b = other.api("config")
        check(config_a == config_b, "the shared URL configured %s, not %s" % (config_b, config_a))
        costs_b = page.steps(other, 6)
        check(costs_a == costs_b, "the shared URL's costs %s differ from %s" % (costs_b, costs_a))
    finally:
        other.stop()
    # And a reload of the first: the same settings keep the run; rewound, it replays.
    page.open(url)
    page.reset(studio)
    costs_c = page.steps(studio, 6)
    check(costs_c == costs_a, "after a reload the costs %s differ from %s" % (costs_c, costs_a))
    say("  shared URL %s: the same %d costs on a second studio and after a reload" % (url.split("?")[1], len(costs_a)))


def check_gradcheck(page, studio):
    # After 100 updates from the seed: at the initial "small" weights the
    # biases' gradients are near 0, where a relative error means little.
    page.reset(studio)
    for _ in range(100):
        studio.api("control", body={"action": "step"})
    page.click("gradcheck-run")
    rows = wait_until(lambda: page.d.find_elements(By.CSS_SELECTOR, "[data-testid=gradcheck] tr.good, "
                                                   "[data-testid=gradcheck] tr.fair, [data-testid=gradcheck] tr.bad"),
                      "the gradient check table", timeout=60)
    shown = {r.find_elements(By.TAG_NAME, "td")[0].text: float(r.find_elements(By.TAG_NAME, "td")[3].text)
             for r in rows}
    api = {r["param"]: r["rel_error"] for r in studio.api("gradcheck")}
    for p in ["W[1]", "b[1]", "W[2]", "b[2]"]:
        check(p in shown, "the gradient check has no row for %s: %s" % (p, sorted(shown)))
        check(abs(shown[p] - api[p]) <= 0.01 * api[p], "%s: the page shows %g, the API %g" % (p, shown[p], api[p]))
        check(shown[p] < 1e-5, "%s's relative error %g" % (p, shown[p]))
    page.shot("studio_gradcheck.png", "gradcheck")
    say("  relative errors %s" % shown)


def check_downloads(page, studio):
    """The page's download links (token in their query): each answers its file."""
    expect = {"model": None, "onnx": None, "costs": b"iteration,cost", "latex": b"dZ", "svg": b"<svg"}
    for what, needle in expect.items():
        href = page.t("download-" + what).get_attribute("href")
        check(href and ("what=" + what) in href, "the %s link is %r" % (what, href))
        try:
            with urllib.request.urlopen(href, timeout=30) as r:
                body = r.read()
                disp = r.headers.get("Content-Disposition", "")
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            check(what == "onnx" and e.code == 400 and "ONNX" in text, "%s: HTTP %d %s" % (what, e.code, text))
            continue
        check(len(body) > 0 and "attachment" in disp, "%s: %d bytes, Content-Disposition %r" % (what, len(body), disp))
        if needle:
            check(needle in body, "%s holds no %r" % (what, needle))


def check_optimizers(page, studio):
    """The optimizer choice and its fields are the server's registry."""
    listed = studio.api("optimizers")["optimizers"]
    names = [o["name"] for o in listed]
    select = Select(page.d.find_element(By.ID, "optimizer"))
    shown = [o.text for o in select.options]
    check(shown == names, "the optimizer choice lists %s, GET optimizers %s" % (shown, names))
    check("adamw" in names, "GET optimizers has no adamw: %s" % names)
    every = sorted({h for o in listed for h in o["hyper"]})
    for o in listed:
        Select(page.d.find_element(By.ID, "optimizer")).select_by_visible_text(o["name"])
        wait_until(lambda: studio.api("config")["optimizer"] == o["name"], "optimizer %s on the server" % o["name"])
        visible = lambda: sorted(h for h in every
                                 if page.d.find_element(By.CSS_SELECTOR, "[data-hyper=%s]" % h).is_displayed())
        wait_until(lambda: visible() == sorted(o["hyper"]), "%s's fields %s" % (o["name"], o["hyper"]))
        if o["name"] == "adamw":
            set_field(page, "weight_decay", 0.05)
            wait_until(lambda: studio.api("config")["weight_decay"] == 0.05, "weight_decay 0.05 on the server")
    page.shot("studio_optimizers.png")
    say("  optimizers %s, fields %s" % (names, every))


def main():
    dagrad = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DAGRAD_CLI", "")
    if not dagrad or not os.access(dagrad, os.X_OK):
        say("usage: browser_test.py PATH/TO/dagrad (or DAGRAD_CLI); got %r" % dagrad)
        return 2
    shots = os.environ.get("DAGRAD_STUDIO_SHOTS") or tempfile.mkdtemp(prefix="dagrad_studio_shots_")
    os.makedirs(shots, exist_ok=True)

    def overtime(*_):
        raise Failure("the browser test ran past %d s" % TOTAL_SECONDS)

    signal.signal(signal.SIGALRM, overtime)
    signal.alarm(TOTAL_SECONDS)
    failed = []
    studio = driver = None
    tmp = tempfile.mkdtemp(prefix="dagrad_studio_test_")
    try:
        studio = Studio(dagrad)
        say("studio at", studio.base)
        driver = browser()
        page = Page(driver, shots)
        checks = [("the page loads with no console errors", lambda: check_load(page, studio)),
                  ("play: the cost falls, the iteration rises, the boundary changes", lambda: check_play(page, studio)),
                  ("dZ[2]: its equation and its value", lambda: check_dz2(page, studio)),
                  ("step-through in the plan's order", lambda: check_step_through(page, studio)),
                  ("rewind replays the costs bit for bit", lambda: check_rewind(page, studio)),
                  ("gradient check", lambda: check_gradcheck(page, studio)),
                  ("a bad CSV row: the CLI's message", lambda: check_bad_csv(page, studio, dagrad, tmp)),
                  ("a shared URL reproduces the costs", lambda: check_shared_url(page, studio, dagrad)),
                  ("the download links", lambda: check_downloads(page, studio)),
                  ("the optimizers are the server's", lambda: check_optimizers(page, studio))]
        for name, fn in checks:
            t0 = time.monotonic()
            try:
                fn()
                say("ok   %s (%.1f s)" % (name, time.monotonic() - t0))
            except Exception as e:  # one check's failure, reported; the others still run
                failed.append(name)
                say("FAIL %s: %s: %s" % (name, type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
                if isinstance(e, Failure) and "ran past" in str(e):
                    break
    except Failure as e:
        failed.append(str(e))
        say("FAIL", e)
    finally:
        signal.alarm(0)
        if driver:
            try:
                driver.quit()
            except Exception:
                pass
        if studio:
            studio.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    say("screenshots in", shots)
    if failed:
        say("%d check(s) failed" % len(failed))
        return 1
    say("all browser checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
