"""The map's own layers and controls, as one folium element with a Jinja template.

Regions (choropleth with a month slider), facility markers (clustered circles, area ∝ MW), the
operator/status filter, the legend and the layer control are drawn by a small script instead of
folium's GeoJsonTooltip / TimeSliderChoropleth: tooltips and popups are built with ``textContent``
(never ``innerHTML`` from data), and every datum reaches the page as ``script_json`` text.
"""

from __future__ import annotations

from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster
from jinja2 import Template

from capacitymap.render.elements import VerbatimMacro

__all__ = ["MapApp"]


class MapApp(JSCSSMixin, VerbatimMacro):
    """Adds regions, markers, slider, filters, legend and layer control to its parent map.

    ``geojson`` and ``config`` are ready-made ``script_json`` strings (see :mod:`.build`).
    """

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
  "use strict";
  var map = {{ this._parent.get_name() }};
  if (map.options.maxZoom === undefined) { map.setMaxZoom(12); }  // markercluster needs one without tiles
  var cfg = {{ this.config }};
  var geo = {{ this.geojson }};
  var state = {month: cfg.months[cfg.months.length - 1]};
  map.fitBounds(cfg.bounds, {animate: false});  // before any layer: no zoom animation to wait for

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function row(parent, label, text) {
    var p = el("div", "cm-row");
    p.appendChild(el("span", "cm-label", label + ": "));
    p.appendChild(el("span", "cm-value", text));
    parent.appendChild(p);
    return p;
  }
  function classIndex(v) {
    if (v === null || v === undefined) { return -1; }
    var u = cfg.classes.upper;
    for (var i = 0; i < u.length; i++) { if (v <= u[i]) { return i; } }
    return u.length - 1;
  }
  function valueOf(id) { var m = cfg.values[state.month] || {}; return (id in m) ? m[id] : null; }
  function styleFor(feature) {
    var i = classIndex(valueOf(feature.id));
    if (i < 0) {
      return {fillColor: cfg.noDataColour, fillOpacity: 0.55, color: "#555555", weight: 0.7, dashArray: "3 3"};
    }
    return {fillColor: cfg.classes.colours[i], fillOpacity: 0.85, color: "#555555", weight: 0.6, dashArray: null};
  }
  function regionTip(layer) {
    var f = layer.feature, id = f.id, box = el("div", "cm-tip-body");
    box.appendChild(el("div", "cm-tip-title", f.properties.name));
    var t = (cfg.text[state.month] || {})[id];
    if (state.month) { row(box, "Month", state.month); }
    row(box, cfg.metricLabel, t ? t[0] : "no data");
    if (t && t[1]) { row(box, "Share of map total", t[1]); }
    if (cfg.hasFacilities) {
      row(box, "Facilities", String(cfg.facilityCount[id] || 0));
      var top = cfg.topOperators[id];
      if (top && top.length) { row(box, "Top operators", top.join("; ")); }
    }
    var prov = (cfg.provenance[state.month] || {})[id] || [];
    for (var j = 0; j < prov.length; j++) { row(box, prov[j][0], prov[j][1]); }
    return box;
  }
  var regions = L.geoJson(geo, {
    style: styleFor,
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(regionTip, {sticky: true, className: "cm-tip", direction: "top"});
      layer.on("add", function () {
        if (layer._path) {
          layer._path.setAttribute("class", (layer._path.getAttribute("class") || "") + " cm-region");
          layer._path.setAttribute("data-id", feature.id);
        }
      });
      layer.on("mouseover", function () { layer.setStyle({weight: 2, color: "#111111"}); });
      layer.on("mouseout", function () { layer.setStyle(styleFor(feature)); });
    }
  });
  regions.addTo(map);

  // Facilities: circles with area proportional to MW, clustered at low zoom when the plugin is there.
  var group = null, markers = [];
  var on = {operator: {}, status: {}};
  if (cfg.hasFacilities) {
    group = (typeof L.markerClusterGroup === "function")
      ? L.markerClusterGroup({maxClusterRadius: 35, disableClusteringAtZoom: 7, showCoverageOnHover: false,
                               spiderfyOnMaxZoom: true,
                               chunkedLoading: cfg.facilities.length > 2000})
      : L.featureGroup();
    cfg.facilities.forEach(function (r, i) {
      var colour = cfg.markerBy === "status" ? cfg.statusColours[r.status] : cfg.operatorColours[r.operator];
      var m = L.circleMarker([r.lat, r.lon], {radius: r.radius, fillColor: colour || "#7f7f7f", color: "#222222",
                                               weight: 0.8, fillOpacity: 0.8});
      m.cmRecord = r;
      m.bindPopup(function () { return facilityPopup(r); }, {maxWidth: 280});
      // A function returning a node: Leaflet would set a string through innerHTML.
      m.bindTooltip(function () { return el("span", null, r.operator + (r.site ? " – " + r.site : "") + " · " + r.mwText); },
                    {direction: "top"});
      m.on("add", function () {
        if (m._path) {
          m._path.setAttribute("class", (m._path.getAttribute("class") || "") + " cm-facility");
          m._path.setAttribute("data-index", String(i));
        }
      });
      markers.push(m);
    });
    cfg.operators.forEach(function (o) { on.operator[o] = true; });
    cfg.statuses.forEach(function (s) { on.status[s] = true; });
    applyFilter();
    group.addTo(map);
  }
  function facilityPopup(r) {
    var box = el("div", "cm-popup");
    box.appendChild(el("div", "cm-tip-title", r.operator));
    row(box, "Site", r.site || "–");
    row(box, "Capacity", r.mwText);
    row(box, "Status", r.statusText);
    row(box, "As of", r.as_of || "–");
    var src = row(box, "Source", "");
    var slot = src.lastChild;
    if (r.url && /^https?:\\/\\//i.test(r.url)) {
      var a = el("a", null, r.url);
      a.href = r.url; a.target = "_blank"; a.rel = "noopener noreferrer nofollow";
      slot.appendChild(a);
    } else {
      slot.textContent = r.url_text || "–";
    }
    return box;
  }
  function applyFilter() {
    var shown = markers.filter(function (m) { return on.operator[m.cmRecord.operator] && on.status[m.cmRecord.status]; });
    group.clearLayers();
    if (typeof group.addLayers === "function") { group.addLayers(shown); }
    else { shown.forEach(function (m) { group.addLayer(m); }); }
  }

  var overlays = {};
  overlays[cfg.regionLayerName] = regions;
  if (group) { overlays[cfg.facilityLayerName] = group; }
  L.control.layers(null, overlays, {collapsed: window.innerWidth < 700, position: "topright"}).addTo(map);

  // Filter control: operators and statuses, each switchable.
  if (cfg.hasFacilities) {
    var Filter = L.Control.extend({
      options: {position: "topleft"},
      onAdd: function () {
        var div = el("details", "cm-filter leaflet-bar");
        if (window.innerWidth >= 700) { div.open = true; }
        div.appendChild(el("summary", null, "Filter facilities"));
        [["operator", "Operators", cfg.operators, cfg.operatorColours],
         ["status", "Status", cfg.statuses, cfg.statusColours]].forEach(function (spec) {
          var fs = el("fieldset", "cm-fieldset");
          fs.appendChild(el("legend", null, spec[1]));
          spec[2].forEach(function (name) {
            var lab = el("label", "cm-check");
            var box = el("input");
            box.type = "checkbox"; box.checked = true;
            box.setAttribute("data-kind", spec[0]);
            box.addEventListener("change", function () { on[spec[0]][name] = box.checked; applyFilter(); });
            lab.appendChild(box);
            if (cfg.markerBy === spec[0]) {
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

  // Month slider.
  var slider = null;
  if (cfg.months.length > 1) {
    var Slider = L.Control.extend({
      options: {position: "bottomleft"},
      onAdd: function () {
        var div = el("div", "cm-slider leaflet-bar");
        var lab = el("label", null, "Month ");
        var out = el("output", "cm-month", state.month);
        var input = el("input");
        input.type = "range"; input.min = "0"; input.max = String(cfg.months.length - 1); input.step = "1";
        input.value = String(cfg.months.length - 1);
        input.setAttribute("aria-label", "Month");
        input.addEventListener("input", function () { setMonth(cfg.months[Number(input.value)]); });
        lab.appendChild(out);
        div.appendChild(lab);
        div.appendChild(input);
        slider = {input: input, out: out};
        L.DomEvent.disableClickPropagation(div);
        return div;
      }
    });
    new Slider().addTo(map);
  }
  function setMonth(month) {
    if (cfg.months.indexOf(month) < 0) { return false; }
    state.month = month;
    regions.setStyle(styleFor);
    if (slider) { slider.out.textContent = month; slider.input.value = String(cfg.months.indexOf(month)); }
    return true;
  }

  // Legend (HTML escaped in Python) and layer control.
  var Legend = L.Control.extend({
    options: {position: "bottomright"},
    onAdd: function () {
      var div = el("div", "cm-legend");
      div.setAttribute("role", "group");
      div.setAttribute("aria-label", "Legend");
      var det = el("details", "cm-legend-box");
      det.open = window.innerWidth >= 700;
      det.appendChild(el("summary", null, "Legend"));
      var body = el("div");
      body.innerHTML = cfg.legendHtml;  // built from escaped text in Python
      det.appendChild(body);
      div.appendChild(det);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    }
  });
  new Legend().addTo(map);
  map.attributionControl.addAttribution(cfg.attributionHtml);
  var c = map.getContainer();
  c.setAttribute("role", "region");
  c.setAttribute("aria-label", cfg.ariaLabel);
  c.setAttribute("aria-describedby", "cm-alt");
  if (typeof ResizeObserver === "function") { new ResizeObserver(function () { map.invalidateSize(); }).observe(c); }
  window.capacitymap = {map: map, regions: regions, facilities: group, markers: markers, months: cfg.months,
                        setMonth: setMonth, month: function () { return state.month; },
                        setFilter: function (kind, name, value) { on[kind][name] = !!value; applyFilter(); }};
})();
{% endmacro %}
"""
    )

    def __init__(self, *, geojson: str, config: str, clustered: bool):
        super().__init__()
        self._name = "CapacityMapApp"
        self.geojson = geojson
        self.config = config
        if clustered:
            self.default_js = list(MarkerCluster.default_js)
            self.default_css = list(MarkerCluster.default_css)
        else:
            self.default_js = []
            self.default_css = []
