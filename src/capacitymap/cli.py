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


def _hashrate_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed([
        click.option("--network-hashrate", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                     help="Monthly network hashrate CSV (month, hashrate_ehs): turns shares into EH/s."),
        click.option("--vpn-correct", multiple=True, metavar="POOL:REGION[:VARIANT]",
                     help="Spread a region's hashrate in one pool over the others (VARIANT proportional or neighbours)."),
        click.option("--month", default=None, metavar="YYYY-MM", help="One month."),
        click.option("--months", default=None, metavar="YYYY-MM:YYYY-MM", help="A range of months."),
        click.option("--average", type=click.Choice(["plain", "weighted"]), default=None, help="Average the range (weighted by network hashrate when given)."),
        click.option("--pool-weighting", type=click.Choice(["hashrate", "equal"]), default="hashrate", show_default=True,
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


def _write(path: Path, data: str | bytes) -> None:
    from capacitymap.io import write_bytes_atomic

    write_bytes_atomic(path, data.encode("utf-8") if isinstance(data, str) else data)


def _spec_options(func: Callable[..., Any]) -> Callable[..., Any]:
    from capacitymap.render.spec import MARKER_COLOURS, METRICS, SCHEMES

    for decorator in reversed([
        click.option("--title", default="", help="Map title (default: what the map shows)."),
        click.option("--subtitle", default=""),
        click.option("--credit", default="", help="Source/credit line."),
        click.option("--metric", type=click.Choice(METRICS), default=None, help="What the choropleth shows (default: capacity_mw for facilities, share for hashrate)."),
        click.option("--scheme", type=click.Choice(SCHEMES), default="quantiles", show_default=True),
        click.option("--classes", "k", type=click.IntRange(2, 9), default=5, show_default=True),
        click.option("--bins", default=None, metavar="B1,B2,...", help="Upper class bounds, with --scheme user_bins."),
        click.option("--marker-colour", type=click.Choice(MARKER_COLOURS), default="operator", show_default=True),
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
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {text!r}", param_hint="--bins") from None


def _preset(text: str) -> Any:
    from capacitymap.render import BBox
    from capacitymap.render.spec import PRESET_NAMES

    if text in PRESET_NAMES:
        return text
    parts = text.split(",")
    if len(parts) == 4:
        try:
            return BBox(*(float(p) for p in parts))
        except ValueError:
            pass
    raise click.BadParameter(f"expected one of {', '.join(PRESET_NAMES)} or a bounding box WEST,SOUTH,EAST,NORTH, got {text!r}", param_hint="--preset")


@main.command()
@_files_argument
@click.option("--preset", required=True, metavar="NAME|W,S,E,N", help="north-america, china, world, us, canada, or a bounding box.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output file (.html, or .png/.svg with --format).")
@click.option("--format", "fmt", type=click.Choice(["html", "png", "svg"]), default="html", show_default=True)
@click.option("--cdn", is_flag=True, help="Link Leaflet from a CDN (a smaller page that needs the network); default: self-contained.")
@click.option("--self-contained", is_flag=True, hidden=True, help="The default (kept for old scripts).")
@click.option("--tiles", default=None, metavar="carto-light|osm|URL", help="A tile background (with --cdn only); default: none.")
@click.option("--alt-text", is_flag=True, help="Also print the map's alt-text description.")
@click.option("--by-month", is_flag=True, help="Capacity maps: a monthly slider of capacity as of each month in which a figure is dated.")
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
           alt_text: bool, by_month: bool,
           width_px: int, height_px: int, dpi: int, title: str, subtitle: str, credit: str, metric: str | None,
           scheme: str, k: int, bins: str | None, marker_colour: str, network_hashrate: Path | None,
           vpn_correct: tuple[str, ...], month: str | None, months: str | None, average: str | None,
           pool_weighting: str, strict: bool, skip_invalid: bool, boundaries: Path | None, code_column: str, name_column: str,
           kind: str | None, **filters: Any) -> None:
    """Render a map of FILES (facilities and/or hashrate records) for a preset."""
    from capacitymap import api
    from capacitymap.render import MapSpec, render_html

    if cdn and self_contained:
        raise click.UsageError("--cdn and --self-contained contradict each other; give one (self-contained is the default)")
    if tiles and not cdn:
        raise click.UsageError("--tiles needs --cdn: tiles are fetched from a server, so the page cannot be self-contained")
    spec = MapSpec(preset=_preset(preset), title=title, subtitle=subtitle, credit=credit, metric=metric or "capacity_mw",
                   scheme=scheme, k=k, bins=_bins(bins), marker_colour=marker_colour,  # type: ignore[arg-type]
                   assets="cdn" if cdn else "inline", tiles=tiles)
    made = api.map_files(
        files, spec, kind=kind, metric=metric, filters=_filters(**filters), strict=strict, skip_invalid=skip_invalid, by_month=by_month,
        boundaries=_boundaries(boundaries, code_column, name_column),
        hashrate=api.HashrateOptions(network_hashrate=network_hashrate, vpn_corrections=vpn_correct, month=month,
                                     months=months, average=average, pool_weighting=pool_weighting),  # type: ignore[arg-type]
    )
    _print_problems(made.warnings)
    if made.reconciliation is not None:
        click.echo(_format_reconciliation(made.reconciliation), err=True)
    built = made.build()
    if fmt == "html":
        _write(out, render_html(built))
    else:
        _write(out, made.still(fmt=fmt, width_px=width_px, height_px=height_px, dpi=dpi))
    click.echo(f"wrote {out}")
    if alt_text:
        click.echo(built.alt)


@main.command()
@click.argument("page", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--url", default=None, help="Where the page will be published (http(s) or relative); default: the file name.")
@click.option("--height", "height_px", type=click.IntRange(200, 4000), default=600, show_default=True,
              help="The most the box takes before the page reports its own height.")
@click.option("--title", default="Bitcoin mining map", show_default=True, help="The iframe's accessible title.")
@_fail_on_library_errors
def embed(page: Path, url: str | None, height_px: int, title: str) -> None:
    """Print a responsive snippet that embeds PAGE in an article: it grows to the page's own height."""
    from capacitymap.export.embed import responsive_embed

    click.echo(responsive_embed(url or page.name, height_px=height_px, title=title))


@main.command()
@_files_argument
@_hashrate_options
@click.option("--level", type=click.Choice(["country", "admin1"]), default="country", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--explain", is_flag=True, help="Print each step of the method with its numbers.")
@_invalid_options
@_fail_on_library_errors
def hashrate(files: tuple[Path, ...], network_hashrate: Path | None, vpn_correct: tuple[str, ...], month: str | None,
             months: str | None, average: str | None, pool_weighting: str, level: str, fmt: str, explain: bool, strict: bool, skip_invalid: bool) -> None:
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
    table = result.table
    if fmt == "json":
        click.echo(json.dumps({"metadata": {k: v for k, v in result.metadata.items() if k != "pool_weights"},
                               "rows": json.loads(table.to_json(orient="records"))}, indent=2, ensure_ascii=False, default=str))
    elif fmt == "csv":
        click.echo(table.to_csv(index=False, lineterminator="\n"), nl=False)
    else:
        click.echo(_format_table(table))


@main.command()
@click.argument("points", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--weight", required=True, help="The column holding each point's hashrate.")
@click.option("--weight-unit", type=click.Choice(["H/s", "TH/s", "PH/s", "EH/s"]), default="TH/s", show_default=True)
@click.option("--level", type=click.Choice(["admin1", "country"]), default="admin1", show_default=True)
@click.option("--by", default="", metavar="COL,COL", help="Group columns, e.g. month,pool.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output table (.csv or .parquet).")
@click.option("--engine", type=click.Choice(["incore", "dask"]), default="incore", show_default=True)
@click.option("--scheduler", default=None, metavar="ADDRESS", help="A dask.distributed scheduler (with --engine dask); default: a local cluster.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_fail_on_library_errors
def aggregate(points: tuple[Path, ...], weight: str, weight_unit: str, level: str, by: str, out: Path, engine: str,
              scheduler: str | None, quiet: bool) -> None:
    """Sum geolocated hasher records (POINTS: Parquet or CSV) to regions, as a pool-hashrate table."""
    from capacitymap import api

    if scheduler and engine != "dask":
        raise click.UsageError("--scheduler goes with --engine dask")
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise click.BadParameter(f"expected a .csv or .parquet output, got {out.name!r}", param_hint="--out")
    table, report = api.aggregate_files(points, weight=weight, weight_unit=weight_unit, level=level,  # type: ignore[arg-type]
                                        by=tuple(c for c in by.split(",") if c), engine=engine, scheduler=scheduler, quiet=quiet)
    if out.suffix.lower() == ".csv":
        _write(out, table.to_csv(index=False, lineterminator="\n"))
    else:
        _write(out, table.to_parquet(index=False))
    click.echo(report.summary(), err=True)
    click.echo(f"wrote {out} ({len(table)} rows)")


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output"), show_default=True)
@click.option("--cdn", is_flag=True, help="Link Leaflet from a CDN (smaller pages that need the network); default: self-contained.")
@click.option("--self-contained", is_flag=True, hidden=True, help="The default (kept for old scripts).")
@click.option("--no-stills", is_flag=True, help="Skip the PNG stills.")
@_fail_on_library_errors
def demo(out_dir: Path, cdn: bool, self_contained: bool, no_stills: bool) -> None:
    """Render the default maps from the shipped data/ into OUT (HTML pages and PNG stills)."""
    from capacitymap.demo import demo_maps
    from capacitymap.maps import make_map, make_still
    from capacitymap.render import render_html

    for item in demo_maps(assets="cdn" if cdn else "inline"):
        page = out_dir / f"{item.name}.html"
        _write(page, render_html(make_map(item.spec, item.layers)))
        click.echo(f"wrote {page}")
        if not no_stills:
            still = out_dir / f"{item.name}.png"
            _write(still, make_still(item.spec, item.layers, fmt="png"))
            click.echo(f"wrote {still}")
