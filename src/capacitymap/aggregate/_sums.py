"""Exact weight sums: each float64 weight as its binary exponent and two halves of its mantissa, summed as integers.

A batch becomes a small *partial* frame: one row per (group, target, exponent) with the number of
points and the integer sums ``hi`` and ``lo`` of the mantissa halves. Partials add up exactly
(:func:`combine`), in any order and any split, and :func:`exact_numerators` turns them into Python
integers over ``2**SHIFT`` for one correctly rounded division at the end. That is why the engines,
batch sizes and thread counts all give bit-identical results.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

__all__ = ["MANTISSA_SPLIT", "SHIFT", "MAX_PARTIAL_ROWS", "PARTIAL_INT", "partial", "combine", "Accumulator",
           "exact_numerators", "sum_by", "int_sum_by"]

MANTISSA_SPLIT: Final = 26  # float64 mantissas (53 bits) as hi (27 bits) and lo (26 bits)
SHIFT: Final = 1074 + 53  # every exact sum is an integer over 2**SHIFT
#: float64 bincounts of integers below 2**27 are exact up to 2**26 rows: bigger frames are cut.
MAX_PARTIAL_ROWS: Final = 1 << 24
PARTIAL_INT: Final = ("points", "hi", "lo")
#: Above this many (group, target, exponent) keys a batch's keys are factorised instead of counted
#: into a dense array.
_DENSE_KEYS: Final = 1 << 22


def partial(gid: np.ndarray, groups: pd.DataFrame, target: np.ndarray, weight: np.ndarray, n_targets: int) -> pd.DataFrame:
    """Counts and exact weight sums per (group, target, binary exponent) of one batch.

    ``gid`` numbers each point's group (rows of ``groups``, which holds the group columns' values);
    ``target`` is each point's target in ``[0, n_targets)``; ``weight`` finite and >= 0.
    """
    n = len(target)
    by = list(groups.columns)
    mant, exp = np.frexp(weight)
    m = (mant * float(1 << 53)).astype(np.int64)
    hi = (m >> MANTISSA_SPLIT).astype(np.float64)
    lo = (m & ((1 << MANTISSA_SPLIT) - 1)).astype(np.float64)
    emin = int(exp.min()) if n else 0
    ne = int(exp.max()) - emin + 1 if n else 1
    key = (gid.astype(np.int64) * n_targets + target) * ne + (exp - emin)
    n_keys = max(len(groups), 1) * n_targets * ne
    if n_keys <= max(_DENSE_KEYS, 4 * n):
        points = np.bincount(key, minlength=n_keys)
        uniq = np.flatnonzero(points)
        points = points[uniq]
        hi_sum = np.bincount(key, weights=hi, minlength=n_keys)[uniq]
        lo_sum = np.bincount(key, weights=lo, minlength=n_keys)[uniq]
    else:
        codes, uniq = pd.factorize(key, sort=True)
        k = len(uniq)
        points = np.bincount(codes, minlength=k)
        hi_sum = np.bincount(codes, weights=hi, minlength=k)
        lo_sum = np.bincount(codes, weights=lo, minlength=k)
    out = pd.DataFrame({
        "points": points.astype(np.int64),
        "hi": hi_sum.astype(np.int64),
        "lo": lo_sum.astype(np.int64),
        "exp": (uniq % ne + emin).astype(np.int64),
        "target": ((uniq // ne) % n_targets).astype(np.int64),
    })
    g = uniq // ne // n_targets
    for col in by:
        out[col] = groups[col].to_numpy()[g]
    return out


def combine(partials: list[pd.DataFrame], by: tuple[str, ...]) -> pd.DataFrame:
    """Sum partials exactly (int64) by (group, target, exponent); the order never matters."""
    frames = [p for p in partials if len(p)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in (*PARTIAL_INT, "exp", "target")} | {c: pd.Series(dtype=object) for c in by})
    if len(frames) == 1:
        return frames[0]
    cat = pd.concat(frames, ignore_index=True)
    keys = [*by, "target", "exp"]
    return cat.groupby(keys, sort=True, dropna=False, observed=True)[list(PARTIAL_INT)].sum().reset_index()


class Accumulator:
    """Partials of many batches, compacted every few batches so memory stays bounded."""

    def __init__(self, by: tuple[str, ...]):
        self.by = by
        self.partials: list[pd.DataFrame] = []

    def add(self, part: pd.DataFrame) -> None:
        self.partials.append(part)
        if len(self.partials) >= 16:
            self.partials = [combine(self.partials, self.by)]

    def result(self) -> pd.DataFrame:
        return combine(self.partials, self.by)


def exact_numerators(sums: pd.DataFrame) -> np.ndarray:
    """Each row's exact weight sum as a Python integer over ``2**SHIFT`` (a numpy object array)."""
    mant = (sums["hi"].to_numpy(np.int64).astype(object) << MANTISSA_SPLIT) + sums["lo"].to_numpy(np.int64).astype(object)
    return np.left_shift(mant, (sums["exp"].to_numpy(np.int64) - 53 + SHIFT).astype(object))


def sum_by(codes: np.ndarray, values: np.ndarray, n: int, *, zero: Any = 0) -> np.ndarray:
    """Sum an object array (Python ints) by integer code, exactly."""
    out = np.full(n, zero, dtype=object)
    if len(codes):
        np.add.at(out, codes, values)
    return out


def int_sum_by(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, np.int64)
    if len(codes):
        np.add.at(out, codes, values)
    return out
