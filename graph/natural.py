"""Finding nodes by their natural key (自然键), and the highest code the loader allocated in an area.

A row that leaves its code blank is identified by its sheet's natural key (`core.model.Sheet.natural_key`):
its place (an outgoing relationship to its parent, named by the parent's code) and its own values — a
building by compound and 楼号, a household by building, 单元 and 门牌, a member by ID number, an organization
by parent and name. The statements are built from the model's identifiers; every value is a parameter.

Rules the loader (`loaders.natural`) relies on:
- A key is a list of strings: the link part (first, when the key has one) the parent's code, then each column's
  value upper-cased. The graph side compares `toUpper(n.prop)` under the parent, so a 楼号 typed "3a" once and
  "3A" later is the same building. A key without a link (a member's ID number) is compared as stored: ID
  numbers are stored upper-cased (`loaders.cells`), and the comparison can use the index on them.
- Only a node whose link to that parent is open (`until` null) has that key: a household that moved out of a
  building no longer answers to its old place.
- Allocated codes end in `-N<digits>` (`core.codes.assigned_code`); `top_sequences` reads the highest number
  after a stem `PREFIX-<area>-N` with a prefix scan of the code's uniqueness index.
"""

from __future__ import annotations

from functools import cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from core.areas import AREA_PROPERTIES
from core.model import SHEET_BY_LABEL, Link
from graph.driver import Graph, Rows
from graph.loading import _ident, _prop, count_label
from graph.statistics import by_code

#: Keys or stems asked in one statement.
ASKED = 10_000
#: Parents asked in one statement (each answers with every node under it: a building's households).
ASKED_PARENTS = 1_000


@cache
def find_by_natural_key(label: str) -> LiteralString:
    """`label` nodes by natural key (see the module's doc), as one record: `found`, a list of [key parts..., code,
    area codes in `AREA_PROPERTIES` order] — one record, not one per node: the driver's cost is per record.

    A key with a link part: $keys holds the parents' codes, and every node under each parent is listed (the
    caller keeps those it asked for) — each parent expanded once, not once per key (a building's households). A
    key of columns only: $keys holds the keys, each sought in the index on its property."""
    sheet = SHEET_BY_LABEL[label]
    if not sheet.natural_key:
        raise ValueError(f"{label} has no natural key")
    n = _ident(label)
    tail = ", ".join(["n.code", *(f"n.{k}" for k in AREA_PROPERTIES)])
    first = sheet.natural_parts[0]
    if isinstance(first, Link):
        rest = ", ".join(f"toUpper(toString(n.{_prop(c.name)}))" for c in sheet.natural_parts[1:])
        return cast(
            LiteralString,
            f"UNWIND $keys AS p\n{by_code('t', _ident(first.targets[0]), 'p')}\n"
            f"MATCH (n:{n})-[r:{_ident(first.rel)}]->(t) WHERE r.until IS NULL\n"
            f"RETURN collect([p, {rest}, {tail}]) AS found",
        )
    same = " AND ".join(f"n.{_prop(c.name)} = k[{i}]" for i, c in enumerate(sheet.natural_parts))
    return cast(LiteralString, f"UNWIND $keys AS k\nMATCH (n:{n}) WHERE {same}\nRETURN collect(k + [{tail}]) AS found")


async def _found(tx: AsyncManagedTransaction, cypher: LiteralString, keys: list[Any]) -> list[list[Any]]:
    """The one record's `found` list, read as the driver gives it (no per-value `data()` walk)."""
    record = await (await tx.run(cypher, {"keys": Rows(keys)})).single()
    return list(record["found"]) if record is not None else []


async def find_natural(
    graph: Graph, label: str, keys: list[list[str]]
) -> dict[tuple[str, ...], tuple[str, dict[str, str]]]:
    """Which of `keys` name `label` nodes in the graph: key -> (code, area path). Asked `ASKED` keys (or
    `ASKED_PARENTS` parents) at a time; not at all while the label is empty (a first load: its count is read
    from the count store)."""
    found: dict[tuple[str, ...], tuple[str, dict[str, str]]] = {}
    if not keys or not (await graph.read_rows(count_label(label)))[0]["n"]:
        return found
    width = len(SHEET_BY_LABEL[label].natural_key)
    wanted = {tuple(k) for k in keys}
    by_parent = isinstance(SHEET_BY_LABEL[label].natural_parts[0], Link)
    asked: list[Any] = sorted({k[0] for k in keys}) if by_parent else keys
    step = ASKED_PARENTS if by_parent else ASKED
    for i in range(0, len(asked), step):
        for item in await graph.read(_found, find_by_natural_key(label), asked[i : i + step]):
            key = tuple(item[:width])
            if key in wanted:
                area = {k: v for k, v in zip(AREA_PROPERTIES, item[width + 1 :], strict=True) if v}
                found[key] = (item[width], area)
    return found


@cache
def top_sequence(label: str) -> LiteralString:
    """Per stem of $stems (`PREFIX-<area>-N`), the highest number after it among `label` codes (null: none)."""
    n = _ident(label)
    return cast(
        LiteralString,
        f"UNWIND $stems AS s\nCALL (s) {{ MATCH (n:{n}) WHERE n.code STARTS WITH s "
        "RETURN max(toInteger(substring(n.code, size(s)))) AS top }\nRETURN s AS stem, top",
    )


async def top_sequences(graph: Graph, label: str, stems: list[str]) -> dict[str, int]:
    """The highest allocated number after each stem among `label` codes in the graph (0 when none)."""
    tops: dict[str, int] = {}
    for i in range(0, len(stems), ASKED):
        for row in await graph.read_rows(top_sequence(label), {"stems": Rows(stems[i : i + ASKED])}):
            tops[row["stem"]] = int(row["top"] or 0)
    return tops
