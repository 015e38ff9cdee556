"""Row-by-row parsing shared by the record readers: every problem gathered, located, then raised or set aside."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from capacitymap.errors import DataError, Problem
from capacitymap.io.tables import Table
from capacitymap.records import cells
from capacitymap.schema import LINE, SOURCE_FILE

__all__ = ["Records", "RowParser", "empty_rejected", "finish"]


@dataclass(frozen=True)
class Records:
    """What a reader made of one or more files.

    ``frame`` holds the valid rows (canonical columns). ``rejected`` lists the rows left out because of
    their problems (only with ``skip_invalid``): ``source_file``, ``line``, ``capacity_mw`` (NaN where it
    did not parse or does not apply) and ``reason``. ``notes`` are facts about the input that do not change
    the result (e.g. a pool month that reports less than 100 %).
    """

    frame: pd.DataFrame
    rejected: pd.DataFrame
    rows_read: int
    notes: list[Problem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # of the rejected rows


def empty_rejected() -> pd.DataFrame:
    """An empty table of rejected rows, with its columns and dtypes."""
    return pd.DataFrame({SOURCE_FILE: pd.Series(dtype=object), LINE: pd.Series(dtype="int64"),
                         "capacity_mw": pd.Series(dtype="float64"), "reason": pd.Series(dtype=object)})


class RowParser:
    """Reads one canonical column at a time; problems are gathered per row (index into the table)."""

    def __init__(self, table: Table, cols: dict[str, str]):
        self.table, self.cols = table, cols
        self.decimal = table.decimal
        self.n = len(table)
        self.problems: dict[int, list[Problem]] = {}

    def problem(self, i: int, canon: str | None, message: str) -> None:
        """Record a problem of row ``i``, located at the user's name of column ``canon`` (none: the row)."""
        column = self.cols.get(canon, canon) if canon else None
        self.problems.setdefault(i, []).append(Problem(self.table.path, self.table.lines[i], column, message))

    def column(self, canon: str) -> list[str]:
        """The stripped cells of a canonical column; empty strings when the file lacks it."""
        name = self.cols.get(canon)
        if name is None:
            return [""] * self.n
        return [str(v).strip() for v in self.table.cells[name].tolist()]

    def each(self, canon: str, parse: Callable[[str], object], *, required: bool, missing: object) -> list[object]:
        """Parse every cell of a column; a CellError becomes a located problem and the cell ``missing``."""
        return self.each_row(canon, lambda _, text: parse(text), required=required, missing=missing)

    def each_row(self, canon: str, parse: Callable[[int, str], object], *, required: bool, missing: object) -> list[object]:
        """Like :meth:`each`, for parsers that need the row (e.g. the country already read for it)."""
        out: list[object] = []
        for i, text in enumerate(self.column(canon)):
            if not text:
                if required:
                    self.problem(i, canon, f"expected a value, got an empty cell; fill in the {canon}")
                out.append(missing)
                continue
            try:
                out.append(parse(i, text))
            except cells.CellError as exc:
                self.problem(i, canon, str(exc))
                out.append(missing)
        return out


def finish(frame: pd.DataFrame, problems: dict[int, list[Problem]], *, skip_invalid: bool) -> Records:
    """Raise every problem, or (``skip_invalid``) move the rows that have one to ``rejected``."""
    if problems and not skip_invalid:
        raise DataError(sorted((p for ps in problems.values() for p in ps), key=lambda p: (p.file, p.line or 0, p.column or "")))
    bad = sorted(problems)
    if bad:
        capacity = frame["capacity_mw"] if "capacity_mw" in frame else pd.Series(float("nan"), index=frame.index)
        rejected = pd.DataFrame(
            {
                SOURCE_FILE: frame.loc[bad, SOURCE_FILE].tolist(),
                LINE: frame.loc[bad, LINE].astype("int64").tolist(),
                "capacity_mw": capacity.loc[bad].astype("float64").tolist(),
                "reason": ["; ".join(f"{p.column}: {p.message}" if p.column else p.message for p in problems[i]) for i in bad],
            }
        )
    else:
        rejected = empty_rejected()
    return Records(
        frame=frame.drop(index=bad).reset_index(drop=True),
        rejected=rejected,
        rows_read=len(frame),
        problems=[p for i in bad for p in problems[i]],
    )
