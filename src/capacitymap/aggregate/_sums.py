"""Exact weight sums: each float64 weight as two 33-bit integer limbs at a 13-bit-aligned binary exponent.

A weight ``w`` with binary exponent ``e`` (``numpy.frexp``) is, for the bucket base
``b = 13 * floor(e / 13)``, the integer ``u = w * 2**(53 - b)`` (< 2**66, exact: only the exponent
changes), split exactly into ``u = a1 * 2**33 + a0`` with each limb < 2**33. Limbs are summed per
(group, target, bucket) with float64 ``bincount``s, exact up to 2**20 rows (a sum stays below
2**53), then kept as int64. A batch's sums are a :class:`Partial`; partials add up exactly in any
order and any split (:class:`Accumulator`), and :func:`exact_numerators` turns the totals into
Python integers over a power of two for one correctly rounded division at the end. That is why the
engines, batch sizes and thread counts all give bit-identical results.

The per-point work runs in a :class:`Workspace`: buffers reused from batch to batch, because a fresh
multi-megabyte numpy temporary costs its page faults every time (on a 1M-point batch, more than
the arithmetic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

__all__ = ["SHIFT", "MAX_PARTIAL_ROWS", "DENSE_KEYS", "Partial", "partial", "DenseSums", "bucket_range", "split", "Accumulator",
           "Workspace", "exact_numerators", "sum_by", "int_sum_by"]

_BUCKET: Final = 13  # exponents per bucket
_LIMB: Final = 33
#: The lowest bucket base is 13 * floor(-1074 / 13) = -1079: every exact sum is an integer over 2**SHIFT.
SHIFT: Final = 1079 + 53
#: float64 bincounts of integers below 2**33 are exact up to 2**20 rows; batches are cut at that.
MAX_PARTIAL_ROWS: Final = 1 << 20
_SUMS: Final = ("points", "a0", "a1")
#: Compact an accumulator's pending rows beyond this many.
_COMPACT_ROWS: Final = 1 << 18


class Workspace:
    """Named buffers, reused: ``get(name, n, dtype)`` is an ``n``-long view of a buffer kept for the next batch.

    One per thread (the engines keep one in a ``threading.local``); nothing returned to a caller
    may point into it.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def get(self, name: str, n: int, dtype: Any) -> np.ndarray:
        buf = self._buffers.get(name)
        if buf is None or len(buf) < n or buf.dtype != np.dtype(dtype):
            buf = np.empty(max(n, 1), dtype)
            self._buffers[name] = buf
        return buf[:n]

    def zeros(self, name: str, n: int, dtype: Any) -> np.ndarray:
        """Like :meth:`get`, but all zero; the caller leaves it all zero again after use."""
        buf = self._buffers.get(name)
        if buf is None or len(buf) < n or buf.dtype != np.dtype(dtype):
            buf = np.zeros(max(n, 1), dtype)
            self._buffers[name] = buf
        return buf[:n]


@dataclass(frozen=True)
class Partial:
    """Exact sums of some points: one row per (group, target, exponent bucket).

    ``groups`` holds the group columns' values (one tuple per group id); ``gid``, ``target``,
    ``bucket`` (the bucket base exponent) and ``sums`` (``points``, ``a0``, ``a1`` as int64
    columns) are aligned arrays.
    """

    groups: list[tuple[Any, ...]]
    gid: np.ndarray
    target: np.ndarray
    bucket: np.ndarray
    sums: np.ndarray  # (rows, 3) int64


def bucket_range(w_lo: float, w_hi: float, weight: np.ndarray) -> tuple[int, int]:
    """The lowest and highest bucket of weights in ``[w_lo, w_hi]`` (``weight`` is only read if ``w_lo`` is 0).

    The bucket grows with a positive weight, so the extremes give the range. A zero weight adds
    nothing to the sums: it goes to any bucket of the range (its count still counts).
    """
    if w_lo <= 0:
        w_lo = float(np.min(weight, where=weight > 0, initial=math.inf))
    if not math.isfinite(w_lo) or w_hi <= 0:  # every weight is 0
        return 0, 0
    return math.frexp(w_lo)[1] // _BUCKET, math.frexp(w_hi)[1] // _BUCKET


def split(weight: np.ndarray, gid: np.ndarray, target: np.ndarray, n_targets: int, bmin: int, bmax: int,
          ws: Workspace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point: the key ``(gid * n_targets + target) * nb + bucket - bmin`` and the limbs a0, a1 (views into ``ws``).

    ``target`` is overwritten; the buffers ``f``, ``ix``, ``iy`` of the lookup are reused.
    """
    n = len(weight)
    nb = bmax - bmin + 1
    a0, bucket = ws.get("a0", n, np.float64), ws.get("ix", n, np.int32)
    np.frexp(weight, out=(a0, bucket))
    np.floor_divide(bucket, _BUCKET, out=bucket)
    np.clip(bucket, bmin, bmax, out=bucket)  # only a zero weight is outside (see bucket_range)
    shift = ws.get("iy", n, np.int32)
    np.multiply(bucket, -_BUCKET, out=shift)
    shift += 53
    np.ldexp(weight, shift, out=a0)  # u = w * 2**(53 - b): an integer < 2**66
    a1 = ws.get("a1", n, np.float64)
    np.multiply(a0, 2.0 ** -_LIMB, out=a1)
    np.floor(a1, out=a1)
    a0 -= np.multiply(a1, 2.0 ** _LIMB, out=ws.get("f", n, np.float64))  # u - a1 * 2**33
    key = ws.get("key", n, np.int64)
    np.multiply(gid, n_targets * nb, out=key)
    target *= nb
    key += target
    if nb > 1:
        bucket -= bmin
        key += bucket
    return key, a0, a1


def partial(gid: np.ndarray, groups: list[tuple[Any, ...]], target: np.ndarray, weight: np.ndarray, n_targets: int,
            workspace: Workspace | None = None) -> Partial:
    """Counts and exact weight sums per (group, target, exponent bucket) of at most 2**20 points.

    ``gid`` numbers each point's group (an index into ``groups``); ``target`` is each point's target
    in ``[0, n_targets)``; ``weight`` finite and >= 0. ``workspace`` lends the temporary buffers.
    """
    n = len(target)
    if n == 0:
        return Partial(groups, *(np.zeros(0, np.int64),) * 3, np.zeros((0, len(_SUMS)), np.int64))
    if n > MAX_PARTIAL_ROWS:
        raise ValueError(f"partial: expected at most {MAX_PARTIAL_ROWS} points, got {n}; cut the batch")
    ws = workspace if workspace is not None else Workspace()
    bmin, bmax = bucket_range(float(weight.min()), float(weight.max()), weight)
    nb = bmax - bmin + 1
    key, a0, a1 = split(weight, gid, target, n_targets, bmin, bmax, ws)
    n_keys = max(len(groups), 1) * n_targets * nb
    if n_keys <= max(1 << 22, 4 * n):
        counts = np.bincount(key, minlength=n_keys)
        uniq = np.flatnonzero(counts)
        cols = [counts[uniq]] + [np.bincount(key, weights=a, minlength=n_keys)[uniq] for a in (a0, a1)]
    else:
        codes, uniq = pd.factorize(key, sort=True)
        k = len(uniq)
        cols = [np.bincount(codes, minlength=k)] + [np.bincount(codes, weights=a, minlength=k) for a in (a0, a1)]
    return _partial_of(groups, uniq, cols, n_targets, nb, bmin)


def _partial_of(groups: list[tuple[Any, ...]], uniq: np.ndarray, cols: list[np.ndarray], n_targets: int, nb: int, bmin: int) -> Partial:
    sums = np.stack([c.astype(np.int64) for c in cols], axis=1)
    return Partial(groups, uniq // (n_targets * nb), (uniq // nb) % n_targets, (uniq % nb + bmin) * _BUCKET, sums)


class DenseSums:
    """One slice's sums over a dense key space, added chunk by chunk (bincounts into reused, zeroed buffers).

    For slices of at most 2**20 points whose keys (groups x targets x buckets) number at most
    :data:`DENSE_KEYS`; :meth:`partial` returns the sums and leaves the buffers zeroed again.
    """

    def __init__(self, ws: Workspace, n_keys: int):
        self.n_keys = n_keys
        self.counts = ws.zeros("dense_counts", n_keys, np.int64)
        self.s0 = ws.zeros("dense_s0", n_keys, np.float64)
        self.s1 = ws.zeros("dense_s1", n_keys, np.float64)

    def add(self, key: np.ndarray, a0: np.ndarray, a1: np.ndarray) -> None:
        # bincount, not np.add.at: measured, add.at holds the GIL (two threads ran slower than one).
        n = self.n_keys
        self.counts += np.bincount(key, minlength=n)
        self.s0 += np.bincount(key, weights=a0, minlength=n)
        self.s1 += np.bincount(key, weights=a1, minlength=n)

    def partial(self, groups: list[tuple[Any, ...]], n_targets: int, nb: int, bmin: int) -> Partial:
        uniq = np.flatnonzero(self.counts)
        cols = [self.counts[uniq], self.s0[uniq], self.s1[uniq]]
        for buf in (self.counts, self.s0, self.s1):
            buf[uniq] = 0
        return _partial_of(groups, uniq, cols, n_targets, nb, bmin)


#: The most keys a :class:`DenseSums` holds (three buffers of 8 bytes a key).
DENSE_KEYS: Final = 1 << 21


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
        # Buckets are multiples of 13 in [-1079, 1014]: 162 of them.
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
        """The sums as a frame: the group columns, ``target``, ``bucket``, ``points``, ``a0``, ``a1``; sorted."""
        if self.keys:
            self._compact()
            key, sums = self.keys[0], self.sums[0]
        else:
            key, sums = np.zeros(0, np.int64), np.zeros((0, len(_SUMS)), np.int64)
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


def exact_numerators(sums: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Each row's exact weight sum as a Python integer over ``2**shift`` (a numpy object array), and ``shift``.

    ``shift`` is as small as the rows allow (at most :data:`SHIFT`): the integers stay a few
    hundred bits long, so the divisions that follow are quick; the values do not depend on it.
    """
    bucket = sums["bucket"].to_numpy(np.int64)
    low = min(int(bucket.min()), 53) if len(bucket) else 53
    limbs = [sums[c].to_numpy(np.int64).astype(object) for c in ("a0", "a1")]
    value = limbs[0] + (limbs[1] << _LIMB)
    return np.left_shift(value, (bucket - low).astype(object)), 53 - low


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
