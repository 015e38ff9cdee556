"""Exact weight sums: each float64 weight as three 23-bit integer limbs at a 16-bit-aligned binary exponent.

A weight ``w`` with binary exponent ``e`` (``numpy.frexp``) is, for the bucket base
``b = 16 * floor(e / 16)``, the integer ``u = w * 2**(53 - b)`` (< 2**69, exact: only the exponent
changes), split exactly into ``u = a2 * 2**46 + a1 * 2**23 + a0`` with each limb < 2**23. Limbs are
summed per (group, target, bucket) with float64 ``bincount``s, exact up to 2**30 rows, then kept as
int64. A batch's sums are a :class:`Partial`; partials add up exactly in any order and any split
(:class:`Accumulator`), and :func:`exact_numerators` turns the totals into Python integers over
``2**SHIFT`` for one correctly rounded division at the end. That is why the engines, batch sizes and
thread counts all give bit-identical results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

__all__ = ["SHIFT", "MAX_PARTIAL_ROWS", "Partial", "partial", "Accumulator", "exact_numerators", "sum_by", "int_sum_by"]

_BUCKET: Final = 16  # exponents per bucket
_LIMB: Final = 23
#: The lowest bucket base is 16 * floor(-1074 / 16) = -1088: every exact sum is an integer over 2**SHIFT.
SHIFT: Final = 1088 + 53
#: float64 bincounts of integers below 2**23 are exact up to 2**30 rows; batches are cut below that.
MAX_PARTIAL_ROWS: Final = 1 << 26
_SUMS: Final = ("points", "a0", "a1", "a2")
#: Compact an accumulator's pending rows beyond this many.
_COMPACT_ROWS: Final = 1 << 21


@dataclass(frozen=True)
class Partial:
    """Exact sums of some points: one row per (group, target, exponent bucket).

    ``groups`` holds the group columns' values (one tuple per group id); ``gid``, ``target``,
    ``bucket`` (the bucket base exponent) and ``sums`` (``points``, ``a0``, ``a1``, ``a2`` as int64
    columns) are aligned arrays.
    """

    groups: list[tuple[Any, ...]]
    gid: np.ndarray
    target: np.ndarray
    bucket: np.ndarray
    sums: np.ndarray  # (rows, 4) int64


def partial(gid: np.ndarray, groups: list[tuple[Any, ...]], target: np.ndarray, weight: np.ndarray, n_targets: int) -> Partial:
    """Counts and exact weight sums per (group, target, exponent bucket) of one batch.

    ``gid`` numbers each point's group (an index into ``groups``); ``target`` is each point's target
    in ``[0, n_targets)``; ``weight`` finite and >= 0.
    """
    n = len(target)
    if n == 0:
        return Partial(groups, *(np.zeros(0, np.int64),) * 3, np.zeros((0, 4), np.int64))
    _, exp = np.frexp(weight)
    bucket = exp >> 4  # floor(e / 16)
    bmin = int(bucket.min())
    nb = int(bucket.max()) - bmin + 1
    u = np.ldexp(weight, (53 - _BUCKET * bucket).astype(np.int32))
    a2 = np.floor(u * 2.0 ** -(2 * _LIMB))
    u -= a2 * 2.0 ** (2 * _LIMB)
    a1 = np.floor(u * 2.0 ** -_LIMB)
    u -= a1 * 2.0 ** _LIMB
    key = gid * (n_targets * nb) + target * nb + (bucket - bmin)
    n_keys = max(len(groups), 1) * n_targets * nb
    if n_keys <= max(1 << 22, 4 * n):
        counts = np.bincount(key, minlength=n_keys)
        uniq = np.flatnonzero(counts)
        cols = [counts[uniq]] + [np.bincount(key, weights=a, minlength=n_keys)[uniq] for a in (u, a1, a2)]
    else:
        codes, uniq = pd.factorize(key, sort=True)
        k = len(uniq)
        cols = [np.bincount(codes, minlength=k)] + [np.bincount(codes, weights=a, minlength=k) for a in (u, a1, a2)]
    sums = np.stack([c.astype(np.int64) for c in cols], axis=1)
    return Partial(groups, uniq // (n_targets * nb), (uniq // nb) % n_targets, (uniq % nb + bmin) * _BUCKET, sums)


class Accumulator:
    """Exact sums of many partials, in any order: a global group table and int64 rows, compacted as they grow."""

    def __init__(self, by: tuple[str, ...], n_targets: int):
        self.by = by
        self.n_targets = n_targets
        self.group_ids: dict[tuple[Any, ...], int] = {}
        self.keys: list[np.ndarray] = []
        self.sums: list[np.ndarray] = []
        self.pending = 0

    def add(self, part: Partial) -> None:
        if len(part.gid) == 0:
            return
        ids = self.group_ids
        mapping = np.array([ids.setdefault(_group_key(g), len(ids)) for g in part.groups], np.int64)
        # Buckets are multiples of 16 in [-1088, 1024]: 134 of them.
        key = (mapping[part.gid] * self.n_targets + part.target) * 256 + (part.bucket // _BUCKET + 128)
        self.keys.append(key)
        self.sums.append(part.sums)
        self.pending += len(key)
        if self.pending > _COMPACT_ROWS and len(self.keys) > 1:
            self._compact()

    def _compact(self) -> None:
        key = np.concatenate(self.keys)
        sums = np.concatenate(self.sums)
        order = np.argsort(key, kind="stable")
        key, sums = key[order], sums[order]
        start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        self.keys = [key[start]]
        self.sums = [np.add.reduceat(sums, start, axis=0)]
        self.pending = len(start)

    def result(self) -> pd.DataFrame:
        """The sums as a frame: the group columns, ``target``, ``bucket``, ``points``, ``a0``, ``a1``, ``a2``; sorted."""
        if self.keys:
            self._compact()
            key, sums = self.keys[0], self.sums[0]
        else:
            key, sums = np.zeros(0, np.int64), np.zeros((0, 4), np.int64)
        groups = list(self.group_ids)
        gid = key // 256 // self.n_targets
        frame = pd.DataFrame({col: pd.Series([g[i] for g in groups], dtype=object).to_numpy()[gid] if groups else np.zeros(0, object)
                              for i, col in enumerate(self.by)})
        frame["target"] = (key // 256) % self.n_targets
        frame["bucket"] = (key % 256 - 128) * _BUCKET
        for j, name in enumerate(_SUMS):
            frame[name] = sums[:, j]
        return frame

    def add_frame(self, frame: pd.DataFrame) -> None:
        """Add a :meth:`result` frame (from another process)."""
        if not len(frame):
            return
        if self.by:
            codes = frame.groupby(list(self.by), dropna=False, sort=False, observed=True).ngroup().to_numpy(np.int64)
            first = np.zeros(int(codes.max()) + 1, np.int64)
            first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
            values = frame[list(self.by)].to_numpy(object)
            groups = [tuple(values[i]) for i in first]
        else:
            codes, groups = np.zeros(len(frame), np.int64), [()]
        self.add(Partial(groups, np.asarray(codes, np.int64), frame["target"].to_numpy(np.int64),
                         frame["bucket"].to_numpy(np.int64), frame[list(_SUMS)].to_numpy(np.int64)))


def _group_key(values: tuple[Any, ...]) -> tuple[Any, ...]:
    # NaN != NaN: one key for every kind of missing value, so missing values form one group.
    return tuple(None if (v is None or v is pd.NA or (isinstance(v, float) and v != v)) else v for v in values)


def exact_numerators(sums: pd.DataFrame) -> np.ndarray:
    """Each row's exact weight sum as a Python integer over ``2**SHIFT`` (a numpy object array)."""
    limbs = [sums[c].to_numpy(np.int64).astype(object) for c in ("a0", "a1", "a2")]
    value = limbs[0] + (limbs[1] << _LIMB) + (limbs[2] << (2 * _LIMB))
    return np.left_shift(value, (sums["bucket"].to_numpy(np.int64) - 53 + SHIFT).astype(object))


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
