"""Writing a validated plan: batched, idempotent upserts — a load's, or an API edit's inside its transaction.

A load writes its node sheets in model order, parents first (`loaders.write_nodes`), then every
relationship not written with its nodes (`loaders.write_links`), then moves children's area codes after
their parents' moves. Loading the same rows twice changes nothing; a changed row updates its node and
moves its relationships. Each batch is one transaction: a load stopped half-way leaves whole batches, and
running it again completes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from neo4j import AsyncManagedTransaction

from core.model import LINK_SHEETS, NODE_SHEETS, SHEETS, Sheet
from graph.driver import Graph
from graph.loading import (
    counted,
    inline_links,
    merge_links,
    node_fields,
    propagate_area,
    replace_links,
    stale_links,
    upsert_batch,
    upsert_links,
    upsert_nodes,
)
from loaders.batches import BATCH, PARTITIONS
from loaders.plan import Plan
from loaders.write_links import LinkColumnWriter, LinkSheetWriter, link_sheet_row, listed_links
from loaders.write_nodes import NodeSheetWriter, node_payloads, node_records
from loaders.written import Summary, WriteRun, Written, WrittenNodes, link_key

__all__ = ["BATCH", "Summary", "write_plan", "write_plan_tx"]


async def write_plan(
    graph: Graph, plan: Plan, progress: Callable[[int], None] | None = None, batch_size: int = BATCH
) -> Summary:
    """Write every valid row: nodes with their inline links (parents first), then the other relationships."""
    run = WriteRun(graph, plan, batch_size, progress or (lambda _n: None), Written(WrittenNodes(plan.index)))
    seconds = run.written.summary.seconds
    started = time.perf_counter()
    for sheet in NODE_SHEETS:
        if plan.valid_count(sheet.key):
            await (await NodeSheetWriter.start(run, sheet)).write_all()
    seconds["nodes"] = time.perf_counter() - started
    started = time.perf_counter()
    for sheet in SHEETS:
        if plan.valid_count(sheet.key):
            await _write_relationships(run, sheet)
    seconds["relationships"] = time.perf_counter() - started
    started = time.perf_counter()
    await _propagate(graph, run.written.summary)
    seconds["area propagation"] = time.perf_counter() - started
    run.written.summary.rows = sum(plan.valid_count(s.key) for s in SHEETS)
    return run.written.summary


async def _write_relationships(run: WriteRun, sheet: Sheet) -> None:
    """A sheet's relationships not written with the nodes: a link sheet's, or a node sheet's other columns."""
    if not sheet.is_node:
        for writer in await LinkSheetWriter.starts(run, sheet):
            await writer.write_all()
        return
    written, inline = run.written, inline_links(sheet.label)
    for link in sheet.links:
        if link in inline or (sheet.key, link.en) in written.with_named:
            continue
        count = PARTITIONS if sheet.label in written.created else 1
        for target in link.targets:
            await LinkColumnWriter(run, sheet, link, target).write_all(count)


async def _propagate(graph: Graph, summary: Summary) -> None:
    """After moves, children inherit their new parent's area codes — a child placed by one of several links
    (`Sheet.places`: a member's household, else branch, else community) from the first it has open."""
    moved = any(c["updated"] for c in summary.nodes.values()) or any(c["ended"] for c in summary.links.values())
    if not moved:
        return
    for sheet in NODE_SHEETS:
        if sheet.area_level:
            continue
        earlier: tuple[tuple[str, str], ...] = ()
        for place in sheet.places:  # the parent first; a later place moves only children the earlier leave
            for target in place.targets:
                await graph.write_rows(propagate_area(sheet.label, place.rel, target, earlier))
            earlier += tuple((place.rel, target) for target in place.targets)


async def write_plan_tx(tx: AsyncManagedTransaction, plan: Plan) -> Summary:
    """Write a small plan (an API edit) inside the caller's transaction, with the statements of a load.

    Nodes are MERGEd (never CREATEd: the label is not empty); every link column of a row replaces that
    node's links of the type (ending what it no longer lists, dated like a load's), so an edit can move a node;
    link sheets' rows are upserted by key.
    """
    summary, today = Summary(), date.today()
    for sheet in NODE_SHEETS:
        rows = plan.valid_rows(sheet.key)
        if not rows:
            continue
        label, inline = sheet.label, inline_links(sheet.label)
        stale = [stale_links(label, lk.rel, lk.targets[0], lk.incoming) for lk in inline]
        payload, _ = node_payloads(node_records(plan, label), label)
        done = await upsert_batch(tx, upsert_nodes(label), payload, stale, len(node_fields(label)) + 1, today)
        summary.nodes[label].update(done.counts)
        existed = set(done.existed)
        for link in (lk for lk in sheet.links if lk not in inline):
            for target in link.targets:
                listed, pairs = listed_links(rows, link, target)
                pairs = [[code, other, code not in existed] for code, other in pairs]
                close = stale_links(label, link.rel, target, link.incoming)
                create = merge_links(label, link.rel, target, link.incoming)
                stale = [x for x in listed if x[0] in existed]
                counters = await replace_links(tx, close, create, stale, pairs, today)
                summary.links[link_key(label, link, target)].update(counters)
    for sheet in LINK_SHEETS:
        assert sheet.source is not None
        assert sheet.target is not None
        for r in plan.valid_rows(sheet.key):
            (source, a), (target, b) = r.resolved[sheet.source.en][0], r.resolved[sheet.target.en][0]
            cypher = upsert_links(source, sheet.rel, target)
            summary.links[sheet.key].update(await counted(tx, cypher, {"rows": [link_sheet_row(r, a, b)]}))
    summary.rows = sum(len(plan.valid_rows(s.key)) for s in SHEETS)
    return summary
