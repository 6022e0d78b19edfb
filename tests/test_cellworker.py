"""Cells converted by the cell worker in a second process: the same plan, the same problems, no worker left behind."""

from __future__ import annotations

import csv
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from core.model import SHEETS
from loaders.cellworker import CellWorkerError
from loaders.demo import write_demo
from loaders.plan import CHUNK, Plan, build_plan
from loaders.problems import Problem
from loaders.read import read_input
from loaders.rowstore import Converter, RowStore
from loaders.spool import Budget
from loaders.write_nodes import record_links

IN_PROCESS = 1 << 62  # no input is that big: converted in this process
SHEET_KEYS = [s.key for s in SHEETS]


def _contents(plan: Plan) -> dict[str, list[tuple[object, ...]]]:
    return {
        key: [(r.number, r.code, r.props, r.resolved, r.area, r.bad) for chunk in plan.chunks(key) for r in chunk]
        for key in SHEET_KEYS
    }


def _named(targets: list[tuple[str, str]]) -> str | list[str] | None:
    """What a record carries for a link: None, one code, or a list."""
    codes = [code for _, code in targets]
    return None if not codes else codes[0] if len(codes) == 1 else codes


def _workers() -> list[int]:
    """Cell-conversion workers still running under this process."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and b"loaders.cellworker" in cmdline and stat[0] != "Z":
            found.append(int(pid))
    return found


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _edit(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell of a CSV file (row numbers as a spreadsheet shows them: the header is row 1)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[row - 1][rows[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


async def test_converting_ahead_gives_the_plan_converting_in_process_gives(tmp_path: Path) -> None:
    folder = tmp_path / "small"
    write_demo("small", 3, folder)
    here = await build_plan(read_input(folder), None, worker_min_bytes=IN_PROCESS)
    worker = await build_plan(read_input(folder), None, worker_min_bytes=0)
    assert here.problems == worker.problems == []
    assert _contents(worker) == _contents(here)
    assert worker.row_count == here.row_count > 10_000
    assert _workers() == []


async def test_node_values_stay_packed_until_the_writer_reads_them(tmp_path: Path) -> None:
    """Validation never reads a node's values: a converted chunk keeps them packed until the store hands it out."""
    folder = tmp_path / "small"
    write_demo("small", 3, folder)
    here = await build_plan(read_input(folder), None, worker_min_bytes=IN_PROCESS)
    data = read_input(folder)
    problems: list[Problem] = []
    with Converter(data, CHUNK, 0) as converter:
        raws = {raw.sheet.key: raw for raw in data.sheets}
        for key in [k for k in SHEET_KEYS[: SHEET_KEYS.index("Household")] if k in raws]:  # in model order
            for _ in converter.chunks(raws[key], problems):
                pass
        held = next(converter.chunks(raws["Household"], problems))
    assert held.packed
    with pytest.raises(TypeError, match="still packed"):
        held[0].props.get("code")
    store = RowStore()
    store.add(held)
    read = store.chunk("Household", 0)  # as the writer reads it
    assert read is held
    assert not held.packed
    assert [r.props for r in read] == [r.props for r in next(here.chunks("Household"))]
    assert read[0].props["code"] == read[0].code
    assert problems == []


async def test_problems_found_ahead_are_the_problems_found_in_process(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    write_demo("small", 3, folder)
    _edit(folder / "Household.csv", 5, "人口数", "-2")  # impossible number (a cell problem)
    _edit(folder / "Household.csv", 9, "所属楼栋编码", "")  # required value missing
    _edit(folder / "Building.csv", 3, "编码", "LD-BAD")  # bad code: its households name an unknown building
    _edit(folder / "PartyMember.csv", 4, "入党日期", "2019-02-30")  # no such date
    (folder / "Need.csv").write_bytes((folder / "Need.csv").read_bytes() + b"\xff\xfe bad bytes\n")  # not UTF-8
    # a household's central household: an unknown one, one of another community
    households = _rows(folder / "Household.csv")
    central = _rows(folder / "CentralHousehold.csv")
    other = next(c[0] for c in central[1:] if c[0].split("-")[1] != households[-1][0].split("-")[1])
    _edit(folder / "Household.csv", 7000, "联系党员中心户编码", "ZXH-420602001001-9999999")
    _edit(folder / "Household.csv", len(households), "联系党员中心户编码", other)
    here = await build_plan(read_input(folder), None, worker_min_bytes=IN_PROCESS)
    spilled = await build_plan(read_input(folder), None, Budget(rows=1_000), worker_min_bytes=IN_PROCESS)
    worker = await build_plan(read_input(folder), None, worker_min_bytes=0)
    worker_spilled = await build_plan(read_input(folder), None, Budget(rows=1_000), worker_min_bytes=0)
    assert any(worker_spilled.store.spilled(key) for key in SHEET_KEYS)  # written as the worker's bytes
    reasons = {p.reason_en for p in here.problems}
    assert len(here.problems) > 5
    assert any("not UTF-8" in r for r in reasons)
    contacts = [(p.row, p.reason_en.split(":")[0]) for p in here.problems if p.header == "联系党员中心户编码"]
    unknown = "unknown CentralHousehold ZXH-420602001001-9999999"
    assert contacts == [(7000, unknown), (len(households), "in another community")]
    assert worker.problems == spilled.problems == worker_spilled.problems == here.problems
    assert _contents(worker) == _contents(spilled) == _contents(worker_spilled) == _contents(here)
    # rejected rows read back from the spool keep where they came from and their cells as read
    as_read = [(r.source_name, r.number, r.cells) for r in here.bad_rows("Household")]
    assert [(r.source_name, r.number, r.cells) for r in spilled.bad_rows("Household")] == as_read
    assert len(as_read) >= 4
    assert all(cells for _, _, cells in as_read)
    spilled.close()
    assert {r.number for r in worker.bad_rows("Household")} == {r.number for r in here.bad_rows("Household")}
    assert all(r.cells for r in worker.bad_rows("Household"))  # rejected rows keep their cells as read
    assert [(r.source_name, r.number, r.cells) for r in worker_spilled.bad_rows("Household")] == [
        (r.source_name, r.number, r.cells) for r in worker.bad_rows("Household")
    ]
    worker_spilled.close()


async def test_a_failing_worker_stops_validation_with_its_reason(tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    write_demo("small", 3, folder)
    data = read_input(folder)
    (folder / "Household.csv").unlink()  # its header was read; now the worker cannot open it
    (folder / "Household.csv").mkdir()
    with pytest.raises(CellWorkerError, match=r"Household\.csv"):
        await build_plan(data, None, worker_min_bytes=0)
    assert _workers() == []


async def test_a_worker_stopped_and_continued_hands_every_row_over_intact(tmp_path: Path) -> None:
    """Ctrl-Z then `fg` stops and continues the worker mid-write: no byte of a chunk may be lost."""
    folder = tmp_path / "small"
    write_demo("small", 3, folder)
    here = await build_plan(read_input(folder), None, worker_min_bytes=IN_PROCESS)
    done, stops = threading.Event(), []

    def pester() -> None:  # stop and continue every worker, again and again, until validation ends
        while not done.is_set():
            for pid in _workers():
                try:
                    os.kill(pid, signal.SIGSTOP)
                    time.sleep(0.002)
                    os.kill(pid, signal.SIGCONT)
                    stops.append(pid)
                except ProcessLookupError:
                    pass
            time.sleep(0.001)

    thread = threading.Thread(target=pester)
    thread.start()
    try:
        plans = [await build_plan(read_input(folder), None, worker_min_bytes=0) for _ in range(4)]  # a stop mid-write
    finally:
        done.set()
        thread.join()
    assert len(stops) > 40  # the workers really were stopped while they worked
    for worker in plans:
        assert worker.problems == here.problems == []
        assert _contents(worker) == _contents(here)


async def test_the_writers_records_of_spilled_chunks_are_the_valid_rows(tmp_path: Path) -> None:
    """`Plan.records` takes a chunk apart without `Row`s (spilled) or dicts of values (kept in memory): the same
    valid rows, rows found bad in their chunk and rows rejected after it was stored (the first of two
    duplicates) left out."""
    folder = tmp_path / "late"
    write_demo("small", 3, folder)
    households = _rows(folder / "Household.csv")
    _edit(folder / "Household.csv", 5, "人口数", "-2")  # bad in its own chunk
    _edit(folder / "Household.csv", 4_500, "编码", households[20][0])  # row 21's code again, chunks later
    here = await build_plan(read_input(folder), None, worker_min_bytes=IN_PROCESS, chunk_rows=1_000)
    # duplicates a chunk apart, in a small city
    spilled = await build_plan(read_input(folder), None, Budget(rows=1_000), worker_min_bytes=0, chunk_rows=1_000)
    kept = await build_plan(read_input(folder), None, worker_min_bytes=0, chunk_rows=1_000)  # in memory, packed
    assert spilled.store.spilled("Household")
    assert not kept.store.spilled("Household")
    assert spilled.rejected["Household"] == kept.rejected["Household"] == {21}  # found bad after its chunk
    for sheet in (s for s in SHEETS if s.is_node and here.count(s.key)):
        links, names = record_links(sheet.label), [c.name for c in sheet.columns]
        expected = [
            (
                r.number,
                r.code,
                tuple(r.props.get(n) for n in names),
                r.area,
                tuple(_named(r.resolved[en]) for en in links),
            )
            for r in here.valid_rows(sheet.key)
        ]
        for plan in (spilled, kept):
            records = [r for chunk in plan.records(sheet.key, links) for r in chunk]
            assert records == expected, sheet.key
            assert len(records) == plan.valid_count(sheet.key)
    with pytest.raises(ValueError, match="provider_code"):  # names a member or a unit: codes alone would not say
        next(spilled.records("Resource", ("provider_code",)))
    numbers = {r[0] for chunk in spilled.records("Household") for r in chunk}
    assert {5, 21, 4_500}.isdisjoint(numbers)
    assert len(numbers) == len(households) - 1 - 3
    spilled.close()
