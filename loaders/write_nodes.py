"""Writing a node sheet: its nodes, their inline links, and on a first load the links naming them.

A node sheet is upserted by code (`graph.loading.upsert_nodes`). When its label is still empty it is
CREATEd instead, in partitions — and then, when the earlier sheets whose links name these nodes were
created by this load too (a central household's household), those links are made by the same statement
from the ids of the nodes naming each one (`Write.CREATE_NAMED`), rather than by a pass of their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, LiteralString, NamedTuple

from core.areas import AREA_PROPERTIES, COMMUNITY
from core.model import SHEET_BY_LABEL, Sheet, later_links
from graph.driver import Rows
from graph.loading import (
    NameBy,
    Write,
    count_label,
    inline_links,
    links_naming,
    node_fields,
    stale_links,
    upsert_batch,
    upsert_nodes,
)
from loaders.batches import PARTITIONS, BatchWriter, release, write_batches
from loaders.plan import Plan
from loaders.rowstore import Record, Row, named_codes
from loaders.written import WriteRun, link_key

#: What a row carries for a link nobody names it by: one shared empty list, never written to.
_NOBODY: list[int] = []


def record_links(label: str) -> tuple[str, ...]:
    """The links whose codes the writer reads from each of `label`'s records: the inline ones first, in
    order, then the later links (whose ids the nodes they name collect)."""
    return tuple(lk.en for lk in (*inline_links(label), *later_links(SHEET_BY_LABEL[label])))


def node_records(plan: Plan, label: str) -> Iterator[Record]:
    """A node sheet's valid rows as the writer reads them, links in `record_links` order, streamed."""
    for chunk in plan.records(SHEET_BY_LABEL[label].key, record_links(label)):
        yield from chunk


def community_of(row: Record | Row) -> str:
    """The partition key of a row: its community, else (an area above communities, a unit) its own code."""
    return row.area.get(COMMUNITY.property) or row.code


def node_payloads(
    records: Iterable[Record], label: str, namers: tuple[Callable[[str], int | str], ...] | None = None
) -> tuple[list[list[Any]], bool]:
    """Nodes' rows as sent — [code, values in `node_fields` order, inline link targets], dates as ISO text —
    and whether every target is a node id.

    Targets are named through their link's namer (`WrittenNodes.namer`: an id when this load wrote the node),
    else by code. A tight loop: a city sends millions of households, which share their building's area codes.
    """
    fields, inline = node_fields(label), inline_links(label)
    if SHEET_BY_LABEL[label].columns[0].name != "code":  # a record's values are then the payload's start
        raise ValueError(f"{label}: a node sheet's first column is its code")
    dates = [i for i, (_, is_date) in enumerate(fields, start=1) if is_date]
    links = [(i, None if namers is None else namers[i]) for i in range(len(inline))]
    areas: dict[int, list[str | None]] = {}  # id of a shared area dict -> its codes in payload order
    payload = Rows()
    append = payload.append
    by_id = True
    for _, _, values, area, named in records:
        sent = list(values)  # [code, the sheet's other columns]
        for i in dates:
            if sent[i] is not None:
                sent[i] = sent[i].isoformat()
        codes = areas.get(id(area))
        if codes is None:
            codes = areas[id(area)] = [area.get(key) or None for key in AREA_PROPERTIES]
        sent += codes
        for i, name in links:
            target = named[i]  # an inline link names one node at most: its code, or None
            if target is None:
                sent.append(None)
            elif name is None:
                sent.append(target)
                by_id = False
            else:
                node = name(target)  # type: ignore[arg-type]
                sent.append(node)
                if node.__class__ is str:
                    by_id = False
        append(sent)
    return payload, by_id


def batch_with_naming(size: int, nodes: int, named: int) -> int:
    """Rows per batch of a sheet whose `nodes` rows also make `named` relationships: a batch makes about
    `size` nodes and relationships, so a transaction's state stays small."""
    return max(1, int(size * nodes / (nodes + named)))


class NodeBatch(NamedTuple):
    """A prepared batch of a node sheet."""

    cypher: LiteralString
    payload: list[list[Any]]
    named: list[int]  # per link naming these nodes: relationships the batch makes
    records: list[Record]


class NodeSheetWriter(BatchWriter[Record, NodeBatch]):
    """Upserts one node sheet's valid rows (see the module's doc); `write_all` runs it."""

    def __init__(self, run: WriteRun, sheet: Sheet, write: Write) -> None:
        label, written = sheet.label, run.written
        self.run, self.sheet, self.variant = run, sheet, write
        self.inline = inline_links(label)
        self.stale = [stale_links(label, lk.rel, lk.targets[0], lk.incoming) for lk in self.inline]
        self.first_link = len(node_fields(label)) + 1
        # read while preparing: complete before this sheet's run
        self.namers = tuple(written.nodes.namer(lk.targets[0]) for lk in self.inline)
        self.naming_links = links_naming(label) if write is Write.CREATE_NAMED else ()
        self.naming = [written.naming.pop((s.key, lk.en)) for s, lk in self.naming_links]
        for source, link in links_naming(label):
            written.naming.pop((source.key, link.en), None)  # needed no more
        # recorded while sending: per later link, its position in a record's links and who names what
        self.names = [
            (at, written.naming.setdefault((sheet.key, lk.en), defaultdict(list)))
            for at, lk in enumerate(later_links(sheet), start=len(self.inline))
        ]

    @classmethod
    async def start(cls, run: WriteRun, sheet: Sheet) -> NodeSheetWriter:
        """A writer for `sheet`: CREATE when its label is empty (with the links naming it, when their sheets
        were created by this load too), else MERGE."""
        label = sheet.label
        if (await run.graph.read_rows(count_label(label)))[0]["n"]:
            return cls(run, sheet, Write.MERGE)
        naming = links_naming(label)
        if naming and all(source.label in run.written.created for source, _ in naming):
            return cls(run, sheet, Write.CREATE_NAMED)
        return cls(run, sheet, Write.CREATE)

    async def write_all(self) -> None:
        """Write every valid row, a batch at a time (smaller batches when rows also make the links naming them)."""
        run, label = self.run, self.sheet.label
        size = run.batch_size
        if self.naming:
            named = sum(len(ids) for naming in self.naming for ids in naming.values())
            size = batch_with_naming(size, run.plan.valid_count(self.sheet.key), named)
        fresh = self.variant is not Write.MERGE
        count = PARTITIONS if fresh else 1
        await write_batches(node_records(run.plan, label), self, size=size, count=count, key=community_of)
        if fresh:
            run.written.created.add(label)
        run.written.with_named.update((source.key, link.en) for source, link in self.naming_links)

    def prepare(self, batch: list[Record]) -> NodeBatch:
        label = self.sheet.label
        payload, by_id = node_payloads(batch, label, self.namers)
        if not by_id:  # a target not written by this load: every target of the batch by code
            payload, _ = node_payloads(batch, label)
        named = [0] * len(self.naming)
        for i, naming in enumerate(self.naming):
            for record, sent in zip(batch, payload, strict=True):
                ids = naming.get(record.code, _NOBODY)
                sent.append(ids)
                named[i] += len(ids)
        cypher = upsert_nodes(label, self.variant, NameBy.ID if by_id else NameBy.CODE)
        return NodeBatch(cypher, payload, named, batch)

    async def send(self, prepared: NodeBatch) -> None:
        label, written = self.sheet.label, self.run.written
        done = await self.run.graph.write_batch(
            upsert_batch,
            prepared.cypher,
            prepared.payload,
            self.stale,
            self.first_link,
            self.run.today,
            sum(prepared.named),
        )
        records = prepared.records
        written.nodes.record(label, [record.number for record in records], done.ids)
        for at, naming in self.names:
            for record, node in zip(records, done.ids, strict=True):
                for code in named_codes(record.named[at]):
                    naming[code].append(node)
        count = len(prepared.payload)
        release(prepared.payload)
        summary = written.summary
        summary.nodes[label].update(done.counts)
        written.existed[label].update(done.existed)
        for (source, link), n in zip(self.naming_links, prepared.named, strict=True):
            summary.links[link_key(source.label, link, label)]["created"] += n
        for link, n, gone in zip(self.inline, done.made, done.ended, strict=True):
            summary.links[link_key(label, link, link.targets[0])].update({"created": n, "ended": gone})
        self.run.tick(count)
