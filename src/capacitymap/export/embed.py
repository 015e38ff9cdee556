"""An iframe snippet that embeds a rendered map page in an article."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from capacitymap.errors import ExportError

__all__ = ["embed_snippet"]

_MAX_HEIGHT_PX = 10_000


def embed_snippet(src: str, *, height_px: int = 600, title: str) -> str:
    """A responsive ``<iframe>``: full width, an explicit height in pixels, lazily loaded.

    ``src`` must be an absolute http(s) URL or a relative path (``maps/na.html``); ``title`` names
    the map for screen readers and is escaped. Percentage heights collapse inside embeds, hence pixels.
    """
    url = _checked_src(src)
    if isinstance(height_px, bool) or not isinstance(height_px, int) or not 1 <= height_px <= _MAX_HEIGHT_PX:
        raise ExportError(
            f"embed: expected height_px as a whole number of pixels from 1 to {_MAX_HEIGHT_PX}, got {height_px!r}; "
            "give e.g. 600"
        )
    if not isinstance(title, str) or not title.strip():
        raise ExportError(
            f"embed: expected a title naming the map for screen readers, got {title!r}; "
            "give e.g. 'Bitcoin mining capacity by state'"
        )
    return (
        f'<iframe src="{html.escape(url, quote=True)}" title="{html.escape(title.strip(), quote=True)}" '
        f'width="100%" height="{height_px}" '
        f'style="width:100%;max-width:100%;height:{height_px}px;border:0;display:block" '
        'loading="lazy" referrerpolicy="strict-origin-when-cross-origin" allowfullscreen></iframe>'
    )


def _checked_src(src: object) -> str:
    if not isinstance(src, str) or not src.strip():
        raise ExportError(f"embed: expected the map page's URL or relative path, got {src!r}")
    text = src.strip()
    bad = [c for c in text if ord(c) < 0x20 or ord(c) == 0x7F or c in "\\<>\"'`"]
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    ok = not bad and parts is not None and (
        (parts.scheme.lower() in ("http", "https") and bool(parts.netloc))
        or (parts.scheme == "" and parts.netloc == "" and not text.startswith("//"))
    )
    if not ok:
        raise ExportError(
            f"embed: expected an http(s) URL or a relative path for src, got {src!r}; "
            "give e.g. 'https://example.org/maps/north-america.html' or 'maps/north-america.html'"
        )
    return text
