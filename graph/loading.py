"""The Cypher a load (and an API edit) writes with, and the transaction functions that run it.

Statements are built once per (label, link, variant) from the model's identifiers — labels and
relationship types, which Cypher cannot take as parameters; every value is a parameter. Rows travel as
lists in `node_fields` order (far cheaper for the driver to pack than maps); Neo4j builds the maps and
the dates. Every per-row statement seeks its nodes with `USING INDEX SEEK` (`statistics.by_code`) or by id.

The variants, by name:
- `Write.MERGE`: nodes or relationships may exist already; MERGE on the code (or key) and say what was
  created, updated, unchanged. `Write.CREATE`: the label (or relationship type) has none yet, so CREATE —
  the uniqueness constraint still refuses a duplicate. `Write.CREATE_NAMED` (nodes): CREATE, and with each
  node the links of earlier nodes that name it (`links_naming`: a central household's household).
- `NameBy.CODE`: a row names other nodes by code; `NameBy.ID`: by node id, every one of them a node this
  load wrote — a seek by id instead of the code index's locking seek, the biggest part of a linked row's
  cost. One statement cannot offer both: Neo4j plans the code's index seek ahead of any test of a value's
  type. `id()` is deprecated for `elementId()`, whose strings would double what a load keeps per node;
  Neo4j 5.26 (LTS) has both, and a load uses an id only within itself, for nodes it wrote.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from enum import Enum
from functools import cache
from typing import Any, LiteralString, NamedTuple, cast

from neo4j import AsyncManagedTransaction

from core.areas import AREA_PROPERTIES
from core.model import LABELS, NODE_SHEETS, SHEET_BY_LABEL, Kind, Link, Sheet
from graph.driver import Graph, Rows
from graph.statistics import by_code

_IDENT = re.compile(r"[A-Z][A-Za-z]*|[A-Z][A-Z_]*")


#: A property a MERGE sets only when it creates (`ON CREATE SET`), read back to tell created from found, and
#: dropped by the `SET x = {...}` that follows in the same statement. Comparing the old properties with the bare
#: key cannot tell them apart: a row of a link sheet (or a node) with only its key was counted created and
#: unchanged at once on every reload.
MADE: LiteralString = "_madeByThisStatement"


class Write(Enum):
    """Whether a statement MERGEs what may exist or CREATEs into an empty label (see the module's doc)."""

    MERGE = "MERGE"
    CREATE = "CREATE"
    CREATE_NAMED = "CREATE_NAMED"


class NameBy(Enum):
    """How a statement's rows name the other nodes of their relationships."""

    CODE = "code"
    ID = "id"


def _ident(name: str) -> str:
    if not _IDENT.fullmatch(name):
        raise ValueError(f"not a model identifier: {name!r}")
    return name


def _prop(name: str) -> str:
    if not re.fullmatch(r"[a-z][A-Za-z0-9]*", name):
        raise ValueError(f"not a model property: {name!r}")
    return name


def node_fields(label: str) -> tuple[tuple[str, bool], ...]:
    """(property, is_date) in row order after `code`: the sheet's columns, then the area codes."""
    sheet = SHEET_BY_LABEL[label]
    fields = [(c.name, c.kind is Kind.DATE) for c in sheet.columns if c.name != "code"]
    return (*fields, *((k, False) for k in AREA_PROPERTIES))


@cache
def inline_links(label: str) -> tuple[Link, ...]:
    """Links the node upsert writes itself: one target, one code, a label loaded earlier (a building's grid).

    The rest (several targets or codes, a later label) are written after the nodes (`merge_links`), or on a
    first load with the later label's nodes (`links_naming`)."""
    earlier: set[str] = set()
    for sheet in NODE_SHEETS:
        if sheet.label == label:
            return tuple(lk for lk in sheet.links if len(lk.targets) == 1 and not lk.many and lk.targets[0] in earlier)
        earlier.add(sheet.label)
    raise ValueError(label)


@cache
def links_naming(label: str) -> tuple[tuple[Sheet, Link], ...]:
    """The links of earlier node sheets naming `label` nodes (`core.model.later_links`), with their sheets."""
    out: list[tuple[Sheet, Link]] = []
    for sheet in NODE_SHEETS:
        if sheet.label == label:
            return tuple(out)
        out.extend((sheet, lk) for lk in sheet.links if lk.targets == (label,))
    raise ValueError(label)


def _link_pattern(link: Link, node: str, other: str) -> str:
    rel = _ident(link.rel)
    return f"({other})-[:{rel}]->({node})" if link.incoming else f"({node})-[:{rel}]->({other})"


def _find(var: str, label: str, value: str, name_by: NameBy) -> str:
    if name_by is NameBy.ID:
        return f"MATCH ({var}:{label}) WHERE id({var}) = {value}"
    return by_code(var, label, value)


@cache
def upsert_nodes(label: str, write: Write = Write.MERGE, name_by: NameBy = NameBy.CODE) -> LiteralString:
    """Upsert nodes by code with their inline links; say what was created, updated, unchanged.

    A row is [code, values in `node_fields` order, then one target per inline link (a code or, `NameBy.ID`,
    an id)] — with `Write.CREATE_NAMED`, then per `links_naming` link the ids of the nodes naming it. The
    statement returns the nodes' ids in row order (UNWIND, CREATE or MERGE and collect keep it), and with
    MERGE how many relationships each inline link created (`made`; a CREATE makes one per target).
    """
    if label not in LABELS:
        raise ValueError(label)
    fields = node_fields(label)
    entries = ["code: r[0]"] + [
        f"{_prop(name)}: " + (f"date(r[{i}])" if is_date else f"r[{i}]")
        for i, (name, is_date) in enumerate(fields, start=1)
    ]
    props = "{" + ", ".join(entries) + "}"
    links, made = "", []
    for j, link in enumerate(inline_links(label), start=len(fields) + 1):
        pattern, find = _link_pattern(link, "n", "m"), _find("m", _ident(link.targets[0]), f"r[{j}]", name_by)
        if write is Write.MERGE:  # a link the node has is kept (or reopened); else made: say how many were
            keep = _keep_or_make(link.rel, link.incoming)
            links += f"CALL (n, r, fresh) {{ WITH * WHERE r[{j}] IS NOT NULL {find} {keep} AS made{j} }}\n"
            made.append(f"made{j}")
        else:  # one relationship per row naming a target: counted by the caller, at no cost here
            links += f"CALL (n, r) {{ WITH * WHERE r[{j}] IS NOT NULL {find} CREATE {pattern} }}\n"
    if write is Write.CREATE_NAMED:
        first = len(fields) + 1 + len(inline_links(label))
        for j, (sheet, link) in enumerate(links_naming(label), start=first):
            source, rel = _ident(sheet.label), _ident(link.rel)
            pattern = f"(n)-[:{rel}]->(x)" if link.incoming else f"(x)-[:{rel}]->(n)"
            links += f"CALL (n, r) {{ UNWIND r[{j}] AS c MATCH (x:{source}) WHERE id(x) = c CREATE {pattern} }}\n"
    if write is not Write.MERGE:
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
ON CREATE SET n.{MADE} = true
WITH n, r, properties(n) AS before
SET n = {props}
WITH n, r, before, properties(n) AS after, before.{MADE} IS NOT NULL AS fresh
{links}WITH r, id(n) AS id, fresh AS created, before = after AS unchanged{made_columns}
RETURN sum(CASE WHEN created THEN 1 ELSE 0 END) AS created,
       sum(CASE WHEN NOT created AND NOT unchanged THEN 1 ELSE 0 END) AS updated,
       sum(CASE WHEN NOT created AND unchanged THEN 1 ELSE 0 END) AS unchanged,
       collect(CASE WHEN NOT created THEN r[0] END) AS existed,
       collect(id) AS ids,
       [{", ".join(f"sum({m})" for m in made)}] AS made
""",
    )


def _keep_or_make(rel_type: str, incoming: bool) -> str:
    """Keep the open `link` between `n` and `m`; else reopen the one a load closed today; else make it, dated
    from $today unless the node is new (`fresh`: its first links carry no dates). Returns how many were made."""
    rel = _ident(rel_type)
    found = f"(m)-[lk:{rel}]->(n)" if incoming else f"(n)-[lk:{rel}]->(m)"
    made = f"(m)-[:{rel} {{since: since}}]->(n)" if incoming else f"(n)-[:{rel} {{since: since}}]->(m)"
    return (
        f"OPTIONAL MATCH {found} WHERE lk.until IS NULL OR lk.until = date($endedOn) "
        "WITH n, m, fresh, collect(lk) AS kept, CASE WHEN fresh THEN null ELSE date($today) END AS since "
        "FOREACH (k IN CASE WHEN any(k IN kept WHERE k.until IS NULL) THEN [] ELSE kept[0..1] END | REMOVE k.until) "
        f"FOREACH (_ IN CASE WHEN size(kept) = 0 THEN [1] ELSE [] END | CREATE {made}) "
        "RETURN sum(CASE WHEN size(kept) = 0 THEN 1 ELSE 0 END)"
    )


@cache
def stale_links(label: str, rel: str, target: str, incoming: bool) -> LiteralString:
    """End this node's open `rel` links to `target` nodes its row no longer lists (rows: [code, [codes or ids]]):
    `until` $endedOn (the day before the load) keeps the link for the days it held (graph/validity.py); a link
    made today ($today) never held on an earlier day and is deleted. Returns how many ended.

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
WHERE r.until IS NULL AND NOT ({old}.code IN row[1] OR id({old}) IN row[1])
WITH r, coalesce(r.since = date($today), false) AS madeToday
FOREACH (x IN CASE WHEN madeToday THEN [r] ELSE [] END | DELETE x)
FOREACH (x IN CASE WHEN madeToday THEN [] ELSE [r] END | SET x.until = date($endedOn))
RETURN count(*) AS ended
""",
    )


@cache
def merge_links(
    label: str, rel: str, target: str, incoming: bool, write: Write = Write.MERGE, name_by: NameBy = NameBy.CODE
) -> LiteralString:
    """Write the listed links: pairs [node, target, fresh], both ends codes or both ids, `fresh` when the node is
    new. `Write.CREATE` (no listed node existed) CREATEs them; else each is kept, reopened or made as an inline
    link is (`_keep_or_make`). Returns how many were made."""
    n, t = _ident(label), _ident(target)
    find = f"{_find('n', n, 'p[0]', name_by)}\n{_find('m', t, 'p[1]', name_by)}"
    if write is Write.CREATE:
        r = _ident(rel)
        pattern = f"(m)-[:{r}]->(n)" if incoming else f"(n)-[:{r}]->(m)"
        return cast(LiteralString, f"\nUNWIND $pairs AS p\n{find}\nCREATE {pattern}\nRETURN count(*) AS made\n")
    return cast(
        LiteralString,
        f"\nUNWIND $pairs AS p\n{find}\nWITH n, m, p[2] AS fresh\n"
        f"CALL (n, m, fresh) {{ {_keep_or_make(rel, incoming)} AS made }}\nRETURN sum(made) AS made\n",
    )


@cache
def upsert_links(
    source: str, rel: str, target: str, write: Write = Write.MERGE, name_by: NameBy = NameBy.CODE
) -> LiteralString:
    """MERGE dated relationships of a link sheet by (source, target, key); replace their properties.

    `Write.CREATE` (no `source` node has a `rel` relationship yet) CREATEs them: validation has refused
    duplicate keys, and a MERGE would search each row's dense target (a community hears from hundreds)."""
    s, r, t = _ident(source), _ident(rel), _ident(target)
    find = f"{_find('a', s, 'row.source', name_by)}\n{_find('b', t, 'row.target', name_by)}"
    if write is Write.CREATE:
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
ON CREATE SET l.{MADE} = true
WITH l, row, properties(l) AS before
SET l = row.props
WITH before, properties(l) AS after, before.{MADE} IS NOT NULL AS fresh
RETURN sum(CASE WHEN fresh THEN 1 ELSE 0 END) AS created,
       sum(CASE WHEN NOT fresh AND before <> after THEN 1 ELSE 0 END) AS updated,
       sum(CASE WHEN NOT fresh AND before = after THEN 1 ELSE 0 END) AS unchanged
""",
    )


@cache
def propagate_area(child: str, rel: str, parent: str, unless: tuple[tuple[str, str], ...] = ()) -> LiteralString:
    """Copy the parent's area codes to children whose codes differ (after a move). `unless` lists the (type,
    label) of the links that place a child before this one (`Sheet.places`): a child with one of them open keeps
    the area that one gives (a member who lives in a household is not moved by its branch)."""
    c, r, p = _ident(child), _ident(rel), _ident(parent)
    sets = ", ".join(f"c.{k} = p.{k}" for k in AREA_PROPERTIES)
    differs = " OR ".join(f"coalesce(c.{k}, '') <> coalesce(p.{k}, '')" for k in AREA_PROPERTIES)
    before = "".join(
        f" AND NOT EXISTS {{ MATCH (c)-[e:{_ident(t)}]->(:{_ident(lb)}) WHERE e.until IS NULL }}" for t, lb in unless
    )
    return cast(
        LiteralString,
        f"MATCH (c:{c})-[r:{r}]->(p:{p}) WHERE r.until IS NULL AND ({differs}){before} SET {sets} "
        "RETURN count(c) AS moved",
    )


@cache
def existing_codes(label: str) -> LiteralString:
    """Codes of `label` already in the graph, with their area codes."""
    fields = ", ".join(f"n.{k} AS {k}" for k in AREA_PROPERTIES)
    n = _ident(label)
    return cast(
        LiteralString,
        f"MATCH (n:{n}) USING INDEX SEEK n:{n}(code) WHERE n.code IN $codes RETURN n.code AS code, {fields}",
    )


async def find_codes(graph: Graph, label: str, codes: list[str]) -> dict[str, dict[str, str]]:
    """Which of `codes` name `label` nodes in the graph: code -> its area path. Asked 10,000 codes at a time."""
    found: dict[str, dict[str, str]] = {}
    for i in range(0, len(codes), 10_000):
        for row in await graph.read_rows(existing_codes(label), {"codes": Rows(codes[i : i + 10_000])}):
            found[row["code"]] = {k: row[k] for k in AREA_PROPERTIES if row.get(k)}
    return found


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


@cache
def prune_nodes(label: str) -> LiteralString:
    """End up to 10,000 `label` nodes inside the area that the workbook no longer lists: $endedOn becomes their
    last day in force (they stay, with their relationships, for the days they were in force)."""
    return cast(
        LiteralString,
        f"""
MATCH (n:{_ident(label)})
WHERE (n.districtCode IN $districts OR n.streetCode IN $streets OR n.communityCode IN $communities)
  AND NOT n.code IN $codes AND coalesce(n.until > date($endedOn), true)
WITH n LIMIT 10000
SET n.until = date($endedOn)
RETURN count(*) AS ended
""",
    )


@cache
def prune_links(source: str, rel: str, target: str) -> LiteralString:
    """End a link sheet's relationships inside the area that the workbook no longer lists (`until` $endedOn)."""
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
WHERE ({inside}) AND NOT [a.code, b.code, coalesce(l.key, '')] IN $keys AND coalesce(l.until > date($endedOn), true)
SET l.until = date($endedOn)
RETURN count(*) AS ended
""",
    )


# ---------------------------------------------------------------- transaction functions


async def counted(tx: AsyncManagedTransaction, cypher: LiteralString, params: dict[str, Any]) -> Counter[str]:
    """Run a statement that returns one row of counts; those counts."""
    result = await tx.run(cypher, params)
    record = await result.single()
    return Counter({k: int(v or 0) for k, v in (record.data() if record else {}).items()})


class Upserted(NamedTuple):
    """What one batch of `upsert_nodes` did."""

    counts: Counter[str]  # created, updated, unchanged
    existed: list[str]  # codes of the nodes that existed before
    made: list[int]  # per inline link: relationships created
    ended: list[int]  # per inline link: relationships ended (the node's row no longer lists them)
    ids: list[int]  # the nodes' ids in row order


def load_days(today: date) -> dict[str, str]:
    """The parameters that date a write's link changes: $today (a made link's `since`) and $endedOn (the day
    before: a closed link's `until`)."""
    return {"today": today.isoformat(), "endedOn": (today - timedelta(days=1)).isoformat()}


async def upsert_batch(
    tx: AsyncManagedTransaction,
    cypher: LiteralString,
    payload: list[list[Any]],
    stale: list[LiteralString],
    first_link: int,
    today: date,
    named: int = 0,
) -> Upserted:
    """One batch of nodes (`upsert_nodes`), then in the same transaction the inline links that nodes which
    existed no longer list (`stale`: one `stale_links` per inline link, whose targets start at row position
    `first_link`). `today`: the day the write dates link changes by (`load_days`). `named`: relationships the
    statement makes for `links_naming`.

    The relationships made are checked against what the rows asked for: a node the load names deleted
    meanwhile would leave a link out silently."""
    days = load_days(today)
    result = await tx.run(cypher, {"rows": payload, **days})
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
    if sum(made) + named != total:
        raise RuntimeError(
            f"图在导入期间被改动 / the graph changed during the load: {sum(made) + named} relationships "
            f"expected, {total} made (a node this load names was deleted meanwhile); load again"
        )
    ended = [0] * len(stale)
    if existed and stale:
        old = set(existed)
        rows = [r for r in payload if r[0] in old]
        for i, (j, close) in enumerate(zip(positions, stale, strict=True)):
            listed = [[r[0], [r[j]] if r[j] is not None else []] for r in rows]
            ended[i] = (await counted(tx, close, {"rows": listed, **days}))["ended"]
    return Upserted(counts, existed, made, ended, ids)


async def replace_links(
    tx: AsyncManagedTransaction,
    close: LiteralString,
    create: LiteralString,
    listed: list[list[Any]],
    pairs: list[list[Any]],
    today: date,
) -> Counter[str]:
    """End the links `listed` nodes no longer name (`stale_links`), then write `pairs` (`merge_links`), dated by
    `today` (`load_days`)."""
    days = load_days(today)
    ended = made = 0
    if listed:
        ended = (await counted(tx, close, {"rows": listed, **days}))["ended"]
    if pairs:
        made = (await counted(tx, create, {"pairs": pairs, **days}))["made"]
    return Counter({"created": made, "ended": ended})
