"""Writers: atomic, careful about what they replace, and safe for the spreadsheets that open what they write.

A failed or killed run never leaves a half-written file where the last good one stood.

Where the system allows it (Linux ``O_TMPFILE``) the data is written to a file with no name at all and only
linked into place once complete: a run killed with ``kill -9`` leaves nothing behind. Elsewhere the temporary
file is named ``.NAME.capacitymap-PID-XXXX.tmp`` beside the output; a run interrupted by SIGTERM or Ctrl-C
removes its own, and every later write in that folder sweeps the ones left by processes that no longer run.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from capacitymap.errors import OutputError

__all__ = [
    "write_bytes_atomic",
    "write_text_atomic",
    "open_atomic",
    "sweep_stale_temporaries",
    "check_output",
    "neutralize_formulas",
    "frame_to_csv",
    "TEMPORARY_PATTERN",
    "OutputLedger",
]

#: The name of a temporary file while it is being written (fallback mode): hidden, recognisable, owned by a pid.
TEMPORARY_PATTERN = re.compile(r"^\.(?P<name>.+)\.capacitymap-(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (complete or not at all), with mode 0644."""
    with open_atomic(path) as fh:
        fh.write(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    r"""Write ``text`` as UTF-8 (``\n`` line ends kept as given) atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


@contextlib.contextmanager
def open_atomic(path: str | os.PathLike[str], *, unnamed: bool = True) -> Iterator[BinaryIO]:
    """A binary file handle whose contents replace ``path`` only when the ``with`` block ends without an error.

    ``unnamed=False`` skips the nameless ``O_TMPFILE`` file and uses a named temporary file (what systems
    without ``O_TMPFILE`` get).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temporaries(target.parent)
    fd = _open_unnamed(target.parent) if unnamed else None
    if fd is not None:
        with os.fdopen(fd, "w+b") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), 0o644)
            if _link_into_place(fh.fileno(), target):
                return
            fh.seek(0)  # this system cannot give the nameless file a name: copy it through a named one
            with open_atomic(target, unnamed=False) as named:
                while chunk := fh.read(1 << 20):
                    named.write(chunk)
        return
    tmp = _temporary_name(target)
    try:
        with open(tmp, "xb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _temporary_name(target: Path) -> Path:
    return target.parent / f".{target.name}.capacitymap-{os.getpid()}-{secrets.token_hex(4)}.tmp"


_UNNAMED_WORKS = [getattr(os, "O_TMPFILE", None) is not None]


def _open_unnamed(folder: Path) -> int | None:
    if not _UNNAMED_WORKS[0]:
        return None
    try:
        return os.open(folder, os.O_TMPFILE | os.O_RDWR, 0o600)
    except OSError as exc:  # the file system does not support it (EOPNOTSUPP, EISDIR on old kernels, ...)
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
            return None
        raise


def _link_into_place(fd: int, target: Path) -> bool:
    """Give the nameless file a (temporary, recognisable) name, then rename it over the target.

    False if this system allows neither way of naming it (it is then never tried again in this process).
    """
    tmp = _temporary_name(target)
    try:
        if not _linkat_empty_path(fd, tmp):
            os.link(f"/proc/self/fd/{fd}", tmp, follow_symlinks=True)
    except OSError:
        _UNNAMED_WORKS[0] = False
        return False
    try:
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def _linkat_empty_path(fd: int, name: Path) -> bool:
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        linkat = libc.linkat
    except (OSError, AttributeError):
        return False
    at_fdcwd, at_empty_path = -100, 0x1000
    return linkat(fd, b"", at_fdcwd, os.fsencode(name), at_empty_path) == 0


def sweep_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files that runs no longer alive left in ``folder``; return what was removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = TEMPORARY_PATTERN.match(entry.name)
        if m is None or not entry.is_file(follow_symlinks=False) or _alive(int(m.group("pid"))):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


# --- what may be written where -------------------------------------------------------------------


def check_output(
    out: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = False,
    option: str = "-o",
) -> Path:
    """Refuse an output that is one of the inputs, a folder, or (without ``overwrite``) an existing file."""
    target = Path(out)
    for given in inputs:
        if _same_file(target, Path(given)):
            raise OutputError(
                f"{option} {str(target)!r} is also an input file; writing it would destroy the input. "
                "Write the output to another file name"
            )
    if target.is_dir():
        raise OutputError(f"{option} {str(target)!r} is a folder; give a file name such as {str(target / 'map.html')!r}")
    if target.exists() or target.is_symlink():
        if not overwrite:
            raise OutputError(f"{option} {str(target)!r} exists; pass --overwrite to replace it, or choose another file name")
        if not target.is_file():
            raise OutputError(f"{option} {str(target)!r} exists and is not an ordinary file; choose another file name")
    return target


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


# --- CSV that spreadsheets open safely --------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where text cells a spreadsheet would run as a formula start with a quote instead.

    Cells starting ``=``, ``+``, ``-``, ``@``, tab or carriage return (OWASP's CSV-injection advice). Numeric
    columns are left as they are: a negative number stays a number.
    """
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        out[col] = series.map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return out


def frame_to_csv(frame: pd.DataFrame) -> str:
    r"""``frame`` as CSV text (``\n`` line ends, no index), formula-leading text neutralised."""
    return neutralize_formulas(frame).to_csv(index=False, lineterminator="\n")


# --- a folder a command owns ----------------------------------------------------------------------


class OutputLedger:
    """The files a command wrote into a folder, with their SHA-256, kept in a hidden JSON file there.

    ``capacitymap demo`` uses it to rewrite its own earlier output on a second run while refusing to replace a
    file someone else put there, or one edited since demo wrote it (unless ``--overwrite``).
    """

    def __init__(self, folder: str | os.PathLike[str], name: str):
        self.folder = Path(folder)
        self.path = self.folder / name
        self.files: dict[str, str] = {}
        try:
            import json

            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict) and isinstance(loaded.get("files"), dict):
                self.files = {str(k): str(v) for k, v in loaded["files"].items()}
        except (OSError, ValueError):
            self.files = {}

    def check(self, names: Iterable[str], *, overwrite: bool) -> None:
        """Refuse (one error naming them all) existing files that this ledger did not write as they are now."""
        foreign = []
        for name in names:
            target = self.folder / name
            if target.is_dir():
                raise OutputError(f"{str(target)!r} is a folder; move it away or write the maps to another folder with --out")
            if target.exists() and not overwrite and self.files.get(name) != _sha256(target):
                foreign.append(str(target))
        if foreign:
            raise OutputError(
                f"{', '.join(repr(f) for f in foreign)} exist(s) and {'were' if len(foreign) > 1 else 'was'} not written by "
                "this command (or changed since); pass --overwrite to replace, or write to another folder with --out"
            )

    def write(self, name: str, data: bytes) -> Path:
        """Write one file atomically and record it."""
        import hashlib

        target = write_bytes_atomic(self.folder / name, data)
        self.files[name] = hashlib.sha256(data).hexdigest()
        import json

        write_text_atomic(self.path, json.dumps({"files": dict(sorted(self.files.items()))}, indent=1) + "\n")
        return target


def _sha256(path: Path) -> str | None:
    import hashlib

    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()
