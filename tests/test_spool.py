"""Spooled validation: a plan spilled to disk holds exactly what an in-memory plan holds."""

from __future__ import annotations

from pathlib import Path

from core.model import SHEETS
from loaders.demo import write_demo
from loaders.plan import Plan, build_plan
from loaders.read import read_input
from loaders.spool import Budget, Spool
from loaders.written import WrittenNodes


def _contents(plan: Plan) -> dict[str, list[tuple[object, ...]]]:
    return {
        key: [(r.number, r.code, r.props, r.resolved, r.area, r.bad) for chunk in plan.chunks(key) for r in chunk]
        for key in (s.key for s in SHEETS)
    }


async def test_a_spilled_plan_equals_an_in_memory_one(tmp_path: Path) -> None:
    folder = tmp_path / "small"
    write_demo("small", 5, folder)
    in_memory = await build_plan(read_input(folder), None)
    spilled = await build_plan(read_input(folder), None, Budget(rows=1_000))
    assert not any(in_memory.store.spilled(s.key) for s in SHEETS)
    assert sum(spilled.store.spilled(s.key) for s in SHEETS) >= 5  # most sheets went to disk
    assert in_memory.problems == spilled.problems == []
    assert _contents(spilled) == _contents(in_memory)
    assert sum(len(v) for v in _contents(in_memory).values()) == in_memory.row_count > 10_000
    spilled.close()


def test_spool_reads_back_in_order_and_returns_its_budget() -> None:
    budget = Budget(rows=3)
    spool: Spool[int] = Spool(budget)
    for chunk in ([1, 2], [3, 4], [5], [6, 7, 8]):
        spool.add(chunk)
    assert list(spool) == [1, 2, 3, 4, 5, 6, 7, 8] == list(spool)  # readable twice
    assert len(spool) == 8
    assert spool.spilled
    assert budget.rows == 0
    spool.close()
    assert budget.rows == 3
    assert list(spool) == []


async def test_the_code_index_knows_each_codes_row_and_area_and_written_nodes_are_named_by_id(tmp_path: Path) -> None:
    folder = tmp_path / "small"
    write_demo("small", 5, folder)
    plan = await build_plan(read_input(folder), None, Budget(rows=1_000))
    index, paths = plan.index, set()
    for sheet in (s for s in SHEETS if s.is_node and plan.count(s.key)):
        for row in plan.valid_rows(sheet.key):
            assert index.row_number(sheet.label, row.code) == row.number
            assert index.area(sheet.label, row.code) == row.area
            paths.add(tuple(sorted(row.area.items())))
    kept = [tuple(sorted(area.items())) for area in index.areas]
    assert len(set(kept)) == len(kept) >= 4  # each area path once, every level
    assert paths <= set(kept)
    assert index.row_number("Building", "LD-000000000000-0000") is None

    nodes = WrittenNodes(index)
    buildings = plan.valid_rows("Building")
    name = nodes.namer("Building")
    assert [name(r.code) for r in buildings] == [r.code for r in buildings]  # nothing written yet: by code
    for part in (buildings[1::2], buildings[::2]):  # batches come back out of row order
        nodes.record("Building", [r.number for r in part], [r.number * 7 for r in part])
    assert [name(r.code) for r in buildings] == [r.number * 7 for r in buildings]
    assert nodes.namer("Building")("LD-000000000000-0000") == "LD-000000000000-0000"  # not in this load
    plan.close()


async def test_a_node_named_twice_in_a_row_keeps_its_id_and_a_later_write_is_seen(tmp_path: Path) -> None:
    """A namer remembers the last code it named by id (households come by building): the same code again gets
    the same id; a code it named by code, because its node was not written yet, gets the id once written."""
    folder = tmp_path / "small"
    write_demo("small", 5, folder)
    plan = await build_plan(read_input(folder), None, Budget(rows=1_000))
    nodes = WrittenNodes(plan.index)
    first, second = plan.valid_rows("Building")[:2]
    name = nodes.namer("Building")
    nodes.record("Building", [first.number], [41])
    assert [name(first.code), name(first.code), name(second.code)] == [41, 41, second.code]
    nodes.record("Building", [second.number], [42])
    assert [name(second.code), name(second.code), name(first.code), name(second.code)] == [42, 42, 41, 42]
    assert name("") == ""  # nothing remembered answers for a code never named
    plan.close()
