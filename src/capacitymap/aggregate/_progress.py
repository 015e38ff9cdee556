"""A minimal progress line on stderr: no third-party package, so ``aggregate`` never needs the ``scale`` extra."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress", "progress_line"]

#: Called with the number of points just done.
Progress = Callable[[int], None]


class progress_line:  # noqa: N801 - used as a context manager, like open()
    r"""``with progress_line(quiet, total) as update: update(n)``: a progress line on stderr unless quiet.

    On a terminal the line is rewritten in place (``\\r``) at most every ``interval`` seconds; in a log
    (not a terminal) a line is written at most every ``log_interval`` seconds. A last line says what
    was done. Writing never raises: a closed or broken stream only stops the progress line.
    """

    def __init__(self, quiet: bool, total: int | None, *, stream: TextIO | None = None,
                 interval: float = 0.2, log_interval: float = 10.0):
        self.quiet, self.total = quiet, total
        self.stream = stream
        self.done = 0
        self.start = 0.0
        self.last = 0.0
        self.tty = False
        self.interval, self.log_interval = interval, log_interval

    def __enter__(self) -> Progress:
        if self.quiet:
            return _nothing
        if self.stream is None:
            self.stream = sys.stderr
        try:
            self.tty = bool(self.stream.isatty())
        except (AttributeError, ValueError, OSError):
            self.tty = False
        self.start = self.last = time.monotonic()
        return self.update

    def update(self, n: int) -> None:
        self.done += int(n)
        now = time.monotonic()
        if now - self.last >= (self.interval if self.tty else self.log_interval):
            self.last = now
            self._write(self._text(now), final=False)

    def __exit__(self, *exc: object) -> None:
        if not self.quiet:
            self._write(self._text(time.monotonic()), final=True)

    def _text(self, now: float) -> str:
        seconds = max(now - self.start, 1e-9)
        of = f"/{_si(self.total)}" if self.total else ""
        pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        return f"aggregate: {_si(self.done)}{of} points{pct}, {_si(self.done / seconds)} points/s"

    def _write(self, text: str, *, final: bool) -> None:
        try:
            if self.tty:
                self.stream.write("\r" + text + ("\n" if final else ""))  # type: ignore[union-attr]
            else:
                self.stream.write(text + "\n")  # type: ignore[union-attr]
            self.stream.flush()  # type: ignore[union-attr]
        except (OSError, ValueError, AttributeError):
            self.quiet = True


def _nothing(n: int) -> None:
    return None


def _si(value: float | None) -> str:
    value = float(value or 0)
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f}{unit}"
    return f"{value:.0f}"
