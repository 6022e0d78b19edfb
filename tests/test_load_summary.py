"""A load's summary: exact counts on a reload (nothing created, updated or ended; every row unchanged)."""

from __future__ import annotations

import asyncio
import csv
import getpass
import hashlib
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from httpx import AsyncClient

from core.model import NODE_SHEETS, SHEETS, SHEETS_BY_KEY, link_phrase
from graph import imports
from graph.driver import Graph
from graph.gaps import all_gaps
from graph.migrations import migrate
from graph.scope import Scope
from graph.settings import Settings
from loaders.demo import generate, write_demo
from loaders.effect import Figures
from loaders.history import record_load
from loaders.load import LoadResult, load_file
from loaders.problems import InvalidInput, Problem
from loaders.wording import load_row, problems_phrase, summary_lines
from loaders.written import link_key
from tests.helpers import TEST_PASSWORD, bearer, clear, data_of, ensure_account, graph_counts

SEED = 11
#: This checkout (a worktree's `.venv/bin/grassroots` may run another checkout's code: `python -m cli` here).
HERE = Path(__file__).resolve().parents[1]


def _cli(settings: Settings, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`grassroots …` of this checkout against the suite's Neo4j."""
    env = {**os.environ, "NEO4J_URI": settings.neo4j_uri or "", "NEO4J_USER": "neo4j",
           "NEO4J_PASSWORD": TEST_PASSWORD, **(env or {})}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], cwd=HERE, env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


#: Rows left with their key alone (every property column blanked): a key-only row was counted twice.
BARE = {"UnitMembership": 2, "Household": 1}


def _blank(folder: Path, key: str, count: int) -> None:
    """Blank every property column but the code of the sheet's first `count` rows (its links stay)."""
    path = folder / f"{key}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    blank = {c.zh for c in SHEETS_BY_KEY[key].columns if c.name != "code"}
    positions = [i for i, header in enumerate(rows[0]) if header in blank]
    assert positions, key
    for row in rows[1 : 1 + count]:
        for i in positions:
            row[i] = ""
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo as a CSV folder, with the `BARE` rows' property columns blanked."""
    out = tmp_path_factory.mktemp("summary") / "small"
    write_demo("small", SEED, out)
    for key, count in BARE.items():
        _blank(out, key, count)
    return out


@pytest.fixture(scope="module")
async def reloaded(graph: Graph, folder: Path) -> tuple[LoadResult, LoadResult]:
    """The small demo loaded into an emptied graph, then the same folder loaded again: both results."""
    await migrate(graph)
    await clear(graph)
    first = await load_file(folder, graph, measure_effect=True)
    second = await load_file(folder, graph, measure_effect=True)
    return first, second


async def test_a_reload_counts_every_row_unchanged_and_nothing_else(reloaded: tuple[LoadResult, LoadResult]) -> None:
    rows = generate("small", SEED).rows
    first, second = reloaded
    for sheet in SHEETS:
        counts = (second.summary.nodes[sheet.label] if sheet.is_node else second.summary.links[sheet.key]).copy()
        expected = {"unchanged": len(rows[sheet.key])} if rows[sheet.key] else {}
        assert +counts == expected, sheet.key  # `+` drops zero counts
        made = first.summary.nodes[sheet.label] if sheet.is_node else first.summary.links[sheet.key]
        assert +made == ({"created": len(rows[sheet.key])} if rows[sheet.key] else {}), sheet.key
    link_columns = {k: +c for k, c in second.summary.links.items() if k not in {s.key for s in SHEETS}}
    assert all(not c for c in link_columns.values()), link_columns  # no relationship made or ended
    assert second.summary.rows == sum(len(r) for r in rows.values())


async def test_the_effect_counts_the_scopes_gaps_before_and_after(
    graph: Graph, reloaded: tuple[LoadResult, LoadResult]
) -> None:
    first, second = reloaded
    assert first.effect is not None
    assert second.effect is not None
    assert first.effect.before == Figures()  # the district was not in the graph before its first load
    districts = generate("small", SEED).rows["District"]
    assert len(districts) == 1
    assert first.effect.scope == Scope("district", districts[0]["code"])  # its highest area sheet's one area
    listed: dict[str, int] = {}
    async for gap in all_gaps(graph, first.effect.scope, date.today().isoformat()):
        listed[gap.rule.kind] = listed.get(gap.rule.kind, 0) + 1
    assert {k: n for k, n in first.effect.after.gaps.items() if n} == listed  # counted in Cypher = listed one by one
    assert sum(listed.values()) > 0
    assert all(units >= covered for units, covered in first.effect.after.coverage.values())
    assert second.effect.before == second.effect.after == first.effect.after  # a reload changes no figure


def test_the_summary_reads_in_the_models_words(reloaded: tuple[LoadResult, LoadResult]) -> None:
    rows = generate("small", SEED).rows
    first, _ = reloaded
    assert first.effect is not None
    lines = summary_lines(first.summary, first.seconds, first.effect)
    text = "\n".join(lines)
    for sheet in SHEETS:
        if rows[sheet.key]:
            unit = "" if sheet.is_node else " 条"
            assert any(line.startswith(f"{sheet.zh} / ") and f"新增 {len(rows[sheet.key]):,}{unit}" in line
                       for line in lines), sheet.key  # fmt: skip
    for sheet in NODE_SHEETS:
        for link in sheet.links:
            for target in link.targets:
                made = first.summary.links[link_key(sheet.label, link, target)]["created"]
                if made:
                    zh, en = link_phrase(sheet.label, link, target)
                    assert f"{zh} / {en}: 新增 {made:,} 条" in text
    assert "->" not in text
    assert "阶段" not in text
    assert "空白点 0 → " in text
    verbose = summary_lines(first.summary, first.seconds, first.effect, verbose=True)
    assert verbose[:-1] == lines
    assert verbose[-1].startswith("阶段 / phases: nodes ")


def test_problems_are_counted_in_words() -> None:
    assert problems_phrase(1) == "1 个问题 / 1 problem"
    assert problems_phrase(2) == "2 个问题 / 2 problems"
    one = Problem("Grid.csv", 2, "A", "", "甲", "a")
    assert str(InvalidInput([one])) == "1 个问题,未写入任何数据 / 1 problem: nothing was written"
    assert "/ 2 problems: nothing" in str(InvalidInput([one, one]))


async def test_grassroots_load_prints_what_changed(
    graph: Graph, settings: Settings, reloaded: tuple[LoadResult, LoadResult], tmp_path: Path
) -> None:
    community = generate("small", SEED).rows["Community"][0]["code"]
    folder = tmp_path / "grid"
    folder.mkdir()
    headers = ",".join(item.zh for item in SHEETS_BY_KEY["Grid"].items)
    (folder / "Grid.csv").write_text(f"{headers}\nWG-{community}-91,新网格,{community},,\n", encoding="utf-8")
    done = await asyncio.to_thread(_cli, settings, "load", str(folder))
    assert done.returncode == 0, done.stderr
    assert "网格 / grid: 新增 1 / created 1" in done.stdout
    assert "网格属于社区 / grid in community: 新增 1 条 / created 1" in done.stdout
    assert f"范围 {community} / scope community {community}" in done.stdout
    assert "阶段" not in done.stdout
    verbose = await asyncio.to_thread(_cli, settings, "load", "--verbose", str(folder))
    assert "网格 / grid: 未变 1 / unchanged 1" in verbose.stdout
    assert "阶段 / phases: " in verbose.stdout
    unknown = community[:9] + "999"  # a well-formed community code the graph does not hold
    (folder / "Grid.csv").write_text(f"{headers}\nWG-{unknown}-92,新网格,{unknown},,\n", encoding="utf-8")
    refused = await asyncio.to_thread(_cli, settings, "load", str(folder))
    assert refused.returncode == 1
    assert "1 个问题,未写入任何数据 / 1 problem: nothing was written" in refused.stderr


HISTORY = """{ imports(first: 10) { id file sha256 actor actorKind scope rows
  counts { sheet name created updated unchanged ended } gaps { kind before after opened closed }
  coverage { metric unitsBefore coveredBefore unitsAfter coveredAfter } previous { id previous { id } } } }"""


def _sha256_of_folder(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in sorted(p.name for p in folder.iterdir() if p.suffix == ".csv"):
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes())
    return digest.hexdigest()


async def test_loads_are_recorded_and_listed_newest_first(
    graph: Graph,
    settings: Settings,
    client: AsyncClient,
    anonymous: AsyncClient,
    reloaded: tuple[LoadResult, LoadResult],
    folder: Path,
) -> None:
    first, second = reloaded
    await graph.write_rows("MATCH (l:_Load) DETACH DELETE l")
    older, _ = await record_load(graph, folder, first, None)
    newer, _ = await record_load(graph, folder, second, "loader.someone")
    before = await graph_counts(graph)
    answer = (await data_of(client, HISTORY))["imports"]
    assert await graph_counts(graph) == before  # a read never writes
    assert [a["id"] for a in answer] == [newer, older]
    latest, earlier = answer
    assert latest["previous"] == {"id": older, "previous": None}
    assert (latest["actor"], latest["actorKind"]) == ("loader.someone", "account")
    assert (earlier["actor"], earlier["actorKind"]) == (getpass.getuser(), "os")
    assert latest["sha256"] == earlier["sha256"] == _sha256_of_folder(folder)
    assert latest["file"] == "small"
    rows = generate("small", SEED).rows
    assert latest["scope"] == rows["District"][0]["code"]
    assert latest["rows"] == sum(len(r) for r in rows.values())
    expected = [s.key for s in SHEETS if rows[s.key]]
    assert [c["sheet"] for c in latest["counts"]] == expected  # model order
    assert all(c["unchanged"] == len(rows[c["sheet"]]) and c["created"] == 0 for c in latest["counts"])
    assert all(c["created"] == len(rows[c["sheet"]]) for c in earlier["counts"])
    assert {g["kind"]: g["after"] for g in earlier["gaps"]} == first.effect.after.gaps  # type: ignore[union-attr]
    assert all(g["before"] == 0 for g in earlier["gaps"])
    assert all(g["before"] == g["after"] for g in latest["gaps"])
    assert all(g["opened"] is None and g["closed"] is None for g in answer[0]["gaps"] + answer[1]["gaps"])  # a district
    assert {c["metric"] for c in latest["coverage"]} == set(second.effect.after.coverage)  # type: ignore[union-attr]

    community = rows["Community"][0]["code"]
    await ensure_account(graph, "history.editor", "editor", community)
    await ensure_account(graph, "history.viewer", "viewer", community)
    inside = await anonymous.post("/graphql", json={"query": HISTORY}, headers=bearer(settings, "history.editor"))
    assert inside.json()["data"]["imports"] == []  # the city's loads do not lie inside a community
    viewer = await anonymous.post("/graphql", json={"query": HISTORY}, headers=bearer(settings, "history.viewer"))
    assert viewer.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    wide = {"COLUMNS": "250"}  # rich fits its table to the terminal's width
    listed = await asyncio.to_thread(_cli, settings, "loads", "--limit", "1", env=wide)
    assert listed.returncode == 0, listed.stderr
    assert "loader.someone" in listed.stdout
    assert listed.stdout.count(latest["sha256"][:12]) == 1  # --limit 1: the newest only
    both = await asyncio.to_thread(_cli, settings, "loads", env=wide)
    assert both.stdout.count(latest["sha256"][:12]) == 2
    assert both.stdout.index("loader.someone") < both.stdout.index("系统用户 / OS user")  # newest first


async def test_a_community_load_says_which_gaps_it_opened_and_closed(
    graph: Graph, client: AsyncClient, reloaded: tuple[LoadResult, LoadResult], tmp_path: Path
) -> None:
    """A new building group covering two buildings without one closes their gaps and opens its own (no central
    household yet): the summary's split equals the difference of the gap listings before and after."""
    district, today = Scope("district", generate("small", SEED).rows["District"][0]["code"]), date.today().isoformat()
    without: dict[str, list[str]] = {}
    async for gap in all_gaps(graph, district, today, ("building_without_group",)):
        without.setdefault(gap.community["code"] if gap.community else "", []).append(gap.code)
    community, buildings = max(without.items(), key=lambda item: len(item[1]))
    assert len(buildings) >= 2, without
    scope = Scope("community", community)
    before = {(g.rule.kind, g.code) async for g in all_gaps(graph, scope, today)}
    bare = sorted(buildings)[:2]
    branch = (await graph.read_rows(BRANCH_OF, {"community": community}))[0]["code"]
    folder = tmp_path / "group"
    folder.mkdir()
    headers = ",".join(item.zh for item in SHEETS_BY_KEY["BuildingGroup"].items)
    row = f"DXZ-{community}-9901,新党小组,{branch},{';'.join(bare)},,"
    (folder / "BuildingGroup.csv").write_text(f"{headers}\n{row}\n", encoding="utf-8")
    result = await load_file(folder, graph, measure_effect=True)
    after = {(g.rule.kind, g.code) async for g in all_gaps(graph, scope, today)}
    assert result.effect is not None
    assert result.effect.scope == scope
    opened, closed = after - before, before - after
    assert {("building_without_group", code) for code in bare} <= closed
    assert ("group_without_central_household", f"DXZ-{community}-9901") in opened
    assert result.effect.split_total() == (len(opened), len(closed))
    for kind in {k for k, _ in opened | closed}:
        assert result.effect.split(kind) == (sum(k == kind for k, _ in opened), sum(k == kind for k, _ in closed))
    text = "\n".join(summary_lines(result.summary, result.seconds, result.effect))
    assert f"空白点 {len(before):,} → {len(after):,}: 新增 {len(opened)}, 消除 {len(closed)}" in text
    assert f"{len(opened)} opened, {len(closed)} closed" in text
    loaded, _ = await record_load(graph, folder, result, None)
    stored = [e for e in await imports.loads(graph, scope, 50) if e["id"] == loaded]
    assert load_row(stored[0])[-1].endswith(f" (新增 {len(opened)}, 消除 {len(closed)})")  # `grassroots loads`
    listed = [e for e in (await data_of(client, SPLITS))["imports"] if e["id"] == loaded]
    assert [g for g in listed[0]["gaps"] if g["opened"] or g["closed"]] == [
        {"kind": kind, "opened": sum(k == kind for k, _ in opened), "closed": sum(k == kind for k, _ in closed)}
        for kind in sorted({k for k, _ in opened | closed})
    ]


SPLITS = "{ imports(first: 50) { id gaps { kind opened closed } } }"


BRANCH_OF = "MATCH (b:GridBranch) WHERE b.communityCode = $community RETURN b.code AS code ORDER BY b.code LIMIT 1"
