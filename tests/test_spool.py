"""Spooled validation: a plan spilled to disk holds exactly what an in-memory plan holds."""

from __future__ import annotations

from pathlib import Path

from loaders.demo import write_demo
from loaders.read import read_input
from loaders.spool import Budget, Spool
from loaders.validate import Plan, build_plan


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
