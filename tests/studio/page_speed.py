#!/usr/bin/python3
"""The studio's speed, measured (a benchmark, not a test: nothing is asserted).

    page_speed.py PATH/TO/dagrad [--seconds 10] [--iters 200000]

Prints, for the notes' planar 2-4-1 tanh net (lr 1.2, full batch, f64):
  1. `dagrad train` alone: iterations a second over --iters updates on the
     same training set the studio trains on (its 320 training samples);
  2. the studio with the page open in headless Chromium, drawing: iterations
     a second while playing at full speed, read from GET /api/state;
  3. the page's frames a second while training (requestAnimationFrame,
     counted in the page: Studio.stats), and the updates it drew a second;
  4. first paint and first contentful paint (performance.getEntriesByType).
docs/studio.md quotes its output.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_test as bt  # noqa: E402  (the same studio process and browser set-up)


def cli_rate(dagrad, iters, tmp):
    # The studio's own training set: its config's data, written by the API.
    studio = bt.Studio(dagrad)
    try:
        b = studio.api("boundary", {"size": 2})
        cfg = studio.api("config")
    finally:
        studio.stop()
    path = os.path.join(tmp, "train.csv")
    with open(path, "w") as f:
        for x, y, label in b["points"]:
            f.write("%r,%r,%d\n" % (x, y, int(label)))
    layers = ",".join(str(n) for n in cfg["layers"])
    cmd = [dagrad, "train", "--data", path, "--layers", layers, "--hidden", cfg["hidden"][0],
           "--lr", str(cfg["lr"]), "--iters", str(iters), "--seed", str(cfg["seed"])]
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        raise SystemExit("dagrad train failed: " + r.stderr.strip())
    return len(b["points"]), iters / dt, dt, " ".join(cmd[1:])


def page_rate(dagrad, seconds):
    studio = bt.Studio(dagrad)
    driver = bt.browser()
    try:
        page = bt.Page(driver, tempfile.gettempdir())
        page.open(studio.url)
        paint = driver.execute_script(
            "return performance.getEntriesByType('paint').map(function (e) { return [e.name, e.startTime]; })")
        nav = driver.execute_script(
            "var n = performance.getEntriesByType('navigation')[0]; return n ? n.domContentLoadedEventEnd : null")
        page.click("play")
        time.sleep(1.0)  # past the first frames
        s0 = studio.api("state")
        t0 = time.monotonic()
        f0 = driver.execute_script("return [Studio.stats.frames, Studio.stats.draws, Studio.stats.boundaries]")
        fps = []
        while time.monotonic() - t0 < seconds:
            time.sleep(1.0)
            fps.append(driver.execute_script("return Studio.stats.fps"))
        s1 = studio.api("state")
        t1 = time.monotonic()
        f1 = driver.execute_script("return [Studio.stats.frames, Studio.stats.draws, Studio.stats.boundaries]")
        page.pause(studio)
        dt = t1 - t0
        its = (s1["iteration"] - s0["iteration"]) / dt
        # The same, with no page open: the server alone.
        driver.get("about:blank")
        studio.api("control", body={"action": "reset"})
        studio.api("control", body={"action": "play", "speed": 100})
        time.sleep(1.0)
        a0, u0 = studio.api("state")["iteration"], time.monotonic()
        time.sleep(seconds)
        a1, u1 = studio.api("state")["iteration"], time.monotonic()
        studio.api("control", body={"action": "pause"})
        alone = (a1 - a0) / (u1 - u0)
        return {"page_its": its, "alone_its": alone, "fps_samples": fps,
                "frames_per_s": (f1[0] - f0[0]) / dt, "draws_per_s": (f1[1] - f0[1]) / dt,
                "boundaries_per_s": (f1[2] - f0[2]) / dt, "paint": paint, "dom_content_loaded": nav}
    finally:
        driver.quit()
        studio.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dagrad")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--iters", type=int, default=200000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="dagrad_studio_speed_")
    m, cli, cli_s, cmd = cli_rate(a.dagrad, a.iters, tmp)
    print("dagrad train (%d samples): %.0f iterations/s  (%d iterations in %.2f s: dagrad %s)"
          % (m, cli, a.iters, cli_s, cmd), flush=True)
    p = page_rate(a.dagrad, a.seconds)
    print("studio, page open and drawing: %.0f iterations/s (%.1f%% of dagrad train)"
          % (p["page_its"], 100 * p["page_its"] / cli))
    print("studio, no page open: %.0f iterations/s (%.1f%% of dagrad train)"
          % (p["alone_its"], 100 * p["alone_its"] / cli))
    print("page while training: %.1f frames/s (requestAnimationFrame), %.1f updates drawn/s, "
          "%.1f boundaries/s; per-second fps samples %s"
          % (p["frames_per_s"], p["draws_per_s"], p["boundaries_per_s"], p["fps_samples"]))
    print("paint entries (ms): %s; DOMContentLoaded end %.0f ms"
          % (json.dumps(p["paint"]), p["dom_content_loaded"] or -1))


if __name__ == "__main__":
    main()
