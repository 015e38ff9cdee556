"""The error hierarchy: one root, data problems located by file, line and column.

Every message says what was expected, what came (``!r``), and what to do about it.
Only ``cli.py`` turns these into exit codes and printed text.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CapacityMapError",
    "DataError",
    "Problem",
    "RegionError",
    "AmbiguousRegionError",
    "UnknownRegionError",
    "SchemaError",
    "BoundaryError",
    "MethodError",
    "FilterError",
    "MapSpecError",
    "AssetError",
    "ExportError",
    "OutputError",
    "OptionError",
]


class CapacityMapError(Exception):
    """Root of every error capacitymap raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem in an input file.

    ``line`` is the 1-based line of the file as a person sees it in an editor (the header is
    line 1, the first record line 2); ``None`` where the problem is the whole file.
    ``column`` names the column as written in the file's header.
    """

    file: str
    line: int | None
    column: str | None
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.column is not None:
            where += f":{self.column}"
        tag = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {tag}{self.message}"


class DataError(CapacityMapError, ValueError):
    """Input data is wrong. Carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems: list[Problem] = [problems] if isinstance(problems, Problem) else list(problems)
        if not self.problems:
            raise ValueError("DataError needs at least one Problem")
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):  # noqa: ANN204 - survive pickling (e.g. raised on a Dask worker)
        return (type(self), (self.problems,))


class SchemaError(DataError):
    """A file's columns do not match any record kind (missing or unknown columns)."""


class RegionError(CapacityMapError, LookupError):
    """A region or country name could not be resolved to one canonical code."""

    def __init__(self, message: str, *, query: str, candidates: tuple[str, ...] = ()):
        self.query = query
        self.candidates = candidates
        super().__init__(message)

    def __reduce__(self):  # noqa: ANN204
        return (_rebuild_region_error, (type(self), str(self), self.query, self.candidates))


def _rebuild_region_error(cls: type, message: str, query: str, candidates: tuple[str, ...]) -> RegionError:
    return cls(message, query=query, candidates=candidates)


class UnknownRegionError(RegionError):
    """No region is known by that name; ``candidates`` holds "did you mean" suggestions."""


class AmbiguousRegionError(RegionError):
    """More than one region is known by that name; ``candidates`` holds all of them."""


class BoundaryError(CapacityMapError, ValueError):
    """A boundary layer is missing, unreadable, or lacks the named code or name column."""


class MethodError(CapacityMapError, ValueError):
    """The hashrate method cannot run on the given records (e.g. a month missing from a window)."""


class FilterError(CapacityMapError, ValueError):
    """A filter names something the data does not have (an operator, region or status)."""


class MapSpecError(CapacityMapError, ValueError):
    """A map specification or the frames given to ``build_map`` cannot make a map."""


class AssetError(CapacityMapError, ValueError):
    """A page cannot be made self-contained (an unknown network reference), or a vendored file is damaged."""


class ExportError(CapacityMapError, ValueError):
    """A static image or an embed snippet cannot be made from what was given."""


class OutputError(CapacityMapError, ValueError):
    """An output cannot be written as asked.

    It would replace an input or an existing file, or its name and format disagree. The message says what to
    write instead.
    """


class OptionError(CapacityMapError, ValueError):
    """An option has a value the library cannot use (a group column that is a coordinate, an unknown unit)."""
