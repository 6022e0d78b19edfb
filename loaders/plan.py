"""A load's plan: every row read, converted and validated — what will be written, and why the rest won't.

`build_plan` reads the sheets in model order (parents first), a chunk at a time: cells are converted
(`loaders.rowstore.Converter`), each chunk is checked against what came before (`loaders.validate`) and
stored (`loaders.rowstore.RowStore`); once every sheet is read, the links to later sheets are checked and
rejections cascade. Nothing is written to the graph.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from core.model import SHEETS
from loaders.codeindex import CodeIndex, Lookup
from loaders.natural import NaturalLookups
from loaders.problems import Problem
from loaders.read import Input, RawSheet, col_letter, item_key
from loaders.rowstore import WORKER_MIN_BYTES, Chunk, Converter, Record, Row, RowStore
from loaders.spool import Budget
from loaders.validate import Checks

#: Rows converted and validated together (codes not in the input are looked up in the graph a chunk at a time).
CHUNK = 20_000


@dataclass
class Plan:
    """What a load will write (each sheet's rows, stored), and the problems that stop it."""

    store: RowStore
    problems: list[Problem]
    index: CodeIndex  # every code of the input: its row and area path
    rejected: dict[str, set[int]]  # sheet key -> rows found bad after their chunk was stored
    reread: Callable[[str], dict[int, list[str]]]  # sheet key -> cells by row number, as read
    raws: dict[str, RawSheet] = field(default_factory=dict)  # sheet key -> as read: its name and header positions

    def chunks(self, key: str) -> Iterator[Chunk]:
        """A sheet's rows in chunks, in input order, bad ones flagged."""
        return self.store.chunks(key, self.rejected.get(key))

    def valid_chunks(self, key: str) -> Iterator[list[Row]]:
        """Rows of a sheet with no problem, in chunks (all of them when the plan is clean)."""
        for chunk in self.chunks(key):
            good = [r for r in chunk if not r.bad]
            if good:
                yield good

    def valid_rows(self, key: str) -> list[Row]:
        """Rows of a sheet with no problem, as one list (for small plans: edits, tests)."""
        return [r for chunk in self.valid_chunks(key) for r in chunk]

    def records(self, key: str, links: tuple[str, ...] = ()) -> Iterator[list[Record]]:
        """A node sheet's valid rows in chunks, as `Record`s carrying what each names through `links`."""
        return self.store.records(key, links, self.rejected.get(key))

    def count(self, key: str) -> int:
        """How many rows of the sheet the input holds, bad ones included."""
        return self.store.count(key)

    def valid_count(self, key: str) -> int:
        """How many rows of a sheet will be written."""
        if not self.problems:
            return self.store.count(key)
        return sum(len(c) for c in self.valid_chunks(key))

    def bad_rows(self, key: str) -> list[Row]:
        """Rejected rows of a sheet with their cells as read."""
        bad = [r for chunk in self.chunks(key) for r in chunk if r.bad]
        if any(not r.cells for r in bad):
            cells = self.reread(key)
            for r in bad:
                r.cells = r.cells or cells.get(r.number, [])
        return bad

    @property
    def row_count(self) -> int:
        """Data rows in the input."""
        return sum(self.store.count(s.key) for s in SHEETS)

    def close(self) -> None:
        """Free the stored rows (memory and temporary files)."""
        self.store.close()


async def build_plan(
    data: Input,
    lookup: Lookup | None,
    budget: Budget | None = None,
    worker_min_bytes: int = WORKER_MIN_BYTES,
    chunk_rows: int = CHUNK,
    naturals: NaturalLookups | None = None,
) -> Plan:
    """Validate everything, one sheet at a time in model order, `chunk_rows` rows at a time.

    References not in the input are looked up in the graph through `lookup` (None: the input alone), and rows
    without a code by their natural key through `naturals` (None: codes are allocated as in an empty graph). CSV
    inputs of `worker_min_bytes` or more have their cells converted in a second process meanwhile.
    """
    problems = list(data.problems)
    read_problems = len(data.problems)  # reading streams: a file can still turn out unreadable
    checks = Checks(lookup, problems, naturals)
    store = RowStore(budget)
    raws = {raw.sheet.key: raw for raw in data.sheets}
    with Converter(data, chunk_rows, worker_min_bytes) as converter:
        for sheet in SHEETS:
            raw = raws.get(sheet.key)
            if raw is None:
                continue
            for chunk in converter.chunks(raw, problems):
                await checks.check_chunk(sheet, chunk)
                store.add(chunk)
    problems.extend(data.problems[read_problems:])
    await checks.check_later_links(store)
    checks.finish(store)
    problems[:] = _lettered(problems, data.sheets)
    return Plan(store, problems, checks.index, checks.rejected, _rereader(data), raws)


def _lettered(problems: list[Problem], sheets: list[RawSheet]) -> list[Problem]:
    """Every problem naming a column by its header alone ("身份证号") gets the column's letter in the input as
    well ("C 身份证号"): a person finds the cell, the error workbook marks it."""
    named: dict[tuple[str, str], str] = {}
    for raw in sheets:
        for item in raw.sheet.items:
            pos = raw.columns.get(item_key(item))
            if pos is not None:
                named[(raw.source, item.zh)] = f"{col_letter(pos + 1)} {item.zh}"
    return [replace(p, column=named[key]) if (key := (p.sheet, p.column)) in named else p for p in problems]


def _rereader(data: Input) -> Callable[[str], dict[int, list[str]]]:
    """Cells of a sheet's rows as read (for rejected rows whose cells were let go)."""
    raws = {raw.sheet.key: raw for raw in data.sheets}

    def reread(key: str) -> dict[int, list[str]]:
        raw = raws.get(key)
        return {number: cells for number, cells in raw.rows} if raw is not None else {}

    return reread
