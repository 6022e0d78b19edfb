"""A load's summary: exact counts on a reload (nothing created, updated or ended; every row unchanged)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from core.model import SHEETS, SHEETS_BY_KEY
from graph.driver import Graph
from graph.migrations import migrate
from loaders.demo import generate, write_demo
from loaders.load import LoadResult, load_file
from tests.helpers import clear

SEED = 11
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
    first = await load_file(folder, graph)
    second = await load_file(folder, graph)
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
