"""Escaping at the render boundary: HTML text, JSON inside ``<script>``, and the link policy."""

from __future__ import annotations

import html
import json
import math
from typing import Any

from capacitymap.urls import http_url

__all__ = ["esc", "script_json", "safe_url", "to_text"]

_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    ord("\u2028"): "\\u2028",
    ord("\u2029"): "\\u2029",
}


def esc(text: object) -> str:
    """HTML-escape text (quotes too) for element content and attribute values."""
    return html.escape(str(text), quote=True)


def script_json(obj: Any) -> str:
    r"""JSON safe to splice into a ``<script>`` block: ``<``, ``>``, ``&`` and U+2028/9 as ``\uXXXX``.

    Non-finite floats are refused by ``json.dumps`` (``allow_nan=False``): callers pass ``None``.
    """
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).translate(_SCRIPT_ESCAPES)


def safe_url(url: object) -> str | None:
    """``url`` if it is an absolute http(s) URL with a host, else ``None`` (shown as text, never linked).

    The project's one link policy: :func:`capacitymap.urls.http_url`.
    """
    return http_url(url)


def to_text(value: object) -> str | None:
    """A cell as display text; ``None`` for missing values. Datetimes become ISO text."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            return value.isoformat()
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return]
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        import numpy as np

        if isinstance(value, np.bool_):
            return "yes" if bool(value) else "no"
        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
