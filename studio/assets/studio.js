// The studio page: the configuration (the panels and the URL), the run
// controls, and the live views drawn from the server's events. The contract
// with the server is docs/studio.md; training runs in the server, the page
// only draws what the events say, once per animation frame.
"use strict";

var Studio = (function () {
  var $ = function (id) { return document.getElementById(id); };
  var token = new URLSearchParams(location.search).get("token") || "";

  // ---- the JSON API -----------------------------------------------------------------

  function api(path, query, body) {
    var url = "/api/" + path;
    if (query) {
      var q = new URLSearchParams();
      Object.keys(query).forEach(function (k) { q.set(k, query[k]); });
      url += "?" + q.toString();
    }
    var init = { headers: { "X-Dagrad-Token": token } };
    if (body !== undefined) {
      init.method = "POST";
      if (typeof body === "string") {
        init.headers["Content-Type"] = "text/csv";
        init.body = body;
      } else {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
    }
    return fetch(url, init).then(function (r) {
      var type = r.headers.get("Content-Type") || "";
      var got = type.indexOf("json") >= 0 ? r.json() : r.text();
      return got.then(function (v) {
        if (!r.ok) throw new Error(v && v.error ? v.error : r.status + " " + r.statusText);
        return v;
      });
    });
  }

  function error(text) {
    var m = $("message");
    m.textContent = text;
    m.hidden = !text;
  }

  // ---- the configuration: the panels and the URL carry the same keys ------------------

  var config = null;   // the server's, as GET/POST config answers it
  var KEYS = ["data", "samples", "noise", "dev", "layers", "hidden", "output", "init", "lr",
              "optimizer", "beta1", "beta2", "epsilon", "weight_decay", "batch", "l2", "keep", "seed",
              "dtype"];

  function listOf(v) {
    if (Array.isArray(v)) return v.slice();
    if (v === undefined || v === null || v === "") return [];
    return String(v).split(",");
  }
  // hidden and keep: one value for every hidden layer, or one each.
  function perLayer(v, n, dflt) {
    var l = listOf(v);
    if (!l.length) l = [dflt];
    var out = [];
    for (var i = 0; i < n; i++) out.push(l[Math.min(i, l.length - 1)]);
    return out;
  }
  // Sent in the type the server used for the key (a string "tanh" or a list).
  function shaped(key, list) {
    var all = list.every(function (x) { return String(x) === String(list[0]); });
    if (config && Array.isArray(config[key])) return list;
    return all ? String(list[0]) : list.join(",");
  }

  // URL query value -> the type GET config gave the same key.
  function typed(key, text) {
    var like = config ? config[key] : undefined;
    if (Array.isArray(like)) {
      return text.split(",").map(function (x) {
        return typeof like[0] === "string" ? x : Number(x);
      });
    }
    if (typeof like === "number") return Number(text);
    if (typeof like === "boolean") return text === "true" || text === "1";
    return text;
  }

  function toQuery(c) {
    var q = new URLSearchParams();
    q.set("token", token);
    KEYS.forEach(function (k) {
      if (c[k] === undefined || c[k] === null) return;
      q.set(k, Array.isArray(c[k]) ? c[k].join(",") : String(c[k]));
    });
    return q.toString().replace(/%2C/g, ",");
  }

  function fromUrl() {
    var q = new URLSearchParams(location.search), part = {}, any = false;
    KEYS.forEach(function (k) {
      if (q.has(k)) { part[k] = typed(k, q.get(k)); any = true; }
    });
    return any ? part : null;
  }

  // Writes the configuration into the panels.
  function render(c) {
    config = c;
    history.replaceState(null, "", location.pathname + "?" + toQuery(c));
    document.querySelectorAll("#sets button").forEach(function (b) {
      b.classList.toggle("on", b.getAttribute("data-set") === c.data);
    });
    document.querySelectorAll("[data-key]").forEach(function (el) {
      var k = el.getAttribute("data-key");
      var v = c[k];
      if (v !== undefined && document.activeElement !== el) el.value = v;
    });
    $("samples-out").textContent = c.samples;
    $("noise-out").textContent = c.noise;
    $("dev-out").textContent = c.dev;
    var uses = hyperOf[c.optimizer] || [];
    document.querySelectorAll("#hyper [data-hyper]").forEach(function (el) {
      el.hidden = uses.indexOf(el.getAttribute("data-hyper")) < 0;
    });
    var generated = c.data !== "upload";
    ["samples", "noise", "dev"].forEach(function (id) { $(id).disabled = !generated; });
    renderLayers(c);
    // The plane needs 2 input features; no boundary request otherwise.
    is2d = Number(listOf(c.layers)[0]) === 2;
    $("boundary-none").hidden = is2d;
    $("boundary").hidden = !is2d;
    if (!is2d) $("legend").innerHTML = "";
    $("accuracy-label").textContent = c.output === "linear" ? "R\u00b2" : "accuracy";
  }

  var MAX_UNITS = 64, MAX_HIDDEN = 6;
  var ACTS = ["tanh", "relu", "leaky_relu", "sigmoid"];

  function renderLayers(c) {
    var layers = listOf(c.layers).map(Number);
    var L = layers.length - 1, nh = Math.max(0, L - 1);
    var hidden = perLayer(c.hidden, nh, "tanh"), keep = perLayer(c.keep, nh, 1);
    $("net-shape").textContent = layers.join("-");
    var box = $("layers");
    box.innerHTML = "";
    function col(title, cls) {
      var d = document.createElement("div");
      d.className = "layer " + (cls || "");
      var h = document.createElement("div");
      h.className = "lh";
      h.textContent = title;
      d.appendChild(h);
      box.appendChild(d);
      return d;
    }
    col("input", "io").appendChild(text("n[0] = " + layers[0] + " features", "units-n"));
    for (var l = 1; l < L; l++) {
      (function (l) {
        var d = col("layer " + l);
        var ctl = document.createElement("div");
        ctl.className = "units-ctl";
        ctl.appendChild(button("\u2212", "fewer units", function () { setUnits(l, layers[l] - 1); }, "units-minus-" + l));
        ctl.appendChild(text("n[" + l + "] = " + layers[l], "units-n"));
        ctl.appendChild(button("+", "more units", function () { setUnits(l, layers[l] + 1); }, "units-plus-" + l));
        d.appendChild(ctl);
        var act = document.createElement("select");
        act.setAttribute("data-testid", "activation-" + l);
        ACTS.forEach(function (a) {
          var o = document.createElement("option");
          o.textContent = a;
          act.appendChild(o);
        });
        act.value = hidden[l - 1];
        act.onchange = function () { hidden[l - 1] = act.value; send({ hidden: shaped("hidden", hidden) }); };
        d.appendChild(act);
        var kp = document.createElement("label");
        kp.className = "keep";
        kp.textContent = "keep_prob ";
        var ki = document.createElement("input");
        ki.type = "number"; ki.min = "0.05"; ki.max = "1"; ki.step = "0.05";
        ki.value = keep[l - 1];
        ki.setAttribute("data-testid", "keep-" + l);
        ki.onchange = function () { keep[l - 1] = Number(ki.value); send({ keep: shaped("keep", keep) }); };
        kp.appendChild(ki);
        d.appendChild(kp);
        var units = document.createElement("div");
        units.className = "units";
        units.id = "units-" + l;
        for (var u = 0; u < Math.min(layers[l], 16); u++) {
          var cv = document.createElement("canvas");
          cv.width = 56; cv.height = 56;
          cv.title = "A[" + l + "] unit " + (u + 1) + " over the input plane";
          units.appendChild(cv);
        }
        d.appendChild(units);
      })(l);
    }
    var out = col("output", "io");
    out.appendChild(text("n[" + L + "] = " + layers[L], "units-n"));
    out.appendChild(text(c.output, "act"));
    var addrm = document.createElement("div");
    addrm.className = "add-layer";
    addrm.appendChild(button("+ layer", "add a hidden layer", function () { setLayers(1); }, "layer-plus"));
    addrm.appendChild(button("\u2212 layer", "remove the last hidden layer", function () { setLayers(-1); }, "layer-minus"));
    box.appendChild(addrm);

    function setUnits(l, n) {
      if (n < 1 || n > MAX_UNITS) return;
      layers[l] = n;
      send({ layers: shaped("layers", layers) });
    }
    function setLayers(d) {
      if (d > 0 && nh >= MAX_HIDDEN) return;
      if (d < 0 && nh < 1) return;
      if (d > 0) {
        layers.splice(L, 0, layers[L - 1] > 0 && L > 1 ? layers[L - 1] : 4);
        hidden.push(hidden.length ? hidden[hidden.length - 1] : "tanh");
        keep.push(1);
      } else {
        layers.splice(L - 1, 1);
        hidden.pop();
        keep.pop();
      }
      var part = { layers: shaped("layers", layers) };
      if (hidden.length) { part.hidden = shaped("hidden", hidden); part.keep = shaped("keep", keep); }
      send(part);
    }
  }

  function text(t, cls) {
    var s = document.createElement("div");
    s.className = cls || "";
    s.textContent = t;
    return s;
  }
  function button(label, title, fn, testid) {
    var b = document.createElement("button");
    b.textContent = label;
    b.title = title;
    b.onclick = fn;
    if (testid) b.setAttribute("data-testid", testid);
    return b;
  }

  // The output layer follows the data: 2 classes take sigmoid with n[L] = 1
  // (or softmax with 2), more take softmax with n[L] = K, a regression
  // linear with 1. A change of the data or the output sends a coherent set.
  var uploadInfo = null;
  function classesOf(data) {
    if (data === "blobs") return 3;
    if (data === "line") return 0;
    if (data === "upload") return uploadInfo ? uploadInfo.classes : 2;
    return 2;
  }
  function coherent(part) {
    if (!config || (part.data === undefined && part.output === undefined)) return part;
    var data = part.data !== undefined ? part.data : config.data;
    var k = classesOf(data);
    var output = part.output !== undefined ? part.output : config.output;
    if (part.data !== undefined) output = k === 0 ? "linear" : k > 2 ? "softmax" : "sigmoid";
    if (k > 2) output = "softmax";
    var layers = listOf(part.layers !== undefined ? part.layers : config.layers).map(Number);
    if (data !== "upload") layers[0] = 2;
    else if (uploadInfo) layers[0] = uploadInfo.features;
    layers[layers.length - 1] = output === "softmax" ? Math.max(k, 2) : 1;
    part.output = output;
    part.layers = shaped("layers", layers);
    return part;
  }

  // A change of any setting: the server rebuilds the model from the seed.
  var sending = Promise.resolve();
  function send(part) {
    part = coherent(part);
    sending = sending.then(function () {
      return api("config", null, part).then(function (c) {
        error("");
        render(c);
        return reload();
      }, function (e) {
        error(e.message);
        render(config);  // back to what the server holds
      });
    });
    return sending;
  }

  // ---- after a new model: the graph, the schedule, the state ---------------------------

  var costs = [], devCosts = [], latest = null;

  function reload() {
    costs = []; devCosts = [];
    boundaryWanted = true;
    var g = api("graph").then(Derivation.load, function (e) { error("graph: " + e.message); });
    var n = api("nodes").then(Derivation.loadSchedule, function (e) { error("nodes: " + e.message); });
    var s = api("state").then(function (st) { takeState(st, true); });
    return Promise.all([g, n, s]).then(function () { return Derivation.refresh(true); });
  }

  // Costs arrive whole (GET state) or as the newest few (events).
  function merge(into, pairs, whole) {
    if (!pairs) return into;
    if (whole) return pairs.slice();
    for (var i = 0; i < pairs.length; i++) {
      var p = pairs[i];
      var last = into.length ? into[into.length - 1][0] : -1;
      if (p[0] > last) into.push(p);
      else if (p[0] < last) {  // a rewind: the curve starts again
        while (into.length && into[into.length - 1][0] >= p[0]) into.pop();
        into.push(p);
      }
    }
    return into;
  }

  function takeState(st, whole) {
    if (latest && !whole && (st.generation !== latest.generation || st.iteration < latest.iteration)) {
      costs = []; devCosts = [];  // a new model or a rewind: the curves start again
    }
    costs = merge(costs, st.costs, whole);
    devCosts = merge(devCosts, st.dev_costs, whole);
    latest = st;
    dirty = true;
    boundaryWanted = true;
    schedule();
  }

  // ---- drawing, once per animation frame --------------------------------------------

  var dirty = false, frameQueued = false, running = false, shownNote = "";
  var boundaryWanted = true, boundaryBusy = false, boundaryData = null, boundaryNew = false;
  var BOUNDARY_MS = 100, lastBoundary = -Infinity;
  var stats = { frames: 0, draws: 0, events: 0, boundaries: 0, fps: 0, drawsPerSecond: 0 };
  var tick = { t: 0, frames: 0, draws: 0 };

  function schedule() {
    if (!frameQueued) { frameQueued = true; requestAnimationFrame(frame); }
  }

  function frame(now) {
    frameQueued = false;
    stats.frames++; tick.frames++;
    if (now - tick.t >= 1000) {
      stats.fps = Math.round(tick.frames * 1000 / (now - tick.t));
      stats.drawsPerSecond = Math.round(tick.draws * 1000 / (now - tick.t));
      tick = { t: now, frames: 0, draws: 0 };
      $("fps").textContent = running ? stats.fps + " fps, " + stats.drawsPerSecond + " updates/s drawn" : "";
    }
    if (dirty && latest) {
      dirty = false;
      stats.draws++; tick.draws++;
      drawState(latest);
    }
    if (boundaryNew) { boundaryNew = false; drawBoundary(); }
    // The boundary: at most one request in flight, and while training at most
    // one every BOUNDARY_MS (each one takes the engine's lock from training).
    if (boundaryWanted && !boundaryBusy && is2d && (!running || now - lastBoundary >= BOUNDARY_MS)) {
      lastBoundary = now;
      fetchBoundary();
    }
    if (running) { Derivation.refresh(false); schedule(); }
  }

  function num(x, digits) {
    if (x === null || x === undefined || (typeof x === "number" && !isFinite(x))) return "-";
    return String(+x.toPrecision(digits || 6));
  }

  function drawState(st) {
    $("iteration").textContent = String(st.iteration);
    $("epoch").textContent = String(st.epoch);
    // The last update's cost; before the first update, the cost over the training set.
    var J = st.cost !== null && st.cost !== undefined ? st.cost : st.train_cost;
    $("cost").textContent = num(J, 8);
    $("cost").setAttribute("data-value", String(J));
    $("cost").title = "the cost of the last update's batch; on the whole training set: " + num(st.train_cost);
    $("dev-cost").textContent = num(st.dev_cost);
    var note = st.diverged ? (st.message || "the cost diverged: lower the learning rate, then reset") : (st.message || "");
    if (note !== shownNote) { shownNote = note; $("run-note").textContent = note; $("run-note").hidden = !note; }
    if (config && config.output === "linear") $("accuracy").textContent = num(st.r2, 4);
    else $("accuracy").textContent = st.accuracy === null || st.accuracy === undefined
      ? "-" : (100 * st.accuracy).toFixed(1) + "%";
    var reg = config && config.output === "linear";
    var pct = function (a) { return a === null || a === undefined ? "-" : (100 * a).toFixed(1) + "%"; };
    $("out-stats").innerHTML = reg
      ? "<b>R\u00b2</b>train " + num(st.r2, 4) + " &middot; dev " + num(st.dev_r2, 4)
      : "<b>accuracy</b>train " + pct(st.accuracy) + " &middot; dev " + pct(st.dev_accuracy);
    setRunning(!!st.running);
    if (st.speed && document.activeElement !== $("speed")) $("speed").value = st.speed;
    var cv = $("curves");
    if (cv.clientWidth && cv.width !== cv.clientWidth) cv.width = cv.clientWidth;
    Views.curves(cv, costs, devCosts);
  }

  function setRunning(r) {
    if (r === running) return;
    running = r;
    $("play").hidden = r;
    $("pause").hidden = !r;
    document.body.classList.toggle("running", r);
    if (r) { tick = { t: performance.now(), frames: 0, draws: 0 }; schedule(); }
  }

  var is2d = true;
  function fetchBoundary() {
    boundaryWanted = false;
    boundaryBusy = true;
    api("boundary", { size: 64 }).then(function (b) {
      boundaryData = b;
      boundaryNew = true;
      stats.boundaries++;
      $("boundary-none").hidden = true;
      $("boundary").hidden = false;
      schedule();
    }, function () {
      is2d = false;  // not 2-D inputs: no plane to draw
      $("boundary-none").hidden = false;
      $("boundary").hidden = true;
    }).then(function () { boundaryBusy = false; });
  }

  function drawBoundary() {
    var b = boundaryData;
    if (!b) return;
    Views.boundary($("boundary"), b);
    var byLayer = {};
    (b.units || []).forEach(function (u) {
      var box = $("units-" + u[0]);
      if (!box) return;
      var cv = box.children[u[1]];
      if (cv) Views.unit(cv, u[2], b.units_size || Math.round(Math.sqrt(u[2].length)));
      byLayer[u[0]] = true;
    });
    var lg = $("legend");
    if (b.output === "class") {
      var k = 0;
      b.points.forEach(function (p) { if (p[2] + 1 > k) k = p[2] + 1; });
      var h = "";
      for (var i = 0; i < k; i++)
        h += "<span><i style=\"background:" + Views.css(Views.classColor(i)) + "\"></i>class " + i + "</span>";
      lg.innerHTML = h;
    } else if (b.output === "value") {
      lg.innerHTML = "<span><i class=\"neg\"></i>low</span><span><i class=\"pos\"></i>high</span>";
    } else {
      lg.innerHTML = "<span><i class=\"neg\"></i>y = 0</span><span><i class=\"pos\"></i>y = 1</span>" +
                     "<span><i class=\"dev\"></i>dev</span>" +
                     "<span class=\"dim\">shade: the predicted probability</span>";
    }
  }

  // ---- the run controls ------------------------------------------------------------

  function control(action) {
    var body = { action: action, speed: Number($("speed").value) };
    return api("control", null, body).then(function (st) {
      error("");
      if (action === "reset") { costs = []; devCosts = []; }
      takeState(st, action === "reset" || action === "step" || action === "epoch");
      if (!st.running) Derivation.refresh(true);
    }, function (e) { error(e.message); });
  }

  // ---- the events ------------------------------------------------------------------

  var source = null;
  function listen() {
    if (source) source.close();
    source = new EventSource("/events?token=" + encodeURIComponent(token));
    source.onmessage = function (e) {
      stats.events++;
      try { takeState(JSON.parse(e.data), false); } catch (x) { /* a torn frame: the next one follows */ }
    };
    source.onopen = function () { $("conn").textContent = ""; };
    source.onerror = function () { $("conn").textContent = "reconnecting to the server\u2026"; };
  }

  // ---- data: the generated sets and the user's CSV ----------------------------------------

  function upload(file) {
    var err = $("data-error");
    err.hidden = true;
    if (file.size > 8 * 1024 * 1024) {
      err.textContent = file.name + ": " + file.size + " bytes, over the 8 MiB limit";
      err.hidden = false;
      return Promise.resolve();
    }
    return file.text().then(function (body) {
      return api("data", null, body);
    }).then(function (r) {
      uploadInfo = r;
      $("data-info").textContent = file.name + ": " + r.samples + " samples, " + r.features +
        " features, " + (r.classes ? r.classes + " classes" : "real-valued labels (regression)");
      var next = r.config ? Promise.resolve(r.config) : api("config");
      return next.then(function (c) { render(c); return reload(); });
    }, function (e) {
      err.textContent = e.message;   // the CLI's own message, naming the line
      err.hidden = false;
    });
  }

  // ---- the optimizers: the server's registry ------------------------------------------

  // GET optimizers: each optimizer's name and the configuration keys of the
  // hyper-parameters it reads. The choice gets one option per optimizer and
  // the settings one field per hyper-parameter, shown for those that read it.
  var hyperOf = {};
  function buildOptimizers(answer) {
    var select = $("optimizer"), box = $("hyper");
    answer.optimizers.forEach(function (o) {
      hyperOf[o.name] = o.hyper;
      var opt = document.createElement("option");
      opt.textContent = o.name;
      select.appendChild(opt);
      o.hyper.forEach(function (key) {
        if (box.querySelector("[data-hyper='" + key + "']")) return;
        var label = document.createElement("label");
        label.setAttribute("data-hyper", key);
        label.hidden = true;
        label.appendChild(document.createTextNode(key.replace(/_/g, " ") + " "));
        var input = document.createElement("input");
        input.id = key;
        input.type = "number";
        input.step = "any";
        input.min = "0";
        input.setAttribute("data-key", key);
        label.appendChild(input);
        box.appendChild(label);
      });
    });
  }

  // ---- start ----------------------------------------------------------------------

  function wire() {
    $("play").onclick = function () { control("play"); };
    $("pause").onclick = function () { control("pause"); };
    $("step").onclick = function () { control("step"); };
    $("step-epoch").onclick = function () { control("epoch"); };
    $("reset").onclick = function () { control("reset"); };
    $("speed").onchange = function () { if (running) control("play"); };
    document.querySelectorAll("#sets button").forEach(function (b) {
      b.onclick = function () { $("data-info").textContent = ""; $("data-error").hidden = true;
                                send({ data: b.getAttribute("data-set") }); };
    });
    document.querySelectorAll("[data-key]").forEach(function (el) {
      var k = el.getAttribute("data-key");
      el.addEventListener("input", function () {
        var out = $(el.id + "-out");
        if (out) out.textContent = el.value;
      });
      el.addEventListener("change", function () {
        var v = el.value;
        var part = {};
        part[k] = typed(k, v);
        send(part);
      });
    });
    $("csv").addEventListener("change", function () {
      if (this.files && this.files[0]) upload(this.files[0]);
      this.value = "";
    });
    document.querySelectorAll(".downloads a").forEach(function (a) {
      a.href = "/api/download?what=" + a.getAttribute("data-what") + "&token=" + encodeURIComponent(token);
    });
    document.addEventListener("keydown", function (e) {
      if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
      if (e.key === " ") { e.preventDefault(); control(running ? "pause" : "play"); }
      else if (e.key === "ArrowRight") $("trace-next").click();
      else if (e.key === "ArrowLeft") $("trace-prev").click();
    });
  }

  function start() {
    Derivation.init(api);
    api("optimizers").then(function (o) {
      buildOptimizers(o);
      wire();  // after the fields it wires exist
      return api("config");
    }).then(function (c) {
      config = c;
      // The URL's settings, when they differ from the server's: a shared link
      // rebuilds the same model; a reload of the same settings keeps the run
      // (and a model opened with --model) as it is.
      var part = fromUrl();
      var norm = function (v) { return Array.isArray(v) ? v.map(String).join(",") : String(v); };
      if (!part || Object.keys(part).every(function (k) { return norm(part[k]) === norm(c[k]); })) return c;
      return api("config", null, part).catch(function (e) { error("the URL's settings: " + e.message); return c; });
    }).then(function (c) {
      render(c);
      listen();
      return reload();
    }).then(function () {
      document.body.setAttribute("data-ready", "1");
    }, function (e) { error(e.message); });
  }

  document.addEventListener("DOMContentLoaded", start);

  return { api: api, error: error, stats: stats,
           costs: function () { return costs; }, config: function () { return config; } };
})();
