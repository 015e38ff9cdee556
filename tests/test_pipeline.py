"""Statuses, history, time steps and change, against a hand-made file whose sums are worked out by hand.

tests/fixtures/statuses/every_status.csv (10 rows, 917 MW read):
  Alpha Rockdale TX   operational 100 (2022-01) -> 250 (2022-07-15); under construction 400 (2022-07-15)
  Beta Dalton GA      operational 50 (2022-03) -> 30 (2023-02)
  Gamma Plattsburgh NY operational 20 (2021-11); closed 0 (2022-09)
  Delta Medicine Hat AB planned 42 (2022-05)      Zeta Calgary AB operational 10 (2022-02)
  Curtis Odessa TX    curtailed 15 (2022-04)
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacitymap import api
from capacitymap.errors import DataError
from capacitymap.filters import Filters, step_end
from capacitymap.pipeline import (
    StepError,
    capacity_change,
    capacity_steps,
    steps_between,
)
from capacitymap.render import MapSpec, render_html
from capacitymap.summary import summarize

pytestmark = pytest.mark.integration

FILE = Path(__file__).parent / "fixtures" / "statuses" / "every_status.csv"
NA = Path(__file__).parents[1] / "data" / "facilities" / "north_america.csv"


@pytest.fixture(scope="module")
def b() -> api.Boundaries:
    return api.Boundaries.shipped()


def lines(rec) -> dict[str, tuple[int, float]]:
    return {r.filter: (int(r.rows), round(float(r.capacity_mw), 6)) for r in rec.filtered.itertuples(index=False)}


def by_region(frame: pd.DataFrame) -> dict[str, float]:
    return {r.iso_3166_2: r.value for r in frame.itertuples(index=False)}


def test_default_counts_operational_newest_figures_and_accounts_for_every_mw(b: api.Boundaries) -> None:
    mapped = api.load_facilities(FILE, boundaries=b)
    assert mapped.statuses == ("operational",)
    assert sorted(zip(mapped.facilities["site"], mapped.facilities["capacity_mw"])) == [("Calgary", 10.0), ("Dalton", 30.0), ("Rockdale", 250.0)]
    rec = mapped.reconciliation
    assert (rec.rows_read, rec.mw_read, rec.rows_mapped, rec.mw_mapped) == (10, 917.0, 3, 290.0)
    assert lines(rec) == {
        "superseded by a newer figure": (3, 170.0),  # Rockdale 100, Dalton 50, Plattsburgh 20 (closed since)
        "status under_construction": (1, 400.0), "status planned": (1, 42.0),
        "status closed": (1, 0.0), "status curtailed": (1, 15.0),
    }
    assert rec.balanced
    # the pipeline is apart, never in the count
    assert sorted(mapped.pipeline["site"]) == ["Medicine Hat", "Rockdale"]
    assert set(mapped.pipeline["status"]) == {"under_construction", "planned"}


def test_summary_has_a_column_per_status_and_a_total_only_of_what_was_asked(b: api.Boundaries) -> None:
    one = api.summarize_facilities(FILE, boundaries=b).table.set_index("iso_3166_2")
    assert one.loc["US-TX", "capacity_mw"] == 250.0 and one.loc["US-TX", "under_construction_mw"] == 400.0
    assert one.loc["US-TX", "curtailed_mw"] == 15.0 and one.loc["CA-AB", "planned_mw"] == 42.0
    assert math.isnan(one.loc["US-NY", "capacity_mw"]) and one.loc["US-NY", "closed_mw"] == 0.0  # none reported, not zero
    assert one["capacity_mw"].sum() == 290.0 and one.loc["US-TX", "share"] == pytest.approx(250 / 290)
    two = api.summarize_facilities(FILE, boundaries=b, filters=Filters(statuses=("under_construction", "operational")))
    assert two.mapped.statuses == ("operational", "under_construction")  # one order whatever the order given
    assert two.mapped.status_label == "operational + under construction"
    assert two.table.set_index("iso_3166_2").loc["US-TX", "capacity_mw"] == 650.0
    assert two.mapped.reconciliation.balanced and "status under_construction" not in lines(two.mapped.reconciliation)


def test_layers_carry_statuses_pipeline_and_a_note_that_says_what_is_counted(b: api.Boundaries) -> None:
    made = api.map_files([FILE], MapSpec(preset="north-america"), boundaries=b)
    layers = made.layers
    assert layers.statuses == ("operational",)
    assert by_region(layers.values) == {"US-TX": 250.0, "US-GA": 30.0, "CA-AB": 10.0}
    assert sorted(layers.pipeline["site"]) == ["Medicine Hat", "Rockdale"]
    assert "history" not in layers.facilities.columns  # the date decides; renderers must not drop rows by the old flag
    assert "290.0 MW operational capacity mapped" in layers.coverage_note
    assert "Not counted (under construction; shown apart as the pipeline): 1 row, 400.0 MW." in layers.coverage_note
    two = api.map_files([FILE], MapSpec(preset="north-america"), boundaries=b, filters=Filters(statuses=("operational", "under_construction")))
    assert two.layers.statuses == ("operational", "under_construction")
    assert "operational + under construction capacity mapped" in two.layers.coverage_note
    assert list(two.layers.pipeline["site"]) == ["Medicine Hat"]


def test_as_of_and_month_draw_that_date(b: api.Boundaries) -> None:
    at = api.load_facilities(FILE, boundaries=b, filters=Filters(as_of="2022-03"))
    assert sorted(zip(at.facilities["site"], at.facilities["capacity_mw"])) == [("Calgary", 10.0), ("Dalton", 50.0), ("Plattsburgh", 20.0), ("Rockdale", 100.0)]
    assert at.reconciliation.balanced and lines(at.reconciliation)["dated after 2022-03"] == (6, 737.0)
    made = api.map_files([FILE], MapSpec(preset="north-america"), boundaries=b, hashrate=api.HashrateOptions(month="2022-03"))
    assert by_region(made.layers.values) == {"US-TX": 100.0, "US-GA": 50.0, "US-NY": 20.0, "CA-AB": 10.0}
    assert made.layers.as_of == "2022-03"


def test_monthly_steps_run_evenly_from_the_first_to_the_last_dated_figure(b: api.Boundaries) -> None:
    mapped = api.load_facilities(FILE, boundaries=b, area=api.preset_area("north-america"))
    steps = capacity_steps(mapped, gazetteer=b.gazetteer)
    assert steps.steps == steps_between("2021-11", "2023-02") and len(steps.steps) == 16  # not past the last figure
    got = {m: by_region(g) for m, g in steps.values.groupby("month")}
    assert got["2021-11"] == {"US-NY": 20.0}
    assert got["2022-01"] == {"US-NY": 20.0, "US-TX": 100.0}
    assert got["2022-03"] == {"CA-AB": 10.0, "US-GA": 50.0, "US-NY": 20.0, "US-TX": 100.0}
    assert got["2022-07"] == {"CA-AB": 10.0, "US-GA": 50.0, "US-NY": 20.0, "US-TX": 250.0}  # grows with the later figure
    assert got["2022-09"] == {"CA-AB": 10.0, "US-GA": 50.0, "US-TX": 250.0}  # closed: gone, no data rather than zero
    assert got["2023-02"] == {"CA-AB": 10.0, "US-GA": 30.0, "US-TX": 250.0}
    # the long facilities frame: exactly the sites counted at each step, with that step's figure
    fac = steps.facilities
    assert sorted(fac.loc[fac["month"] == "2022-01", "site"]) == ["Plattsburgh", "Rockdale"]
    assert fac.loc[(fac["month"] == "2022-06") & (fac["site"] == "Rockdale"), "capacity_mw"].tolist() == [100.0]
    assert fac.loc[(fac["month"] == "2022-07") & (fac["site"] == "Rockdale"), "capacity_mw"].tolist() == [250.0]
    for month, group in fac.groupby("month"):
        assert math.fsum(group["capacity_mw"]) == sum(got[month].values())
    pipe = steps.pipeline
    assert pipe.loc[pipe["month"] == "2022-04", "site"].tolist() == []
    assert sorted(pipe.loc[pipe["month"] == "2022-07", "site"]) == ["Medicine Hat", "Rockdale"]
    # the last step's reconciliation accounts for every row
    rec = steps.last.reconciliation
    assert rec.balanced and (rec.rows_mapped, rec.mw_mapped) == (3, 290.0)
    layers = api.map_files([FILE], MapSpec(preset="north-america"), boundaries=b, every="month").layers
    assert layers.values.equals(steps.values) and "at each of 16 steps, 2021-11 to 2023-02" in layers.coverage_note.lower()


def test_quarterly_steps(b: api.Boundaries) -> None:
    mapped = api.load_facilities(FILE, boundaries=b)
    steps = capacity_steps(mapped, gazetteer=b.gazetteer, every="quarter")
    assert steps.steps == ["2021-Q4", "2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4", "2023-Q1"]
    got = {m: by_region(g) for m, g in steps.values.groupby("month")}
    assert got["2022-Q1"] == {"CA-AB": 10.0, "US-GA": 50.0, "US-NY": 20.0, "US-TX": 100.0}
    assert got["2022-Q3"] == {"CA-AB": 10.0, "US-GA": 50.0, "US-TX": 250.0}
    assert steps.last.reconciliation.balanced
    assert steps_between("2019", "2019-03", "quarter") == ["2019-Q1"]


def test_steps_need_dated_figures(b: api.Boundaries, tmp_path: Path) -> None:
    path = tmp_path / "undated.csv"
    path.write_text("operator,site,region,country,capacity_mw,status\nA,B,TX,US,5,operational\n", encoding="utf-8")
    with pytest.raises(StepError, match="expected dated figures"):
        capacity_steps(api.load_facilities(path, boundaries=b), gazetteer=b.gazetteer)


def test_change_between_two_dates_against_hand_sums(b: api.Boundaries) -> None:
    mapped = api.load_facilities(FILE, boundaries=b, area=api.preset_area("north-america"))
    change = capacity_change(mapped, "2022-01", "2023-02", gazetteer=b.gazetteer)
    values = change.values.set_index("iso_3166_2")
    assert values["value"].to_dict() == {"CA-AB": 10.0, "US-GA": 30.0, "US-NY": -20.0, "US-TX": 150.0}
    assert values.loc["US-NY", "sites_removed"] == 1 and values.loc["US-GA", "sites_added"] == 1
    sites = change.facilities.set_index("site")
    assert sites["change"].to_dict() == {"Calgary": "added", "Dalton": "added", "Plattsburgh": "removed", "Rockdale": "grown"}
    assert sites["capacity_change_mw"].to_dict() == {"Calgary": 10.0, "Dalton": 30.0, "Plattsburgh": -20.0, "Rockdale": 150.0}
    assert sites.loc["Plattsburgh", "capacity_mw"] == 20.0 and sites.loc["Rockdale", "capacity_mw"] == 250.0
    assert math.fsum(change.facilities["capacity_change_mw"]) == math.fsum(values["value"]) == 170.0
    rec = change.mapped.reconciliation
    # used at either date: Rockdale 100 and 250, Plattsburgh 20, Dalton 30, Calgary 10
    assert (rec.rows_mapped, rec.mw_mapped) == (5, 410.0) and rec.balanced
    assert lines(rec) == {"superseded by a newer figure": (1, 50.0), "status under_construction": (1, 400.0),
                          "status planned": (1, 42.0), "status closed": (1, 0.0), "status curtailed": (1, 15.0)}
    with pytest.raises(StepError, match="FROM before TO"):
        capacity_change(mapped, "2023-02", "2022-01", gazetteer=b.gazetteer)
    made = api.map_files([FILE], MapSpec(preset="north-america"), boundaries=b, change=("2022-01", "2023-02"))
    assert by_region(made.layers.values) == {"CA-AB": 10.0, "US-GA": 30.0, "US-NY": -20.0, "US-TX": 150.0}
    assert "120.0 MW to 290.0 MW (+170.0 MW)" in made.layers.coverage_note


def test_the_preset_area_is_a_named_line_and_what_is_drawn_is_what_is_said(b: api.Boundaries) -> None:
    made = api.map_files([FILE], MapSpec(preset="us"), boundaries=b)
    rec = made.reconciliation
    assert lines(rec)["outside this map"] == (2, 52.0)  # Calgary 10 and Medicine Hat 42 (Alberta)
    assert (rec.rows_mapped, rec.mw_mapped) == (2, 280.0) and rec.balanced
    assert math.fsum(made.layers.values["value"]) == rec.mw_mapped
    assert "Outside this map (United States): 2 rows, 52.0 MW, not drawn." in made.layers.coverage_note


@pytest.mark.parametrize("preset", ["north-america", "us", "canada", "china", "world"])
def test_every_preset_conserves_the_shipped_file(b: api.Boundaries, preset: str) -> None:
    made = api.map_files([NA], MapSpec(preset=preset), boundaries=b)
    rec = made.reconciliation
    assert rec.balanced
    drawn = math.fsum(made.layers.values["value"]) if len(made.layers.values) else 0.0
    assert drawn == pytest.approx(rec.mw_mapped) and len(made.layers.facilities) == rec.rows_mapped
    read = pd.read_csv(NA)
    assert rec.mw_read == pytest.approx(read["capacity_mw"].sum())
    outside = lines(rec).get("outside this map", (0, 0.0))
    if preset in ("north-america", "world"):
        assert outside == (0, 0.0)
    else:
        assert outside[0] > 0


def test_history_rows_are_no_error_but_one_date_twice_is(b: api.Boundaries, tmp_path: Path) -> None:
    head = "operator,site,region,country,capacity_mw,status,as_of\n"
    ok = tmp_path / "history.csv"
    ok.write_text(head + "A,Site,TX,US,5,operational,2021\nA,Site,TX,US,9,operational,2022-06\n", encoding="utf-8")
    assert api.load_facilities(ok, boundaries=b).facilities["capacity_mw"].tolist() == [9.0]
    bad = tmp_path / "twice.csv"
    bad.write_text(head + "A,Site,TX,US,5,operational,2022-06\na,SITE,TX,US,9,operational,2022-06\nA,Site,TX,US,5,operational,2022-06\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        api.load_facilities(bad, boundaries=b)
    text = [str(p) for p in err.value.problems]
    assert text[0].startswith(f"{bad}:3:site: expected one figure per operator, site, status and date, got 9 MW here and 5 MW in line 2")
    assert text[1].startswith(f"{bad}:4:site: expected each operator, site, status and date once") and "line 2" in text[1]


def test_duplicates_across_files_and_a_file_given_twice(b: api.Boundaries, tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    shutil.copy(FILE, a)
    other = tmp_path / "b.csv"
    other.write_text("operator,site,region,country,latitude,longitude,capacity_mw,status,as_of\n"
                     "Zeta Compute,Calgary,AB,CA,51.0447,-114.0719,10,operational,2022-02\n"
                     "Zeta Compute,Calgary,AB,CA,51.0447,-114.0719,12,operational,2024-02\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        api.load_facilities([a, other], boundaries=b)
    (problem,) = err.value.problems
    assert str(problem).startswith(f"{other}:2:site: expected each operator, site, status and date once")
    assert f"(first in {a}:10)" in str(problem) and "the same site in two files" in str(problem)
    # skipped on request: the later row is rejected (listed and counted), the later figure of another date is history
    mapped = api.load_facilities([a, other], boundaries=b, skip_invalid=True)
    rec = mapped.reconciliation
    assert rec.rejected["line"].tolist() == [2] and rec.balanced and rec.rows_read == 12
    assert mapped.facilities.set_index("site").loc["Calgary", "capacity_mw"] == 12.0
    with pytest.raises(DataError, match="expected each file once, got it again"):
        api.load_facilities([a, tmp_path / "." / "a.csv"], boundaries=b)


def _shuffled(order: list[int]) -> str:
    text = FILE.read_text(encoding="utf-8").splitlines()
    return "\n".join([text[0]] + [text[1 + i] for i in order]) + "\n"


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(list(range(10))))
def test_row_order_never_changes_a_byte(b: api.Boundaries, tmp_path_factory: pytest.TempPathFactory, order: list[int]) -> None:
    folder = tmp_path_factory.mktemp("shuffle")
    plain, shuffled = folder / "plain.csv", folder / "shuffled.csv"
    plain.write_text(_shuffled(list(range(10))), encoding="utf-8")
    shuffled.write_text(_shuffled(order), encoding="utf-8")
    pages, tables = [], []
    for path in (plain, shuffled):
        made = api.map_files([path], MapSpec(preset="north-america"), boundaries=b)
        pages.append(render_html(made.built))
        tables.append(api.summarize_facilities(path, boundaries=b).table.to_csv())
    assert pages[0] == pages[1] and tables[0] == tables[1]


def test_sums_are_exact_whatever_the_order() -> None:
    # 0.1 + 0.2 + ... in different orders gives different doubles; fsum gives one answer
    frame = pd.DataFrame({"iso_3166_2": ["US-TX"] * 4, "region_name": "Texas", "country": "US", "operator": "A",
                          "capacity_mw": [0.1, 0.2, 0.3, 1e16], "status": "operational"})
    forward = summarize(frame, by="region")["capacity_mw"].iloc[0]
    backward = summarize(frame.iloc[::-1], by="region")["capacity_mw"].iloc[0]
    assert forward == backward == math.fsum([0.1, 0.2, 0.3, 1e16])


@pytest.mark.parametrize("view", [{}, {"every": "month"}, {"change": ("2022-12", "2025-01")}])
def test_the_shipped_file_reversed_gives_the_same_page(b: api.Boundaries, tmp_path: Path, view: dict) -> None:
    text = NA.read_text(encoding="utf-8").splitlines()
    reversed_file = tmp_path / "reversed.csv"
    reversed_file.write_text("\n".join([text[0], *text[:0:-1]]) + "\n", encoding="utf-8")
    pages = [render_html(api.map_files([path], MapSpec(preset="north-america"), boundaries=b, **view).built)
             for path in (NA, reversed_file)]
    assert pages[0] == pages[1]


def test_a_site_reported_at_zero_is_removed_and_its_region_is_zero_not_no_data(b: api.Boundaries, tmp_path: Path) -> None:
    path = tmp_path / "closure.csv"
    path.write_text("operator,site,region,country,capacity_mw,status,as_of\n"
                    "Hut,Drumheller,AB,CA,18.7,operational,2018-03\nHut,Drumheller,AB,CA,0,operational,2024-05\n"
                    "Hut,Medicine Hat,AB,CA,40,operational,2024-02\n", encoding="utf-8")
    mapped = api.load_facilities(path, boundaries=b)
    change = capacity_change(mapped, "2023-12", "2024-06", gazetteer=b.gazetteer)
    assert change.facilities.set_index("site")["change"].to_dict() == {"Drumheller": "removed", "Medicine Hat": "added"}
    assert change.facilities.set_index("site").loc["Drumheller", ["capacity_mw", "capacity_change_mw"]].tolist() == [18.7, -18.7]
    assert change.values.set_index("iso_3166_2")["value"].to_dict() == {"CA-AB": pytest.approx(21.3)}
    steps = capacity_steps(api.load_facilities(path, boundaries=b, filters=Filters(operators=("Hut",), regions=("AB",))),
                           gazetteer=b.gazetteer, every="quarter")
    zero = api.load_facilities(path, boundaries=b, filters=Filters(as_of="2024-06", min_mw=None))
    assert sorted(zero.facilities["capacity_mw"]) == [0.0, 40.0] and steps.steps[-1] == "2024-Q2"


@pytest.mark.parametrize(("path", "preset", "every"), [(FILE, "north-america", "month"), (NA, "us", "quarter"), (NA, "canada", "month")])
def test_every_step_is_the_map_of_that_date(b: api.Boundaries, path: Path, preset: str, every: str) -> None:
    area = api.preset_area(preset)
    steps = capacity_steps(api.load_facilities(path, boundaries=b, area=area), gazetteer=b.gazetteer, every=every)  # type: ignore[arg-type]
    for step in steps.steps[::5] + steps.steps[-1:]:
        one = api.load_facilities(path, boundaries=b, area=area, filters=Filters(as_of=step_end(step)))
        assert steps.facilities[steps.facilities["month"] == step].drop(columns="month").reset_index(drop=True).equals(one.facilities)
        assert steps.pipeline[steps.pipeline["month"] == step].drop(columns="month").reset_index(drop=True).equals(one.pipeline)
        here = steps.values[steps.values["month"] == step]
        assert by_region(here) == by_region(api.map_files([path], MapSpec(preset=preset), boundaries=b,
                                                          filters=Filters(as_of=step_end(step))).layers.values)


BUILT = """operator,site,country,region,latitude,longitude,capacity_mw,status,as_of,source_url
Hut,Culberson,US,TX,31.04,-104.83,63,under_construction,2024-02-27,https://hut.example/a
Hut,Culberson,US,TX,31.04,-104.83,63,operational,2024-04,https://hut.example/b
Riot,Corsicana,US,TX,32.08,-96.46,1000,planned,2022-10-19,https://riot.example/a
Riot,Corsicana,US,TX,32.08,-96.46,400,operational,2025-01-22,https://riot.example/b
Wulf,Lake,US,NY,43.35,-78.61,150,operational,2024-06,https://wulf.example/a
Wulf,Lake,US,NY,43.35,-78.61,200,under_construction,2024-06,https://wulf.example/b
"""


def test_a_build_a_later_figure_reports_done_leaves_the_pipeline_and_is_never_counted_twice(b: api.Boundaries, tmp_path: Path) -> None:
    path = tmp_path / "built.csv"
    path.write_text(BUILT, encoding="utf-8")
    mapped = api.load_facilities(path, boundaries=b)
    # Culberson's 63 MW under construction became its 63 MW operational: not in the pipeline any more.
    # Corsicana's 1,000 MW plan is only partly built (400 MW): it stays. Lake's expansion, reported on the
    # same date as its running capacity, stays.
    assert sorted(zip(mapped.pipeline["site"], mapped.pipeline["capacity_mw"])) == [("Corsicana", 1000.0), ("Lake", 200.0)]
    assert lines(mapped.reconciliation)["superseded by a newer figure"] == (1, 63.0) and mapped.reconciliation.balanced
    # counting both statuses adds Culberson once (63 MW), not twice
    both = api.load_facilities(path, boundaries=b, filters=Filters(statuses=("operational", "under_construction")))
    assert sorted(zip(both.facilities["site"], both.facilities["capacity_mw"])) == [("Corsicana", 400.0), ("Culberson", 63.0), ("Lake", 150.0), ("Lake", 200.0)]
    # before the build was reported done, it is in the pipeline; the steps agree month by month
    assert sorted(api.load_facilities(path, boundaries=b, filters=Filters(as_of="2024-03")).pipeline["site"]) == ["Corsicana", "Culberson"]
    steps = capacity_steps(mapped, gazetteer=b.gazetteer)
    pipe = steps.pipeline
    assert steps.steps[0] == "2024-04"  # the first operational figure
    assert sorted(pipe.loc[pipe["month"] == "2024-04", "site"]) == ["Corsicana"]
    assert sorted(pipe.loc[pipe["month"] == "2024-06", "site"]) == ["Corsicana", "Lake"]
