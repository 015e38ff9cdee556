/* capacitymap basemap: sea, muted neighbouring land, country borders and region labels on Leaflet panes,
   drawn from the payload capacitymap.render.basemap.basemap_payload() makes. No tiles, no network.
   capacitymapBasemap(map, payload) -> {labels: [...], update: function}
   Panes: cmSea (150) and cmLand (160) below the choropleth (overlayPane, 400); cmBorders (410) and
   cmLabels (420) above it. Labels are DOM elements; on every zoom/resize each label shows its name, its
   short form (postal/ISO code) or nothing, whichever fits inside its region at that zoom, and a label
   that would overlap one already placed (larger regions first) is hidden. Over a tile layer, pass the
   payload with sea and land set to null: only borders and labels are drawn. */
function capacitymapBasemap(map, payload) {
  "use strict";
  var colours = payload.colours || {};
  var STYLE_ID = "cm-basemap-style";
  if (!document.getElementById(STYLE_ID)) {
    var css = document.createElement("style");
    css.id = STYLE_ID;
    css.textContent =
      ".cm-label{position:absolute;left:0;top:0;white-space:nowrap;pointer-events:none;" +
      "font:600 11px/1.2 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;" +
      "color:" + (colours.label || "#222") + ";letter-spacing:.01em;" +
      "text-shadow:0 0 2px " + (colours.halo || "#fff") + ",0 0 2px " + (colours.halo || "#fff") + ",0 0 3px " + (colours.halo || "#fff") + ";}" +
      ".cm-label.cm-label-short{font-size:10px;}" +
      ".cm-label[hidden]{display:none;}" +
      ".leaflet-cmLabels-pane,.leaflet-cmBorders-pane,.leaflet-cmSea-pane,.leaflet-cmLand-pane{pointer-events:none;}";
    document.head.appendChild(css);
  }
  function pane(name, z) {
    var p = map.getPane(name) || map.createPane(name);
    p.style.zIndex = String(z);
    p.style.pointerEvents = "none";
    return p;
  }
  pane("cmSea", 150);
  pane("cmLand", 160);
  pane("cmBorders", 410);
  var labelPane = pane("cmLabels", 420);
  L.DomUtil.addClass(labelPane, "leaflet-zoom-hide");  // hidden while Leaflet animates a zoom

  var layers = {};
  function vector(name, data, style) {
    if (!data || (data.type === "FeatureCollection" && !data.features.length)) { return null; }
    var layer = L.geoJSON(data, {pane: name, interactive: false, style: style,
                                 renderer: L.svg({pane: name, padding: 0.5})});
    layer.addTo(map);
    layers[name] = layer;
    return layer;
  }
  if (payload.sea) { map.getContainer().style.background = colours.sea || "#dce8f0"; }
  vector("cmSea", payload.sea, function () { return {stroke: false, fillColor: colours.sea, fillOpacity: 1}; });
  vector("cmLand", payload.land, function () {
    return {fillColor: colours.land, fillOpacity: 1, color: colours.landBorder, weight: 0.6};
  });
  vector("cmBorders", payload.borders, function () {
    return {color: colours.border, weight: 1.4, opacity: 0.9, fill: false, lineCap: "round", lineJoin: "round"};
  });

  // Labels: DOM elements in the label pane, measured once, placed on every zoom.
  var labels = (payload.labels || []).map(function (d) {
    var e = document.createElement("div");
    e.className = "cm-label";
    e.setAttribute("aria-hidden", "true");  // the data table names every region for screen readers
    e.setAttribute("data-key", d.key);
    e.textContent = d.text;
    labelPane.appendChild(e);
    return {d: d, el: e, latlng: L.latLng(d.lat, d.lon), full: null, short: null, h: 0};
  });
  var measured = false;
  function measureAll() {
    // Both forms of every label, in two passes (two layouts, not one per label).
    if (measured || !map.getContainer().offsetWidth) { return measured; }
    labels.forEach(function (l) { l.el.hidden = false; l.el.className = "cm-label"; l.el.textContent = l.d.text; });
    labels.forEach(function (l) { l.full = l.el.offsetWidth; l.h = l.el.offsetHeight; });
    labels.forEach(function (l) { l.el.className = "cm-label cm-label-short"; l.el.textContent = l.d.short; });
    labels.forEach(function (l) { l.short = l.el.offsetWidth; l.el.hidden = true; });
    measured = true;
    return measured;
  }
  function overlaps(a, b) {
    return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
  }
  var order = labels.slice().sort(function (a, b) { return a.d.priority - b.d.priority; });
  function update() {
    if (!labels.length || !measureAll()) { return; }
    var size = map.getSize();
    var zoom = map.getZoom();
    var pxPerDegree = 256 * Math.pow(2, zoom) / 360;
    var placed = [];
    order.forEach(function (lab) {
      var radius = lab.d.size * pxPerDegree;  // the inscribed circle's radius in pixels, at this zoom
      var text = null, w = 0, cls = "cm-label";
      if (lab.full <= 2.2 * radius && lab.h <= 1.6 * radius) { text = lab.d.text; w = lab.full; }
      else if (lab.short <= 2.4 * radius && lab.h <= 2 * radius) { text = lab.d.short; w = lab.short; cls = "cm-label cm-label-short"; }
      var show = text !== null;
      var p = map.latLngToLayerPoint(lab.latlng);
      var h = lab.h;
      var box = null;
      if (show) {
        var c = map.layerPointToContainerPoint(p), cx = c.x, cy = c.y;  // container pixels
        box = {x0: cx - w / 2 - 2, x1: cx + w / 2 + 2, y0: cy - h / 2 - 1, y1: cy + h / 2 + 1};
        if (box.x0 < 0 || box.y0 < 0 || box.x1 > size.x || box.y1 > size.y) { show = false; }
      }
      if (show) {
        for (var i = 0; i < placed.length; i++) { if (overlaps(box, placed[i])) { show = false; break; } }
      }
      if (!show) { lab.el.hidden = true; return; }
      placed.push(box);
      if (lab.el.textContent !== text) { lab.el.textContent = text; }
      lab.el.className = cls;
      lab.el.hidden = false;
      L.DomUtil.setPosition(lab.el, L.point(Math.round(p.x - w / 2), Math.round(p.y - h / 2)));
    });
  }
  map.on("zoomend viewreset resize moveend", update);
  update();
  var api = {labels: labels.map(function (l) { return l.el; }), update: update, layers: layers};
  map.capacitymapBasemap = api;
  return api;
}
