"""File access and nothing else: tables read within limits, boundary layers, point batches, atomic writes.

The first floor above ``errors``/``schema``: nothing here resolves a region name or validates a record
(that is ``capacitymap.records``, which reads through ``io.tables``). Names load on first use (PEP 562),
so reading a CSV never imports geopandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from capacitymap._lazy import lazy_names

#: Where each public name lives.
_HOME = {
    "read_admin0": "capacitymap.io.boundaries",
    "read_admin0_web": "capacitymap.io.boundaries",
    "read_admin1": "capacitymap.io.boundaries",
    "read_admin1_web": "capacitymap.io.boundaries",
    "read_boundaries": "capacitymap.io.boundaries",
    "Limits": "capacitymap.io.tables",
    "Table": "capacitymap.io.tables",
    "read_header": "capacitymap.io.tables",
    "read_table": "capacitymap.io.tables",
    "check_output": "capacitymap.io.write",
    "frame_to_csv": "capacitymap.io.write",
    "open_atomic": "capacitymap.io.write",
    "write_bytes_atomic": "capacitymap.io.write",
    "write_text_atomic": "capacitymap.io.write",
}

__all__ = [
    "Limits",
    "Table",
    "read_table",
    "read_header",
    "read_admin0",
    "read_admin1",
    "read_admin0_web",
    "read_admin1_web",
    "read_boundaries",
    "write_bytes_atomic",
    "write_text_atomic",
    "open_atomic",
    "check_output",
    "frame_to_csv",
]


__getattr__, __dir__ = lazy_names(__name__, _HOME)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from capacitymap.io.boundaries import read_admin0, read_admin0_web, read_admin1, read_admin1_web, read_boundaries
    from capacitymap.io.tables import Limits, Table, read_header, read_table
    from capacitymap.io.write import check_output, frame_to_csv, open_atomic, write_bytes_atomic, write_text_atomic
