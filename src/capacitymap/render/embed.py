"""A responsive iframe snippet for publishing a rendered map page."""

from __future__ import annotations

from urllib.parse import urlsplit

from capacitymap.render.escape import esc
from capacitymap.render.spec import MapSpecError

__all__ = ["embed_snippet"]


def embed_snippet(src_url: str, *, height: int = 600, title: str = "Map") -> str:
    """An ``<iframe>`` that fills its column's width at a fixed ``height`` (pixels); attributes escaped.

    ``src_url`` is an http(s) URL or a relative path (``maps/us.html``); other schemes are refused.
    """
    if not isinstance(src_url, str) or not src_url.strip():
        raise MapSpecError(f"embed_snippet: expected the URL or relative path of the map page, got {src_url!r}")
    url = src_url.strip()
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("", "http", "https") or any(ord(c) < 0x20 for c in url):
        raise MapSpecError(
            f"embed_snippet: expected an http(s) URL or a relative path, got {src_url!r}; "
            "publish the map page and give its address"
        )
    if isinstance(height, bool) or not isinstance(height, int) or not 100 <= height <= 4000:
        raise MapSpecError(f"embed_snippet: expected a height in pixels from 100 to 4000, got {height!r}")
    return (
        f'<div class="capacitymap-embed" style="position:relative;width:100%;max-width:100%;height:{height}px">'
        f'<iframe src="{esc(url)}" title="{esc(title)}" loading="lazy" allowfullscreen '
        f'style="position:absolute;inset:0;width:100%;height:100%;border:0"></iframe></div>'
    )
