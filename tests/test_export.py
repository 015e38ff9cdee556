"""Static PNG/SVG export and the iframe embed snippet."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from capacitymap.errors import CapacityMapError
from capacitymap.export import ExportError, embed_snippet, render_static
from capacitymap.render.classify import NO_DATA_COLOUR, classify
from capacitymap.render.spec import BBox, MapSpec, MapSpecError

HOSTILE = "O'Brien <b>&amp; ${1+1} ` </script>"
SVG_NS = "{http://www.w3.org/2000/svg}"


def _regions() -> gpd.GeoDataFrame:
    codes = ["US-TX", "US-OK", "US-NY", "US-KS"]
    boxes = [shapely.box(-102, 28, -98, 32), shapely.box(-98, 33, -94, 37), shapely.box(-78, 41, -74, 45),
             shapely.box(-102, 36, -98, 40)]
    return gpd.GeoDataFrame(
        {"iso_3166_2": codes, "iso_a2": ["US"] * 4, "name": ["Texas", "Oklahoma", "New York", HOSTILE]},
        geometry=boxes, crs=4326,
    )


def _values() -> pd.DataFrame:
    return pd.DataFrame({"iso_3166_2": ["US-TX", "US-OK", "US-NY", "US-KS"], "value": [500.0, 120.0, 0.0, float("nan")]})


def _facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "operator": ["Riot", HOSTILE, "Core"],
            "site": ["Rockdale", HOSTILE, "s3"],
            "capacity_mw": [300.0, 50.0, 10.0],
            "status": ["operational", "planned", "operational"],
            "as_of": ["2024", "2024-06", "2024-12-31"],
            "source_url": ["https://example.org/a", None, "javascript:alert(1)"],
            "iso_3166_2": ["US-TX", "US-OK", "US-NY"],
        },
        geometry=gpd.points_from_xy([-100, -96, -76], [30, 35, 43]),
        crs=4326,
    )


SPEC = MapSpec(preset=BBox(-110, 24, -70, 48), title=HOSTILE, subtitle="Subtitle " + HOSTILE, credit="Credit: " + HOSTILE)


def _render(**kw) -> bytes:
    args = {"regions": _regions(), "values": _values(), "facilities": _facilities()} | kw
    return render_static(SPEC, **args)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _svg_texts(data: bytes) -> list[str]:
    root = ET.parse(io.BytesIO(data)).getroot()
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]


@pytest.mark.parametrize(("w", "h", "dpi"), [(1200, 800, 150), (1001, 667, 96), (400, 400, 300)])
def test_png_has_the_requested_pixel_size(w: int, h: int, dpi: int) -> None:
    assert _png_size(_render(width_px=w, height_px=h, dpi=dpi)) == (w, h)


def test_svg_parses_and_shows_title_legend_credit_and_attribution() -> None:
    texts = _svg_texts(_render(fmt="svg"))
    assert HOSTILE in texts  # the title, as written (escaped in the XML, exact once parsed)
    assert "Subtitle " + HOSTILE in texts
    assert "Credit: " + HOSTILE in texts
    assert "Boundaries: Natural Earth" in texts
    assert "Capacity (MW)" in texts and "no data" in texts


def test_svg_legend_uses_the_html_maps_classes() -> None:
    classes = classify(_values()["value"], scheme=SPEC.scheme, k=SPEC.k, metric=SPEC.metric)
    data = _render(fmt="svg")
    texts = _svg_texts(data)
    for label in classes.labels:
        assert label in texts
    text = data.decode("utf-8")
    for colour in (*classes.colours, NO_DATA_COLOUR):
        assert colour in text


def test_svg_escapes_hostile_text() -> None:
    text = _render(fmt="svg").decode("utf-8")
    assert "<b>" not in text and "</script>" not in text
    assert "&lt;b&gt;&amp;amp; ${1+1} ` &lt;/script&gt;" in text


def test_dollar_signs_print_as_written_not_as_mathtext() -> None:
    texts = _svg_texts(_render(fmt="svg"))
    assert any("${1+1}" in t for t in texts)


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_output_is_identical_across_runs(fmt: str) -> None:
    assert _render(fmt=fmt) == _render(fmt=fmt)


def test_svg_carries_no_date() -> None:
    text = _render(fmt="svg").decode("utf-8")
    assert "<dc:date>" not in text


def test_operator_legend_and_marker_size_key() -> None:
    texts = _svg_texts(_render(fmt="svg"))
    assert "Riot" in texts and "Core" in texts
    assert any(t.startswith("Facilities by operator") for t in texts)
    assert "200 MW" in texts


def test_status_colouring_names_statuses() -> None:
    spec = MapSpec(preset=BBox(-110, 24, -70, 48), title="t", marker_colour="status")
    data = render_static(spec, regions=_regions(), values=_values(), facilities=_facilities(), fmt="svg")
    texts = _svg_texts(data)
    assert "operational" in texts and "planned" in texts


def test_without_values_or_facilities_everything_is_no_data() -> None:
    data = render_static(SPEC, regions=_regions(), values=None, facilities=None, fmt="svg")
    texts = _svg_texts(data)
    assert "no data" in texts and not any(t.startswith("Facilities") for t in texts)


def test_month_defaults_to_the_latest_and_is_shown() -> None:
    values = pd.concat([_values().assign(month="2024-01"), _values().assign(month="2024-02", value=1.0)])
    texts = _svg_texts(render_static(SPEC, regions=_regions(), values=values, facilities=None, fmt="svg"))
    assert "Subtitle " + HOSTILE + " · 2024-02" in texts
    texts = _svg_texts(render_static(SPEC, regions=_regions(), values=values, facilities=None, fmt="svg", month="2024-01"))
    assert "Subtitle " + HOSTILE + " · 2024-01" in texts


def test_unknown_month_is_refused() -> None:
    values = _values().assign(month="2024-01")
    with pytest.raises(ExportError, match=r"expected a month of the values \['2024-01'\], got '2023-12'"):
        render_static(SPEC, regions=_regions(), values=values, facilities=None, month="2023-12")


def test_bad_format_is_refused() -> None:
    with pytest.raises(ExportError, match=r"expected format one of \['png', 'svg'\], got 'jpeg'"):
        _render(fmt="jpeg")


@pytest.mark.parametrize(("name", "value"), [("width_px", 0), ("height_px", 1.5), ("dpi", True), ("dpi", 5000)])
def test_bad_sizes_are_refused(name: str, value: object) -> None:
    with pytest.raises(ExportError, match=rf"expected {name} as a whole number from \d+ to \d+, got {value!r}"):
        _render(**{name: value})


def test_bad_values_are_refused_like_the_html_map() -> None:
    values = pd.DataFrame({"iso_3166_2": ["US-XX"], "value": [1.0]})
    with pytest.raises(MapSpecError, match=r"unknown \['US-XX'\]"):
        render_static(SPEC, regions=_regions(), values=values, facilities=None)


def test_export_error_is_a_capacitymap_error() -> None:
    assert issubclass(ExportError, CapacityMapError) and issubclass(ExportError, ValueError)


# --- embed ---------------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _iframe(snippet: str) -> dict[str, str | None]:
    parser = _Tags()
    parser.feed(snippet)
    assert [t for t, _ in parser.tags] == ["iframe"]  # one element, nothing injected
    return parser.tags[0][1]


def test_embed_snippet_is_a_responsive_lazy_iframe() -> None:
    snippet = embed_snippet("https://example.org/maps/na.html", title="Mining capacity", height_px=640)
    el = _iframe(snippet)
    assert el.get("src") == "https://example.org/maps/na.html"
    assert el.get("width") == "100%" and el.get("height") == "640"
    assert "height:640px" in el.get("style", "") and "width:100%" in el.get("style", "")
    assert el.get("loading") == "lazy" and el.get("title") == "Mining capacity"


def test_embed_snippet_accepts_relative_paths() -> None:
    el = _iframe(embed_snippet("maps/north america.html?x=1&y=2", title="t"))
    assert el.get("src") == "maps/north america.html?x=1&y=2"
    assert el.get("height") == "600"


def test_embed_snippet_escapes_the_title() -> None:
    snippet = embed_snippet("map.html", title=HOSTILE)
    assert "<b>" not in snippet and "</script>" not in snippet and "O&#x27;Brien" in snippet
    assert _iframe(snippet).get("title") == HOSTILE


@pytest.mark.parametrize(
    "src",
    ["javascript:alert(1)", "data:text/html,<b>x</b>", "//evil.example/x.html", "file:///etc/passwd",
     "https://", 'map.html" onload="alert(1)', "C:\\maps\\na.html", "", "ftp://example.org/map.html"],
)
def test_embed_snippet_refuses_other_sources(src: str) -> None:
    with pytest.raises(ExportError, match=r"expected (an http\(s\) URL or a relative path for src|the map page's URL)"):
        embed_snippet(src, title="t")


@pytest.mark.parametrize("height", [0, -5, 1.5, True, 100_000])
def test_embed_snippet_refuses_bad_heights(height: object) -> None:
    with pytest.raises(ExportError, match=rf"expected height_px as a whole number of pixels from 1 to 10000, got {height!r}"):
        embed_snippet("map.html", title="t", height_px=height)  # type: ignore[arg-type]


@pytest.mark.parametrize("title", ["", "   "])
def test_embed_snippet_needs_a_title(title: str) -> None:
    with pytest.raises(ExportError, match=r"expected a title naming the map for screen readers"):
        embed_snippet("map.html", title=title)


@pytest.mark.integration
def test_north_america_on_the_shipped_layer() -> None:
    from capacitymap.io.boundaries import read_admin1

    admin1 = read_admin1()
    values = pd.DataFrame({"iso_3166_2": ["US-TX", "CA-QC", "MX-SON"], "value": [900.0, 300.0, float("nan")]})
    spec = MapSpec(preset="north-america", title="Capacity", credit="Test")
    png = render_static(spec, regions=admin1, values=values, facilities=_facilities(), width_px=800, height_px=500, dpi=100)
    assert _png_size(png) == (800, 500)
    texts = _svg_texts(render_static(spec, regions=admin1, values=values, facilities=_facilities(), fmt="svg"))
    assert "Capacity" in texts and "Boundaries: Natural Earth" in texts


# -- stills fit for print: no two texts overlap, whatever the sizes and the words ------------------

def _text_boxes(fig) -> list[tuple[str, object]]:  # noqa: ANN001
    """Every visible text's box in pixels, and every size-key circle's (centre ± radius, where the marker is drawn)."""
    from matplotlib.transforms import Bbox

    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    texts = [*fig.texts]
    for legend in fig.legends:
        texts += [legend.get_title(), *legend.get_texts()]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_visible() and t.get_text().strip()]
    for legend in fig.legends:
        for handle in legend.legend_handles:
            if hasattr(handle, "get_markersize") and handle.get_marker() not in (None, "None", "none", ""):
                points = handle.get_transform().transform(handle.get_xydata())
                every = handle.get_markevery()
                centres = points[every] if every is not None else points
                r = handle.get_markersize() / 2 * fig.dpi / 72
                for x, y in centres:
                    boxes.append(("marker", Bbox.from_extents(x - r, y - r, x + r, y + r)))
    return boxes


def _overlapping(fig) -> list[tuple[str, str]]:  # noqa: ANN001
    boxes = _text_boxes(fig)
    out = []
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            if a == "marker" and b == "marker":
                continue
            if ba.x0 < bb.x1 - 0.5 and bb.x0 < ba.x1 - 0.5 and ba.y0 < bb.y1 - 0.5 and bb.y0 < ba.y1 - 0.5:
                out.append((a[:40], b[:40]))
    return out


def _outside(fig) -> list[str]:  # noqa: ANN001
    w, h = fig.bbox.width, fig.bbox.height
    return [t[:40] for t, b in _text_boxes(fig) if b.x0 < -0.5 or b.y0 < -0.5 or b.x1 > w + 0.5 or b.y1 > h + 0.5]


def _many_operators() -> gpd.GeoDataFrame:
    n = 14
    return gpd.GeoDataFrame(
        {"operator": [f"Operator number {i} with a long legal name Inc." for i in range(n)], "site": [f"s{i}" for i in range(n)],
         "capacity_mw": [10.0 * (i + 1) ** 2 for i in range(n)], "status": ["operational"] * n, "as_of": ["2024"] * n,
         "source_url": [None] * n, "iso_3166_2": ["US-TX"] * n},
        geometry=gpd.points_from_xy([-100 + i * 0.1 for i in range(n)], [30] * n), crs=4326,
    )


LONG = ("Operational bitcoin mining power capacity of public miners, by state and province, with every site "
        "a public company reported in its filings")
LONG_CREDIT = ("Data: company reports, SEC filings, TheMinerMag, Cambridge Centre for Alternative Finance (CCAF), "
               "https://www.example.org/a/very/long/path/to/the/dataset/that/does/not/break/anywhere.csv")


@pytest.mark.parametrize(("w", "h", "dpi"), [(1200, 800, 150), (800, 500, 150), (1600, 1000, 96), (400, 400, 300), (600, 900, 150)])
@pytest.mark.parametrize("case", ["hostile", "long", "many operators", "status"])
def test_no_two_texts_overlap_and_all_stay_inside(w: int, h: int, dpi: int, case: str) -> None:
    from capacitymap.export.static import build_still_figure

    spec = {
        "hostile": SPEC,
        "long": MapSpec(preset=BBox(-110, 24, -70, 48), title=LONG, subtitle=LONG, credit=LONG_CREDIT),
        "many operators": MapSpec(preset=BBox(-110, 24, -70, 48), title=LONG, credit=LONG_CREDIT),
        "status": MapSpec(preset=BBox(-110, 24, -70, 48), title="t", marker_colour="status", credit=LONG_CREDIT),
    }[case]
    facilities = _many_operators() if case == "many operators" else _facilities()
    fig = build_still_figure(spec, regions=_regions(), values=_values(), facilities=facilities, width_px=w, height_px=h, dpi=dpi)
    assert _overlapping(fig) == []
    assert _outside(fig) == []


def test_a_long_credit_wraps_beside_the_attribution() -> None:
    from capacitymap.export.static import build_still_figure

    spec = MapSpec(preset=BBox(-110, 24, -70, 48), title="t", credit=LONG_CREDIT)
    fig = build_still_figure(spec, regions=_regions(), values=_values(), facilities=None)
    credit = next(t for t in fig.texts if t.get_text().startswith("Data:"))
    assert credit.get_text().count("\n") >= 1  # wrapped, not run into "Boundaries: Natural Earth"
    assert credit.get_text().replace("-\n", "").replace("\n", " ") == LONG_CREDIT
    assert _overlapping(fig) == []


def test_web_only_wording_is_not_printed() -> None:
    spec = MapSpec(preset=BBox(-110, 24, -70, 48), title="t",
                   credit="Data: company reports, SEC filings, TheMinerMag (source link on each site)")
    texts = _svg_texts(render_static(spec, regions=_regions(), values=_values(), facilities=_facilities(), fmt="svg"))
    assert "Data: company reports, SEC filings, TheMinerMag" in texts
    assert not any("source link" in t for t in texts)


@pytest.mark.integration
def test_the_demo_stills_have_no_overlapping_text() -> None:
    from capacitymap.demo import demo_maps
    from capacitymap.export.static import build_still_figure

    for item in demo_maps():
        spec, regions, values, facilities = item.built.drawn  # what built.still() draws
        for w, h, dpi in ((1200, 800, 150), (800, 500, 150)):
            fig = build_still_figure(spec, regions=regions, values=values, facilities=facilities, width_px=w, height_px=h, dpi=dpi)
            assert _overlapping(fig) == [], (item.name, w, h)
            assert _outside(fig) == [], (item.name, w, h)


def test_a_stepped_still_draws_only_the_sites_of_the_step_shown() -> None:
    from capacitymap.export.static import build_still_figure

    values = pd.concat([_values().assign(month="2024-01"), _values().assign(month="2024-02")])
    one, two = _facilities().iloc[[0]].assign(month="2024-01"), _facilities().assign(month="2024-02")
    long = pd.concat([one, two], ignore_index=True)

    def points(month: str) -> int:
        fig = build_still_figure(SPEC, regions=_regions(), values=values, facilities=long, month=month)
        return sum(len(c.get_offsets()) for ax in fig.axes for c in ax.collections if c.get_offsets().size and c.get_zorder() == 3)

    assert points("2024-01") == 1
    assert points("2024-02") == 3
