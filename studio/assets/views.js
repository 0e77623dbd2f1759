// The studio's drawings on canvas: the decision boundary with its points,
// the small heatmap of each hidden unit, and the cost curves. Pure drawing:
// each function takes the numbers the API sent and paints; none fetches.
"use strict";

var Views = (function () {
  // Two classes: orange for 0, blue for 1, white at p = 0.5 (Playground's colours).
  var C0 = [245, 147, 34], C1 = [8, 119, 189], WHITE = [250, 250, 250];
  // More classes (softmax): one hue each.
  var PALETTE = [[245, 147, 34], [8, 119, 189], [46, 160, 67], [214, 39, 40],
                 [148, 103, 189], [140, 86, 75], [227, 119, 194], [23, 190, 207]];

  function mix(a, b, t) {
    return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
  }
  function css(c, alpha) {
    return "rgba(" + Math.round(c[0]) + "," + Math.round(c[1]) + "," + Math.round(c[2]) + "," +
           (alpha === undefined ? 1 : alpha) + ")";
  }
  // Diverging: v in [-1, 1] to orange (negative), white (0), blue (positive).
  function diverging(v) {
    if (!isFinite(v)) return [200, 0, 200];
    v = Math.max(-1, Math.min(1, v));
    return v < 0 ? mix(WHITE, C0, -v) : mix(WHITE, C1, v);
  }
  // Binary probability p in [0, 1].
  function prob(p) { return diverging(2 * p - 1); }
  function classColor(k) { return PALETTE[((k | 0) % PALETTE.length + PALETTE.length) % PALETTE.length]; }

  // Scale for a grid of values: symmetric about 0 when it has negatives.
  function range(values) {
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < values.length; i++) {
      var v = values[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    return { lo: lo, hi: hi };
  }

  // Paints an s x s grid (row 0 = the top, y1; column 0 = x0) into a
  // canvas of s x s pixels, scaled by drawImage with smoothing.
  var scratch = document.createElement("canvas");
  function paintGrid(ctx, grid, s, colorOf, w, h) {
    scratch.width = s; scratch.height = s;
    var sctx = scratch.getContext("2d");
    var img = sctx.createImageData(s, s);
    for (var r = 0; r < s; r++) {
      for (var c = 0; c < s; c++) {
        var col = colorOf(grid[r * s + c]);
        var p = (r * s + c) * 4;
        img.data[p] = col[0]; img.data[p + 1] = col[1]; img.data[p + 2] = col[2]; img.data[p + 3] = 255;
      }
    }
    sctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(scratch, 0, 0, w, h);
  }

  // b.output: "probability" (grid holds p), "class" (softmax: the class), "value" (regression).
  function boundary(canvas, b) {
    var kind = b.output === "class" ? "softmax" : b.output === "value" ? "linear" : "sigmoid";
    var ctx = canvas.getContext("2d");
    var W = canvas.width, H = canvas.height;
    var colorOf, pointColor;
    if (kind === "softmax") {
      colorOf = function (k) { return mix(WHITE, classColor(k), 0.45); };
      pointColor = classColor;
    } else if (kind === "linear") {
      var all = b.grid.concat(b.points.map(function (p) { return p[2]; }));  // labels and outputs share the scale
      var rg = range(all), span = Math.max(Math.abs(rg.lo), Math.abs(rg.hi)) || 1;
      colorOf = function (v) { return mix(WHITE, diverging(v / span), 0.6); };
      pointColor = function (v) { return diverging(v / span); };
    } else {
      colorOf = function (p) { return mix(WHITE, prob(p), 0.6); };
      pointColor = function (y) { return y >= 0.5 ? C1 : C0; };
    }
    paintGrid(ctx, b.grid, b.size, colorOf, W, H);
    var sx = W / (b.x[1] - b.x[0]), sy = H / (b.y[1] - b.y[0]);
    // Training points filled with a white ring; dev points hollow, ringed in their colour.
    function dots(points, dev) {
      for (var i = 0; i < points.length; i++) {
        var p = points[i];
        ctx.beginPath();
        ctx.arc((p[0] - b.x[0]) * sx, H - (p[1] - b.y[0]) * sy, dev ? 2.6 : 3, 0, 2 * Math.PI);
        if (dev) {
          ctx.fillStyle = "rgba(255,255,255,0.85)";
          ctx.fill();
          ctx.lineWidth = 1.6;
          ctx.strokeStyle = css(pointColor(p[2]));
        } else {
          ctx.fillStyle = css(pointColor(p[2]));
          ctx.fill();
          ctx.lineWidth = 1;
          // Regression labels near 0 are near white: a dark ring keeps them seen.
          ctx.strokeStyle = kind === "linear" ? "rgba(40,40,40,0.45)" : "rgba(255,255,255,0.9)";
        }
        ctx.stroke();
      }
    }
    dots(b.points, false);
    if (b.dev_points) dots(b.dev_points, true);
  }

  // A hidden unit's activation over the input plane.
  function unit(canvas, grid, s) {
    var rg = range(grid);
    if (rg.hi - rg.lo <= 1e-12 * Math.max(1, Math.abs(rg.hi))) {
      // The same value over the whole plane (zeros initialization: every
      // unit stays alike): say so instead of a blank square.
      var c = canvas.getContext("2d");
      c.fillStyle = css(diverging(rg.hi === 0 ? 0 : rg.hi > 0 ? 0.35 : -0.35));
      c.fillRect(0, 0, canvas.width, canvas.height);
      c.fillStyle = "#555";
      c.font = "11px sans-serif";
      c.textAlign = "center";
      c.fillText("= " + (+rg.hi.toPrecision(3)), canvas.width / 2, canvas.height / 2 + 4);
      return;
    }
    var span = Math.max(Math.abs(rg.lo), Math.abs(rg.hi)) || 1;
    paintGrid(canvas.getContext("2d"), grid, s,
              function (v) { return diverging(v / span); }, canvas.width, canvas.height);
  }

  // At most about one point per pixel column: keeps drawing cheap on long runs.
  function thin(points, width) {
    if (points.length <= 2 * width) return points;
    var out = [], step = points.length / width;
    for (var k = 0; k < width; k++) out.push(points[Math.floor(k * step)]);
    out.push(points[points.length - 1]);
    return out;
  }

  // Train (blue) and dev (orange) cost against the iteration.
  function curves(canvas, train, dev) {
    var ctx = canvas.getContext("2d");
    var W = canvas.width, H = canvas.height, L = 34, B = 16, T = 6, R = 6;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    var n = train.length ? train[train.length - 1][0] : 0;
    if (dev.length) n = Math.max(n, dev[dev.length - 1][0]);
    var hi = 0;
    [train, dev].forEach(function (s) {
      for (var i = 0; i < s.length; i++) if (isFinite(s[i][1]) && s[i][1] > hi) hi = s[i][1];
    });
    if (hi <= 0) hi = 1;
    var x0 = train.length ? train[0][0] : 0;
    var xs = (W - L - R) / Math.max(1, n - x0), ys = (H - T - B) / hi;
    ctx.strokeStyle = "#ddd";
    ctx.fillStyle = "#888";
    ctx.font = "10px sans-serif";
    ctx.lineWidth = 1;
    for (var g = 0; g <= 4; g++) {
      var y = T + (H - T - B) * g / 4;
      ctx.beginPath(); ctx.moveTo(L, y + 0.5); ctx.lineTo(W - R, y + 0.5); ctx.stroke();
      ctx.fillText((hi * (1 - g / 4)).toPrecision(2), 2, y + 3);
    }
    ctx.fillText(String(x0), L, H - 3);
    var right = String(n);
    ctx.fillText(right, W - R - ctx.measureText(right).width, H - 3);
    function line(s, color) {
      if (!s.length) return;
      var pts = thin(s, W);
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (var i = 0; i < pts.length; i++) {
        var px = L + (pts[i][0] - x0) * xs, py = T + (hi - Math.min(hi, pts[i][1])) * ys;
        if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      }
      ctx.stroke();
    }
    line(dev, css(C0));
    line(train, css(C1));
  }

  // Diverging colour for a value cell, as CSS.
  function cell(v, span) { return css(mix(WHITE, diverging(v / (span || 1)), 0.85)); }

  return { boundary: boundary, unit: unit, curves: curves, cell: cell, classColor: classColor,
           css: css, prob: prob, C0: C0, C1: C1 };
})();
