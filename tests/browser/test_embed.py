"""The responsive embed in an article-like page, at 390 and 1200 px: the iframe grows to the map page's height."""

from __future__ import annotations

from pathlib import Path

import pytest

from capacitymap.export.embed import responsive_embed

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Article</title><style>body {{ font: 17px Georgia, serif; margin: 0 auto; max-width: 720px; padding: 0 12px; }}</style>
</head><body><h1>Where bitcoin is mined</h1><p>{lorem}</p>{snippet}<p>{lorem}</p></body></html>"""


@pytest.fixture(scope="module")
def article(tmp_path_factory) -> Path:  # noqa: ANN001
    from capacitymap.demo import demo_maps
    from capacitymap.maps import make_map
    from capacitymap.render import render_html

    folder = tmp_path_factory.mktemp("article")
    demo = next(d for d in demo_maps() if d.name == "north-america")
    (folder / "map.html").write_text(render_html(make_map(demo.spec, demo.layers)), encoding="utf-8")
    lorem = "Mining moved after 2021. " * 30
    snippet = responsive_embed("map.html", title="Bitcoin mining capacity", height_px=600)
    (folder / "article.html").write_text(ARTICLE.format(lorem=lorem, snippet=snippet), encoding="utf-8")
    return folder / "article.html"


@pytest.mark.parametrize("width", [390, 1200])
def test_the_embed_shows_the_whole_map_and_legend_without_an_inner_scroll_bar(chromium, article: Path, width: int) -> None:  # noqa: ANN001
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def route(r):  # noqa: ANN001, ANN202
        if r.request.url.startswith(("http:", "https:")):
            requests.append(r.request.url)
            return r.abort()
        return r.continue_()

    page.route("**/*", route)
    page.goto(article.as_uri(), wait_until="load")
    frame_el = page.locator(".capacitymap-embed > iframe")
    frame_el.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const c = document.querySelector('.capacitymap-embed'); return c.style.height !== ''; }", timeout=15000)
    frame = frame_el.element_handle().content_frame()
    frame.wait_for_function("window.capacitymap !== undefined")
    page.wait_for_timeout(300)
    inner = frame.evaluate("() => ({scroll: document.documentElement.scrollHeight, client: document.documentElement.clientHeight,"
                           " width: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth,"
                           " embedded: document.documentElement.classList.contains('cm-embedded')})")
    assert inner["embedded"]
    assert inner["scroll"] <= inner["client"] + 1 and inner["width"] <= inner["cw"]  # no inner scroll bars
    box = frame_el.bounding_box()
    legend = frame.locator(".cm-legend").bounding_box()
    assert legend is not None and box["y"] <= legend["y"] and legend["y"] + legend["height"] <= box["y"] + box["height"] + 1
    assert frame.locator("#cm-map").bounding_box()["height"] >= 300
    assert requests == [] and errors == []
    context.close()
