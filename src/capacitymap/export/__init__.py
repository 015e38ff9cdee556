"""Static stills (PNG/SVG, matplotlib, no browser) and the iframe embed snippet."""

from capacitymap.errors import ExportError
from capacitymap.export.embed import embed_snippet
from capacitymap.export.static import render_static

__all__ = ["ExportError", "embed_snippet", "render_static"]
