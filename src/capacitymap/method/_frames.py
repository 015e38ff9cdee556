"""Small helpers shared by the steps: column checks, locating problems, deterministic frames."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pandas as pd

from capacitymap.errors import DataError, Problem, SchemaError
from capacitymap.schema import LINE, SOURCE_FILE

TEXT = pd.StringDtype()  # text columns carry <NA> for missing values


def require_columns(frame: object, columns: Sequence[str], what: str) -> pd.DataFrame:
    """Return ``frame`` if it is a DataFrame with ``columns``; else raise ``SchemaError``."""
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            Problem(f"<{what}>", None, None, f"expected a pandas DataFrame, got {type(frame).__name__!r}; "
                    f"pass the {what} as a DataFrame with columns {list(columns)!r}")
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            Problem(f"<{what}>", None, None, f"expected columns {list(columns)!r}, missing {missing!r}; "
                    f"add them (the readers in capacitymap.records produce them)")
        )
    return frame


def locate(row: pd.Series | dict, what: str, column: str | None) -> tuple[str, int | None, str | None]:
    """(file, line, column) of a record, falling back to ``<what>`` where the frame has no source."""
    file = row.get(SOURCE_FILE) if hasattr(row, "get") else None
    line = row.get(LINE) if hasattr(row, "get") else None
    file_text = str(file) if isinstance(file, str) and file else f"<{what}>"
    try:
        line_no = int(line) if line is not None and not pd.isna(line) else None
    except (TypeError, ValueError):
        line_no = None
    return file_text, line_no, column


def problem(row: pd.Series | dict, what: str, column: str | None, message: str) -> Problem:
    file, line, col = locate(row, what, column)
    return Problem(file, line, col, message)


def raise_problems(problems: list[Problem]) -> None:
    if problems:
        raise DataError(sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or "", p.message)))


def text_or_na(value: object) -> str | None:
    """A stripped non-empty string, or None for NA/empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def fsum(values: Iterable[float]) -> float:
    """Exactly rounded sum: independent of the order of the values."""
    return math.fsum(values)


def join_pools(pools: Iterable[str]) -> str:
    return "|".join(sorted(set(pools)))


def frame_from_rows(rows: list[dict], columns: Sequence[str], *, text: Sequence[str], flags: Sequence[str]) -> pd.DataFrame:
    """Build a frame with fixed dtypes (text as ``string``, flags as ``bool``, the rest float)."""
    frame = pd.DataFrame(rows, columns=list(columns))
    for col in columns:
        if col in text:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None).astype(TEXT)
        elif col in flags:
            frame[col] = frame[col].astype(bool)
        else:
            frame[col] = frame[col].astype(float)
    return frame.reset_index(drop=True)


def region_key(region: str | None) -> str:
    """Sort key that puts a country row (region <NA>) before its regions."""
    return "" if region is None else region


def pct(x: float) -> str:
    """A fraction shown to people as a percentage (explain log only)."""
    return "nan" if x != x else f"{100 * x:.4g}%"
