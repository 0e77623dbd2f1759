// The derivation: the graph that `dagrad dot` draws (GET /api/graph, inlined
// so that its nodes are clickable), the node inspector (GET /api/node), the
// step-through over the plan's schedule (GET /api/nodes, /api/step) and the
// gradient check (GET /api/gradcheck). `api(path, query)` is studio.js's
// fetch of the JSON API.
"use strict";

var Derivation = (function () {
  var api = null;
  var $ = function (id) { return document.getElementById(id); };
  var svg = null, view = null, full = null;  // the SVG, its current and whole viewBox
  var schedule = [];                          // GET /api/nodes
  var selected = null;                        // the node shown in the inspector
  var mode = "node";                          // "node" (clicked) or "step" (step-through)
  var stepIndex = -1;
  var busy = false, lastRefresh = 0;

  function escapeHtml(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c];
    });
  }

  // explain's text as the notes typeset it: A[2] -> A^[2], X^T, greek letters.
  function pretty(eq) {
    var h = escapeHtml(eq);
    h = h.replace(/([A-Za-z][A-Za-z0-9_]*)\[(\d+|l|L)\]/g, "$1<sup>[$2]</sup>");
    h = h.replace(/\^T\b/g, "<sup>T</sup>").replace(/\^(\d+|t)\b/g, "<sup>$1</sup>");
    h = h.replace(/\bbeta([12])\b/g, "&beta;<sub>$1</sub>").replace(/\bbeta\b/g, "&beta;");
    h = h.replace(/\balpha\b/g, "&alpha;").replace(/\blambda\b/g, "&lambda;")
         .replace(/\bepsilon\b/g, "&epsilon;").replace(/\bsqrt\(/g, "&radic;(");
    h = h.replace(/ \* /g, " &lowast; ").replace(/ - /g, " &minus; ");
    h = h.replace(/\b1\/m\b/g, "<span class=\"frac\"><sup>1</sup>&frasl;<sub>m</sub></span>");
    return h;
  }

  // ---- the graph --------------------------------------------------------------

  function nodeEl(name) {
    if (!svg || !name) return null;
    return svg.querySelector("g[data-node=\"" + CSS.escape(name) + "\"]");
  }

  function setView(v) {
    view = v;
    svg.setAttribute("viewBox", v.x + " " + v.y + " " + v.w + " " + v.h);
  }

  function fit() {
    if (full) setView({ x: full.x, y: full.y, w: full.w, h: full.h });
  }

  function zoom(f, cx, cy) {
    if (!view) return;
    if (cx === undefined) { cx = view.x + view.w / 2; cy = view.y + view.h / 2; }
    var w = Math.min(full.w * 2, Math.max(full.w / 20, view.w * f));
    var k = w / view.w;
    setView({ x: cx - (cx - view.x) * k, y: cy - (cy - view.y) * k, w: w, h: view.h * k });
  }

  // Pans so that the node is in view (the graph is larger than its pane).
  function reveal(name) {
    var el = nodeEl(name);
    if (!el || !view) return;
    var r = svg.getBoundingClientRect();
    if (view.w / r.width > 1.4) {  // too small to read: zoom to about 1:1 first
      var k = (r.width * 1.0) / view.w;
      setView({ x: view.x, y: view.y, w: view.w * k, h: view.h * k });
    }
    var b = el.getBoundingClientRect();
    if (b.left >= r.left && b.top >= r.top && b.right <= r.right && b.bottom <= r.bottom) return;
    var s = Math.max(view.w / r.width, view.h / r.height);  // viewBox units per pixel
    var dx = (b.left + b.width / 2 - (r.left + r.width / 2)) * s;
    var dy = (b.top + b.height / 2 - (r.top + r.height / 2)) * s;
    setView({ x: view.x + dx, y: view.y + dy, w: view.w, h: view.h });
  }

  // The first view: the forward pass, the cost and the derived backward
  // pass (dot's clusters), larger than the whole graph fitted; "fit" shows all.
  function focus() {
    var parts = svg.querySelectorAll("g.cluster.forward, g.cluster.loss, g.cluster.backward");
    if (!parts.length) return;
    var r = svg.getBoundingClientRect();
    if (!r.width || !r.height) return;
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    parts.forEach(function (g) {
      var b = g.getBoundingClientRect();
      x0 = Math.min(x0, b.left); y0 = Math.min(y0, b.top);
      x1 = Math.max(x1, b.right); y1 = Math.max(y1, b.bottom);
    });
    var s = Math.max(view.w / r.width, view.h / r.height);  // units per pixel now
    var cx = view.x + view.w / 2 + ((x0 + x1) / 2 - (r.left + r.width / 2)) * s;
    var cy = view.y + view.h / 2 + ((y0 + y1) / 2 - (r.top + r.height / 2)) * s;
    var w = (x1 - x0) * s * 1.06, h = (y1 - y0) * s * 1.06;
    var k = Math.max(w / r.width, h / r.height);  // units per pixel after
    setView({ x: cx - r.width * k / 2, y: cy - r.height * k / 2, w: r.width * k, h: r.height * k });
  }

  function load(text) {
    var pane = $("graph");
    var at = text.indexOf("<svg");
    pane.innerHTML = at >= 0 ? text.slice(at) : text;
    svg = pane.querySelector("svg");
    if (!svg) return;
    var vb = svg.viewBox.baseVal;
    full = { x: vb.x, y: vb.y, w: vb.width, h: vb.height };
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    fit();
    focus();
    // Titles of nodes are the dot ids (n12): the learner's name is data-node.
    svg.querySelectorAll("g[data-node]").forEach(function (g) {
      var t = g.querySelector("title");
      if (t) t.textContent = g.getAttribute("data-node");
    });
    if (selected) mark(selected, lastInputs);
  }

  var lastInputs = [];
  function mark(name, inputs) {
    if (!svg) return;
    svg.querySelectorAll("g.sel, g.in").forEach(function (g) { g.classList.remove("sel", "in"); });
    (inputs || []).forEach(function (n) { var e = nodeEl(n); if (e) e.classList.add("in"); });
    var el = nodeEl(name);
    if (el) el.classList.add("sel");
    lastInputs = inputs || [];
  }

  function wire() {
    var pane = $("graph");
    pane.addEventListener("click", function (e) {
      if (dragged) return;
      var g = e.target.closest && e.target.closest("g[data-node]");
      if (g) select(g.getAttribute("data-node"));
    });
    pane.addEventListener("wheel", function (e) {
      if (!svg) return;
      e.preventDefault();
      var r = svg.getBoundingClientRect();
      var s = Math.max(view.w / r.width, view.h / r.height);
      var cx = view.x + view.w / 2 + (e.clientX - r.left - r.width / 2) * s;
      var cy = view.y + view.h / 2 + (e.clientY - r.top - r.height / 2) * s;
      zoom(e.deltaY > 0 ? 1.15 : 1 / 1.15, cx, cy);
    }, { passive: false });
    var drag = null, dragged = false;
    pane.addEventListener("mousedown", function (e) {
      if (!svg) return;
      drag = { x: e.clientX, y: e.clientY, v: view };
      dragged = false;
    });
    window.addEventListener("mousemove", function (e) {
      if (!drag) return;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) dragged = true;
      if (!dragged) return;
      var r = svg.getBoundingClientRect();
      var s = Math.max(drag.v.w / r.width, drag.v.h / r.height);
      setView({ x: drag.v.x - dx * s, y: drag.v.y - dy * s, w: drag.v.w, h: drag.v.h });
    });
    window.addEventListener("mouseup", function () {
      drag = null;
      setTimeout(function () { dragged = false; }, 0);
    });
    $("zoom-in").onclick = function () { zoom(1 / 1.3); };
    $("zoom-out").onclick = function () { zoom(1.3); };
    $("zoom-fit").onclick = fit;
    $("zoom-focus").onclick = focus;
    $("trace-first").onclick = function () { goStep(0); };
    $("trace-prev").onclick = function () { goStep(Math.max(0, stepIndex - 1)); };
    $("trace-next").onclick = function () { goStep(Math.min(schedule.length - 1, stepIndex + 1)); };
    ["trace-row", "trace-col"].forEach(function (id) {
      $(id).addEventListener("change", function () { if (mode === "step") goStep(stepIndex); });
    });
    $("gradcheck-run").onclick = gradcheck;
    $("value").addEventListener("mouseover", function (e) {
      var td = e.target.closest("td");
      if (!td) return;
      $("value-hover").textContent = ($("node-name").textContent || "") + "[" + td.getAttribute("data-rc") + "] = " + td.getAttribute("data-v");
    });
    $("value").addEventListener("click", function (e) {
      var td = e.target.closest("td");
      if (!td) return;
      var rc = td.getAttribute("data-rc").split(",");
      $("trace-row").value = rc[0];
      $("trace-col").value = rc[1];
      if (mode === "step") goStep(stepIndex);
    });
  }

  // ---- the inspector ------------------------------------------------------------

  function showValue(v) {
    var table = $("value");
    table.innerHTML = "";
    if (!v || !v.data) { $("value-note").textContent = ""; return; }
    var dims = currentDims || [v.rows, v.cols];
    var span = Math.max(Math.abs(v.min || 0), Math.abs(v.max || 0));
    var note = "value on the current batch, " + dims[0] + " x " + dims[1];
    if (v.rows < dims[0] || v.cols < dims[1])
      note += " (the leading " + v.rows + " x " + v.cols + " shown)";
    note += ";  min " + fmt(v.min) + ", max " + fmt(v.max);
    $("value-note").textContent = note;
    var frag = document.createDocumentFragment();
    for (var r = 0; r < v.rows; r++) {
      var tr = document.createElement("tr");
      for (var c = 0; c < v.cols; c++) {
        var x = Array.isArray(v.data[0]) ? v.data[r][c] : v.data[r * v.cols + c];
        var td = document.createElement("td");
        td.textContent = short(x);
        td.setAttribute("data-v", String(x));
        td.setAttribute("data-rc", r + "," + c);
        td.style.background = Views.cell(x, span);
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    table.appendChild(frag);
    var el = mode === "step" ? [+$("trace-row").value, +$("trace-col").value] : null;
    if (el && table.rows[el[0]] && table.rows[el[0]].cells[el[1]])
      table.rows[el[0]].cells[el[1]].classList.add("chosen");
  }
  var currentDims = null;

  function fmt(x) {
    if (x === null || x === undefined) return "-";
    if (typeof x !== "number") return String(x);
    if (x === 0) return "0";
    var a = Math.abs(x);
    return a >= 1e-3 && a < 1e5 ? String(+x.toPrecision(6)) : x.toExponential(4);
  }
  function short(x) {
    if (typeof x !== "number") return String(x);
    if (x === 0) return "0";
    var a = Math.abs(x);
    if (a >= 0.01 && a < 1000) return String(+x.toPrecision(3));
    return x.toExponential(1);
  }

  function show(d) {
    $("node-name").textContent = d.node;
    $("node-op").textContent = d.op;
    $("node-shape").textContent = d.shape + (d.dims ? "  =  " + d.dims[0] + " x " + d.dims[1] : "");
    $("equation").textContent = d.equation || "";
    $("eq-pretty").innerHTML = d.equation ? pretty(d.equation) : "<i>" + escapeHtml(d.node) + ": a leaf (" + escapeHtml(d.op) + ")</i>";
    var ins = $("node-inputs");
    ins.innerHTML = "";
    if (d.inputs && d.inputs.length) {
      ins.appendChild(document.createTextNode("inputs: "));
      d.inputs.forEach(function (n) {
        var a = document.createElement("a");
        a.textContent = n;
        a.href = "#";
        a.onclick = function (e) { e.preventDefault(); select(n); };
        ins.appendChild(a);
      });
    }
    var pl = $("plugged");
    if (mode === "step" && d.plugged) { pl.hidden = false; pl.textContent = d.plugged; }
    else { pl.hidden = true; pl.textContent = ""; }
    currentDims = d.dims || null;
    showValue(d.value);
    mark(d.node, d.inputs);
  }

  function select(name) {
    mode = "node";
    selected = name;
    markSchedule(-1);
    return refresh(true);
  }

  // Called each frame while training: the selected node's live value, at most ~4 a second.
  function refresh(force) {
    if (!selected || busy) return Promise.resolve();
    var now = performance.now();
    if (!force && now - lastRefresh < 250) return Promise.resolve();
    lastRefresh = now;
    busy = true;
    var p = mode === "step"
      ? api("step", { index: schedule[stepIndex].index, row: $("trace-row").value, col: $("trace-col").value })
      : api("node", { name: selected, rows: 8, cols: 16 });
    return p.then(show, function (e) { Studio.error(e.message); })
            .then(function () { busy = false; }, function () { busy = false; });
  }

  // ---- step-through ---------------------------------------------------------------

  // The plan's schedule, forward, then backward, then update, each phase in
  // the plan's order (a stable sort: still an order the nodes can run in,
  // since within one step no update feeds the forward or backward pass).
  var RANK = { forward: 0, backward: 1, update: 2 };
  function phased(nodes) {
    return nodes.map(function (n, k) { n.index = k; return n; }).sort(function (a, b) {
      return ((RANK[a.phase] || 0) - (RANK[b.phase] || 0)) || (a.index - b.index);
    });
  }

  function loadSchedule(nodes) {
    schedule = phased(nodes || []);
    var box = $("schedule");
    box.innerHTML = "";
    var phase = null;
    schedule.forEach(function (n, k) {
      if (n.phase !== phase) {
        phase = n.phase;
        var h = document.createElement("span");
        h.className = "phase " + phase;
        h.textContent = phase;
        box.appendChild(h);
      }
      var b = document.createElement("button");
      b.className = "chip " + n.phase;
      b.textContent = n.node;
      b.title = (n.equation || n.op) + "   (" + n.shape + ")";
      b.setAttribute("data-index", k);
      b.onclick = function () { goStep(k); };
      box.appendChild(b);
    });
    stepIndex = -1;
    $("trace-pos").textContent = schedule.length ? "0 / " + schedule.length : "";
    if (mode === "step") mode = "node";
  }

  function markSchedule(k) {
    var box = $("schedule");
    box.querySelectorAll(".chip.on").forEach(function (b) { b.classList.remove("on"); });
    if (k < 0) return;
    var b = box.querySelector(".chip[data-index=\"" + k + "\"]");
    if (b) {
      b.classList.add("on");
      var top = b.offsetTop - box.offsetTop;
      if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - b.offsetHeight)
        box.scrollTop = top - box.clientHeight / 2;
    }
  }

  function goStep(k) {
    if (!schedule.length) return Promise.resolve();
    stepIndex = k;
    mode = "step";
    selected = schedule[k].node;
    $("trace-pos").textContent = (k + 1) + " / " + schedule.length + "  " + schedule[k].phase;
    markSchedule(k);
    reveal(selected);
    return refresh(true);
  }

  // ---- gradient check ---------------------------------------------------------------

  function gradcheck() {
    var t = $("gradcheck");
    t.innerHTML = "<tr><td>checking&hellip;</td></tr>";
    return api("gradcheck").then(function (rows) {
      var h = "<tr><th>parameter</th><th>entries checked</th><th>dJ/d&theta; (leading)</th>" +
              "<th>relative error</th><th></th></tr>";
      rows.forEach(function (r) {
        var e = r.rel_error;
        var cls = r.pass === false ? "bad" : e < 1e-7 ? "good" : e < 1e-4 ? "fair" : "bad";
        var word = r.pass === false ? "check it" : e < 1e-7 ? "correct" : "fine";
        if (r.kinks) word += " (" + r.kinks + " kinks of relu skipped)";
        var an = Array.isArray(r.analytic) ? r.analytic : [r.analytic];
        var lead = an.slice(0, 4).map(function (x) { return fmt(x); }).join(", ");
        if (an.length > 4) lead += ", \u2026";
        h += "<tr class=\"" + cls + "\"><td>" + escapeHtml(r.param) + "</td><td>" + (r.checked === undefined ? "-" : r.checked) +
             "</td><td>" + lead + "</td><td>" + (typeof e === "number" ? e.toExponential(2) : "-") +
             "</td><td>" + word + "</td></tr>";
      });
      t.innerHTML = h;
    }, function (e) { t.innerHTML = ""; Studio.error(e.message); });
  }

  function init(apiFn) { api = apiFn; wire(); }

  return { init: init, load: load, loadSchedule: loadSchedule, select: select, refresh: refresh,
           goStep: goStep, pretty: pretty, fmt: fmt, phased: phased,
           state: function () { return { selected: selected, mode: mode, step: stepIndex }; } };
})();
