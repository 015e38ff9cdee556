"""An iframe snippet that embeds a rendered map page in an article."""

from __future__ import annotations

import html

from capacitymap.errors import ExportError
from capacitymap.urls import link_or_path

__all__ = ["embed_snippet", "responsive_embed", "HEIGHT_MESSAGE"]

#: The key of the message a capacitymap page posts to its parent window: ``{HEIGHT_MESSAGE: pixels}``.
HEIGHT_MESSAGE = "capacitymap-height"

_MAX_HEIGHT_PX = 10_000


def _check_frame(height_px: object, title: object) -> None:
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


def embed_snippet(src: str, *, height_px: int = 600, title: str) -> str:
    """A responsive ``<iframe>``: full width, an explicit height in pixels, lazily loaded.

    ``src`` must be an absolute http(s) URL or a relative path (``maps/na.html``); ``title`` names
    the map for screen readers and is escaped. Percentage heights collapse inside embeds, hence pixels.
    """
    url = _checked_src(src)
    _check_frame(height_px, title)
    return (
        f'<iframe src="{html.escape(url, quote=True)}" title="{html.escape(title.strip(), quote=True)}" '
        f'width="100%" height="{height_px}" '
        f'style="width:100%;max-width:100%;height:{height_px}px;border:0;display:block" '
        'loading="lazy" referrerpolicy="strict-origin-when-cross-origin" allowfullscreen></iframe>'
    )


def responsive_embed(src: str, *, title: str, height_px: int = 600, aspect: tuple[int, int] = (4, 3)) -> str:
    """An embed that sizes itself, as Datawrapper's responsive iframe does.

    A container with an aspect ratio (``aspect``, at most ``height_px`` tall) holds the iframe until the
    page reports its own height (a capacitymap page posts ``{"capacitymap-height": px}`` to its parent);
    then the container takes exactly that height, so the whole map, legend and notes show with no inner
    scroll bar. The script only listens to messages from its own iframe and accepts 100-20000 px.
    """
    url = _checked_src(src)
    _check_frame(height_px, title)
    w, h = aspect
    return (
        f'<div class="capacitymap-embed" style="position:relative;width:100%;max-width:100%;aspect-ratio:{int(w)} / {int(h)};'
        f'max-height:{height_px}px">'
        f'<iframe src="{html.escape(url, quote=True)}" title="{html.escape(title.strip(), quote=True)}" '
        'style="position:absolute;top:0;left:0;width:100%;height:100%;border:0;display:block" scrolling="no" '
        'loading="lazy" referrerpolicy="strict-origin-when-cross-origin" allowfullscreen></iframe></div>\n'
        "<script>(function(){if(window.capacitymapEmbed){return;}window.capacitymapEmbed=true;"
        'window.addEventListener("message",function(e){var d=e.data,h=d&&d["' + HEIGHT_MESSAGE + '"];'
        'if(typeof h!=="number"||!(h>=100&&h<=20000)){return;}'
        'var fs=document.querySelectorAll(".capacitymap-embed>iframe");'
        "for(var i=0;i<fs.length;i++){if(fs[i].contentWindow===e.source){var c=fs[i].parentNode;"
        'c.style.aspectRatio="auto";c.style.maxHeight="none";c.style.height=Math.ceil(h)+"px";}}});})();</script>'
    )


def _checked_src(src: object) -> str:
    """The page's address under the project's one link policy (:func:`capacitymap.urls.link_or_path`)."""
    if not isinstance(src, str) or not src.strip():
        raise ExportError(f"embed: expected the map page's URL or relative path, got {src!r}")
    text = link_or_path(src)
    if text is None:
        raise ExportError(
            f"embed: expected an http(s) URL or a relative path for src, got {src!r}; "
            "give e.g. 'https://example.org/maps/north-america.html' or 'maps/north-america.html'"
        )
    return text
