"""Regenerate the README's pictures in docs/images/ from the demo maps.

    python scripts/readme_images.py

The stills are ``capacitymap demo``'s PNGs (north-america, china, world); the browser picture is the
self-contained north-america page in Debian's Chromium at 1280x800, offline (Playwright, /usr/bin/chromium).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from capacitymap.demo import demo_maps

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
STILLS = ("north-america", "china", "world")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def main() -> None:
    from playwright.sync_api import sync_playwright

    maps = {d.name: d for d in demo_maps()}
    for name in STILLS:
        (IMAGES / f"{name}.png").write_bytes(maps[name].built.still(fmt="png"))
        print(f"wrote {IMAGES / f'{name}.png'}")
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "north-america.html"
        page_path.write_text(maps["north-america"].built.html(), encoding="utf-8")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route("**/*", lambda r: r.abort() if r.request.url.startswith(("http:", "https:")) else r.continue_())
            page.goto(page_path.as_uri(), wait_until="load")
            page.wait_for_function("window.capacitymapDrawn !== undefined")
            page.wait_for_timeout(500)
            page.screenshot(path=str(IMAGES / "north-america-browser.png"))
            browser.close()
    print(f"wrote {IMAGES / 'north-america-browser.png'}")


if __name__ == "__main__":
    main()
