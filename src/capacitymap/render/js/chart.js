/* capacitymap chart: a ranked bar chart of the step shown (top places, the rest summed, CCAF's
   "Other (unallocated)") and one place's values over time as a small line chart, in inline SVG.
   capacitymapChart(container, payload) -> {setStep, showRegion, render}
   Follows document events "capacitymap:step" {step} and "capacitymap:region" {key, name}. A visually
   hidden table carries the bars for screen readers; the line chart has a text description.
   Every text from data goes in through textContent or setAttribute, never innerHTML. */
function capacitymapChart(container, payload) {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var STYLE_ID = "cm-chart-style";
  if (!document.getElementById(STYLE_ID)) {
    var css = document.createElement("style");
    css.id = STYLE_ID;
    css.textContent =
      ".cm-chart{font:12px/1.35 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#222;" +
      "box-sizing:border-box;width:100%;max-width:640px;}" +
      ".cm-chart h2{font-size:13px;font-weight:700;margin:0 0 4px;}" +
      ".cm-chart p{margin:6px 0 2px;}" +
      ".cm-chart svg{display:block;width:100%;overflow:visible;}" +
      ".cm-chart text{font-size:11.5px;fill:#222;}" +
      ".cm-chart .cm-chart-muted{fill:#666;}" +
      ".cm-chart .cm-chart-hint{color:#666;font-size:11px;}" +
      ".cm-chart-sr{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;" +
      "clip:rect(0 0 0 0);white-space:nowrap;border:0;}";
    document.head.appendChild(css);
  }
  var COLOURS = {bar: "#4f7cac", active: "#d95f02", rest: "#a3a3a3", other: "#c9c9c9", line: "#4f7cac", axis: "#999"};
  var ROW = 20, NAME_MIN = 70;
  var steps = payload.steps || [];
  var state = {step: steps[steps.length - 1], key: null, name: null};
  if (window.capacitymap && typeof window.capacitymap.month === "function") {
    var shownNow = window.capacitymap.month();
    if (steps.indexOf(shownNow) >= 0) { state.step = shownNow; }
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { e.setAttribute(k, String(attrs[k])); } }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function nameOf(key) { return (payload.names && payload.names[key]) || key; }
  function clip(text, chars) { return text.length <= chars ? text : text.slice(0, Math.max(chars - 1, 1)) + "\u2026"; }
  function lowerFirst(text) {  // "Share of hashrate" -> "share of hashrate"; "CCAF share" stays
    return text.length > 1 && text.charAt(1) === text.charAt(1).toLowerCase() ? text.charAt(0).toLowerCase() + text.slice(1) : text;
  }
  function stepPhrase(step) { return step ? ", " + step : ""; }

  var root = el("figure", "cm-chart");
  root.style.margin = "0";
  root.setAttribute("role", "group");
  var title = el("h2", "cm-chart-title");
  capacitymapChart.count = (capacitymapChart.count || 0) + 1;
  title.id = "cm-chart-title-" + capacitymapChart.count;
  root.setAttribute("aria-labelledby", title.id);
  var bars = svg("svg", {"class": "cm-bars", "aria-hidden": "true", focusable: "false"});
  var tableBox = el("div", "cm-chart-sr");  // a table grows to its content: hide it inside a box that cannot
  var table = el("table", "cm-chart-table");
  tableBox.appendChild(table);
  var lineBox = el("div", "cm-chart-line");
  var lineTitle = el("p", "cm-chart-line-title");
  var line = svg("svg", {"class": "cm-line", role: "img", focusable: "false"});
  var hint = el("p", "cm-chart-hint", steps.length > 1 ? "Hover or tap a region on the map to see it over time." : "");
  lineBox.appendChild(lineTitle);
  lineBox.appendChild(line);
  root.appendChild(title);
  root.appendChild(bars);
  root.appendChild(tableBox);
  if (steps.length > 1) { root.appendChild(lineBox); root.appendChild(hint); }
  while (container.firstChild) { container.removeChild(container.firstChild); }
  container.appendChild(root);

  function width() { return Math.max(Math.floor(root.clientWidth || container.clientWidth || 320), 220); }

  function rowsOf(step) {
    var r = (payload.ranked || {})[step] || {rows: [], count: 0};
    var out = r.rows.map(function (x) { return {key: x[0], label: nameOf(x[0]), value: x[1], text: x[2], kind: "place"}; });
    if (r.rest) {
      out.push({key: null, label: r.rest[0] + (r.rest[0] === 1 ? " other place" : " other places"), value: r.rest[1], text: r.rest[2], kind: "rest"});
    }
    if (r.other) { out.push({key: null, label: payload.otherLabel, value: r.other[0], text: r.other[1], kind: "other"}); }
    return out;
  }

  function drawBars() {
    var rows = rowsOf(state.step);
    var W = width();
    title.textContent = payload.valueLabel + (payload.unit ? " (" + payload.unit + ")" : "") + stepPhrase(state.step);
    while (bars.firstChild) { bars.removeChild(bars.firstChild); }
    var H = Math.max(rows.length, 1) * ROW + 4;
    bars.setAttribute("viewBox", "0 0 " + W + " " + H);
    bars.setAttribute("width", String(W));
    bars.setAttribute("height", String(H));
    if (!rows.length) {
      bars.appendChild(svg("text", {x: 0, y: 14, "class": "cm-chart-muted"}, "No data for this step"));
    }
    var nameW = Math.max(NAME_MIN, Math.min(Math.round(W * 0.36), 170));
    var valueW = 64;
    var barX = nameW + 6, barW = Math.max(W - barX - valueW, 40);
    var lo = 0, hi = 0;
    rows.forEach(function (r) { lo = Math.min(lo, r.value); hi = Math.max(hi, r.value); });
    var span = (hi - lo) || 1;
    var zero = barX + (-lo / span) * barW;
    var chars = Math.max(Math.floor(nameW / 6.4), 6);
    rows.forEach(function (r, i) {
      var y = i * ROW + 2;
      var active = r.key !== null && r.key === state.key;
      var g = svg("g", {"class": "cm-bar", "data-key": r.key || "", "data-kind": r.kind});
      var name = svg("text", {x: nameW, y: y + 13, "text-anchor": "end", "class": r.kind === "place" ? "" : "cm-chart-muted"},
                     clip(r.label, chars));
      if (r.label.length > chars) { name.appendChild(svg("title", {}, r.label)); }
      var x = r.value >= 0 ? zero : zero - (Math.abs(r.value) / span) * barW;
      var w = Math.max((Math.abs(r.value) / span) * barW, r.value ? 1 : 0);
      var fill = active ? COLOURS.active : r.kind === "rest" ? COLOURS.rest : r.kind === "other" ? COLOURS.other : COLOURS.bar;
      var rect = svg("rect", {x: x.toFixed(1), y: y + 3, width: w.toFixed(1), height: ROW - 6, fill: fill, rx: 1.5});
      var value = svg("text", {x: (r.value >= 0 ? x + w + 4 : zero + 4).toFixed(1), y: y + 13}, r.text);
      g.appendChild(name); g.appendChild(rect); g.appendChild(value);
      bars.appendChild(g);
    });
    if (lo < 0) {
      bars.appendChild(svg("line", {x1: zero.toFixed(1), x2: zero.toFixed(1), y1: 0, y2: H, stroke: COLOURS.axis, "stroke-width": 1}));
    }
    drawTable(rows);
  }

  function drawTable(rows) {
    while (table.firstChild) { table.removeChild(table.firstChild); }
    table.appendChild(el("caption", null, title.textContent));
    var head = el("tr");
    head.appendChild(el("th", null, "Place"));
    head.appendChild(el("th", null, payload.valueLabel));
    head.firstChild.setAttribute("scope", "col");
    head.lastChild.setAttribute("scope", "col");
    table.appendChild(head);
    rows.forEach(function (r) {
      var tr = el("tr");
      var th = el("th", null, r.label);
      th.setAttribute("scope", "row");
      tr.appendChild(th);
      tr.appendChild(el("td", null, r.text));
      table.appendChild(tr);
    });
  }

  function defaultKey() {
    var r = ((payload.ranked || {})[state.step] || {rows: []}).rows;
    return r.length ? r[0][0] : null;
  }

  function drawLine() {
    if (steps.length < 2) { return; }
    var key = state.key || defaultKey();
    while (line.firstChild) { line.removeChild(line.firstChild); }
    var W = width(), H = 110, left = 8, right = 8, top = 16, bottom = 20;
    line.setAttribute("viewBox", "0 0 " + W + " " + H);
    line.setAttribute("width", String(W));
    line.setAttribute("height", String(H));
    var s = key ? (payload.series || {})[key] : null;
    var name = key ? (state.key === key && state.name ? state.name : nameOf(key)) : "";
    if (!s) {
      lineTitle.textContent = name ? name + ": no data" : "";
      line.setAttribute("aria-label", lineTitle.textContent || "No place selected");
      return;
    }
    lineTitle.textContent = name + ": " + lowerFirst(payload.valueLabel) + " over time";
    var vals = s.v, lo = 0, hi = 0, best = -1;
    vals.forEach(function (v, i) {
      if (v === null) { return; }
      lo = Math.min(lo, v); hi = Math.max(hi, v);
      if (best < 0 || v > vals[best]) { best = i; }
    });
    var span = (hi - lo) || 1;
    var n = steps.length;
    function X(i) { return left + (n === 1 ? 0 : i * (W - left - right) / (n - 1)); }
    function Y(v) { return top + (1 - (v - lo) / span) * (H - top - bottom); }
    line.appendChild(svg("line", {x1: left, x2: W - right, y1: Y(0).toFixed(1), y2: Y(0).toFixed(1), stroke: COLOURS.axis, "stroke-width": 1}));
    var d = "", pen = false;
    vals.forEach(function (v, i) {
      if (v === null) { pen = false; return; }
      d += (pen ? "L" : "M") + X(i).toFixed(1) + " " + Y(v).toFixed(1);
      pen = true;
    });
    line.appendChild(svg("path", {d: d, fill: "none", stroke: COLOURS.line, "stroke-width": 2, "stroke-linejoin": "round"}));
    vals.forEach(function (v, i) {
      var lonely = v !== null && (i === 0 || vals[i - 1] === null) && (i === n - 1 || vals[i + 1] === null);
      if (lonely) { line.appendChild(svg("circle", {cx: X(i).toFixed(1), cy: Y(v).toFixed(1), r: 2.5, fill: COLOURS.line})); }
    });
    var at = steps.indexOf(state.step);
    if (at >= 0) {
      line.appendChild(svg("line", {x1: X(at).toFixed(1), x2: X(at).toFixed(1), y1: top - 4, y2: H - bottom, stroke: COLOURS.active, "stroke-width": 1, "stroke-dasharray": "2 2"}));
      if (vals[at] !== null) {
        line.appendChild(svg("circle", {"class": "cm-line-now", cx: X(at).toFixed(1), cy: Y(vals[at]).toFixed(1), r: 3.5, fill: COLOURS.active}));
      }
      var nowText = svg("text", {x: X(at).toFixed(1), y: 10, "text-anchor": at < n / 2 ? "start" : "end"}, state.step + ": " + s.t[at]);
      line.appendChild(nowText);
    }
    if (best >= 0 && hi > 0 && best !== at) {
      line.appendChild(svg("line", {x1: left, x2: W - right, y1: Y(hi).toFixed(1), y2: Y(hi).toFixed(1), stroke: "#e3e3e3", "stroke-width": 1}));
      line.appendChild(svg("text", {x: W - right, y: (Y(hi) + 12).toFixed(1), "text-anchor": "end", "class": "cm-chart-muted"}, "max " + s.t[best]));
    }
    line.appendChild(svg("text", {x: left, y: H - 5, "class": "cm-chart-muted"}, steps[0]));
    line.appendChild(svg("text", {x: W - right, y: H - 5, "text-anchor": "end", "class": "cm-chart-muted"}, steps[n - 1]));
    var first = -1, last = -1;
    vals.forEach(function (v, i) { if (v !== null) { if (first < 0) { first = i; } last = i; } });
    var desc = name + ": " + lowerFirst(payload.valueLabel) + " from " + steps[first] + " (" + s.t[first] + ") to " + steps[last] +
      " (" + s.t[last] + "); highest " + s.t[best] + " in " + steps[best] + ".";
    line.setAttribute("aria-label", desc);
  }

  function render() { drawBars(); drawLine(); }
  function setStep(step) {
    if (steps.indexOf(step) < 0) { return false; }
    state.step = step;
    render();
    return true;
  }
  function showRegion(key, name) {
    if (key === null || key === undefined) { return; }  // on leave: keep the last place shown
    state.key = String(key);
    state.name = name ? String(name) : null;
    render();
  }
  document.addEventListener("capacitymap:step", function (e) { if (e.detail) { setStep(e.detail.step); } });
  document.addEventListener("capacitymap:region", function (e) { if (e.detail) { showRegion(e.detail.key, e.detail.name); } });
  if (typeof ResizeObserver === "function") {
    var lastW = 0;
    new ResizeObserver(function () { var w = width(); if (w !== lastW) { lastW = w; render(); } }).observe(container);
  }
  render();
  return {setStep: setStep, showRegion: showRegion, render: render, state: state};
}
