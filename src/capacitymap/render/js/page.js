/* capacitymap page script: regions, facilities, slider, filters, legend, table, events. Leaflet only.
 * Every text from data is set with textContent (never innerHTML); the legend HTML is escaped in Python.
 * Defines one global function, capacitymapPage(cfg, geo), called by the page with its data. */
function capacitymapPage(cfg, geo) {
  "use strict";
  var doc = document;
  var fallback = doc.getElementById("cm-fallback");
  if (typeof L === "undefined") {
    if (fallback) { fallback.textContent = cfg.fallbackText; fallback.className = "cm-fallback cm-failed"; }
    return;
  }
  if (fallback) { fallback.parentNode.removeChild(fallback); }
  if (geo && geo.scale) { geo = decodeRegions(geo); }
  var phone = window.innerWidth < 700;
  var steps = cfg.months;
  var state = {step: cfg.start || steps[steps.length - 1], on: {operator: {}, status: {}}};
  var embedded = false;
  try { embedded = window.self !== window.top; } catch (e) { embedded = true; }
  if (embedded) { doc.documentElement.className += " cm-embedded"; }

  function decodeRegions(c) {
    // [id, name, [[ring, ...], ...]] with rings as delta-encoded integers of 1/scale degree
    var s = c.scale;
    return {type: "FeatureCollection", features: c.features.map(function (f) {
      return {type: "Feature", id: f[0], properties: {name: f[1]}, geometry: {type: "MultiPolygon",
        coordinates: f[2].map(function (poly) {
          return poly.map(function (ring) {
            var out = [], x = 0, y = 0;
            for (var i = 0; i < ring.length; i += 2) { x += ring[i]; y += ring[i + 1]; out.push([x / s, y / s]); }
            return out;
          });
        })}};
    })};
  }

  // --- helpers -------------------------------------------------------------------------------
  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function row(parent, label, text) {
    var p = el("div", "cm-row");
    p.appendChild(el("span", "cm-tip-key", label + ": "));
    p.appendChild(el("span", "cm-tip-val", text));
    parent.appendChild(p);
    return p;
  }
  function num(v) {
    var a = Math.abs(v), s;
    if (v === 0) { return "0"; }
    if (a >= 100) { s = Math.round(v).toLocaleString("en-US"); }
    else if (a >= 10) { s = v.toLocaleString("en-US", {maximumFractionDigits: 1}); }
    else if (a >= 1) { s = v.toLocaleString("en-US", {maximumFractionDigits: 2}); }
    else { s = String(Number(v.toPrecision(3))); }
    return s;
  }
  function fmt(v, metric) {
    metric = metric || cfg.metric;
    if (v === null || v === undefined || !isFinite(v)) { return "no data"; }
    if (metric === "share") {
      var p = v * 100;
      return (p ? p.toLocaleString("en-US", {maximumFractionDigits: 2}) : "0") + "%";
    }
    if (metric === "capacity_change_mw") {
      return (v > 0 ? "+" : v < 0 ? "\u2212" : "") + num(Math.abs(v)) + " MW";
    }
    return num(v) + (metric === "hashrate_ehs" ? " EH/s" : " MW");
  }
  function plural(n, one, many) { return n.toLocaleString("en-US") + " " + (n === 1 ? one : (many || one + "s")); }
  function emit(name, detail) {
    var ev;
    if (typeof CustomEvent === "function") { ev = new CustomEvent(name, {detail: detail}); }
    else { ev = doc.createEvent("CustomEvent"); ev.initCustomEvent(name, false, false, detail); }
    doc.dispatchEvent(ev);
  }

  // --- map -----------------------------------------------------------------------------------
  var map = L.map("cm-map", {zoomSnap: 0.25, minZoom: cfg.minZoom, maxZoom: 12, attributionControl: true,
                             worldCopyJump: false});
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  map.fitBounds(cfg.bounds, {animate: false});
  if (cfg.tiles) {
    L.tileLayer(cfg.tiles.url, {attribution: cfg.tiles.attribution, maxZoom: 12}).addTo(map);
  }
  map.attributionControl.addAttribution(cfg.attributionHtml);
  L.control.scale({position: "bottomleft", imperial: !phone, maxWidth: phone ? 80 : 120}).addTo(map);
  if (cfg.basemap && typeof capacitymapBasemap === "function") { capacitymapBasemap(map, cfg.basemap); }

  // --- facilities ----------------------------------------------------------------------------
  var facilities = cfg.facilities, pipeline = cfg.pipeline || [];
  var byRegion = {};
  facilities.concat(cfg.unplaced || []).forEach(function (r) {
    if (!r.key) { return; }
    (byRegion[r.key] = byRegion[r.key] || []).push(r);
  });
  cfg.operators.forEach(function (o) { state.on.operator[o] = true; });
  cfg.statuses.forEach(function (s) { state.on.status[s] = true; });
  function visible(r) { return state.on.operator[r.operator] !== false && state.on.status[r.status] !== false; }
  function filtered() {
    var k;
    for (k in state.on.operator) { if (!state.on.operator[k]) { return true; } }
    for (k in state.on.status) { if (!state.on.status[k]) { return true; } }
    return false;
  }
  function mwAt(r, step) {
    if (r.steps) { return (step in r.steps) ? r.steps[step] : undefined; }
    return r.mw;
  }
  function contribution(r, step) {
    var v = mwAt(r, step);
    if (v === undefined) { return undefined; }
    return cfg.metric === "capacity_change_mw" ? r.delta : v;
  }
  function radius(mw) {
    if (mw === null || mw === undefined || !(mw > 0) || !(cfg.maxMw > 0)) { return cfg.minRadius; }
    return Math.max(cfg.minRadius, cfg.maxRadius * Math.sqrt(mw / cfg.maxMw));
  }
  function colourOf(r) {
    if (r.change) { return cfg.changeColours[r.change] || "#7f7f7f"; }
    if (cfg.markerBy === "status") { return cfg.statusColours[r.status] || "#7f7f7f"; }
    return cfg.operatorColours[r.operator] || "#7f7f7f";
  }
  function sizeOf(r, step) {
    if (r.change) { return Math.abs(r.delta || 0) || r.mw; }
    return mwAt(r, step);
  }
  function facilityPopup(r) {
    var box = el("div", "cm-popup");
    box.appendChild(el("div", "cm-tip-title", r.operator));
    row(box, "Site", r.site || "\u2013");
    var mw = mwAt(r, state.step);
    row(box, "Capacity", mw === null || mw === undefined ? "unknown" : fmt(mw, "capacity_mw"));
    if (r.change) { row(box, "Change", fmt(r.delta, "capacity_change_mw") + " (" + r.change + ")"); }
    row(box, "Status", cfg.statusLabels[r.status] || r.status);
    if (steps.length > 1 && steps[0]) { row(box, cfg.stepWord, state.step); }
    row(box, "As of", r.as_of || "\u2013");
    var slot = row(box, "Source", "").lastChild;
    if (r.url && /^https?:\/\//i.test(r.url)) {
      var a = el("a", null, r.url);
      a.href = r.url; a.target = "_blank"; a.rel = "noopener noreferrer nofollow";
      slot.appendChild(a);
    } else {
      slot.textContent = r.url_text || "\u2013";
    }
    return box;
  }
  function facilityTip(r) {
    var mw = mwAt(r, state.step);
    var text = r.operator + (r.site ? " \u2013 " + r.site : "") + " \u00b7 " +
      (mw === null || mw === undefined ? "unknown" : fmt(mw, "capacity_mw"));
    if (r.change) { text += " \u00b7 " + fmt(r.delta, "capacity_change_mw") + " (" + r.change + ")"; }
    if (r.hollow) { text += " \u00b7 " + (cfg.statusLabels[r.status] || r.status); }
    return el("span", null, text);
  }
  // past a few thousand sites, circles go on one canvas (SVG would slow every pan and zoom)
  var canvas = (facilities.length + pipeline.length > 3000) ? L.canvas({padding: 0.3}) : null;
  function makeMarkers(list, hollow, cls) {
    return list.map(function (r, i) {
      r.hollow = hollow;
      var colour = colourOf(r);
      var opts = hollow
        ? {radius: radius(sizeOf(r, state.step)), color: colour, weight: 1.6, fill: true, fillOpacity: 0, dashArray: "3 2"}
        : {radius: radius(sizeOf(r, state.step)), fillColor: colour, color: "#ffffff", weight: 0.8, opacity: 0.9,
           fillOpacity: 0.82};
      if (canvas) { opts.renderer = canvas; }
      var m = L.circleMarker([r.lat, r.lon], opts);
      m.cmRecord = r;
      m.bindPopup(function () { return facilityPopup(r); }, {maxWidth: 260, autoPanPadding: [12, 12]});
      m.bindTooltip(function () { return facilityTip(r); }, {direction: "auto", className: "cm-fac-tip"});
      m.on("add", function () {
        if (m._path) {
          m._path.setAttribute("class", (m._path.getAttribute("class") || "") + " " + cls);
          m._path.setAttribute("data-index", String(i));
        }
      });
      return m;
    });
  }
  var markers = makeMarkers(facilities, false, "cm-facility");
  var pipeMarkers = makeMarkers(pipeline, true, "cm-pipeline");
  var group = L.featureGroup(), pipeGroup = L.featureGroup();
  function drawMarkers(list, grp) {
    // largest first, so small circles stay on top and clickable
    var shown = list.filter(function (m) {
      var r = m.cmRecord;
      return visible(r) && mwAt(r, state.step) !== undefined;
    });
    shown.sort(function (a, b) {
      var x = sizeOf(a.cmRecord, state.step) || 0, y = sizeOf(b.cmRecord, state.step) || 0;
      return y - x;
    });
    grp.clearLayers();
    shown.forEach(function (m) {
      m.setRadius(radius(sizeOf(m.cmRecord, state.step)));
      grp.addLayer(m);
    });
  }

  // --- regions -------------------------------------------------------------------------------
  function regionValue(key, step) {
    var base = (cfg.values[step] || {})[key];
    if (base === undefined) { base = null; }
    if (!cfg.recompute || base === null || !filtered()) { return base; }
    var list = byRegion[key] || [], hidden = 0, counted = 0, shown = 0;
    for (var i = 0; i < list.length; i++) {
      var c = contribution(list[i], step);
      if (c === undefined) { continue; }
      counted++;
      if (visible(list[i])) { shown++; } else { hidden += (c || 0); }
    }
    if (counted > 0 && shown === 0) { return null; }
    return Math.round((base - hidden) * 1000) / 1000;
  }
  function classIndex(v) {
    if (v === null || v === undefined) { return -1; }
    var u = cfg.classes.upper, n = u.length;
    if (!n) { return -1; }
    for (var i = 0; i < n; i++) {
      if (v <= u[i]) {
        if (cfg.diverging) {
          if (v < 0 && u[i] >= 0 && i > 0) { return i - 1; }
          if (v > 0 && u[i] <= 0) { continue; }
          if (v === 0 && u[i] < 0) { continue; }
        }
        return i;
      }
    }
    return n - 1;
  }
  function styleFor(feature) {
    var i = classIndex(regionValue(feature.id, state.step));
    if (i < 0) {
      return {fillColor: cfg.noDataColour, fillOpacity: 0.5, color: "#777777", weight: 0.6, dashArray: "3 3"};
    }
    return {fillColor: cfg.classes.colours[i], fillOpacity: 0.85, color: "#666666", weight: 0.6, dashArray: null};
  }
  function regionSummary(key) {
    var list = byRegion[key] || [], n = 0, ops = {};
    list.forEach(function (r) {
      var v = mwAt(r, state.step);
      if (v === undefined || !visible(r)) { return; }
      n++;
      ops[r.operator] = (ops[r.operator] || 0) + (v || 0);
    });
    var top = Object.keys(ops).sort(function (a, b) { return (ops[b] - ops[a]) || (a < b ? -1 : 1); }).slice(0, 3);
    return {count: n, top: top.map(function (o) { return o + " (" + fmt(ops[o], "capacity_mw") + ")"; })};
  }
  function total(step) {
    var t = 0;
    for (var k in cfg.names) { var v = regionValue(k, step); if (v !== null) { t += v; } }
    return t;
  }
  function regionTip(layer) {
    var f = layer.feature, id = f.id, box = el("div", "cm-tip-body");
    box.appendChild(el("div", "cm-tip-title", cfg.names[id] || f.properties.name));
    if (steps.length > 1) { row(box, cfg.stepWord, state.step); }
    var v = regionValue(id, state.step);
    row(box, cfg.metricLabel, v === null ? (cfg.captions[state.step] ? "no data this " + cfg.stepWord.toLowerCase() : "no data") : fmt(v));
    if (v !== null && cfg.additive) {
      var t = total(state.step);
      if (t > 0) { row(box, "Share of map total", (100 * v / t).toFixed(1) + "%"); }
    }
    if (cfg.hasFacilities) {
      var s = regionSummary(id);
      row(box, "Facilities", String(s.count));
      if (s.top.length) { row(box, "Top operators", s.top.join("; ")); }
    }
    var prov = (cfg.provenance[state.step] || {})[id] || [];
    for (var j = 0; j < prov.length; j++) { row(box, prov[j][0], prov[j][1]); }
    if (filtered() && cfg.recompute) { box.appendChild(el("div", "cm-note", "Filtered: only the ticked operators and statuses")); }
    return box;
  }
  var regions = L.geoJson(geo, {
    style: styleFor,
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(regionTip, {sticky: true, className: "cm-tip", direction: "auto", opacity: 0.96});
      layer.on("add", function () {
        if (layer._path) {
          layer._path.setAttribute("class", (layer._path.getAttribute("class") || "") + " cm-region");
          layer._path.setAttribute("data-id", feature.id);
        }
      });
      layer.on("mouseover", function () {
        layer.setStyle({weight: 2, color: "#111111"});
        emit("capacitymap:region", {key: feature.id, name: cfg.names[feature.id] || feature.properties.name});
      });
      layer.on("click", function () {
        emit("capacitymap:region", {key: feature.id, name: cfg.names[feature.id] || feature.properties.name});
      });
      layer.on("mouseout", function () {
        layer.setStyle(styleFor(feature));
        emit("capacitymap:region", {key: null, name: null});
      });
    }
  });
  regions.addTo(map);
  if (facilities.length) { drawMarkers(markers, group); group.addTo(map); }
  if (pipeline.length) { drawMarkers(pipeMarkers, pipeGroup); pipeGroup.addTo(map); }

  // --- layer control (top right) and filter (top left, under the zoom buttons) --------------------------------------------------
  var overlays = {};
  overlays[cfg.regionLayerName] = regions;
  if (facilities.length) { overlays[cfg.facilityLayerName] = group; }
  if (pipeline.length) { overlays[cfg.pipelineLayerName] = pipeGroup; }
  if (facilities.length || pipeline.length) {
    L.control.layers(null, overlays, {collapsed: phone, position: "topright"}).addTo(map);
  }
  var filterNote = doc.getElementById("cm-csv-note");
  if (cfg.operators.length || cfg.statuses.length) {
    var Filter = L.Control.extend({
      options: {position: "topleft"},
      onAdd: function () {
        var div = el("details", "cm-filter leaflet-bar");
        div.open = !phone;
        div.appendChild(el("summary", null, "Filter facilities"));
        [["operator", "Operators", cfg.operators, cfg.operatorColours],
         ["status", "Status", cfg.statuses, cfg.statusColours]].forEach(function (spec) {
          if (!spec[2].length) { return; }
          var fs = el("fieldset", "cm-fieldset");
          fs.appendChild(el("legend", null, spec[1]));
          spec[2].forEach(function (name) {
            var lab = el("label", "cm-check");
            var box = el("input");
            box.type = "checkbox"; box.checked = true;
            box.setAttribute("data-kind", spec[0]);
            box.setAttribute("data-name", name);
            box.addEventListener("change", function () { setFilter(spec[0], name, box.checked); });
            lab.appendChild(box);
            if (cfg.markerBy === spec[0] && !cfg.changeColours[name]) {
              var sw = el("span", "cm-dot"); sw.style.background = spec[3][name] || "#7f7f7f"; lab.appendChild(sw);
            }
            lab.appendChild(el("span", null, spec[0] === "status" ? (cfg.statusLabels[name] || name) : name));
            fs.appendChild(lab);
          });
          div.appendChild(fs);
        });
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      }
    });
    new Filter().addTo(map);
  }
  function setFilter(kind, name, value) {
    if (!(kind in state.on)) { return false; }
    state.on[kind][name] = !!value;
    refresh();
    var active = filtered();
    if (filterNote) {
      filterNote.textContent = active ? " (the CSV holds the unfiltered figures; the map and table show the ticked operators and statuses)" : "";
    }
    if (legendNote) { legendNote.textContent = active && cfg.recompute ? "Filtered: region values count the ticked operators and statuses only" : ""; }
    return true;
  }

  // --- legend (bottom right on wide screens; below the map, compact, on phones) ---------------
  var legendNote = null;
  function legendBox() {
    var div = el("div", "cm-legend" + (phone ? " cm-legend-compact" : ""));
    div.setAttribute("role", "group");
    div.setAttribute("aria-label", "Legend");
    var body = el("div");
    body.innerHTML = cfg.legendHtml;  // built from escaped text in Python
    div.appendChild(body);
    legendNote = el("p", "cm-note");
    div.appendChild(legendNote);
    return div;
  }
  var slot = doc.getElementById("cm-legend-slot");
  var legendOnMap = null;
  if (phone && slot) {
    slot.appendChild(legendBox());
  } else {
    var Legend = L.Control.extend({
      options: {position: "bottomright"},
      onAdd: function () { var d = legendBox(); L.DomEvent.disableScrollPropagation(d); return d; }
    });
    legendOnMap = new Legend().addTo(map).getContainer();
  }
  // the legend takes the height the map has below the top-right controls (the CSS cap is only a fallback),
  // so that its last lines are not hidden behind a scroll bar when the map has the room
  function fitLegend() {
    if (!legendOnMap) { return; }
    var above = map.getContainer().getBoundingClientRect().top;
    var top = map.getContainer().querySelectorAll(".leaflet-top.leaflet-right > .leaflet-control");
    for (var i = 0; i < top.length; i++) { above = Math.max(above, top[i].getBoundingClientRect().bottom); }
    var room = legendOnMap.getBoundingClientRect().bottom - above - 10;
    legendOnMap.style.maxHeight = Math.max(120, Math.floor(room)) + "px";
  }

  // --- step slider (above the map, outside it: nothing can cover it) --------------------------
  var slider = null;
  var bar = doc.getElementById("cm-stepbar");
  if (steps.length > 1 && bar) {
    var lab = el("label", "cm-step-label", cfg.stepWord + " ");
    var out = el("output", "cm-month", state.step);
    lab.appendChild(out);
    var wrap = el("div", "cm-range");
    var input = el("input");
    input.type = "range"; input.min = "0"; input.max = String(steps.length - 1); input.step = "1";
    input.value = String(Math.max(0, steps.indexOf(state.step)));
    input.id = "cm-step";
    input.setAttribute("aria-label", cfg.stepWord);
    lab.setAttribute("for", "cm-step");
    input.addEventListener("input", function () { setMonth(steps[Number(input.value)]); });
    wrap.appendChild(input);
    var ticks = el("div", "cm-ticks");
    ticks.setAttribute("aria-hidden", "true");
    steps.forEach(function (s, i) {
      if (!cfg.captions[s]) { return; }
      var t = el("span", "cm-gap");
      t.style.left = (steps.length > 1 ? (100 * i / (steps.length - 1)) : 0) + "%";
      t.title = cfg.captions[s];
      ticks.appendChild(t);
    });
    wrap.appendChild(ticks);
    var caption = el("p", "cm-caption");
    caption.setAttribute("aria-live", "polite");
    bar.appendChild(lab);
    bar.appendChild(wrap);
    bar.appendChild(caption);
    if (cfg.classesFixed) { bar.appendChild(el("span", "cm-fixed", cfg.classesFixed)); }
    slider = {input: input, out: out, caption: caption};
    bar.hidden = false;
  }
  function setMonth(step) {
    if (steps.indexOf(step) < 0) { return false; }
    state.step = step;
    if (slider) {
      slider.out.textContent = step;
      slider.input.value = String(steps.indexOf(step));
      slider.caption.textContent = cfg.captions[step] || "";
    }
    refresh();
    emit("capacitymap:step", {step: step});
    return true;
  }

  // --- data table (follows the slider and the filters) ----------------------------------------
  var table = doc.getElementById("cm-table");
  function renderTable() {
    if (!table) { return; }
    var body = table.querySelector("tbody"), cap = table.querySelector("caption");
    var keys = Object.keys(cfg.values[state.step] || {});
    var t = cfg.additive ? total(state.step) : 0;
    var rows = keys.map(function (k) { return [k, regionValue(k, state.step)]; });
    rows.sort(function (a, b) {
      if (a[1] === null && b[1] === null) { return a[0] < b[0] ? -1 : 1; }
      if (a[1] === null) { return 1; }
      if (b[1] === null) { return -1; }
      return (b[1] - a[1]) || (a[0] < b[0] ? -1 : 1);
    });
    while (body.firstChild) { body.removeChild(body.firstChild); }
    rows.forEach(function (r) {
      var tr = el("tr");
      var th = el("th", null, cfg.names[r[0]] || r[0]); th.scope = "row"; tr.appendChild(th);
      tr.appendChild(el("td", null, r[0]));
      tr.appendChild(el("td", "cm-num", fmt(r[1])));
      if (cfg.additive) { tr.appendChild(el("td", "cm-num", r[1] !== null && t > 0 ? (100 * r[1] / t).toFixed(1) + "%" : "")); }
      if (cfg.hasFacilities) { tr.appendChild(el("td", "cm-num", String(regionSummary(r[0]).count))); }
      var prov = (cfg.provenance[state.step] || {})[r[0]] || [];
      var have = {};
      prov.forEach(function (p) { have[p[0]] = p[1]; });
      cfg.provenanceColumns.forEach(function (c) { tr.appendChild(el("td", null, have[c] || "")); });
      body.appendChild(tr);
    });
    cap.textContent = cfg.tableCaption + (steps.length > 1 ? ", " + state.step : "") +
      (filtered() && cfg.recompute ? " (filtered)" : "");
  }

  function refresh() {
    regions.setStyle(styleFor);
    if (facilities.length) { drawMarkers(markers, group); }
    if (pipeline.length) { drawMarkers(pipeMarkers, pipeGroup); }
    regions.eachLayer(function (layer) {  // an open tooltip follows the slider and the filters
      var tt = layer.getTooltip();
      if (tt && layer.isTooltipOpen()) { tt.update(); }
    });
    renderTable();
  }

  // --- chart, accessibility, sizing ----------------------------------------------------------
  var chart = doc.getElementById("cm-chart");
  if (cfg.chart && chart && typeof capacitymapChart === "function") {
    chart.hidden = false;
    var drawChart = function () {  // after the map's first frame: the map is what a reader waits for
      capacitymapChart(chart, cfg.chart);
      emit("capacitymap:step", {step: state.step});
    };
    if (window.requestAnimationFrame) { window.requestAnimationFrame(function () { setTimeout(drawChart, 0); }); }
    else { drawChart(); }
  }
  var c = map.getContainer();
  c.setAttribute("role", "region");
  c.setAttribute("aria-label", cfg.ariaLabel);
  c.setAttribute("aria-describedby", "cm-alt");
  function postHeight() {
    if (!embedded || !window.parent) { return; }
    window.parent.postMessage({"capacitymap-height": Math.ceil(doc.body.getBoundingClientRect().height)}, "*");
  }
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(function () { map.invalidateSize(); fitLegend(); }).observe(c);
    new ResizeObserver(postHeight).observe(doc.body);
  }
  fitLegend();
  window.addEventListener("load", postHeight);
  postHeight();
  if (slider) { slider.caption.textContent = cfg.captions[state.step] || ""; }
  renderTable();
  window.capacitymap = {map: map, regions: regions, facilities: group, pipeline: pipeGroup, markers: markers,
                        months: steps, setMonth: setMonth, month: function () { return state.step; },
                        setFilter: setFilter, value: function (key) { return regionValue(key, state.step); }};
  emit("capacitymap:step", {step: state.step});
  if (window.requestAnimationFrame && window.performance) {  // time to first draw, read by benchmarks/page.py
    window.requestAnimationFrame(function () { window.capacitymapDrawn = window.performance.now(); });
  }
}
