"""Coverage rollups as timelines (graph/rollups.py): a community's stored figures on any day equal the day-by-day
count of that day — checked on every day a figure changes and the day before it, for the dated hand-made street and
for the small demo city — and the step function itself is checked on spans worked out by hand."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from graph import history, rollups
from graph.driver import Graph
from graph.metrics import METRICS
from graph.migrations import migrate
from graph.validity import EVER, NEVER_ENDS
from loaders.demo import dataset_to_xlsx
from loaders.load import load_file
from tests import handmade_dated as hd
from tests.helpers import clear, data_of

GRID = f"WG-{hd.A}-01"
STORED = "MATCH (r:_Rollup) RETURN r.code AS code, properties(r) AS props ORDER BY code"


def d(text: str) -> date:
    return date.fromisoformat(text)


def test_touching_and_overlapping_spans_are_one() -> None:
    spans = [(d("2020-06-01"), d("2020-07-31")), (d("2020-03-01"), d("2020-05-31")), (d("2020-07-01"), d("2020-08-15"))]
    assert rollups._merged(spans) == [(d("2020-03-01"), d("2020-08-15"))]
    apart = [(d("2020-01-01"), d("2020-01-30")), (d("2020-02-01"), d("2020-02-02"))]  # 01-31 lies between
    assert rollups._merged(apart) == apart
    assert rollups._merged([(EVER, NEVER_ENDS), (d("2020-01-01"), d("2020-01-02"))]) == [(EVER, NEVER_ENDS)]


def test_a_timeline_counted_by_hand() -> None:
    """Three compounds: one always there and always covered; one there in 2020 only, covered from March to
    August (two touching spans and an overlapping one); one there from 2021 on, never covered."""
    t = rollups.Timeline()
    t.add("compounds", EVER, NEVER_ENDS, [(EVER, NEVER_ENDS)], 1)
    covering = [
        (d("2020-03-01"), d("2020-05-31")),
        (d("2020-06-01"), d("2020-07-31")),
        (d("2020-07-01"), d("2020-08-15")),
    ]
    t.add("compounds", d("2020-01-01"), d("2020-12-31"), covering, 1)
    t.add("compounds", d("2021-01-01"), NEVER_ENDS, [], 1)
    props = t.props(d("2021-06-01"))
    # 2021-01-01 is no change of units (one compound ends the day before, another starts) and is dropped
    assert props["days"] == [EVER, d("2020-01-01"), d("2020-03-01"), d("2020-08-16")]
    assert props["units_compounds"] == [1, 2, 2, 2]
    assert props["covered_compounds"] == [1, 1, 2, 1]
    assert props["units_households"] == [0, 0, 0, 0]
    assert t.at(d("2021-06-01"))["compounds"] == (2, 1)
    assert t.at(d("2019-12-31"))["compounds"] == (1, 1)
    assert props["version"] == rollups.VERSION
    # the current stretch: the one holding the day the rollup is made, its figures as plain properties
    assert (props["currentFrom"], props["currentUntil"]) == (d("2020-08-16"), NEVER_ENDS)
    assert (props["now_units_compounds"], props["now_covered_compounds"]) == (2, 1)
    earlier = t.props(d("2020-04-01"))
    assert (earlier["currentFrom"], earlier["currentUntil"]) == (d("2020-03-01"), d("2020-08-15"))
    assert (earlier["now_units_compounds"], earlier["now_covered_compounds"]) == (2, 2)


async def _stored(graph: Graph) -> dict[str, dict[str, Any]]:
    rows = await graph.read_rows(STORED)
    return {r["code"]: r["props"] for r in rows}


def _on(props: dict[str, Any], key: str, day: date) -> tuple[int, int]:
    """What a read takes from the stored timeline on `day`."""
    i = sum(1 for t in props["days"] if t.to_native() <= day) - 1
    return props[rollups.units_property(key)][i], props[rollups.covered_property(key)][i]


async def _live(graph: Graph, codes: list[str], day: date) -> dict[tuple[str, str], tuple[int, int]]:
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for m in METRICS:
        rows = await graph.read_rows(rollups.rollup_query(m.key), {"codes": codes, "asOf": day.isoformat()})
        out |= {(r["community"], m.key): (r["units"], r["covered"]) for r in rows}
    return out


async def _agree_every_change_day(graph: Graph, most: int) -> int:
    """Compare the stored timelines with the day-by-day count on each change day and the day before it (at most
    `most` of those days, drawn at random); the number of days compared."""
    stored = await _stored(graph)
    assert stored, "no rollups made"
    today = date.today()
    for props in stored.values():  # the current figures are the timeline's on the day they were made (today)
        assert props["currentFrom"].to_native() <= today <= props["currentUntil"].to_native()
        for m in METRICS:
            now = (props[f"now_{rollups.units_property(m.key)}"], props[f"now_{rollups.covered_property(m.key)}"])
            assert now == _on(props, m.key, today)
    codes = sorted(stored)
    days = {t.to_native() for props in stored.values() for t in props["days"][1:]}
    days |= {x - timedelta(days=1) for x in days} | {date.today()}
    chosen = sorted(days) if len(days) <= most else sorted(random.Random(23).sample(sorted(days), most))
    for day in chosen:
        live = await _live(graph, codes, day)
        for code, props in stored.items():
            for m in METRICS:
                assert _on(props, m.key, day) == live.get((code, m.key), (0, 0)), (code, m.key, day)
    return len(chosen)


@pytest.fixture
async def dated_street(graph: Graph, tmp_path: Path) -> None:
    await migrate(graph)
    await clear(graph)
    path = tmp_path / "handmade_dated.xlsx"
    dataset_to_xlsx(hd.dataset(), path)
    assert (await load_file(path, graph)).skipped == 0


async def test_the_dated_street_agrees_on_every_day_it_changes(graph: Graph, dated_street: None) -> None:
    compared = await _agree_every_change_day(graph, most=1000)
    assert compared >= 2 * len(hd.DATES)  # the street's dated facts make many change days


async def test_the_small_city_agrees_on_its_change_days(graph: Graph, small: dict[str, Any]) -> None:
    assert await _agree_every_change_day(graph, most=40) == 40


def test_series_days_are_period_ends_between_the_first_and_the_last() -> None:
    assert history.series_days(d("2025-01-01"), d("2025-04-10"), history.Every.MONTH) == [
        d("2025-01-01"), d("2025-01-31"), d("2025-02-28"), d("2025-03-31"), d("2025-04-10")]  # fmt: skip
    assert history.series_days(d("2023-12-31"), d("2024-12-31"), history.Every.QUARTER) == [
        d("2023-12-31"), d("2024-03-31"), d("2024-06-30"), d("2024-09-30"), d("2024-12-31")]  # fmt: skip
    assert history.series_days(d("2020-05-05"), d("2022-05-05"), history.Every.YEAR) == [
        d("2020-05-05"), d("2020-12-31"), d("2021-12-31"), d("2022-05-05")]  # fmt: skip
    assert history.series_days(d("2020-05-05"), d("2020-05-05"), history.Every.YEAR) == [d("2020-05-05")]
    assert len(history.series_days(d("2016-12-31"), d("2026-12-31"), history.Every.MONTH)) == history.MAX_POINTS
    with pytest.raises(history.TooManyPoints):
        history.series_days(d("2016-12-30"), d("2026-12-31"), history.Every.MONTH)
    with pytest.raises(ValueError, match="before"):
        history.series_days(d("2020-01-02"), d("2020-01-01"), history.Every.MONTH)


HISTORY = """query($s: String!, $f: Date, $t: Date, $e: Period!) {
  coverageHistory(scope: $s, from: $f, to: $t, every: $e) {
    scope { code name } points { asOf figures { metric units covered } } } }"""
COVERAGE = (
    "query($s: String!, $d: Date) { coverage(scope: $s, asOf: $d) { scope { figures { metric units covered } } } }"
)


async def test_a_history_is_the_coverage_of_each_of_its_days(client: AsyncClient, dated_street: None) -> None:
    """At every level — city, street, community (rollups) and grid (counted) — each point of a quarterly history
    from before anything to today equals `coverage` asked for that day alone."""
    for scope in (hd.CITY, hd.S, hd.A, GRID):
        got = (await data_of(client, HISTORY, s=scope, f="2014-06-30", t=date.today().isoformat(), e="QUARTER"))[
            "coverageHistory"
        ]
        assert got["scope"]["code"] == scope
        assert got["scope"]["name"]
        days = [p["asOf"] for p in got["points"]]
        assert days[0] == "2014-06-30"
        assert days[-1] == date.today().isoformat()
        assert len(days) > 40
        changed = {str(p["figures"]) for p in got["points"]}
        assert len(changed) > 2, scope  # the street changes over the years (else this proves little)
        for point in got["points"]:
            alone = await data_of(client, COVERAGE, s=scope, d=point["asOf"])
            assert point["figures"] == alone["coverage"]["scope"]["figures"], (scope, point["asOf"])


async def test_a_history_refuses_a_series_too_long_or_backwards(client: AsyncClient, dated_street: None) -> None:
    response = await client.post("/graphql", json={"query": HISTORY, "variables": {
        "s": hd.S, "f": "1990-01-01", "t": "2026-01-01", "e": "MONTH"}})  # fmt: skip
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "121" in error["message"]
    assert " / " in error["message"]
    response = await client.post("/graphql", json={"query": HISTORY, "variables": {
        "s": hd.S, "f": "2020-01-01", "t": "2019-01-01", "e": "YEAR"}})  # fmt: skip
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "早于" in error["message"]
