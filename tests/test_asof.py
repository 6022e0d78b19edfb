"""Coverage and gaps through time (issue 23): the API on three dates against a street counted by hand
(tests/handmade_dated.py). Each date is a test id of its own."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from httpx import AsyncClient

from core.model import GAP_KINDS
from graph.driver import Graph
from graph.migrations import migrate
from loaders.demo import dataset_to_xlsx
from loaders.load import load_file
from reports.audit import CLOSED_SHEET, COMPARE_SHEET, KIND_SHEET, NEW_SHEET
from tests import handmade_dated as hd
from tests.helpers import clear, data_of

DATES = [pytest.param(d, id=d.isoformat()) for d in hd.DATES]
COMMUNITIES = (hd.A, hd.B)

#: The metrics counted per grid below a community (their entities have a grid: graph/metrics.py GRID_OF);
#: serviceCenters and partnerReported count communities and have no grid breakdown.
GRID_METRICS = ("compounds", "buildings", "groups", "households", "propertyManaged", "membersReported")
METRICS = (*GRID_METRICS, "serviceCenters", "partnerReported")
#: The gap kind that lists each metric's uncovered units (partnerReported has none).
GAP_OF_METRIC = {
    "compounds": "compound_without_branch",
    "buildings": "building_without_group",
    "groups": "group_without_central_household",
    "households": "household_without_central_household",
    "propertyManaged": "compound_without_property_company",
    "serviceCenters": "community_without_service_center",
    "membersReported": "member_never_reported",
}
#: Kinds listed with the `kinds:` filter (each changes between the dates).
SOME_KINDS = (
    "household_without_central_household",
    "branch_under_three_full_members",
    "expired_committee_term",
    "unit_never_reported",
    "member_never_reported",
)


@pytest.fixture(scope="module")
async def loaded(graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dated hand-made street written as a workbook and loaded like any department's."""
    await migrate(graph)
    await clear(graph)
    path = tmp_path_factory.mktemp("handmade_dated") / "handmade_dated.xlsx"
    dataset_to_xlsx(hd.dataset(), path)
    result = await load_file(path, graph)
    assert result.skipped == 0
    return path


def _sum(figures: list[dict[str, tuple[int, int]]], metrics: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """Per metric, the sums of units and of covered over `figures`."""
    return {m: (sum(f[m][0] for f in figures), sum(f[m][1] for f in figures)) for m in metrics}


# ---------------------------------------------------------------- the hand count itself (no Neo4j)


@pytest.mark.parametrize("d", DATES)
def test_the_hand_count_adds_up(d: date) -> None:
    """The fixture's constants agree with each other: a slip of the pen shows here before any query runs."""
    gaps, codes, coverage = hd.GAPS[d], hd.GAP_CODES[d], hd.COVERAGE[d]
    assert tuple(gaps) == GAP_KINDS
    assert tuple(codes) == GAP_KINDS
    assert {k: len(v) for k, v in codes.items()} == gaps
    assert all(v == sorted(v) for v in codes.values())
    assert set(coverage) == set(COMMUNITIES) == set(hd.GRID_COVERAGE[d])
    for community in COMMUNITIES:
        assert set(coverage[community]) == set(METRICS)
        grids = hd.GRID_COVERAGE[d][community]
        assert all(set(f) == set(GRID_METRICS) for f in grids.values())
        assert _sum(list(grids.values()), GRID_METRICS) == {m: coverage[community][m] for m in GRID_METRICS}
    for metric, kind in GAP_OF_METRIC.items():
        assert sum(u - c for u, c in (coverage[x][metric] for x in COMMUNITIES)) == gaps[kind], metric


# ---------------------------------------------------------------- coverage

COVERAGE = """query($s: String!, $d: Date) {
  coverage(scope: $s, asOf: $d) {
    asOf
    scope { area { code } figures { metric units covered } }
    children { area { code } figures { metric units covered } }
  }
}"""


def _figures(area: dict) -> dict[str, tuple[int, int]]:
    return {f["metric"]: (f["units"], f["covered"]) for f in area["figures"]}


async def _coverage(client: AsyncClient, scope: str, d: date) -> tuple[dict, dict]:
    """(the scope's own figures, {child code: figures}) on `d`."""
    report = (await data_of(client, COVERAGE, s=scope, d=d.isoformat()))["coverage"]
    assert report["asOf"] == d.isoformat()
    return _figures(report["scope"]), {c["area"]["code"]: _figures(c) for c in report["children"]}


@pytest.mark.parametrize("d", DATES)
async def test_coverage_per_community_is_the_hand_count(client: AsyncClient, loaded: Path, d: date) -> None:
    _, children = await _coverage(client, hd.S, d)
    assert children == hd.COVERAGE[d]


@pytest.mark.parametrize("d", DATES)
async def test_coverage_per_grid_is_the_hand_count(client: AsyncClient, loaded: Path, d: date) -> None:
    for community in COMMUNITIES:
        _, children = await _coverage(client, community, d)
        assert children == hd.GRID_COVERAGE[d][community], community


@pytest.mark.parametrize("d", DATES)
async def test_a_parent_is_the_sum_of_its_children(client: AsyncClient, loaded: Path, d: date) -> None:
    street, communities = await _coverage(client, hd.S, d)
    assert street == _sum(list(communities.values()), METRICS)
    assert street == _sum([hd.COVERAGE[d][c] for c in COMMUNITIES], METRICS)
    for community in COMMUNITIES:
        own, grids = await _coverage(client, community, d)
        assert own == communities[community], community  # the live count agrees with the street's rollups
        assert {m: own[m] for m in GRID_METRICS} == _sum(list(grids.values()), GRID_METRICS), community


# ---------------------------------------------------------------- gaps


@pytest.mark.parametrize("d", DATES)
async def test_gap_counts_are_the_hand_count(client: AsyncClient, loaded: Path, d: date) -> None:
    query = "query($s: String!, $d: Date) { gaps(scope: $s, first: 0, asOf: $d) { totalCount counts { kind count } } }"
    result = (await data_of(client, query, s=hd.S, d=d.isoformat()))["gaps"]
    assert {c["kind"]: c["count"] for c in result["counts"]} == hd.GAPS[d]
    assert result["totalCount"] == sum(hd.GAPS[d].values())


LIST = """query($s: String!, $d: Date, $k: [GapKind!]) {
  gaps(scope: $s, first: 50, asOf: $d, kinds: $k) {
    totalCount
    edges { node { kind entity { code } } }
    pageInfo { hasNextPage }
  }
}"""


async def _listed(client: AsyncClient, d: date, kinds: list[str] | None) -> dict[str, list[str]]:
    """{kind: entity codes, sorted} of the gaps listed on `d` (one page holds them all)."""
    result = (await data_of(client, LIST, s=hd.S, d=d.isoformat(), k=kinds))["gaps"]
    assert result["pageInfo"]["hasNextPage"] is False
    assert len(result["edges"]) == result["totalCount"]
    listed: dict[str, list[str]] = {}
    for edge in result["edges"]:
        listed.setdefault(edge["node"]["kind"], []).append(edge["node"]["entity"]["code"])
    return {kind: sorted(codes) for kind, codes in listed.items()}


@pytest.mark.parametrize("d", DATES)
async def test_every_listed_gap_is_a_hand_found_one(client: AsyncClient, loaded: Path, d: date) -> None:
    assert await _listed(client, d, None) == {k: v for k, v in hd.GAP_CODES[d].items() if v}


@pytest.mark.parametrize("d", DATES)
async def test_gaps_of_some_kinds_are_the_hand_found_ones(client: AsyncClient, loaded: Path, d: date) -> None:
    listed = await _listed(client, d, list(SOME_KINDS))
    assert listed == {k: hd.GAP_CODES[d][k] for k in SOME_KINDS if hd.GAP_CODES[d][k]}


# ---------------------------------------------------------------- the audit workbook's comparison (--compare-to)


@pytest.mark.parametrize(("then", "now"), [(hd.D1, hd.D2), (hd.D2, hd.D3)], ids=["first-middle", "middle-today"])
async def test_the_comparison_sheets_are_the_hand_counts_of_both_days(
    client: AsyncClient, loaded: Path, then: date, now: date
) -> None:
    """`/reports/audit.xlsx?compareTo=`: the street's figures then and now are the hand counts, the gap counts
    too, and the gaps new and closed are the hand-found lists' differences."""
    response = await client.get(f"/reports/audit.xlsx?scope={hd.S}&asOf={now}&compareTo={then}")
    assert response.status_code == 200
    assert f"{then}-vs-{now}" in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = [r for r in book[COMPARE_SHEET].iter_rows(values_only=True) if r and r[0] and str(r[0]).startswith("街道")]
    street = {r[4]: ((r[5], r[6]), (r[8], r[9])) for r in rows if r[1] == hd.S}
    for m in METRICS:
        hand = {d: _sum([hd.COVERAGE[d][c] for c in COMMUNITIES], (m,))[m] for d in (then, now)}
        assert street[m] == (hand[then], hand[now]), m
    counts = {r[6]: r[1:6] for r in book[COMPARE_SHEET].iter_rows(values_only=True) if r and r[-1] in GAP_KINDS}
    codes = {d: {(k, c) for k, cs in hd.GAP_CODES[d].items() for c in cs} for d in (then, now)}
    for kind in GAP_KINDS:
        n_then, n_now = hd.GAPS[then][kind], hd.GAPS[now][kind]
        new = sum(k == kind for k, _ in codes[now] - codes[then])
        closed = sum(k == kind for k, _ in codes[then] - codes[now])
        assert counts[kind] == (n_then, n_now, new, closed, n_now - n_then), kind

    def listed(sheet: str) -> set[tuple[str, str]]:
        kind_of = {v: k for k, v in KIND_SHEET.items()}
        rows = book[sheet].iter_rows(values_only=True)
        return {(kind_of[r[1]], r[7]) for r in rows if len(r) > 7 and r[1] in kind_of}

    assert listed(NEW_SHEET) == codes[now] - codes[then]
    assert listed(CLOSED_SHEET) == codes[then] - codes[now]
    assert codes[now] ^ codes[then], "the two days have the same gaps: the comparison would prove little"


# ---------------------------------------------------------------- changes(scope, from, to)

CHANGES = """query($s: String!, $f: Date, $t: Date, $n: Int!, $a: String) {
  changes(scope: $s, from: $f, to: $t, first: $n, after: $a) {
    auditIncluded
    edges { cursor node { day kind field entity { type code } relation related { code } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
#: A row's date columns, as the workbook names them, and the property each becomes.
DATE_COLUMNS = {"since": "since", "until": "until", "joined_at": "joinedAt", "raised_at": "raisedAt", "date": "date"}


def _expected_changes(first: date, last: date) -> set[tuple[str, str, str | None, str, str]]:
    """(type or sheet, entity code, related code, column, day) of every dated value in the period, read from the
    rows the street was loaded from (not from the graph)."""
    from core.model import SHEETS_BY_KEY

    out = set()
    for key, rows in hd.dataset().rows.items():
        sheet = SHEETS_BY_KEY[key]
        for row in rows:
            codes = [v for k, v in row.items() if k.endswith("_code")]
            for column, field in DATE_COLUMNS.items():
                day = row.get(column)
                if isinstance(day, date) and first <= day <= last:
                    if sheet.is_node:
                        if sheet.area_level or sheet.parent is not None:
                            out.add((sheet.label, row["code"], None, field, day.isoformat()))
                    else:
                        out.add((f"{sheet.zh} / {sheet.key}", codes[1], codes[0], field, day.isoformat()))
    return out


async def test_changes_are_the_dated_values_of_the_period_paged_without_loss(client: AsyncClient, loaded: Path) -> None:
    first, last = date(2018, 1, 1), date(2024, 12, 31)
    expected = _expected_changes(first, last)
    assert len(expected) > 20  # the street's history is rich enough to page through
    seen: list[dict] = []
    after = None
    for _ in range(50):
        page = (await data_of(client, CHANGES, s=hd.S, f=first.isoformat(), t=last.isoformat(), n=7, a=after))[
            "changes"
        ]
        assert page["auditIncluded"] is True  # the suite's admin may read the audit log (no edits filed here)
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    got = [
        (n["relation"] or n["entity"]["type"], n["entity"]["code"], (n["related"] or {}).get("code"), n["field"],
         n["day"])
        for n in seen
    ]  # fmt: skip
    assert len(got) == len(set(got))  # no change listed twice across pages
    assert set(got) == expected
    for n in seen:
        assert n["kind"] == ("ended" if n["field"] == "until" else "started")
    whole = (await data_of(client, CHANGES, s=hd.S, f=first.isoformat(), t=last.isoformat(), n=500))["changes"]
    assert [e["node"] for e in whole["edges"]] == seen  # pages concatenate to the one big page


async def test_changes_of_a_community_stay_inside_it(client: AsyncClient, loaded: Path) -> None:
    page = (await data_of(client, CHANGES, s=hd.A, f="1990-01-01", t=date.today().isoformat(), n=500))["changes"]
    codes = {e["node"]["entity"]["code"] for e in page["edges"]}
    assert codes
    assert all(hd.B not in code for code in codes)
    assert any(hd.A in code for code in codes)
