"""Committee terms and full members through time (issue 23). A day before the current term began is judged by the
previous term (上届起始日期, the same years); a day before that is not judged. A full member counts as full from
the day confirmed (转正日期). The dated hand-made street with one committee's previous term and one member's
confirmation day given, counted by hand; the loader refuses either out of order, naming the cell."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from httpx import AsyncClient

from graph.driver import Graph
from graph.migrations import migrate
from loaders.demo import Dataset, dataset_to_xlsx
from loaders.load import load_file
from loaders.problems import InvalidInput
from tests import handmade_dated as hd
from tests.helpers import clear, data_of, graph_counts

#: Its current term began 2022-01-01 (5 years): on D2 (2021-06-30) it was in the term before.
COMMITTEE = f"SQDW-{hd.A}-01"
#: Joined 2022-07-01, a full member (正式党员) today: the seventh full member of BRANCH, which has no committee.
MEMBER, BRANCH = f"DY-{hd.B}-000007", f"DZB-{hd.B}-01"
NO_COMMITTEE = """query($s: String!, $d: Date) {
  gaps(scope: $s, asOf: $d, kinds: [branch_without_committee], first: 50) { edges { node { entity { code } } } }
}"""
EXPIRED = """query($s: String!, $d: Date) {
  gaps(scope: $s, asOf: $d, kinds: [expired_committee_term], first: 50) { edges { node { entity { code } } } }
}"""


def _with_previous(previous: date, confirmed: date = date(2023, 7, 1)) -> Dataset:
    """The dated street with COMMITTEE's previous term begun on `previous` and MEMBER confirmed on `confirmed`."""
    ds = hd.dataset()
    (row,) = [r for r in ds.rows["CommunityCommittee"] if r["code"] == COMMITTEE]
    assert row["term_start"] == date(2022, 1, 1)
    row["previous_term_start"] = previous
    (member,) = [r for r in ds.rows["PartyMember"] if r["code"] == MEMBER]
    assert (member["joined_at"], member["status"], member["branch_code"]) == (date(2022, 7, 1), "正式党员", BRANCH)
    member["full_since"] = confirmed
    return ds


@pytest.fixture(scope="module")
async def previous_term(graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The dated street, the committee's previous term begun 2015-06-01 (so it ran out on 2020-06-01)."""
    await migrate(graph)
    await clear(graph)
    path = tmp_path_factory.mktemp("terms") / "terms.xlsx"
    dataset_to_xlsx(_with_previous(date(2015, 6, 1)), path)
    assert (await load_file(path, graph)).skipped == 0


@pytest.mark.parametrize("day", hd.DATES, ids=[d.isoformat() for d in hd.DATES])
async def test_a_day_before_the_current_term_is_judged_by_the_previous_one(
    client: AsyncClient, previous_term: None, day: date
) -> None:
    listed = (await data_of(client, EXPIRED, s=hd.S, d=day.isoformat()))["gaps"]["edges"]
    got = sorted(e["node"]["entity"]["code"] for e in listed)
    hand = list(hd.GAP_CODES[day]["expired_committee_term"])
    if day == hd.D2:  # 2015-06-01 + 5 years = 2020-06-01, before 2021-06-30; the new term began only in 2022
        hand = sorted([*hand, COMMITTEE])
    # D1 (2015-01-01) lies before the previous term too: not judged; D3 lies in the current term (to 2027)
    assert got == hand


@pytest.mark.parametrize(("day", "gap"), [(date(2023, 1, 1), False), (date(2024, 1, 1), True), (hd.D3, True)], ids=str)
async def test_a_member_counts_as_full_from_the_day_confirmed(
    client: AsyncClient, previous_term: None, day: date, gap: bool
) -> None:
    """BRANCH has six full members from 2017 and MEMBER, joined 2022-07-01 and confirmed 2023-07-01: seven full
    members and no committee (a gap) only from the confirmation on."""
    listed = (await data_of(client, NO_COMMITTEE, s=hd.S, d=day.isoformat()))["gaps"]["edges"]
    assert (BRANCH in {e["node"]["entity"]["code"] for e in listed}) is gap
    assert hd.GAP_CODES[hd.D3]["branch_without_committee"] == [BRANCH]  # the hand count agrees on D3


async def test_a_confirmation_before_joining_is_refused_naming_the_cell(
    graph: Graph, previous_term: None, tmp_path: Path
) -> None:
    path = tmp_path / "members.xlsx"
    dataset_to_xlsx(_with_previous(date(2015, 6, 1), confirmed=date(2022, 6, 30)), path)
    before = await graph_counts(graph)
    with pytest.raises(InvalidInput) as err:
        await load_file(path, graph)
    [problem] = err.value.problems
    assert problem.value == "2022-06-30"
    assert "转正日期" in problem.column
    assert "转正日期不能早于入党日期" in problem.reason_zh
    assert await graph_counts(graph) == before  # nothing written


async def test_a_previous_term_not_before_the_current_is_refused_naming_the_cell(
    graph: Graph, previous_term: None, tmp_path: Path
) -> None:
    path = tmp_path / "terms.xlsx"
    dataset_to_xlsx(_with_previous(date(2022, 1, 1)), path)
    before = await graph_counts(graph)
    with pytest.raises(InvalidInput) as err:
        await load_file(path, graph)
    [problem] = err.value.problems
    assert problem.value == "2022-01-01"
    assert "上届起始日期" in problem.column
    assert "上届起始日期应早于本届起始日期" in problem.reason_zh
    assert "the previous term must begin before the current one" in problem.reason_en
    assert await graph_counts(graph) == before  # nothing written
