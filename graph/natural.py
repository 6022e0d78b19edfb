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
from typing import LiteralString, cast

from core.areas import AREA_PROPERTIES
from core.model import SHEET_BY_LABEL, Link
from graph.driver import Graph, Rows
from graph.loading import _ident, _prop
from graph.statistics import by_code

#: Keys or stems asked in one statement.
ASKED = 10_000


@cache
def find_by_natural_key(label: str) -> LiteralString:
    """The `label` nodes with the keys in $keys (each a list of strings, see the module's doc): per node found,
    its key, code and area codes."""
    sheet = SHEET_BY_LABEL[label]
    if not sheet.natural_key:
        raise ValueError(f"{label} has no natural key")
    n = _ident(label)
    areas = ", ".join(f"n.{k} AS {k}" for k in AREA_PROPERTIES)
    first = sheet.natural_parts[0]
    if isinstance(first, Link):
        columns = sheet.natural_parts[1:]
        same = " AND ".join(f"toUpper(toString(n.{_prop(c.name)})) = k[{i}]" for i, c in enumerate(columns, start=1))
        match = (
            f"{by_code('t', _ident(first.targets[0]), 'k[0]')}\n"
            f"MATCH (n:{n})-[r:{_ident(first.rel)}]->(t) WHERE r.until IS NULL AND {same}"
        )
    else:
        same = " AND ".join(f"n.{_prop(c.name)} = k[{i}]" for i, c in enumerate(sheet.natural_parts))
        match = f"MATCH (n:{n}) WHERE {same}"
    return cast(LiteralString, f"UNWIND $keys AS k\n{match}\nRETURN k AS key, n.code AS code, {areas}")


async def find_natural(
    graph: Graph, label: str, keys: list[list[str]]
) -> dict[tuple[str, ...], tuple[str, dict[str, str]]]:
    """Which of `keys` name `label` nodes in the graph: key -> (code, area path). Asked `ASKED` keys at a time."""
    found: dict[tuple[str, ...], tuple[str, dict[str, str]]] = {}
    for i in range(0, len(keys), ASKED):
        rows = await graph.read_rows(find_by_natural_key(label), {"keys": Rows(keys[i : i + ASKED])})
        for row in rows:
            found[tuple(row["key"])] = (row["code"], {k: row[k] for k in AREA_PROPERTIES if row.get(k)})
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
