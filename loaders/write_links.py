"""Writing relationships after the nodes: node sheets' other link columns, and link sheets' dated rows.

A link column replaces its node's relationships of the type: what the row no longer lists is ended (its
`until` the day before the load), what it newly lists starts on the load's day, so a building moved to another
group moves and its old group still covers it on the days before (graph/validity.py). A link sheet's rows are
upserted by their key (source, target, role). Both name a node this load wrote by its id, any other by code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, LiteralString, NamedTuple

from core.model import Link, Sheet
from graph.driver import Rows
from graph.loading import NameBy, Write, count_links, counted, merge_links, replace_links, stale_links, upsert_links
from loaders.batches import PARTITIONS, BatchWriter, release, write_batches
from loaders.plan import Plan
from loaders.rowstore import Row
from loaders.write_nodes import community_of
from loaders.written import WriteRun, link_key

Namer = Callable[[str], int | str]


def valid_rows(plan: Plan, key: str) -> Iterator[Row]:
    """A sheet's valid rows, streamed."""
    for chunk in plan.valid_chunks(key):
        yield from chunk


def name_ends(ends: list[list[str]], namers: tuple[Namer, ...]) -> tuple[list[list[Any]], NameBy]:
    """Relationships' ends (codes, one column per namer) as one statement names them: all by node id when
    this load wrote every one of them, else all by code."""
    named = Rows([name(code) for name, code in zip(namers, row, strict=True)] for row in ends)
    if all(not isinstance(node, str) for row in named for node in row):
        return named, NameBy.ID
    return Rows(ends), NameBy.CODE


def listed_links(rows: list[Row], link: Link, target: str) -> tuple[list[list[Any]], list[list[Any]]]:
    """What rows' `link` column lists of `target` nodes: per row [code, [codes]], and the [code, code] pairs."""
    en = link.en
    listed = [[r.code, [c for label, c in r.resolved.get(en, ()) if label == target]] for r in rows]
    return listed, [[code, c] for code, targets in listed for c in targets]


def link_sheet_row(row: Row, source: Any, target: Any) -> dict[str, Any]:
    """A link sheet's row as `upsert_links` takes it: its ends as named, its key (the role, if any), its values."""
    key = str(row.props.get("role", ""))
    return {"source": source, "target": target, "key": key, "props": {**row.props, "key": key}}


class ColumnBatch(NamedTuple):
    """A prepared batch of a link column: its statement, the rows whose links may be stale, the pairs."""

    create: LiteralString
    stale: list[list[Any]]
    pairs: list[list[Any]]


class LinkColumnWriter(BatchWriter[Row, ColumnBatch]):
    """Replaces a node sheet's `link` relationships to `target` nodes, row by row."""

    def __init__(self, run: WriteRun, sheet: Sheet, link: Link, target: str) -> None:
        self.run, self.sheet, self.link, self.target = run, sheet, link, target
        self.key = link_key(sheet.label, link, target)
        self.close = stale_links(sheet.label, link.rel, target, link.incoming)
        self.existed = run.written.existed[sheet.label]  # complete: the sheet's nodes are written
        self.namers = (run.written.nodes.namer(sheet.label), run.written.nodes.namer(target))

    async def write_all(self, count: int) -> None:
        """Write the column's links of every valid row, in `count` partitions by community."""
        rows = valid_rows(self.run.plan, self.sheet.key)
        await write_batches(rows, self, size=self.run.batch_size, count=count, key=community_of)

    def prepare(self, batch: list[Row]) -> ColumnBatch:
        target = self.target
        listed, pairs = listed_links(batch, self.link, target)
        stale = [x for x in listed if x[0] in self.existed]
        # nodes this load created have no links yet: CREATE them (a node that existed MERGEs)
        write = Write.MERGE if stale or any(code in self.existed for code, _ in pairs) else Write.CREATE
        fresh = [code not in self.existed for code, _ in pairs]
        pairs, name_by = name_ends(pairs, self.namers)
        for pair, new in zip(pairs, fresh, strict=True):
            pair.append(new)
        sheet, link = self.sheet, self.link
        return ColumnBatch(merge_links(sheet.label, link.rel, target, link.incoming, write, name_by), stale, pairs)

    async def send(self, prepared: ColumnBatch) -> None:
        if prepared.pairs or prepared.stale:
            counters = await self.run.graph.write_batch(
                replace_links, self.close, prepared.create, prepared.stale, prepared.pairs, self.run.today
            )
            release(prepared.stale, prepared.pairs)
            self.run.written.summary.links[self.key].update(counters)


class SheetBatch(NamedTuple):
    """A prepared batch of a link sheet."""

    cypher: LiteralString
    payload: list[dict[str, Any]]


class LinkSheetWriter(BatchWriter[Row, SheetBatch]):
    """Upserts a link sheet's relationships from `source` to `target` nodes (one pair of its labels).

    Both ends can be shared across communities (a unit reports to several, a community hears from many),
    so partitions are made by target and each batch takes its sources in code order: a source shared by
    two partitions is locked in the same order by both, and they never deadlock (they did, split by row).
    """

    def __init__(self, run: WriteRun, sheet: Sheet, source: str, target: str, write: Write) -> None:
        assert sheet.source is not None
        assert sheet.target is not None
        self.run, self.sheet, self.pair, self.variant = run, sheet, (source, target), write
        self.source_en, self.target_en = sheet.source.en, sheet.target.en
        self.namers = (run.written.nodes.namer(source), run.written.nodes.namer(target))

    @staticmethod
    async def starts(run: WriteRun, sheet: Sheet) -> list[LinkSheetWriter]:
        """A writer per (source label, target label) pair of the sheet: CREATE for a source label with no
        such relationship yet (each pair's rows then make theirs), else MERGE."""
        assert sheet.source is not None
        assert sheet.target is not None
        out = []
        for source in sheet.source.targets:
            empty = (await run.graph.read_rows(count_links(source, sheet.rel)))[0]["n"] == 0
            write = Write.CREATE if empty else Write.MERGE
            out += [LinkSheetWriter(run, sheet, source, target, write) for target in sheet.target.targets]
        return out

    async def write_all(self) -> None:
        """Write the pair's rows, in partitions when this load created the source nodes."""
        source, target = self.source_en, self.target_en
        rows = (
            r
            for r in valid_rows(self.run.plan, self.sheet.key)
            if (r.resolved[source][0][0], r.resolved[target][0][0]) == self.pair
        )
        count = PARTITIONS if self.pair[0] in self.run.written.created else 1
        await write_batches(rows, self, size=self.run.batch_size, count=count, key=lambda r: r.resolved[target][0][1])

    def prepare(self, batch: list[Row]) -> SheetBatch:
        source, target = self.source_en, self.target_en
        batch = sorted(batch, key=lambda r: r.resolved[source][0][1])
        ends, name_by = name_ends([[r.resolved[source][0][1], r.resolved[target][0][1]] for r in batch], self.namers)
        payload = Rows(link_sheet_row(r, a, b) for r, (a, b) in zip(batch, ends, strict=True))
        return SheetBatch(upsert_links(self.pair[0], self.sheet.rel, self.pair[1], self.variant, name_by), payload)

    async def send(self, prepared: SheetBatch) -> None:
        counts: Counter[str] = await self.run.graph.write_batch(counted, prepared.cypher, {"rows": prepared.payload})
        self.run.written.summary.links[self.sheet.key].update(counts)
        self.run.tick(len(prepared.payload))
        release(prepared.payload)
