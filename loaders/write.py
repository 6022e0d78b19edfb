"""Batched, idempotent graph writes: `UNWIND` batches in managed write transactions, one per batch.

The Cypher is built once per (sheet, link, label) from the model's identifiers — labels and
relationship types, which Cypher cannot take as parameters; every value is a parameter.
Nodes are upserted with MERGE on `code` and `SET n = props` (so loading the same rows twice
changes nothing) — or CREATEd when their label is still empty; links to a single earlier-loaded
parent travel in the same statement ("folded"), the others follow. A node sheet's link columns
replace that node's relationships of the type, so a building moved to another group moves; link
sheets MERGE dated relationships by their key. A first load's batches run in two lanes dealt by community, so
Neo4j uses both cores without the lanes locking each other's nodes.
"""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any, LiteralString, TypeVar, cast

from neo4j import AsyncManagedTransaction

from core.model import LABELS, LINK_SHEETS, NODE_SHEETS, SHEET_BY_LABEL, SHEETS, Kind, Link, Sheet
from graph.driver import Graph, Rows
from graph.statistics import by_code
from loaders.ahead import named_codes
from loaders.cells import Row
from loaders.validate import AREA_KEYS, Plan, Record

#: Rows per transaction (`grassroots load --batch-size`).
BATCH = 10_000
#: Concurrent write transactions. Rows are dealt to lanes by community, so two lanes never touch the
#: same parents; Neo4j then uses both cores (one lane leaves one idle).
LANES = 2
T = TypeVar("T")
R = TypeVar("R")  # what is dealt to lanes: `Row`s, or a node sheet's `Record`s
#: What a row carries for a link nobody names it by: one shared empty list (most households are named by
#: no central household), never written to.
_NOBODY: list[int] = []
_IDENT = re.compile(r"[A-Z][A-Za-z]*|[A-Z][A-Z_]*")


def _ident(name: str) -> str:
    if not _IDENT.fullmatch(name):
        raise ValueError(f"not a model identifier: {name!r}")
    return name


def node_fields(label: str) -> tuple[tuple[str, bool], ...]:
    """(property, is_date) in payload order after `code`: the sheet's columns, then the area codes."""
    sheet = SHEET_BY_LABEL[label]
    fields = [(c.name, c.kind is Kind.DATE) for c in sheet.columns if c.name != "code"]
    return (*fields, *((k, False) for k in AREA_KEYS))


@cache
def folded_links(label: str) -> tuple[Link, ...]:
    """Links written by the node upsert itself: one target, one code, a label loaded earlier.

    The rest (several targets or codes, or a target loaded later, like the household a central household lives in)
    are written afterwards by `replace_links`.
    """
    earlier: set[str] = set()
    for sheet in NODE_SHEETS:
        if sheet.label == label:
            return tuple(lk for lk in sheet.links if len(lk.targets) == 1 and not lk.many and lk.targets[0] in earlier)
        earlier.add(sheet.label)
    raise ValueError(label)


@cache
def carried_links(label: str) -> tuple[tuple[Sheet, Link], ...]:
    """Links of earlier node sheets naming `label` — loaded later, so never folded (the household a
    central household lives in). On a first load they travel with `label`'s own rows: its CREATE statement
    makes them from the list of codes naming each node, instead of a pass of their own."""
    out: list[tuple[Sheet, Link]] = []
    for sheet in NODE_SHEETS:
        if sheet.label == label:
            return tuple(out)
        out.extend((sheet, lk) for lk in sheet.links if lk.targets == (label,))
    raise ValueError(label)


@cache
def forward_links(label: str) -> tuple[Link, ...]:
    """`label`'s links that a later label's nodes may carry (`carried_links`): a central household's household."""
    return tuple(lk for sheet in NODE_SHEETS for source, lk in carried_links(sheet.label) if source.label == label)


def _link_pattern(link: Link, node: str, other: str) -> str:
    rel = _ident(link.rel)
    return f"({other})-[:{rel}]->({node})" if link.incoming else f"({node})-[:{rel}]->({other})"


@cache
def upsert_nodes(label: str, fresh: bool = False, carry: bool = False, by_id: bool = False) -> LiteralString:
    """Upsert nodes by code with their folded links; say what was created, updated, unchanged.

    Rows travel as lists — [code, values in `node_fields` order, then one target per folded link],
    dates as ISO text — far cheaper for the driver to pack than maps; Neo4j builds the map and the dates.
    A target is its code, or with `by_id` its node id (every target written by this load, `Plan.refs`):
    a seek by id instead of the code index's locking seek, the biggest part of a linked row's cost. One
    statement cannot offer both: Neo4j plans the code's index seek ahead of any test of the value's type.
    `fresh` (the label has no nodes yet) CREATEs instead of MERGE: no existing node to compare with,
    and the uniqueness constraint still refuses a duplicate. With `carry` (fresh only), each row then
    holds, per `carried_links`, the ids of the nodes naming it, and their links are CREATEd too.
    The statement returns the nodes' ids in row order (UNWIND, CREATE or MERGE and collect keep it), and
    with MERGE how many relationships each folded link created (`made`; a CREATE makes one per target).

    `id()` is deprecated for `elementId()`, whose strings would double the memory the plan keeps per
    code; Neo4j 5.26 (LTS) has both, and a load uses an id only within itself, for nodes it wrote.
    """
    if label not in LABELS:
        raise ValueError(label)
    fields = node_fields(label)
    entries = ["code: r[0]"]
    for i, (name, is_date) in enumerate(fields, start=1):
        entries.append(f"{_prop(name)}: " + (f"date(r[{i}])" if is_date else f"r[{i}]"))
    props = "{" + ", ".join(entries) + "}"
    links, made = "", []
    for j, link in enumerate(folded_links(label), start=len(fields) + 1):
        target, pattern = _ident(link.targets[0]), _link_pattern(link, "n", "m")
        find = f"MATCH (m:{target}) WHERE id(m) = r[{j}]" if by_id else by_code("m", target, f"r[{j}]")
        if fresh:  # one relationship per row naming a target: counted by the caller, at no cost here
            links += f"CALL (n, r) {{ WITH * WHERE r[{j}] IS NOT NULL {find} CREATE {pattern} }}\n"
        else:  # a relationship the node already had is not created again: say how many were
            links += (
                f"CALL (n, r) {{ WITH * WHERE r[{j}] IS NOT NULL {find} WITH n, m, EXISTS {{ {pattern} }} AS had "
                f"MERGE {pattern} RETURN sum(CASE WHEN had THEN 0 ELSE 1 END) AS made{j} }}\n"
            )
            made.append(f"made{j}")
    if carry:
        if not fresh:
            raise ValueError("carried links are only CREATEd with fresh nodes")
        for j, (sheet, link) in enumerate(carried_links(label), start=len(fields) + 1 + len(folded_links(label))):
            source, rel = _ident(sheet.label), _ident(link.rel)
            pattern = f"(n)-[:{rel}]->(x)" if link.incoming else f"(x)-[:{rel}]->(n)"
            links += f"CALL (n, r) {{ UNWIND r[{j}] AS c MATCH (x:{source}) WHERE id(x) = c CREATE {pattern} }}\n"
    if fresh:
        return cast(
            LiteralString,
            f"UNWIND $rows AS r\nCREATE (n:{_ident(label)} {props})\nWITH n, r\n{links}"
            "RETURN count(*) AS created, 0 AS updated, 0 AS unchanged, [] AS existed, collect(id(n)) AS ids,\n"
            "null AS made",
        )
    made_columns = "".join(f", {m}" for m in made)  # kept through the WITH to the sums
    return cast(
        LiteralString,
        f"""
UNWIND $rows AS r
MERGE (n:{_ident(label)} {{code: r[0]}})
WITH n, r, properties(n) AS before
SET n = {props}
WITH n, r, before, properties(n) AS after
{links}WITH r, id(n) AS id, before = {{code: r[0]}} AS created, before = after AS unchanged{made_columns}
RETURN sum(CASE WHEN created THEN 1 ELSE 0 END) AS created,
       sum(CASE WHEN NOT created AND NOT unchanged THEN 1 ELSE 0 END) AS updated,
       sum(CASE WHEN unchanged THEN 1 ELSE 0 END) AS unchanged,
       collect(CASE WHEN NOT created THEN r[0] END) AS existed,
       collect(id) AS ids,
       [{", ".join(f"sum({m})" for m in made)}] AS made
""",
    )


def _prop(name: str) -> str:
    if not re.fullmatch(r"[a-z][A-Za-z0-9]*", name):
        raise ValueError(f"not a model property: {name!r}")
    return name


@cache
def stale_links(label: str, rel: str, target: str, incoming: bool) -> LiteralString:
    """Delete this node's `rel` links to `target` nodes its row no longer lists (rows: [code, [codes or ids]]).

    The far node is read through the relationship (`endNode(r)`), never named with a property: a predicate
    on its `code` lets the planner answer it with a scan of that code's index (see `statistics.by_code`)."""
    n, r, t = _ident(label), _ident(rel), _ident(target)
    pattern, old = (f"(:{t})-[r:{r}]->(n)", "startNode(r)") if incoming else (f"(n)-[r:{r}]->(:{t})", "endNode(r)")
    return cast(
        LiteralString,
        f"""
UNWIND $rows AS row
{by_code("n", n, "row[0]")}
MATCH {pattern}
WHERE NOT ({old}.code IN row[1] OR id({old}) IN row[1])
DELETE r
""",
    )


@cache
def merge_links(
    label: str, rel: str, target: str, incoming: bool, fresh: bool = False, by_id: bool = False
) -> LiteralString:
    """MERGE the listed links (pairs: [node code, target code], or both node ids `by_id`); CREATE them when
    every node is new (`fresh`)."""
    n, r, t = _ident(label), _ident(rel), _ident(target)
    pattern = f"(m)-[:{r}]->(n)" if incoming else f"(n)-[:{r}]->(m)"
    verb = "CREATE" if fresh else "MERGE"
    find = (
        f"MATCH (n:{n}) WHERE id(n) = p[0]\nMATCH (m:{t}) WHERE id(m) = p[1]"
        if by_id
        else f"{by_code('n', n, 'p[0]')}\n{by_code('m', t, 'p[1]')}"
    )
    return cast(LiteralString, f"\nUNWIND $pairs AS p\n{find}\n{verb} {pattern}\n")


@cache
def upsert_links(source: str, rel: str, target: str, by_id: bool = False, fresh: bool = False) -> LiteralString:
    """MERGE dated relationships of a link sheet by (source, target, key); replace their properties.

    Rows name their two nodes by code, or `by_id` both by node id (nodes this load wrote). `fresh` (no
    `source` node has a `rel` relationship yet) CREATEs them: validation has refused duplicate keys, and
    a MERGE would search each row's dense target (a community hears from hundreds) for nothing."""
    s, r, t = _ident(source), _ident(rel), _ident(target)
    find = (
        f"MATCH (a:{s}) WHERE id(a) = row.source\nMATCH (b:{t}) WHERE id(b) = row.target"
        if by_id
        else f"{by_code('a', s, 'row.source')}\n{by_code('b', t, 'row.target')}"
    )
    if fresh:
        return cast(
            LiteralString,
            f"UNWIND $rows AS row\n{find}\nCREATE (a)-[l:{r}]->(b)\nSET l = row.props\n"
            "RETURN count(*) AS created, 0 AS updated, 0 AS unchanged",
        )
    return cast(
        LiteralString,
        f"""
UNWIND $rows AS row
{find}
MERGE (a)-[l:{r} {{key: row.key}}]->(b)
WITH l, row, properties(l) AS before
SET l = row.props
RETURN sum(CASE WHEN before = {{key: row.key}} THEN 1 ELSE 0 END) AS created,
       sum(CASE WHEN before <> {{key: row.key}} AND before <> row.props THEN 1 ELSE 0 END) AS updated,
       sum(CASE WHEN before = row.props THEN 1 ELSE 0 END) AS unchanged
""",
    )


@cache
def propagate_area(child: str, rel: str, parent: str) -> LiteralString:
    """Copy the parent's area codes to children whose codes differ (after a move)."""
    c, r, p = _ident(child), _ident(rel), _ident(parent)
    sets = ", ".join(f"c.{k} = p.{k}" for k in AREA_KEYS)
    differs = " OR ".join(f"coalesce(c.{k}, '') <> coalesce(p.{k}, '')" for k in AREA_KEYS)
    return cast(LiteralString, f"MATCH (c:{c})-[:{r}]->(p:{p}) WHERE {differs} SET {sets} RETURN count(c) AS moved")


@cache
def lookup_codes(label: str) -> LiteralString:
    """Codes of `label` already in the graph, with their area codes."""
    fields = ", ".join(f"n.{k} AS {k}" for k in AREA_KEYS)
    n = _ident(label)
    return cast(
        LiteralString,
        f"MATCH (n:{n}) USING INDEX SEEK n:{n}(code) WHERE n.code IN $codes RETURN n.code AS code, {fields}",
    )


@cache
def count_links(source: str, rel: str) -> LiteralString:
    """How many `rel` relationships leave `source` nodes (from the count store: instant)."""
    return cast(LiteralString, f"MATCH (:{_ident(source)})-[l:{_ident(rel)}]->() RETURN count(l) AS n")


@cache
def count_type(rel: str) -> LiteralString:
    """How many `rel` relationships there are, whatever they join (from the count store: instant)."""
    return cast(LiteralString, f"MATCH ()-[l:{_ident(rel)}]->() RETURN count(l) AS n")


@cache
def count_label(label: str) -> LiteralString:
    """How many `label` nodes there are (from the count store: instant)."""
    return cast(LiteralString, f"MATCH (n:{_ident(label)}) RETURN count(n) AS n")


@dataclass
class Summary:
    """What a load did, per entity: created, updated, unchanged; relationships created and deleted."""

    nodes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    links: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    rows: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # phase → wall time


def record_links(label: str) -> tuple[str, ...]:
    """The links whose codes the writer reads from each of `label`'s records (`Plan.records`): the folded
    ones first, in order, then those a later label's nodes carry (`forward_links`)."""
    return tuple(lk.en for lk in (*folded_links(label), *forward_links(label)))


def node_payloads(
    records: Iterable[Record], label: str, refs: tuple[Callable[[str], int | str], ...] | None = None
) -> tuple[list[list[Any]], bool]:
    """Nodes' rows as sent — [code, values in `node_fields` order, folded link targets], dates as ISO text —
    and whether every target is a node id. `records` carry their links' codes in `record_links` order.

    Targets are named through their link's `refs` (`Plan.refs`: an id when this load wrote the node), else
    by code. A tight loop: a city sends millions of households, which share their building's area codes.
    """
    fields, folded = node_fields(label), folded_links(label)
    if SHEET_BY_LABEL[label].columns[0].name != "code":  # a record's values are then the payload's start
        raise ValueError(f"{label}: a node sheet's first column is its code")
    dates = [i for i, (_, is_date) in enumerate(fields, start=1) if is_date]
    links = [(i, None if refs is None else refs[i]) for i in range(len(folded))]
    areas: dict[int, list[str | None]] = {}  # id of a shared area dict -> its codes in payload order
    payload = Rows()
    append = payload.append
    by_id = True
    for _, _, values, area, named in records:
        sent = list(values)  # [code, the sheet's other columns]
        for i in dates:
            if sent[i] is not None:
                sent[i] = sent[i].isoformat()
        codes_ = areas.get(id(area))
        if codes_ is None:
            codes_ = areas[id(area)] = [area.get(key) or None for key in AREA_KEYS]
        sent += codes_
        for i, ref in links:
            target = named[i]  # a folded link names one node at most: its code, or None
            if target is None:
                sent.append(None)
            elif ref is None:
                sent.append(target)
                by_id = False
            else:
                node = ref(target)  # type: ignore[arg-type]
                sent.append(node)
                if node.__class__ is str:
                    by_id = False
        append(sent)
    return payload, by_id


def _named(ends: list[list[str]], refs: tuple[Callable[[str], int | str], ...]) -> tuple[list[list[Any]], bool]:
    """Links' ends (codes, one column per `refs`) as one statement names them: all by node id when this load
    wrote every one of them, else all by code — and which it is."""
    named = Rows([ref(code) for ref, code in zip(refs, row, strict=True)] for row in ends)
    if all(not isinstance(node, str) for row in named for node in row):
        return named, True
    return Rows(ends), False


def _community(row: Row) -> str:
    return row.area.get("communityCode") or row.code


def _record_community(record: Record) -> str:
    return record[3].get("communityCode") or record[1]


def deal(rows: Iterable[R], size: int, count: int, key: Callable[[R], str]) -> Iterator[tuple[int, list[R]]]:
    """Rows dealt to `count` lanes by `key` — community, else code: (lane, batch of `size`) as each batch fills.

    A community's rows share their parents (buildings, central households...), so lanes that never share
    a community never wait on each other's locks. The dealing is deterministic (CRC-32, not `hash`).
    """
    buffers: list[list[R]] = [[] for _ in range(count)]
    lane_of: dict[str, int] = {}  # a city's two million households share 515 communities
    for row in rows:
        name = key(row)
        lane = lane_of.get(name)
        if lane is None:
            lane = lane_of[name] = zlib.crc32(name.encode()) % count
        buffer = buffers[lane]
        buffer.append(row)
        if len(buffer) >= size:
            yield lane, buffer
            buffers[lane] = []
    for lane, buffer in enumerate(buffers):
        if buffer:
            yield lane, buffer


def lanes(records: Iterable[Record], size: int = BATCH, count: int = LANES) -> list[list[list[Record]]]:
    """Every lane's batches of a node sheet's records, as `deal` hands them out to `_write_nodes` (lanes with
    no rows left out)."""
    out: list[list[list[Record]]] = [[] for _ in range(count)]
    for lane, batch in deal(records, size, count, _record_community):
        out[lane].append(batch)
    return [batches for batches in out if batches]


async def _in_lanes(
    rows: Iterable[R],
    size: int,
    prepare: Callable[[list[R]], T],
    send: Callable[[T], Awaitable[None]],
    count: int,
    key: Callable[[R], str],
) -> None:
    """`send` every batch as `prepare` made it, the lanes concurrently, each lane's batches one after another.

    Rows are dealt as they stream in (a spilled sheet is read back a chunk at a time) and each batch is
    prepared (its payload built) while the lanes wait on Neo4j, so a lane's next batch is ready when its
    last one commits; each lane is a short queue ahead. Dealing and preparing run in a thread of their own:
    done in the event loop they held it for tens of milliseconds a batch (a spilled chunk read back: a
    hundred and more), and a lane whose batch committed meanwhile left its Neo4j worker idle until they
    were done. `prepare` reads only what earlier sheets' batches recorded, never what `send` is recording
    for its own. A failing batch cancels the rest. Lanes are for a
    first load (nodes created, links added); rewriting nodes that exist takes `count=1`: replacing their
    links in two lanes can wait on each other's locks through shared parents (a unit, a company) until
    the transaction times out.
    """
    queues: list[asyncio.Queue[T | None]] = [asyncio.Queue(maxsize=2) for _ in range(count)]

    async def lane(queue: asyncio.Queue[T | None]) -> None:
        while (batch := await queue.get()) is not None:
            await send(batch)

    batches = deal(rows, size, count, key)

    def step() -> tuple[int, T] | None:
        for index, batch in batches:
            return index, prepare(batch)
        return None

    loop = asyncio.get_running_loop()
    # leaving the `with` waits for a step still running after a failure: the plan is not closed under it
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="grassroots-deal") as dealing:

        async def dealer() -> None:
            while (item := await loop.run_in_executor(dealing, step)) is not None:
                await queues[item[0]].put(item[1])
            for queue in queues:
                await queue.put(None)

        tasks = [asyncio.ensure_future(dealer()), *(asyncio.ensure_future(lane(q)) for q in queues)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise


async def write_plan(
    graph: Graph, plan: Plan, progress: Callable[[int], None] | None = None, batch_size: int = BATCH
) -> Summary:
    """Write every valid row: nodes with their folded links (parents first), then the other relationships."""
    summary = Summary()
    tick = progress or (lambda _n: None)
    existed: dict[str, set[str]] = {}
    created: set[str] = set()  # labels this load created from empty (their writes may run in lanes)
    started = time.perf_counter()
    carried: set[tuple[str, str]] = set()  # (sheet key, link) written with their target's nodes
    namings: dict[tuple[str, str], dict[str, list[int]]] = {}  # (sheet key, link) -> target code -> ids naming it
    for sheet in NODE_SHEETS:
        existed[sheet.label] = set()
        if plan.valid_count(sheet.key):
            await _write_nodes(
                graph, sheet, plan, summary, existed[sheet.label], created, carried, namings, tick, batch_size
            )
    summary.seconds["nodes"] = time.perf_counter() - started
    started = time.perf_counter()
    for sheet in SHEETS:
        if not plan.valid_count(sheet.key):
            continue
        if sheet.is_node:
            folded = folded_links(sheet.label)
            for link in sheet.links:
                if link not in folded and (sheet.key, link.en) not in carried:
                    lanes = LANES if sheet.label in created else 1
                    await _write_node_links(graph, sheet, link, plan, summary, existed[sheet.label], batch_size, lanes)
        else:
            await _write_link_sheet(graph, sheet, plan, summary, tick, batch_size, created)
    summary.seconds["relationships"] = time.perf_counter() - started
    started = time.perf_counter()
    await _propagate(graph, summary)
    summary.seconds["area propagation"] = time.perf_counter() - started
    summary.rows = sum(plan.valid_count(s.key) for s in SHEETS)
    return summary


def _rows(plan: Plan, key: str) -> Iterator[Row]:
    """A sheet's valid rows, streamed."""
    for chunk in plan.valid_chunks(key):
        yield from chunk


def _records(plan: Plan, label: str) -> Iterator[Record]:
    """A node sheet's valid rows as the writer reads them (`Plan.records`, links in `record_links` order), streamed."""
    for chunk in plan.records(SHEET_BY_LABEL[label].key, record_links(label)):
        yield from chunk


def _link_key(label: str, link: Link, target: str) -> str:
    return f"{label}-{link.rel}->{target}"


async def _write_nodes(
    graph: Graph,
    sheet: Sheet,
    plan: Plan,
    summary: Summary,
    existed: set[str],
    created: set[str],
    carried: set[tuple[str, str]],
    namings: dict[tuple[str, str], dict[str, list[int]]],
    tick: Callable[[int], None],
    size: int,
) -> None:
    """Upsert a node sheet; CREATE, in lanes, when the label is still empty (a first load) — then with
    the links naming these nodes from sheets this load also created from empty (`carried_links`).

    `namings` collects, for each link this sheet's rows may carry forward, target code → the ids of the
    nodes naming it, batch by batch as their ids come back (while the other lane writes, rather than in
    a pass over millions of rows before the target's sheet, with Neo4j idle)."""
    label = sheet.label
    fresh = (await graph.read_rows(count_label(label)))[0]["n"] == 0
    carries = carried_links(label) if fresh and all(s.label in created for s, _ in carried_links(label)) else ()
    fields, folded = node_fields(label), folded_links(label)
    first = len(fields) + 1
    stale = [stale_links(label, lk.rel, lk.targets[0], lk.incoming) for lk in folded]
    naming = [namings[(source.key, link.en)] for source, link in carries]
    for source, link in carried_links(label):
        namings.pop((source.key, link.en), None)  # needed no more
    names = [  # (position in a record's links, target code -> ids naming it)
        (at, namings.setdefault((sheet.key, lk.en), defaultdict(list)))
        for at, lk in enumerate(forward_links(label), start=len(folded))
    ]
    refs = tuple(plan.refs(lk.targets[0]) for lk in folded)
    Prepared = tuple[LiteralString, list[list[Any]], list[int], list[Record]]

    def prepare(records: list[Record]) -> Prepared:
        payload, by_id = node_payloads(records, label, refs)
        if not by_id:  # a target not written by this load: every target of the batch by code
            payload, _ = node_payloads(records, label)
        carried_count = [0] * len(naming)
        for i, named in enumerate(naming):
            for record, sent in zip(records, payload, strict=True):
                codes_ = named.get(record[1], _NOBODY)
                sent.append(codes_)
                carried_count[i] += len(codes_)
        return upsert_nodes(label, fresh, bool(carries), by_id), payload, carried_count, records

    async def send(prepared: Prepared) -> None:
        cypher, payload, carried_count, records = prepared
        counts, codes, made, deleted, ids = await graph.write_batch(
            _upsert, cypher, payload, stale, first, sum(carried_count)
        )
        plan.record_ids(label, [record[0] for record in records], ids)
        for at, named in names:
            for record, node in zip(records, ids, strict=True):
                for code in named_codes(record[4][at]):
                    named[code].append(node)
        written = len(payload)
        _let_go(payload)
        summary.nodes[label].update(counts)
        existed.update(codes)
        for (source, link), n in zip(carries, carried_count, strict=True):
            summary.links[_link_key(source.label, link, label)]["created"] += n
        for link, n, gone in zip(folded, made, deleted, strict=True):
            summary.links[_link_key(label, link, link.targets[0])].update({"created": n, "deleted": gone})
        tick(written)

    if naming:
        nodes = plan.valid_count(sheet.key)
        size = carry_batch(size, nodes, sum(len(c) for named in naming for c in named.values()))
    await _in_lanes(_records(plan, label), size, prepare, send, LANES if fresh else 1, _record_community)
    if fresh:
        created.add(label)
    carried.update((source.key, link.en) for source, link in carries)


def carry_batch(size: int, nodes: int, carried: int) -> int:
    """Rows per batch of a sheet whose `nodes` rows also make `carried` relationships: a batch makes about
    `size` nodes and relationships, so a transaction's state stays small."""
    return max(1, int(size * nodes / (nodes + carried)))


async def _write_node_links(
    graph: Graph, sheet: Sheet, link: Link, plan: Plan, summary: Summary, existed: set[str], size: int, lanes: int
) -> None:
    """Replace each row's links of this column; nodes created by this load have none to delete."""
    mine = plan.refs(sheet.label)
    for target in link.targets:
        delete = stale_links(sheet.label, link.rel, target, link.incoming)
        theirs = plan.refs(target)

        def prepare(
            rows_: list[Row], target: str = target, theirs: Callable[[str], int | str] = theirs
        ) -> tuple[LiteralString, list[list[Any]], list[list[Any]]]:
            listed = [[r.code, [c for lbl, c in r.resolved.get(link.en, ()) if lbl == target]] for r in rows_]
            pairs: list[list[Any]] = [[code, c] for code, targets in listed for c in targets]
            stale = [x for x in listed if x[0] in existed]
            # nodes this load created have no links yet: CREATE them (a node that existed MERGEs)
            fresh = not stale and not any(code in existed for code, _ in pairs)
            pairs, by_id = _named(pairs, (mine, theirs))
            return merge_links(sheet.label, link.rel, target, link.incoming, fresh, by_id), stale, pairs

        async def send(
            prepared: tuple[LiteralString, list[list[Any]], list[list[Any]]], target: str = target, delete: str = delete
        ) -> None:
            create, stale, pairs = prepared
            if pairs or stale:
                counters = await graph.write_batch(_replace, delete, create, stale, pairs)
                _let_go(stale, pairs)
                summary.links[_link_key(sheet.label, link, target)].update(counters)

        await _in_lanes(_rows(plan, sheet.key), size, prepare, send, lanes, _community)


async def _write_link_sheet(
    graph: Graph,
    sheet: Sheet,
    plan: Plan,
    summary: Summary,
    tick: Callable[[int], None],
    size: int,
    created: set[str],
) -> None:
    """A link sheet's relationships, one pass per (source label, target label) pair it holds (in lanes when
    this load created the source nodes).

    Both ends can be shared across communities (a unit reports to several, a community hears from many),
    so lanes are dealt by target and each batch takes its sources in code order: a source shared by the
    lanes is locked in the same order by both, and they never deadlock (they did, dealt by row)."""
    assert sheet.source is not None
    assert sheet.target is not None
    source, target = sheet.source.en, sheet.target.en
    for src_label in sheet.source.targets:
        # no such relationship yet: each pair's rows CREATE theirs (pairs share no relationship)
        fresh = (await graph.read_rows(count_links(src_label, sheet.rel)))[0]["n"] == 0
        for dst_label in sheet.target.targets:
            pair = (src_label, dst_label)
            rows = (r for r in _rows(plan, sheet.key) if (r.resolved[source][0][0], r.resolved[target][0][0]) == pair)
            refs = (plan.refs(src_label), plan.refs(dst_label))

            def prepare(
                rows_: list[Row],
                pair: tuple[str, str] = pair,
                refs: tuple[Callable[[str], int | str], ...] = refs,
                fresh: bool = fresh,
            ) -> tuple[LiteralString, list[dict[str, Any]]]:
                rows_ = sorted(rows_, key=lambda r: r.resolved[source][0][1])
                ends, by_id = _named([[r.resolved[source][0][1], r.resolved[target][0][1]] for r in rows_], refs)
                payload = Rows()
                for r, (a, b) in zip(rows_, ends, strict=True):
                    key = str(r.props.get("role", ""))
                    payload.append({"source": a, "target": b, "key": key, "props": {**r.props, "key": key}})
                return upsert_links(pair[0], sheet.rel, pair[1], by_id, fresh), payload

            async def send(prepared: tuple[LiteralString, list[dict[str, Any]]]) -> None:
                cypher, payload = prepared
                summary.links[sheet.key].update(await graph.write_batch(_counts, cypher, {"rows": payload}))
                tick(len(payload))
                _let_go(payload)

            lanes = LANES if src_label in created else 1
            await _in_lanes(rows, size, prepare, send, lanes, key=lambda r: r.resolved[target][0][1])


def _let_go(*payloads: list[Any]) -> None:
    """Empty a written batch's payloads. The driver's finished transaction keeps its parameters in a
    reference cycle, which only the cyclic collector frees — and a load pauses it: without this, every
    batch's rows stayed in memory to the end (a province's load grew by a gigabyte a minute)."""
    for payload in payloads:
        payload.clear()


async def _propagate(graph: Graph, summary: Summary) -> None:
    """After moves, children inherit their new parent's area codes."""
    moved = any(c["updated"] for c in summary.nodes.values()) or any(c["deleted"] for c in summary.links.values())
    if not moved:
        return
    for sheet in NODE_SHEETS:
        parent = sheet.parent
        if parent is None or sheet.area_level:
            continue
        for target in parent.targets:
            await graph.write_rows(propagate_area(sheet.label, parent.rel, target))


async def _counts(tx: AsyncManagedTransaction, cypher: LiteralString, params: dict[str, Any]) -> Counter[str]:
    result = await tx.run(cypher, params)
    record = await result.single()
    return Counter({k: int(v or 0) for k, v in (record.data() if record else {}).items()})


async def _upsert(
    tx: AsyncManagedTransaction,
    cypher: LiteralString,
    payload: list[list[Any]],
    stale: list[LiteralString],
    first_link: int,
    carried: int = 0,
) -> tuple[Counter[str], list[str], list[int], list[int], list[int]]:
    """One batch: the upsert, then (same transaction) the folded links that nodes which existed no longer list.

    Returns the counts, the codes that existed, per folded link the relationships created and deleted,
    and the nodes' ids in row order. `carried`: relationships the statement makes for carried links."""
    result = await tx.run(cypher, {"rows": payload})
    record = await result.single()
    assert record is not None
    total = (await result.consume()).counters.relationships_created
    counts = Counter({k: int(record[k] or 0) for k in ("created", "updated", "unchanged")})
    existed: list[str] = list(record["existed"])
    ids: list[int] = list(record["ids"])
    if len(ids) != len(payload):
        raise RuntimeError(f"upsert returned {len(ids)} node ids for {len(payload)} rows")
    positions = range(first_link, first_link + len(stale))
    if record["made"] is None:  # CREATEd: one relationship per row that names a target
        made = [sum(1 for r in payload if r[j] is not None) for j in positions]
    else:
        made = [int(n) for n in record["made"]]
    if sum(made) + carried != total:
        raise RuntimeError(
            f"图在导入期间被改动 / the graph changed during the load: {sum(made) + carried} relationships "
            f"expected, {total} made (a node this load names was deleted meanwhile); load again"
        )
    deleted = [0] * len(stale)
    if existed and stale:
        old = set(existed)
        rows = [r for r in payload if r[0] in old]
        for i, (j, delete) in enumerate(zip(positions, stale, strict=True)):
            listed = [[r[0], [r[j]] if r[j] is not None else []] for r in rows]
            deleted[i] = (await (await tx.run(delete, {"rows": listed})).consume()).counters.relationships_deleted
    return counts, existed, made, deleted, ids


async def _replace(
    tx: AsyncManagedTransaction,
    delete: LiteralString,
    create: LiteralString,
    listed: list[list[Any]],
    pairs: list[list[Any]],
) -> Counter[str]:
    deleted = created = 0
    if listed:
        deleted = (await (await tx.run(delete, {"rows": listed})).consume()).counters.relationships_deleted
    if pairs:
        created = (await (await tx.run(create, {"pairs": pairs})).consume()).counters.relationships_created
    return Counter({"created": created, "deleted": deleted})


@cache
def prune_nodes(label: str) -> LiteralString:
    """Delete `label` nodes inside the area that the workbook no longer lists."""
    return cast(
        LiteralString,
        f"""
MATCH (n:{_ident(label)})
WHERE (n.districtCode IN $districts OR n.streetCode IN $streets OR n.communityCode IN $communities)
  AND NOT n.code IN $codes
WITH n LIMIT 10000
DETACH DELETE n
RETURN count(*) AS deleted
""",
    )


@cache
def prune_links(source: str, rel: str, target: str) -> LiteralString:
    """Delete a link sheet's relationships inside the area that the workbook no longer lists."""
    s, r, t = _ident(source), _ident(rel), _ident(target)
    inside = " OR ".join(
        f"{n}.{k} IN ${v}"
        for n in ("a", "b")
        for k, v in (("districtCode", "districts"), ("streetCode", "streets"), ("communityCode", "communities"))
    )
    return cast(
        LiteralString,
        f"""
MATCH (a:{s})-[l:{r}]->(b:{t})
WHERE ({inside}) AND NOT [a.code, b.code, coalesce(l.key, '')] IN $keys
DELETE l
RETURN count(*) AS deleted
""",
    )


def prune_area(plan: Plan) -> dict[str, list[str]]:
    """The workbook's own area: its highest area sheet's codes, else the communities its rows lie in."""
    for key, level in (("District", "districts"), ("Street", "streets"), ("Community", "communities")):
        rows = plan.valid_rows(key)
        if rows:
            return {"districts": [], "streets": [], "communities": [], level: sorted({r.code for r in rows})}
    communities = sorted(
        {r.area["communityCode"] for s in SHEETS for r in _rows(plan, s.key) if r.area.get("communityCode")}
    )
    return {"districts": [], "streets": [], "communities": communities}


async def prune(graph: Graph, plan: Plan, summary: Summary) -> None:
    """With --prune: remove, inside the workbook's area only, what its sheets no longer list."""
    area = prune_area(plan)
    if not any(area.values()):
        return
    present = {s.key for s in SHEETS if plan.rows.get(s.key)}
    for sheet in reversed(SHEETS):  # children first
        if sheet.key not in present:
            continue
        if sheet.is_node:
            if sheet.label in {"City", "Unit", "PropertyCompany"}:
                continue  # city-wide entities are never pruned by an area's workbook
            codes = [r.code for r in plan.valid_rows(sheet.key)]
            while True:
                rows = await graph.write_rows(prune_nodes(sheet.label), {**area, "codes": codes})
                summary.nodes[sheet.label]["deleted"] += rows[0]["deleted"]
                if rows[0]["deleted"] < 10000:
                    break
        else:
            assert sheet.source is not None
            assert sheet.target is not None
            keys = []
            for r in plan.valid_rows(sheet.key):
                keys.append(
                    [r.resolved[sheet.source.en][0][1], r.resolved[sheet.target.en][0][1], str(r.props.get("role", ""))]
                )
            for src in sheet.source.targets:
                for dst in sheet.target.targets:
                    rows = await graph.write_rows(prune_links(src, sheet.rel, dst), {**area, "keys": keys})
                    summary.links[sheet.key]["deleted"] += rows[0]["deleted"]


async def write_plan_tx(tx: AsyncManagedTransaction, plan: Plan) -> Summary:
    """Write a small plan (an API edit) inside the caller's transaction: the same statements as a load.

    Nodes are MERGEd (never the CREATE fast path: the label is not empty); every link column of a row
    replaces that node's links of the type, so an edit can move a node; link sheets upsert by key.
    """
    summary = Summary()
    for sheet in NODE_SHEETS:
        rows = plan.valid_rows(sheet.key)
        if not rows:
            continue
        fields, folded = node_fields(sheet.label), folded_links(sheet.label)
        stale = [stale_links(sheet.label, lk.rel, lk.targets[0], lk.incoming) for lk in folded]
        payload, _ = node_payloads(_records(plan, sheet.label), sheet.label)
        counts, existed, _created, _deleted, _ids = await _upsert(
            tx, upsert_nodes(sheet.label), payload, stale, len(fields) + 1
        )
        summary.nodes[sheet.label].update(counts)
        for link in sheet.links:
            if link in folded:
                continue
            for target in link.targets:
                listed = [[r.code, [c for lbl, c in r.resolved.get(link.en, ()) if lbl == target]] for r in rows]
                pairs = [[code, c] for code, targets in listed for c in targets]
                delete = stale_links(sheet.label, link.rel, target, link.incoming)
                create = merge_links(sheet.label, link.rel, target, link.incoming)
                counters = await _replace(tx, delete, create, [x for x in listed if x[0] in existed], pairs)
                summary.links[_link_key(sheet.label, link, target)].update(counters)
    for sheet in LINK_SHEETS:
        assert sheet.source is not None
        assert sheet.target is not None
        for r in plan.valid_rows(sheet.key):
            (src_label, src), (dst_label, dst) = r.resolved[sheet.source.en][0], r.resolved[sheet.target.en][0]
            key = str(r.props.get("role", ""))
            row = {"source": src, "target": dst, "key": key, "props": {**r.props, "key": key}}
            counts = await _counts(tx, upsert_links(src_label, sheet.rel, dst_label), {"rows": [row]})
            summary.links[sheet.key].update(counts)
    summary.rows = sum(len(plan.valid_rows(s.key)) for s in SHEETS)
    return summary
