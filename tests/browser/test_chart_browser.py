"""The chart beside the map in Chromium: ranked bars that follow the step, a region's line on hover, a
table for screen readers, readable on a phone, data shown as text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from capacitymap.render.chart import chart_js, chart_payload
from capacitymap.render.escape import script_json

pytestmark = pytest.mark.browser

HOSTILE = "O'Brien <b>&amp; ${1+1} ` </script>"
NAMES = {"CN": "China", "US": "United States of America", "RU": "Russian Federation", "KZ": "Kazakhstan",
         "MY": "Malaysia", "IR": "Iran", "CA": "Canada", "DE": "Germany"}
SHARES = {  # CCAF-like shares of global hashrate (fractions); April 2020's remainder is "Other"
    "2019-09": {"CN": 0.7553, "US": 0.0406, "RU": 0.0591, "KZ": 0.0144, "MY": 0.0326, "IR": 0.0308, "CA": 0.0087, "DE": 0.0019},
    "2020-04": {"CN": 0.6508, "US": 0.0724, "RU": 0.0690, "KZ": 0.0617, "MY": 0.0433, "IR": 0.0382, "CA": 0.0082, "DE": 0.0056},
    "2021-08": {"US": 0.3537, "KZ": 0.1822, "RU": 0.1120, "CA": 0.0966, "IR": 0.0308, "MY": 0.0253, "DE": 0.0414},
}


def values() -> pd.DataFrame:
    rows = [(m, k, v) for m, d in SHARES.items() for k, v in d.items()] + [("2021-08", "CN", np.nan)]
    return pd.DataFrame(rows, columns=["month", "iso_a2", "value"])


def chart_page(payload: dict, *, width: str = "100%") -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<script>{chart_js()}</script></head><body style="margin:8px">
<div id="chart" style="width:{width}"></div><script>
window.chart = capacitymapChart(document.getElementById("chart"), {script_json(payload)});
window.capacitymap = {{chart: window.chart}};
</script></body></html>"""


def step(page, value: str) -> None:
    page.evaluate("s => document.dispatchEvent(new CustomEvent('capacitymap:step', {detail: {step: s}}))", value)


def region(page, key: str | None, name: str | None = None) -> None:
    page.evaluate("([k, n]) => document.dispatchEvent(new CustomEvent('capacitymap:region', {detail: {key: k, name: n}}))", [key, name])


BARS = """() => Array.from(document.querySelectorAll('.cm-bars g.cm-bar')).map(g => ({
  key: g.dataset.key, kind: g.dataset.kind, texts: Array.from(g.querySelectorAll('text')).map(t => t.textContent),
  fill: g.querySelector('rect').getAttribute('fill'), width: Number(g.querySelector('rect').getAttribute('width'))}))"""


def test_bars_rank_the_step_shown_and_follow_the_slider(open_map):
    payload = chart_payload(values(), NAMES, "share", other={"2020-04": 0.0508}, top=5, value_label="Share of global hashrate")
    visit = open_map(chart_page(payload), width=1000, height=700)
    page = visit.page
    bars = page.evaluate(BARS)  # opens on the latest step, as the map does
    assert page.text_content(".cm-chart-title") == "Share of global hashrate (%), 2021-08"
    assert [b["key"] for b in bars] == ["US", "KZ", "RU", "CA", "DE", ""]
    assert bars[0]["texts"] == ["United States of America", "35.37%"]
    assert bars[-1]["kind"] == "rest" and bars[-1]["texts"] == ["2 other places", "5.61%"]
    assert [b["width"] for b in bars[:5]] == sorted((b["width"] for b in bars[:5]), reverse=True)
    step(page, "2020-04")
    bars = page.evaluate(BARS)
    assert page.text_content(".cm-chart-title").endswith(", 2020-04")
    assert [b["key"] for b in bars][:5] == ["CN", "US", "RU", "KZ", "MY"]
    assert bars[-1]["texts"] == ["Other (unallocated)", "5.08%"] and bars[-1]["kind"] == "other"
    step(page, "1999-01")  # not a step: ignored
    assert page.text_content(".cm-chart-title").endswith(", 2020-04")
    assert visit.errors == [] and visit.requests == []


def test_hovering_a_region_draws_its_line_over_time_and_highlights_its_bar(open_map):
    payload = chart_payload(values(), NAMES, "share")
    visit = open_map(chart_page(payload), width=1000, height=700)
    page = visit.page
    assert page.text_content(".cm-chart-line-title") == "United States of America: share of hashrate over time"
    region(page, "KZ", "Kazakhstan")
    assert page.text_content(".cm-chart-line-title") == "Kazakhstan: share of hashrate over time"
    d = page.get_attribute(".cm-line path", "d")
    assert d.startswith("M") and d.count("L") == 2  # three months, one unbroken line
    label = page.get_attribute(".cm-line", "aria-label")
    assert label == "Kazakhstan: share of hashrate from 2019-09 (1.44%) to 2021-08 (18.22%); highest 18.22% in 2021-08."
    assert page.evaluate("document.querySelector('.cm-bar[data-key=KZ] rect').getAttribute('fill')") == "#d95f02"
    assert page.evaluate("document.querySelectorAll('.cm-line .cm-line-now').length") == 1  # the month shown, marked
    step(page, "2019-09")
    assert page.text_content(".cm-line").startswith("2019-09: 1.44%")
    step(page, "2021-08")
    region(page, "CN", "China")  # no figure for the latest month: the line breaks there
    assert page.get_attribute(".cm-line path", "d").count("M") == 1
    assert page.evaluate("document.querySelectorAll('.cm-line .cm-line-now').length") == 0
    region(page, None)  # leaving the region keeps the last one shown
    assert page.text_content(".cm-chart-line-title").startswith("China:")
    region(page, "ZZ", "Nowhere")
    assert page.text_content(".cm-chart-line-title") == "Nowhere: no data"
    assert visit.errors == []


def test_screen_readers_get_a_table_of_the_bars(open_map):
    payload = chart_payload(values(), NAMES, "share", other={"2020-04": 0.0508}, top=3)
    visit = open_map(chart_page(payload), width=1000, height=700)
    page = visit.page
    step(page, "2020-04")
    rows = page.evaluate("Array.from(document.querySelectorAll('.cm-chart table tr')).map(r => Array.from(r.children).map(c => c.textContent))")
    assert rows[0] == ["Place", "Share of hashrate"]
    assert rows[1:] == [["China", "65.08%"], ["United States of America", "7.24%"], ["Russian Federation", "6.9%"],
                        ["5 other places", "15.7%"], ["Other (unallocated)", "5.08%"]]
    assert page.text_content(".cm-chart table caption") == "Share of hashrate (%), 2020-04"
    assert page.get_attribute(".cm-bars", "aria-hidden") == "true"  # the table says it once
    assert page.get_attribute(".cm-chart", "aria-labelledby") == page.get_attribute(".cm-chart-title", "id")


def test_the_chart_fits_a_phone_without_overflow(open_map):
    payload = chart_payload(values(), {**NAMES, "US": "United States of America (the fifty states and DC)"}, "share")
    visit = open_map(chart_page(payload), width=390, height=844)
    page = visit.page
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    boxes = page.evaluate("""() => Array.from(document.querySelectorAll('.cm-chart svg text')).map(t => {
        const r = t.getBoundingClientRect(); return [t.firstChild.nodeValue, r.left, r.right]; })""")
    assert all(left >= 0 and right <= 390 for _, left, right in boxes), [b for b in boxes if b[1] < 0 or b[2] > 390]
    sizes = page.evaluate("Array.from(document.querySelectorAll('.cm-chart svg text')).map(t => parseFloat(getComputedStyle(t).fontSize))")
    assert min(sizes) >= 11
    assert any(t.endswith("\u2026") for t, _, _ in boxes)  # the long name is shortened ...
    assert page.evaluate("document.querySelector('.cm-bar[data-key=US] title').textContent").startswith("United States of America (the")
    page.set_viewport_size({"width": 320, "height": 700})  # ... and the chart redraws narrower
    page.wait_for_function("document.querySelector('.cm-bars').getAttribute('width') <= 304")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 320


def test_a_hostile_name_is_shown_as_text(open_map):
    payload = chart_payload(values(), {**NAMES, "US": HOSTILE}, "share")
    visit = open_map(chart_page(payload), width=1000, height=700)
    page = visit.page
    shown, full = page.evaluate("""() => { const t = document.querySelector('.cm-bar[data-key=US] text');
        return [t.firstChild.nodeValue, t.querySelector('title').textContent]; }""")
    assert full == HOSTILE and HOSTILE.startswith(shown.rstrip("\u2026"))
    region(page, "US", HOSTILE)
    assert page.text_content(".cm-chart-line-title") == HOSTILE + ": share of hashrate over time"
    assert page.evaluate("document.querySelectorAll('.cm-chart b').length") == 0
    assert visit.dialogs == [] and visit.errors == []
