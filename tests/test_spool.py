"""Spooled validation: a plan spilled to disk holds exactly what an in-memory plan holds."""

from __future__ import annotations

from pathlib import Path

from core.model import SHEETS
from loaders.demo import write_demo
from loaders.read import read_input
from loaders.spool import Budget, Spool
from loaders.validate import _AREA_SLOTS, Plan, build_plan


def _contents(plan: Plan) -> dict[str, list[tuple[object, ...]]]:
    return {
        key: [(r.number, r.code, r.props, r.resolved, r.area, r.bad) for chunk in plan.chunks(key) for r in chunk]
        for key in plan.rows
    }


async def test_a_spilled_plan_equals_an_in_memory_one(tmp_path: Path) -> None:
    folder = tmp_path / "small"
    write_demo("small", 5, folder)
    in_memory = await build_plan(read_input(folder), None)
    spilled = await build_plan(read_input(folder), None, Budget(rows=1_000))
    assert not any(s.spilled for s in in_memory.rows.values())
    assert sum(s.spilled for s in spilled.rows.values()) >= 5  # most sheets went to disk
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


async def test_the_code_index_packs_each_rows_number_and_area_and_names_written_nodes_by_id(tmp_path: Path) -> None:
    folder = tmp_path / "small"
    write_demo("small", 5, folder)
    plan = await build_plan(read_input(folder), None, Budget(rows=1_000))
    areas: dict[int, tuple[tuple[str, str], ...]] = {}  # area id in the index -> the area its rows hold
    for sheet in (s for s in SHEETS if s.is_node and s.key in plan.rows):
        table = plan.codes[sheet.label]
        for row in plan.valid_rows(sheet.key):
            number, area_id = divmod(table[row.code], _AREA_SLOTS)
            assert number == row.number
            assert areas.setdefault(area_id, tuple(sorted(row.area.items()))) == tuple(sorted(row.area.items()))
    assert len(set(areas.values())) == len(areas) >= 4  # one id per distinct area path, every level

    buildings = plan.valid_rows("Building")
    ref = plan.refs("Building")
    assert [ref(r.code) for r in buildings] == [r.code for r in buildings]  # nothing written yet: by code
    for lane in (buildings[1::2], buildings[::2]):  # batches come back out of row order
        plan.record_ids("Building", [r.number for r in lane], [r.number * 7 for r in lane])
    assert [ref(r.code) for r in buildings] == [r.number * 7 for r in buildings]
    assert plan.refs("Building")("LD-000000000000-0000") == "LD-000000000000-0000"  # not in this load
    plan.close()


async def test_a_reference_named_twice_in_a_row_keeps_its_id_and_a_later_write_is_seen(tmp_path: Path) -> None:
    """`Plan.refs` remembers the last code it named by id (households come by building): the same code again
    gets the same id; a code it named by code, because its node was not written yet, gets the id once written."""
    folder = tmp_path / "small"
    write_demo("small", 5, folder)
    plan = await build_plan(read_input(folder), None, Budget(rows=1_000))
    first, second = plan.valid_rows("Building")[:2]
    ref = plan.refs("Building")
    plan.record_ids("Building", [first.number], [41])
    assert [ref(first.code), ref(first.code), ref(second.code)] == [41, 41, second.code]
    plan.record_ids("Building", [second.number], [42])
    assert [ref(second.code), ref(second.code), ref(first.code), ref(second.code)] == [42, 42, 41, 42]
    assert ref("") == ""  # nothing cached answers for a code never named
    plan.close()
