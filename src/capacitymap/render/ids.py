"""Deterministic element ids: branca's ``Element._generate_id`` draws from ``urandom``.

Inside :func:`deterministic_ids` every new element in *this thread* gets the next id of a counter
(``f"{prefix}{n:06d}"``); other threads keep branca's random ids. The patch is installed while at
least one block is active (reference counted under a lock) and branca's method is restored after.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from branca.element import Element

__all__ = ["deterministic_ids"]

_lock = threading.Lock()
_local = threading.local()
_active = 0
_original = Element.__dict__["_generate_id"]


def _counter_id(cls: type) -> str:
    stack = getattr(_local, "stack", None)
    if not stack:
        return _original.__func__(cls)
    state = stack[-1]
    state[1] += 1
    return f"{state[0]}{state[1]:06d}"


@contextmanager
def deterministic_ids(prefix: str = "cm", start: int = 0) -> Iterator[list]:
    """Number every branca element created in this block ``prefix000001``, ``prefix000002``, ...

    Yields the mutable ``[prefix, last_number]`` state, so a later block can continue a sequence.
    """
    global _active
    with _lock:
        if _active == 0:
            Element._generate_id = classmethod(_counter_id)  # type: ignore[method-assign]
        _active += 1
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    state = [prefix, start]
    stack.append(state)
    try:
        yield state
    finally:
        stack.pop()
        with _lock:
            _active -= 1
            if _active == 0:
                Element._generate_id = _original  # type: ignore[method-assign]
