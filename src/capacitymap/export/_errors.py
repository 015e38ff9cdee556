"""The export error (to move into :mod:`capacitymap.errors` when the lead next touches it)."""

from __future__ import annotations

from capacitymap.errors import CapacityMapError

__all__ = ["ExportError"]


class ExportError(CapacityMapError, ValueError):
    """A static image or an embed snippet cannot be made from what was given."""
