"""The ``capacitymap`` command: parse arguments → one library call → print.

Exit codes: 0 ok, 1 data errors (every problem printed as ``FILE:LINE:COLUMN: message``), 2 usage errors.
This is the only module that knows click, exit codes and printed text.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from capacitymap.errors import CapacityMapError, DataError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail_on_library_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a CapacityMapError into its printed problems and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DataError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{len(exc.problems)} problem(s); nothing was written.", err=True)
            sys.exit(1)
        except CapacityMapError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


def _files_argument(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))(func)


def _kind_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--kind", type=click.Choice(["facilities", "hashrate"]), default=None,
                        help="Read every file as this kind instead of detecting it from the columns.")(func)


def _invalid_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--skip-invalid", is_flag=True, help="Leave out invalid rows (listed and counted) instead of stopping.")(func)
    func = click.option("--strict", is_flag=True, help="A facility whose coordinates and region disagree is an error.")(func)
    return func


def _filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    from capacitymap.schema import STATUSES

    for decorator in reversed([
        click.option("--operator", "operators", multiple=True, help="Keep this operator (repeatable; case-insensitive, part of the name is enough)."),
        click.option("--region", "regions", multiple=True, help="Keep this state/province (repeatable; code or name)."),
        click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Keep this status (repeatable)."),
        click.option("--min-mw", type=float, default=None, help="Keep sites of at least this many MW."),
        click.option("--as-of", default=None, metavar="DATE", help="Show the state at this date (YYYY, YYYY-MM or YYYY-MM-DD)."),
    ]):
        func = decorator(func)
    return func


def _filters(operators: tuple[str, ...], regions: tuple[str, ...], statuses: tuple[str, ...], min_mw: float | None, as_of: str | None):  # noqa: ANN202
    from capacitymap.filters import Filters

    return Filters(operators=operators, regions=regions, statuses=statuses, min_mw=min_mw, as_of=as_of)


def _print_problems(problems: list[Any], *, err: bool = True) -> None:
    for problem in problems:
        click.echo(str(problem), err=err)


def _format_table(frame: Any) -> str:
    shown = frame.copy()
    if "share" in shown:
        shown["share"] = (shown["share"] * 100).map(lambda v: f"{v:.2f}%")
    return shown.to_string(index=False, na_rep="")


def _format_reconciliation(rec: Any) -> str:
    lines = [f"read {rec.rows_read} row(s), {rec.mw_read:,.1f} MW; mapped {rec.rows_mapped} row(s), {rec.mw_mapped:,.1f} MW"]
    for r in rec.filtered.itertuples(index=False):
        lines.append(f"  filtered ({r.filter}): {r.rows} row(s), {r.capacity_mw:,.1f} MW")
    for r in rec.rejected.itertuples(index=False):
        lines.append(f"  rejected {r.source_file}:{r.line}: {r.reason}")
    if len(rec.rejected):
        lines.append(f"  rejected in all: {len(rec.rejected)} row(s), {rec.rejected['capacity_mw'].fillna(0).sum():,.1f} MW")
    return "\n".join(lines)


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
@click.option("--by", type=click.Choice(["region", "operator", "country"]), default="region", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@_filter_options
@_invalid_options
@_fail_on_library_errors
def summary(files: tuple[Path, ...], by: str, fmt: str, strict: bool, skip_invalid: bool, **filters: Any) -> None:
    """Total MW of facility FILES by region, operator or country, with the reconciliation."""
    from capacitymap import api

    result = api.summarize_facilities(files, by=by, filters=_filters(**filters), strict=strict, skip_invalid=skip_invalid)  # type: ignore[arg-type]
    _print_problems(result.mapped.warnings)
    if fmt == "json":
        click.echo(json.dumps({"by": by, "rows": json.loads(result.table.to_json(orient="records")),
                               "reconciliation": result.mapped.reconciliation.to_dict()}, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(result.table.to_csv(index=False, lineterminator="\n"), nl=False)
    else:
        click.echo(_format_table(result.table))
        click.echo(_format_reconciliation(result.mapped.reconciliation))


@main.command()
@click.option("--country", default=None, help="Only this country (ISO alpha-2 or name).")
@_fail_on_library_errors
def regions(country: str | None) -> None:
    """List canonical admin-1 region codes and names."""
    from capacitymap import api

    click.echo(_format_table(api.list_regions(country)))
