"""The ``capacitymap`` command: parse arguments → one library call → print.

Exit codes: 0 ok, 1 data errors (every problem printed as ``FILE:LINE:COLUMN: message``), 2 usage errors.
This is the only module that knows click, exit codes and printed text.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import math
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from capacitymap import vocab
from capacitymap.errors import CapacityMapError, DataError, OutputError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

#: Problems printed one by one; past these, one summary line per kind of problem.
MAX_PROBLEMS_SHOWN = 50
#: A page larger than this is refused (browsers struggle well before 100 MB); CAPACITYMAP_MAX_PAGE_MB raises it.
MAX_PAGE_MB = 20.0


def _fail_on_library_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a CapacityMapError into its printed problems and exit code 1.

    An output the command line asked for that cannot be written as asked exits 2.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        previous = _exit_cleanly_on_sigterm()
        try:
            return func(*args, **kwargs)
        except DataError as exc:
            _print_problems(exc.problems)
            click.echo(f"{len(exc.problems):,} problem(s); nothing was written.", err=True)
            sys.exit(1)
        except OutputError as exc:
            click.echo(_clean(f"error: {exc}"), err=True)
            sys.exit(2)
        except CapacityMapError as exc:
            click.echo(_clean(f"error: {exc}"), err=True)
            sys.exit(1)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    return wrapper


def _exit_cleanly_on_sigterm() -> Any:
    """SIGTERM unwinds like Ctrl-C (temporary files removed, nothing half-written) and exits 143.

    Returns the handler it replaced (None when it could not be installed, e.g. off the main thread).
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        return signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):
        return None


def _on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


# --- printing -------------------------------------------------------------------------------------

_CONTROL = {chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]} - {"\n"}
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def _clean(text: str) -> str:
    """Text safe for a terminal.

    Control characters (escape sequences, carriage returns, bidi overrides from names in the data) are shown
    as U+FFFD instead of acting on the terminal; line breaks are kept, tabs become spaces.
    """
    if not any(ch in _CONTROL or ch in _BIDI for ch in text):
        return text
    return "".join(" " if ch == "\t" else "\ufffd" if ch in _CONTROL or ch in _BIDI else ch for ch in text)


def _problem_kind(problem: Any) -> tuple[str, str, str]:
    """Problems of one kind: same file, column and message once quoted values and numbers are set aside."""
    message = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "'…'", problem.message)
    message = re.sub(r"\d+(?:[.,]\d+)*", "#", message)
    return (problem.file, problem.column or "", message)


def _problem_lines(problems: list[Any], *, limit: int = MAX_PROBLEMS_SHOWN) -> list[str]:
    """The first ``limit`` problems one per line, then one line per kind of problem for the rest."""
    lines = [str(p) for p in problems[:limit]]
    rest = problems[limit:]
    if not rest:
        return lines
    kinds: dict[tuple[str, str, str], list[Any]] = {}
    for p in rest:
        kinds.setdefault(_problem_kind(p), []).append(p)
    lines.append(f"... and {len(rest):,} more problem(s) of {len(kinds)} kind(s), one line each:")
    for same in kinds.values():
        first = same[0]
        numbers = [p.line for p in same if p.line is not None]
        where = f" (lines {min(numbers):,}-{max(numbers):,})" if len(numbers) > 1 else ""
        lines.append(f"  {len(same):,} like {first}{where}")
    return lines


def _print_problems(problems: list[Any], *, err: bool = True) -> None:
    for line in _problem_lines(list(problems)):
        click.echo(_clean(line), err=err)


@contextlib.contextmanager
def _progress(label: str) -> Iterator[None]:
    """Say on stderr what a long step is doing.

    On a terminal once it takes a moment, elsewhere once it has taken a few seconds
    (CAPACITYMAP_PROGRESS_AFTER seconds, default 3), then every 10 seconds.
    """
    tty = sys.stderr.isatty()
    try:
        after = float(os.environ.get("CAPACITYMAP_PROGRESS_AFTER", "1" if tty else "3"))
    except ValueError:
        after = 3.0
    every = 1.0 if tty else 10.0
    done = threading.Event()
    start = time.monotonic()
    shown = [False]

    def tick() -> None:
        wait = after
        while not done.wait(wait):
            elapsed = time.monotonic() - start
            text = f"{label}... {elapsed:,.0f} s"
            click.echo(("\r" + text) if tty else text, err=True, nl=not tty)
            shown[0] = True
            wait = every

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if shown[0]:
            click.echo(f"{chr(13) if tty else ''}{label}: done in {time.monotonic() - start:,.1f} s", err=True)


def _files_argument(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))(func)


def _kind_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--kind", type=click.Choice(vocab.KINDS), default=None,
                        help="Read every file as this kind instead of detecting it from the columns.")(func)


def _invalid_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--skip-invalid", is_flag=True, help="Leave out invalid rows (listed and counted) instead of stopping.")(func)
    func = click.option("--strict", is_flag=True, help="A facility whose coordinates and region disagree is an error.")(func)
    return func


def _check_min_mw(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and (not math.isfinite(value) or value < 0):
        raise click.BadParameter(f"expected a number of megawatts, zero or more, such as 10, got {value!r}")
    return value


def _check_date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A date as YYYY, YYYY-MM or YYYY-MM-DD that exists and is not in the future; returned in ISO form."""
    if value is None:
        return None
    from capacitymap.records.cells import CellError, parse_date

    try:
        return parse_date(value, today=dt.date.today(), what="a date")
    except CellError as exc:
        raise click.BadParameter(f"{exc}; for example 2024-06") from None


def _filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed([
        click.option("--operator", "operators", multiple=True, help="Keep this operator (repeatable; case-insensitive, part of the name is enough)."),
        click.option("--region", "regions", multiple=True, help="Keep this state/province (repeatable; code or name)."),
        click.option("--status", "statuses", multiple=True, type=click.Choice(vocab.STATUSES),
                     help="Count this status (repeatable; default: operational). Several are added up, and labelled so."),
        click.option("--min-mw", type=float, default=None, callback=_check_min_mw, help="Keep sites of at least this many MW."),
        click.option("--as-of", default=None, metavar="DATE", callback=_check_date, help="Show the state at this date (YYYY, YYYY-MM or YYYY-MM-DD)."),
    ]):
        func = decorator(func)
    return func


def _filters_given(filters: dict[str, Any]) -> list[str]:
    """The facility filter options the user gave, as written on the command line."""
    names = {"operators": "--operator", "regions": "--region", "statuses": "--status", "min_mw": "--min-mw", "as_of": "--as-of"}
    return [names[k] for k, v in filters.items() if k in names and v not in (None, (), "")]


def _check_options_apply(files: tuple[Path, ...], kind: str | None, *, hashrate_options: list[str], facility_options: list[str]) -> None:
    """Refuse options that have nothing to act on.

    Hashrate options without a hashrate file, facility options (filters) without a facility file. Judged
    from each file's header; unreadable files are left to the real read.
    """
    from capacitymap.records import kinds_of

    kinds = set(kinds_of(files, kind=kind).values())  # type: ignore[arg-type]
    if None in kinds:
        return
    if hashrate_options and "hashrate" not in kinds:
        raise click.UsageError(
            f"{', '.join(hashrate_options)} apply to hashrate files, and the input has only facility files; "
            "leave the option out, or add a pool or CCAF hashrate file"
        )
    if facility_options and "facilities" not in kinds:
        raise click.UsageError(
            f"{', '.join(facility_options)} apply to facility files, and the input has only hashrate files; "
            "leave the option out, or add a facility file"
        )


def _filters(operators: tuple[str, ...], regions: tuple[str, ...], statuses: tuple[str, ...], min_mw: float | None, as_of: str | None):  # noqa: ANN202
    from capacitymap.filters import Filters

    return Filters(operators=operators, regions=regions, statuses=statuses, min_mw=min_mw, as_of=as_of)


def _date_range(ctx: click.Context, param: click.Parameter, text: str | None) -> tuple[str, str] | None:
    """``FROM:TO`` dates (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-Qn) for ``--change``."""
    if text is None:
        return None
    parts = text.split(":")
    ok = len(parts) == 2
    for part in parts if ok else ():
        m = re.fullmatch(r"(\d{4})(?:-Q([1-4])|-(\d{2})(?:-(\d{2}))?)?", part)
        try:
            ok = ok and m is not None and bool(dt.date(int(m.group(1)), int(m.group(3) or 1), int(m.group(4) or 1)))
        except ValueError:
            ok = False
    if not ok:
        raise click.BadParameter(f"expected two dates FROM:TO such as 2023-12:2025-03, got {text!r}")
    return parts[0], parts[1]


def _csv(frame: Any) -> str:
    """CSV for stdout: formula-leading text neutralised; control characters shown harmlessly on a terminal."""
    from capacitymap.io import frame_to_csv

    text = frame_to_csv(frame)
    return _clean(text) if sys.stdout.isatty() else text


def _csv_file(frame: Any) -> str:
    from capacitymap.io import frame_to_csv

    return frame_to_csv(frame)


def _format_table(frame: Any) -> str:
    shown = frame.copy()
    for col in ("share", "share_of_country"):
        if col in shown:
            shown[col] = (shown[col].astype(float) * 100).map(lambda v: "" if v != v else f"{v:.2f}%")
    return _clean(shown.to_string(index=False, na_rep=""))


def _format_reconciliation(rec: Any) -> str:
    lines = [f"read {rec.rows_read} row(s), {rec.mw_read:,.1f} MW; mapped {rec.rows_mapped} row(s), {rec.mw_mapped:,.1f} MW"]
    for r in rec.filtered.itertuples(index=False):
        lines.append(f"  filtered ({r.filter}): {r.rows} row(s), {r.capacity_mw:,.1f} MW")
    rejected = list(rec.rejected.itertuples(index=False))
    for r in rejected[:MAX_PROBLEMS_SHOWN]:
        lines.append(f"  rejected {r.source_file}:{r.line}: {r.reason}")
    if len(rejected) > MAX_PROBLEMS_SHOWN:
        lines.append(f"  ... {len(rejected) - MAX_PROBLEMS_SHOWN:,} more rejected row(s) not listed (validate prints them by kind)")
    if len(rec.rejected):
        lines.append(f"  rejected in all: {len(rec.rejected)} row(s), {rec.rejected['capacity_mw'].fillna(0).sum():,.1f} MW")
    return _clean("\n".join(lines))


def _vpn_corrections(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[Any, ...]:
    """``POOL:REGION[:VARIANT]`` texts as VpnCorrection values.

    The pool name may itself contain ``:``: the region is the last part before an optional variant.
    """
    if not values:
        return ()
    from capacitymap.method import VpnCorrection

    out = []
    for text in values:
        parts = text.strip().split(":")
        variant = parts.pop() if len(parts) >= 3 and parts[-1] in vocab.VPN_VARIANTS else "proportional"
        if len(parts) < 2 or not parts[-1]:
            raise click.BadParameter(f"expected POOL:REGION[:VARIANT], got {text!r}; write e.g. BTC.com:CN-ZJ or BTC.com:CN-ZJ:neighbours")
        try:
            out.append(VpnCorrection(pool=":".join(parts[:-1]), region=parts[-1], variant=variant))  # type: ignore[arg-type]
        except CapacityMapError as exc:
            raise click.BadParameter(str(exc)) from None
    return tuple(out)


def _month_range(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``YYYY-MM:YYYY-MM`` (or ``YYYY-Qn:YYYY-Qn``) as a MonthRange."""
    if value is None:
        return None
    from capacitymap.method import MonthRange

    parts = value.split(":")
    if len(parts) != 2:
        raise click.BadParameter(f"expected a range YYYY-MM:YYYY-MM such as 2020-01:2020-03, got {value!r}")
    try:
        return MonthRange(parts[0].strip(), parts[1].strip())
    except CapacityMapError as exc:
        raise click.BadParameter(str(exc)) from None


def _hashrate_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed([
        click.option("--network-hashrate", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                     help="Monthly network hashrate CSV (month, hashrate_ehs): turns shares into EH/s."),
        click.option("--vpn-correct", multiple=True, metavar="POOL:REGION[:VARIANT]", callback=_vpn_corrections,
                     help="Spread a region's hashrate in one pool over the others (VARIANT proportional or neighbours)."),
        click.option("--month", default=None, metavar="YYYY-MM", help="One month (on a capacity map: the state at that month)."),
        click.option("--months", default=None, metavar="YYYY-MM:YYYY-MM", callback=_month_range, help="A range of months."),
        click.option("--average", type=click.Choice(vocab.AVERAGES), default=None, help="Average the range (weighted by network hashrate when given)."),
        click.option("--pool-weighting", type=click.Choice(vocab.POOL_WEIGHTINGS), default="hashrate", show_default=True,
                     help="Weight pools by their hashrate (CCAF; needs hashrate_ehs on country rows) or equally (recorded as an assumption)."),
    ]):
        func = decorator(func)
    return func


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="capacitymap")
def main() -> None:
    """Maps of bitcoin mining power capacity and pool hashrate by state, province and country."""


@main.command()
@_files_argument
@_kind_option
@_invalid_options
@_fail_on_library_errors
def validate(files: tuple[Path, ...], kind: str | None, strict: bool, skip_invalid: bool) -> None:
    """Check FILES and print every problem as FILE:LINE:COLUMN: message. Writes nothing."""
    from capacitymap import api

    with _progress(f"checking {len(files)} file(s)"):
        report = api.validate(files, kind=kind, strict=strict)  # type: ignore[arg-type]
    _print_problems(report.warnings, err=False)
    _print_problems(report.notes, err=False)
    if report.problems:
        _print_problems(report.problems, err=False)
        click.echo(f"{len(report.problems)} problem(s) in {len(files)} file(s).")
        sys.exit(1)
    click.echo(f"OK: {report.rows} row(s) in {len(files)} file(s), no problems.")


@main.command()
@_files_argument
@click.option("--by", type=click.Choice(vocab.BY), default="region", show_default=True)
@click.option("--format", "fmt", type=click.Choice(vocab.TABLE_FORMATS), default="table", show_default=True)
@click.option("--change", "change", default=None, metavar="FROM:TO", callback=_date_range,
              help="The change in counted capacity between two dates (e.g. 2023-12:2025-03) instead of the totals.")
@_filter_options
@_invalid_options
@_fail_on_library_errors
def summary(files: tuple[Path, ...], by: str, fmt: str, change: tuple[str, str] | None, strict: bool, skip_invalid: bool, **filters: Any) -> None:
    """Total MW of facility FILES by region, operator or country, with the reconciliation.

    Counts operational capacity unless --status says otherwise; the other statuses get their own columns.
    """
    from capacitymap import api

    if change is not None and filters.get("as_of"):
        raise click.UsageError("--change FROM:TO gives its own dates: leave out --as-of")
    with _progress(f"reading and mapping {len(files)} file(s)"):
        result = api.summarize_facilities(files, by=by, change=change, filters=_filters(**filters),  # type: ignore[arg-type]
                                          strict=strict, skip_invalid=skip_invalid)
    _print_problems(result.mapped.warnings)
    counted = result.mapped.status_label
    if fmt == "json":
        head: dict[str, Any] = {"by": by, "statuses": list(result.mapped.statuses)}
        if result.change is not None:
            head["change"] = {"from": result.change.start, "to": result.change.end}
        click.echo(json.dumps({**head, "rows": json.loads(result.table.to_json(orient="records")),
                               "reconciliation": result.mapped.reconciliation.to_dict()}, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(_csv(result.table), nl=False)
    else:
        if result.change is not None:
            click.echo(f"Change in {counted} capacity (MW) from {result.change.start} to {result.change.end}:")
        else:
            click.echo(f"Counted: {counted} capacity (MW); other statuses in their own columns, not in the total.")
        click.echo(_format_table(result.table))
        click.echo(_format_reconciliation(result.mapped.reconciliation))


@main.command()
@click.option("--country", default=None, help="Only this country (ISO alpha-2 or name).")
@_fail_on_library_errors
def regions(country: str | None) -> None:
    """List canonical admin-1 region codes and names."""
    from capacitymap import api

    click.echo(_format_table(api.list_regions(country)))


def _write(path: Path, data: str | bytes) -> None:
    from capacitymap.io import write_bytes_atomic, write_text_atomic

    with _progress(f"writing {path}"):
        if isinstance(data, str):
            write_text_atomic(path, data)
        else:
            write_bytes_atomic(path, data)


def _overwrite_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--overwrite", is_flag=True, help="Replace the output file if it exists (never an input).")(func)


def _check_out(out: Path, inputs: tuple[Path, ...] = (), *, overwrite: bool) -> Path:
    """Before any work: the output is not an input, not a folder, and not an existing file unless --overwrite."""
    from capacitymap.io import check_output

    try:
        return check_output(out, inputs=inputs, overwrite=overwrite)
    except OutputError as exc:
        raise click.UsageError(str(exc)) from None


#: What an output's suffix says it is.
OUTPUT_SUFFIXES = {".html": "html", ".htm": "html", ".png": "png", ".svg": "svg"}


def _output_format(out: Path, fmt: str | None) -> str:
    """The format an output is written in: its suffix decides; --format, if given, must agree."""
    suffix = out.suffix.lower()
    by_name = OUTPUT_SUFFIXES.get(suffix)
    if by_name is None:
        example = out.with_suffix(f".{fmt}" if fmt else ".html").name
        raise click.UsageError(
            f"expected -o to end in .html, .png or .svg (the suffix picks the format), got {out.name!r}; "
            f"write e.g. -o {example}"
        )
    if fmt is not None and fmt != by_name:
        raise click.UsageError(
            f"--format {fmt} contradicts -o {out.name!r}, which names a {by_name.upper()} file; "
            f"write -o {out.with_suffix('.' + fmt).name}, or leave --format out"
        )
    return by_name


def _check_page_size(page: str, out: Path) -> None:
    """Refuse a page too large for a browser to open comfortably, with what to do instead."""
    try:
        budget = float(os.environ.get("CAPACITYMAP_MAX_PAGE_MB", MAX_PAGE_MB))
    except ValueError:
        budget = MAX_PAGE_MB
    size = len(page.encode("utf-8"))
    if size > budget * 1_000_000:
        raise click.ClickException(
            f"the page for {out.name} would be {size / 1e6:,.1f} MB, over the {budget:g} MB a browser opens "
            "comfortably; nothing was written. Map fewer sites (--min-mw 10, --status operational, --region TX), "
            "a smaller area (--preset us, or WEST,SOUTH,EAST,NORTH), or render a still, which has no size limit "
            f"(-o {out.with_suffix('.png').name}); for regional totals alone, capacitymap summary --by region. "
            "To write the page anyway, set CAPACITYMAP_MAX_PAGE_MB"
        )


def _spec_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed([
        click.option("--title", default="", help="Map title (default: what the map shows)."),
        click.option("--subtitle", default=""),
        click.option("--credit", default="", help="Source/credit line."),
        click.option("--metric", type=click.Choice(vocab.METRICS), default=None,
                     help="What the choropleth shows (default: capacity_mw for facilities, share for hashrate)."),
        click.option("--scheme", type=click.Choice(vocab.SCHEMES), default="quantiles", show_default=True),
        click.option("--classes", "k", type=click.IntRange(2, 9), default=5, show_default=True),
        click.option("--bins", default=None, metavar="B1,B2,...", help="Upper class bounds, with --scheme user_bins."),
        click.option("--marker-colour", type=click.Choice(vocab.MARKER_COLOURS), default="operator", show_default=True),
    ]):
        func = decorator(func)
    return func


def _boundary_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--boundaries", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                        help="Your own admin-1 layer (anything GDAL reads) instead of the shipped one.")(func)
    func = click.option("--code-column", default="iso_3166_2", show_default=True, help="With --boundaries: the region code column.")(func)
    func = click.option("--name-column", default="name", show_default=True, help="With --boundaries: the region name column.")(func)
    return func


def _boundaries(boundaries: Path | None, code_column: str, name_column: str) -> Any:
    from capacitymap import api

    if boundaries is None:
        return api.Boundaries.shipped()
    return api.Boundaries.from_file(boundaries, code_column=code_column, name_column=name_column)


def _bins(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        bins = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {text!r}", param_hint="--bins") from None
    if not all(math.isfinite(b) for b in bins) or any(b >= c for b, c in zip(bins, bins[1:])):
        raise click.BadParameter(f"expected finite class bounds in increasing order such as 10,50,100, got {text!r}", param_hint="--bins")
    return bins


def _preset(text: str) -> Any:
    from capacitymap.render import BBox
    if text in vocab.PRESET_NAMES:
        return text
    parts = text.split(",")
    if len(parts) == 4:
        try:
            return BBox(*(float(p) for p in parts))
        except ValueError:
            pass
    raise click.BadParameter(f"expected one of {', '.join(vocab.PRESET_NAMES)} or a bounding box WEST,SOUTH,EAST,NORTH, got {text!r}", param_hint="--preset")


@main.command()
@_files_argument
@click.option("--preset", required=True, metavar="NAME|W,S,E,N", help=f"{', '.join(vocab.PRESET_NAMES)}, or a bounding box.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file: .html, .png or .svg (the suffix picks the format).")
@click.option("--format", "fmt", type=click.Choice(vocab.MAP_FORMATS), default=None, help="The output format; must agree with -o's suffix.")
@_overwrite_option
@click.option("--cdn", is_flag=True, help="Link Leaflet from a CDN (a smaller page that needs the network); default: self-contained.")
@click.option("--self-contained", is_flag=True, hidden=True, help="The default (kept for old scripts).")
@click.option("--tiles", default=None, metavar="carto-light|osm|URL", help="A tile background (with --cdn only); default: none.")
@click.option("--alt-text", is_flag=True, help="Also print the map's alt-text description.")
@click.option("--by-month", is_flag=True, help="Capacity maps: a slider of capacity at every month from the first to the last dated figure.")
@click.option("--by-quarter", is_flag=True, help="Capacity maps: the same slider by quarter.")
@click.option("--change", "change", default=None, metavar="FROM:TO", callback=_date_range,
              help="Capacity maps: the change in counted capacity per region between two dates (e.g. 2023-12:2025-03).")
@click.option("--width", "width_px", type=click.IntRange(200, 8000), default=1200, show_default=True, help="Still width in pixels.")
@click.option("--height", "height_px", type=click.IntRange(200, 8000), default=800, show_default=True, help="Still height in pixels.")
@click.option("--dpi", type=click.IntRange(50, 600), default=150, show_default=True)
@_spec_options
@_hashrate_options
@_filter_options
@_invalid_options
@_boundary_options
@_kind_option
@_fail_on_library_errors
def render(files: tuple[Path, ...], preset: str, out: Path, fmt: str, cdn: bool, self_contained: bool, tiles: str | None,
           alt_text: bool, by_month: bool, by_quarter: bool, change: tuple[str, str] | None,
           width_px: int, height_px: int, dpi: int, title: str, subtitle: str, credit: str, metric: str | None,
           scheme: str, k: int, bins: str | None, marker_colour: str, network_hashrate: Path | None,
           vpn_correct: tuple[Any, ...], month: str | None, months: Any, average: str | None,
           pool_weighting: str, strict: bool, skip_invalid: bool, boundaries: Path | None, code_column: str, name_column: str,
           kind: str | None, overwrite: bool, **filters: Any) -> None:
    """Render a map of FILES (facilities and/or hashrate records) for a preset.

    A capacity map counts operational capacity unless --status says otherwise; under-construction and planned
    sites are shown apart (the pipeline). --month on a capacity map draws that date.
    """
    from capacitymap import api
    from capacitymap.render import MapSpec

    _check_out(out, files, overwrite=True)  # an input named as the output is the first thing to say
    fmt = _output_format(out, fmt)
    _check_out(out, files, overwrite=overwrite)
    if cdn and self_contained:
        raise click.UsageError("--cdn and --self-contained contradict each other; give one (self-contained is the default)")
    if tiles and not cdn:
        raise click.UsageError("--tiles needs --cdn: tiles are fetched from a server, so the page cannot be self-contained")
    hashrate_given = [name for name, given in (("--network-hashrate", network_hashrate), ("--vpn-correct", vpn_correct),
                      ("--average", average), ("--pool-weighting", pool_weighting != "hashrate")) if given]
    over_time = [name for name, given in (("--by-month", by_month), ("--by-quarter", by_quarter), ("--change", change)) if given]
    _check_options_apply(files, kind, hashrate_options=hashrate_given, facility_options=_filters_given(filters) + over_time)
    spec = MapSpec(preset=_preset(preset), title=title, subtitle=subtitle, credit=credit, metric=metric or "capacity_mw",
                   scheme=scheme, k=k, bins=_bins(bins), marker_colour=marker_colour,  # type: ignore[arg-type]
                   assets="cdn" if cdn else "inline", tiles=tiles)
    if sum([by_month, by_quarter, change is not None]) > 1:
        raise click.UsageError("give one of --by-month, --by-quarter and --change")
    if change is not None and (month or filters.get("as_of")):
        raise click.UsageError("--change FROM:TO gives its own dates: leave out --month and --as-of")
    with _progress(f"reading and mapping {len(files)} file(s)"):
        made = api.map_files(
            files, spec, kind=kind, metric=metric, filters=_filters(**filters), strict=strict, skip_invalid=skip_invalid,  # type: ignore[arg-type]
            every="month" if by_month else "quarter" if by_quarter else None, change=change,
            boundaries=_boundaries(boundaries, code_column, name_column),
            hashrate=api.HashrateOptions(network_hashrate=network_hashrate, vpn_corrections=vpn_correct, month=month,
                                         months=months, average=average, pool_weighting=pool_weighting),  # type: ignore[arg-type]
        )
    _print_problems(made.warnings)
    if made.reconciliation is not None:
        click.echo(_format_reconciliation(made.reconciliation), err=True)
    if fmt == "html":
        with _progress("drawing the page"):
            page = made.built.html()
        _check_page_size(page, out)
        _write(out, page)
    else:
        with _progress(f"drawing the {fmt.upper()} still"):
            still = made.built.still(fmt=fmt, width_px=width_px, height_px=height_px, dpi=dpi)  # type: ignore[arg-type]
        _write(out, still)
    click.echo(f"wrote {out}")
    if alt_text:
        click.echo(made.built.alt)


@main.command()
@click.argument("page", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--url", default=None, help="Where the page will be published (http(s) or relative); default: the file name.")
@click.option("--height", "height_px", type=click.IntRange(200, 4000), default=600, show_default=True,
              help="The most the box takes before the page reports its own height.")
@click.option("--title", default="Bitcoin mining map", show_default=True, help="The iframe's accessible title.")
@_fail_on_library_errors
def embed(page: Path, url: str | None, height_px: int, title: str) -> None:
    """Print a responsive snippet that embeds PAGE in an article: it grows to the page's own height."""
    from capacitymap import api

    click.echo(api.embed(url or page.name, height_px=height_px, title=title))


@main.command()
@_files_argument
@_hashrate_options
@click.option("--level", type=click.Choice(vocab.LEVELS), default="country", show_default=True)
@click.option("--format", "fmt", type=click.Choice(vocab.TABLE_FORMATS), default="table", show_default=True)
@click.option("--explain", is_flag=True, help="Print each step of the method with its numbers.")
@_invalid_options
@_fail_on_library_errors
def hashrate(files: tuple[Path, ...], network_hashrate: Path | None, vpn_correct: tuple[Any, ...], month: str | None,
             months: Any, average: str | None, pool_weighting: str, level: str, fmt: str, explain: bool, strict: bool, skip_invalid: bool) -> None:
    """Estimate where the hashrate is from pool records (CCAF's method), by country or admin-1."""
    from capacitymap import api
    from capacitymap.method import format_explain

    result = api.estimate_from_files(
        files, level=level, skip_invalid=skip_invalid,  # type: ignore[arg-type]
        options=api.HashrateOptions(network_hashrate=network_hashrate, vpn_corrections=vpn_correct, month=month,
                                    months=months, average=average, pool_weighting=pool_weighting),  # type: ignore[arg-type]
    )
    if explain:
        click.echo(format_explain(result), err=fmt != "table", nl=False)
    rejected = result.metadata.get("rejected") or ()
    for line in rejected:
        click.echo(line, err=True)
    if rejected:
        click.echo(f"left out {result.metadata.get('rejected_rows')} invalid row(s) of {result.metadata.get('rows_read')} read "
                   f"(--skip-invalid); they are listed above and in the output's metadata:", err=True)
        for reason, count in (result.metadata.get("rejected_by_reason") or {}).items():
            click.echo(f"  {count} x {reason}", err=True)
    table = result.table
    if fmt == "json":
        click.echo(json.dumps({"metadata": {k: v for k, v in result.metadata.items() if k != "pool_weights"},
                               "rows": json.loads(table.to_json(orient="records"))}, indent=2, ensure_ascii=False, default=str))
    elif fmt == "csv":
        click.echo(_csv(table), nl=False)
    else:
        click.echo(_format_table(table))


@main.command()
@click.argument("points", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--weight", required=True, help="The column holding each point's hashrate.")
@click.option("--weight-unit", type=click.Choice(vocab.WEIGHT_UNITS), default="TH/s", show_default=True)
@click.option("--level", type=click.Choice(vocab.LEVELS), default="admin1", show_default=True)
@click.option("--by", default="", metavar="COL,COL", help="Group columns, e.g. month,pool.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output table (.csv or .parquet).")
@click.option("--engine", type=click.Choice(vocab.ENGINES), default="incore", show_default=True)
@click.option("--scheduler", default=None, metavar="ADDRESS", help="A dask.distributed scheduler (with --engine dask); default: a local cluster.")
@click.option("--quiet", is_flag=True, help="No progress line.")
@_overwrite_option
@_fail_on_library_errors
def aggregate(points: tuple[Path, ...], weight: str, weight_unit: str, level: str, by: str, out: Path, engine: str,
              scheduler: str | None, quiet: bool, overwrite: bool) -> None:
    """Sum geolocated hasher records (POINTS: Parquet or CSV) to regions, as a pool-hashrate table.

    Every point is in the table: points in no region (farther than 25 km from every one) and
    points with NaN coordinates are the row of country ZZ; the summary says how many of each.
    """
    from capacitymap import api
    from capacitymap.errors import OptionError

    if scheduler and engine != "dask":
        raise click.UsageError("--scheduler goes with --engine dask")
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise click.BadParameter(f"expected a .csv or .parquet output, got {out.name!r}", param_hint="--out")
    _check_out(out, points, overwrite=overwrite)
    try:
        table, report = api.aggregate_files(points, weight=weight, weight_unit=weight_unit, level=level,  # type: ignore[arg-type]
                                            by=tuple(c.strip() for c in by.split(",") if c.strip()), engine=engine,
                                            scheduler=scheduler, quiet=quiet)
    except OptionError as exc:
        raise click.UsageError(str(exc)) from None
    if out.suffix.lower() == ".csv":
        _write(out, _csv_file(table))
    else:
        _write(out, table.to_parquet(index=False))
    click.echo(report.summary(), err=True)
    click.echo(f"wrote {out} ({len(table)} rows)")


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output"), show_default=True)
@click.option("--cdn", is_flag=True, help="Link Leaflet from a CDN (smaller pages that need the network); default: self-contained.")
@click.option("--self-contained", is_flag=True, hidden=True, help="The default (kept for old scripts).")
@click.option("--no-stills", is_flag=True, help="Skip the PNG stills.")
@click.option("--overwrite", is_flag=True, help="Replace files in OUT that demo did not write (demo always rewrites its own).")
@_fail_on_library_errors
def demo(out_dir: Path, cdn: bool, self_contained: bool, no_stills: bool, overwrite: bool) -> None:
    """Render the default maps from the shipped data/ into OUT (HTML pages and PNG stills).

    Run again, demo replaces the files it wrote before (it keeps their checksums in OUT/.capacitymap-demo.json);
    a file of the same name that demo did not write, or that was edited since, is left alone unless --overwrite.
    """
    from capacitymap import api
    from capacitymap.io.write import OutputLedger

    with _progress("preparing the demo maps"):
        items = api.demo_maps(assets="cdn" if cdn else "inline")
    ledger = OutputLedger(out_dir, ".capacitymap-demo.json")
    suffixes = (".html",) if no_stills else (".html", ".png")
    try:
        ledger.check([f"{item.name}{suffix}" for item in items for suffix in suffixes], overwrite=overwrite)
    except OutputError as exc:
        raise click.UsageError(str(exc)) from None
    for item in items:
        with _progress(f"drawing {item.name}"):
            page = item.built.html()
        ledger.write(f"{item.name}.html", page.encode("utf-8"))
        click.echo(f"wrote {out_dir / (item.name + '.html')}")
        if not no_stills:
            with _progress(f"drawing the {item.name} still"):
                still = item.built.still(fmt="png")
            ledger.write(f"{item.name}.png", still)
            click.echo(f"wrote {out_dir / (item.name + '.png')}")


if __name__ == "__main__":
    main()
