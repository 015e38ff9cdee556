"""The one link policy: what a reader accepts as a source URL, what a page links and what an embed frames.

A link is an absolute ``http``/``https`` URL with a host; an embed may also frame a relative path
(``maps/north-america.html``). Neither may hold control characters, quotes, ``<``, ``>``, a backtick
or a backslash (what breaks out of an attribute or a script), and a URL holds no spaces (a relative
path may: file names do). Surrounding spaces are stripped. Only the standard library is imported.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["http_url", "link_or_path"]

_SCHEMES = ("http", "https")
_BREAKING = frozenset("\"'<>`\\")


def _clean(text: object) -> str | None:
    if not isinstance(text, str):
        return None
    t = text.strip()
    if not t or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in _BREAKING for c in t):
        return None
    return t


def http_url(text: object) -> str | None:
    """``text`` stripped, if it is an absolute http(s) URL with a host and no spaces; else ``None``."""
    t = _clean(text)
    if t is None or any(c.isspace() for c in t):
        return None
    try:
        parts = urlsplit(t)
    except ValueError:
        return None
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        return None
    return t


def link_or_path(text: object) -> str | None:
    """``text`` stripped, if it is an http(s) URL (:func:`http_url`) or a relative path; else ``None``.

    A relative path has no scheme and no host (``//host/...`` is refused: it names another site).
    """
    url = http_url(text)
    if url is not None:
        return url
    t = _clean(text)
    if t is None:
        return None
    try:
        parts = urlsplit(t)
    except ValueError:
        return None
    if parts.scheme or parts.netloc or t.startswith("//"):
        return None
    return t
