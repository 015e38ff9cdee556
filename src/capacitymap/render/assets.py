"""The page's one library, Leaflet 1.9.3: inlined (default) or linked from a CDN, and the network check.

The copy is a pinned npm release vendored by ``scripts/vendor_assets.py`` into ``assets/`` with its
licence and a ``MANIFEST.json`` (CDN URL -> package@version, path, sha256, licence). The page's own
script (``js/page.js``) needs nothing else: no jQuery, d3, moment or Leaflet plugins are shipped.

:func:`leaflet_tags` gives the ``<style>``/``<script>`` (inline) or ``<link>``/``<script src>`` (CDN,
with subresource integrity) tags. :func:`check_self_contained` looks at a page *template* (the page
before data is inserted) and raises :class:`AssetError` naming any external reference; data never
reaches the check, so an operator named ``L.tileLayer(`` or ``$.ajax(`` renders fine.

:func:`inline_assets` still turns a folium-style page whose only CDN assets are Leaflet's (and the
unused Bootstrap/Font Awesome/jQuery boilerplate, removed) into a self-contained one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Final

from capacitymap.errors import AssetError

__all__ = [
    "AssetError",
    "leaflet_tags",
    "check_self_contained",
    "VendoredAsset",
    "UNUSED_ASSETS",
    "inline_assets",
    "strip_unused_assets",
    "vendored_assets",
    "assets_dir",
]



#: CDN assets folium's ``Map`` always emits that capacitymap maps never use: removed, not inlined.
UNUSED_ASSETS: Final[dict[str, str]] = {
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": "Bootstrap JS: no Bootstrap widgets",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": "Bootstrap CSS: page styling only",
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": "glyphicons: folium.Icon only",
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": "Font Awesome: folium.Icon only",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": "folium.Icon only",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": "folium.Icon only",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": "folium.Icon only",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jQuery: capacitymap pages do not use it",
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js": "jQuery: capacitymap pages do not use it",
}

_LEAFLET_JS: Final = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
_LEAFLET_CSS: Final = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"

_ATTR = r"""\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"""
_SCRIPT_SRC = re.compile(r"<script\b[^>]*?\bsrc" + _ATTR + r"[^>]*>\s*</script\s*>", re.IGNORECASE)
_LINK_HREF = re.compile(r"<link\b[^>]*?\bhref" + _ATTR + r"[^>]*?/?>", re.IGNORECASE)
_RESOURCE_SRC = re.compile(
    r"<(?:img|iframe|source|video|audio|embed|track|input)\b[^>]*?\bsrc" + _ATTR, re.IGNORECASE
)
_OBJECT_DATA = re.compile(r"<object\b[^>]*?\bdata" + _ATTR, re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_TILE_LAYER = re.compile(r"\bL\.tileLayer(?:\.wms)?\s*\(", re.IGNORECASE)
_REMOTE_DATA = re.compile(
    r"""\$\.ajax\s*\(|\bL\.(?:imageOverlay|videoOverlay)\s*\(\s*["'`](?:https?:|//)""",
    re.IGNORECASE,
)
_SOURCE_MAP = re.compile(r"^\s*(?://|/\*)[#@]\s*sourceMappingURL=.*$", re.MULTILINE)
_STYLE_BLOCK = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)
_STYLE_ATTR = re.compile(r"""\bstyle\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_MIME: Final[dict[str, str]] = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}


@dataclass(frozen=True, slots=True)
class VendoredAsset:
    """One vendored file and the CDN URL it stands in for."""

    url: str
    package: str  # "leaflet@1.9.3"
    path: str  # relative to assets_dir()
    sha256: str
    licence: str  # SPDX identifier
    licence_file: str  # relative to assets_dir()

    @property
    def kind(self) -> str:
        """``css`` or ``js``, from the file's extension."""
        return "css" if self.path.endswith(".css") else "js"


def assets_dir() -> Path:
    """The folder holding the vendored files, ``LICENSES/`` and ``MANIFEST.json``."""
    return Path(__file__).resolve().parent / "assets"


@lru_cache(maxsize=1)
def vendored_assets() -> dict[str, VendoredAsset]:
    """CDN URL -> :class:`VendoredAsset`, read from ``MANIFEST.json``."""
    manifest = assets_dir() / "MANIFEST.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return {url: VendoredAsset(url=url, **entry) for url, entry in data["urls"].items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssetError(
            f"expected a readable vendored-asset manifest at {str(manifest)!r}, got {exc!r}; "
            "re-run 'python scripts/vendor_assets.py' or reinstall capacitymap"
        ) from exc


def leaflet_tags(mode: str) -> tuple[str, str]:
    """``(css_tag, js_tag)`` for Leaflet: inline copies (``"inline"``) or CDN links with SRI (``"cdn"``)."""
    known = vendored_assets()
    css, js = known[_LEAFLET_CSS], known[_LEAFLET_JS]
    if mode == "inline":
        return (f"<style>/* {css.package} ({css.licence}) */\n{_css(css)}</style>",
                f"<script>/* {js.package} ({js.licence}) */\n{_js(js)}</script>")
    return (f'<link rel="stylesheet" href="{css.url}" integrity="{_sri(css)}" crossorigin="anonymous">',
            f'<script src="{js.url}" integrity="{_sri(js)}" crossorigin="anonymous"></script>')


def check_self_contained(template: str) -> None:
    """Raise :class:`AssetError` if the page template (data not yet inserted) would load anything.

    Only the template and its asset tags are checked: text from data is inserted after this check
    (escaped), so no operator, site or title can trip it.
    """
    _refuse_awesome_markers(template)
    known = vendored_assets()
    for m in (*_SCRIPT_SRC.finditer(template), *_LINK_HREF.finditer(template)):
        if _url(m) in known:
            raise AssetError(f"self-contained page: expected inlined assets, got a link to {_url(m)!r}")
    _refuse_external(template)


@cache
def _sri(asset: VendoredAsset) -> str:
    data = _read(asset.path, asset.sha256)
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def strip_unused_assets(html: str) -> str:
    """Remove the tags of :data:`UNUSED_ASSETS` (Bootstrap, Font Awesome, awesome-markers) from a page.

    Useful in CDN mode too, so CDN and self-contained pages load the same code and look the same.
    """
    _refuse_awesome_markers(html)

    def drop(match: re.Match[str]) -> str:
        return "" if _url(match) in UNUSED_ASSETS else match.group(0)

    return _LINK_HREF.sub(drop, _SCRIPT_SRC.sub(drop, html))


def inline_assets(html: str) -> str:
    """Return ``html`` with every known CDN script/stylesheet inlined and the unused ones removed.

    The result loads nothing from the network. Raises :class:`AssetError` naming every external
    reference it cannot inline (unknown CDN files, tile layers, remote images, CSS imports).
    Deterministic: the same input always gives the same output.
    """
    _refuse_awesome_markers(html)
    _refuse_external(html)
    known = vendored_assets()
    seen: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        url = _url(match)
        if url in UNUSED_ASSETS or url in seen:
            return ""
        asset = known[url]  # _refuse_external has checked every external tag is known
        seen.add(url)
        if asset.kind == "css":
            if "stylesheet" not in match.group(0).lower():
                return ""  # e.g. a preload hint for a stylesheet we inline anyway
            return f"<style>/* {asset.package} ({asset.licence}) */\n{_css(asset)}</style>"
        text = f"<script>/* {asset.package} ({asset.licence}) */\n{_js(asset)}</script>"
        if url == _LEAFLET_JS:
            text += _leaflet_icon_fix()
        return text

    return _LINK_HREF.sub(replace, _SCRIPT_SRC.sub(replace, html))


# --- helpers -------------------------------------------------------------------------------------


def _url(match: re.Match[str]) -> str:
    return next(g for g in match.groups()[:3] if g is not None).strip()


def _is_external(url: str) -> bool:
    u = url.strip().lower()
    return u.startswith(("http://", "https://", "//", "ftp://", "ws://", "wss://"))


def _is_fetched(url: str) -> bool:
    """Whether a browser would load this reference from somewhere (network or disk)."""
    u = url.strip().lower()
    return bool(u) and not u.startswith(("data:", "about:", "#", "javascript:", "blob:"))


def _refuse_awesome_markers(html: str) -> None:
    if "L.AwesomeMarkers" in html:
        raise AssetError(
            "expected a map without folium.Icon markers, got a page calling 'L.AwesomeMarkers'; "
            "its icon fonts are not vendored: draw facilities with CircleMarker instead"
        )


def _refuse_external(html: str) -> None:
    known = vendored_assets()
    refs = [_url(m) for p in (_SCRIPT_SRC, _LINK_HREF) for m in p.finditer(html)]
    refs = [u for u in refs if u not in known and u not in UNUSED_ASSETS]
    refs += [_url(m) for p in (_RESOURCE_SRC, _OBJECT_DATA) for m in p.finditer(html)]
    css_texts = [m.group(1) for m in _STYLE_BLOCK.finditer(html)]
    css_texts += [m.group(1) or m.group(2) or "" for m in _STYLE_ATTR.finditer(html)]
    refs += [_url(m) for css in css_texts for p in (_CSS_URL, _CSS_IMPORT) for m in p.finditer(css)]
    problems = [repr(u) for u in dict.fromkeys(refs) if _is_fetched(u)]
    if _TILE_LAYER.search(html):
        problems.append("a tile layer (L.tileLayer: tiles are fetched from a server)")
    if _REMOTE_DATA.search(html):
        problems.append("data loaded at view time ($.ajax / fetch / a remote image or video overlay)")
    if problems:
        raise AssetError(
            "self-contained map: expected only assets capacitymap vendors, got external references "
            + ", ".join(problems)
            + "; build the map with tiles=None, embedded data and only the layers capacitymap draws, "
            "or use assets='cdn'"
        )


def _read(asset_path: str, sha256: str) -> bytes:
    path = assets_dir() / asset_path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AssetError(
            f"expected vendored file {str(path)!r}, got {exc!r}; re-run 'python scripts/vendor_assets.py'"
        ) from exc
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise AssetError(
            f"vendored file {str(path)!r}: expected sha256 {sha256}, got {got}; "
            "re-run 'python scripts/vendor_assets.py' or reinstall capacitymap"
        )
    return data


@cache
def _js(asset: VendoredAsset) -> str:
    text = _read(asset.path, asset.sha256).decode("utf-8")
    text = _SOURCE_MAP.sub("", text)
    # An inline script ends at the first "</script"; "<!--" can switch the parser's script state.
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE).replace("<!--", "<\\!--")


@cache
def _css(asset: VendoredAsset) -> str:
    text = _read(asset.path, asset.sha256).decode("utf-8")
    text = _SOURCE_MAP.sub("", text)
    base = Path(asset.path).parent

    def to_data_uri(m: re.Match[str]) -> str:
        ref = _url(m)
        if ref.startswith(("data:", "#")) or not ref:
            return m.group(0)  # already inline, or an in-document fragment (IE's #default#VML)
        if _is_external(ref):
            raise AssetError(f"vendored CSS {asset.path!r}: expected local url() references, got {ref!r}")
        return f'url("{_data_uri((base / ref).as_posix())}")'

    return re.sub(r"</(style)", r"<\\/\1", _CSS_URL.sub(to_data_uri, text), flags=re.IGNORECASE)


@cache
def _data_uri(rel_path: str) -> str:
    files = _files_by_path()
    if rel_path not in files:
        raise AssetError(f"expected {rel_path!r} among the vendored files, got none; add it to scripts/vendor_assets.py")
    mime = _MIME.get(Path(rel_path).suffix.lower(), "application/octet-stream")
    data = _read(rel_path, files[rel_path])
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@lru_cache(maxsize=1)
def _files_by_path() -> dict[str, str]:
    data = json.loads((assets_dir() / "MANIFEST.json").read_text(encoding="utf-8"))
    return {f["path"]: f["sha256"] for pkg in data["packages"].values() for f in pkg["files"].values()}


@lru_cache(maxsize=1)
def _leaflet_icon_fix() -> str:
    # Leaflet finds its default marker images through the CSS url(); with data: URIs that lookup
    # fails and it would request "nullmarker-icon.png". Give it the images directly.
    icon = _data_uri("leaflet-1.9.3/images/marker-icon.png")
    retina = _data_uri("leaflet-1.9.3/images/marker-icon-2x.png")
    shadow = _data_uri("leaflet-1.9.3/images/marker-shadow.png")
    return (
        "<script>L.Icon.Default.imagePath=\"\";"
        f"L.Icon.Default.mergeOptions({{iconUrl:\"{icon}\",iconRetinaUrl:\"{retina}\",shadowUrl:\"{shadow}\"}});</script>"
    )
