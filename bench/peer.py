"""The loader's peer: Neo4j's own `LOAD CSV` of the same CSV folder, as a Neo4j developer would write it.

Each sheet is one server-side `LOAD CSV ... CALL { ... } IN TRANSACTIONS` statement generated from the
model (`core.model.SHEETS`): the same nodes, properties (typed, with their area codes) and relationships,
in the same order — but nothing is validated, and the file never crosses Bolt. Batches commit one at a
time: `IN 2 CONCURRENT TRANSACTIONS` (both cores, as the loader's two partitions) deadlocked on the uniqueness
constraints' index-entry locks in a city load, and Neo4j 5.26 has no `ON ERROR RETRY` to take it up again.
The benchmark loads a profile with `grassroots load` and with this peer, each into a fresh Neo4j, and reports
the ratio: on this shared host the ratio says more about the loader than either time alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import LiteralString, cast

from core.areas import AREA_LEVELS, LEVEL
from core.model import LABELS, NODE_SHEETS, SHEETS, Column, Kind, Link, Sheet
from graph.driver import Graph
from graph.loading import count_label, count_type

#: Rows per transaction, as the loader's batches.
BATCH = 10_000
#: The model's relationship types (node sheets' link columns, link sheets).
REL_TYPES: tuple[str, ...] = tuple(
    sorted({lk.rel for s in SHEETS for lk in s.all_links} | {s.rel for s in SHEETS if s.rel})
)


def server_config(folder: Path) -> str:
    """The Neo4j settings (`LocalNeo4j.config`) that let `LOAD CSV` read `folder`'s files as file:///NAME.csv."""
    return f"server.directories.import={folder.resolve()};dbms.security.allow_csv_import_from_file_urls=true"


#: 12-digit area codes: how many leading digits each level keeps (the rest are zeros).


def _cell(zh: str) -> str:
    if "`" in zh:
        raise ValueError(zh)
    return f"row.`{zh}`"


def _value(column: Column) -> str:
    cell = _cell(column.zh)
    if column.kind is Kind.INT:
        return f"toInteger({cell})"
    if column.kind is Kind.FLOAT:
        return f"toFloat({cell})"
    if column.kind is Kind.DATE:
        return f"date({cell})"
    if column.kind is Kind.BOOL:
        return f"CASE {cell} WHEN '是' THEN true WHEN '否' THEN false END"
    return cell


def _area_codes(sheet: Sheet) -> list[str]:
    """The area-code properties a node carries: cut from its own code, or its parent's (`p`)."""
    if sheet.area_level:
        code = _cell(sheet.columns[0].zh)
        out = []
        for level in AREA_LEVELS[: AREA_LEVELS.index(LEVEL[sheet.area_level]) + 1]:
            out.append(f"{level.property}: left({code}, {level.digits}) + '{'0' * (12 - level.digits)}'")
        return out
    if sheet.parent is None:
        return []
    return [f"{level.property}: p.{level.property}" for level in AREA_LEVELS]


def _match(var: str, link: Link, code: str) -> str:
    """Find the node a code names: by its label's code index (a union over the labels it may be)."""
    if len(link.targets) == 1:
        return f"MATCH ({var}:{link.targets[0]} {{code: {code}}})"
    union = " UNION ".join(f"MATCH ({var}:{t} {{code: {code}}}) RETURN {var}" for t in link.targets)
    return f"CALL ({code.split('.')[0]}) {{ {union} }}"  # the variable the code is read from: row, or c


def _pattern(link: Link) -> str:
    return f"(m)-[:{link.rel}]->(n)" if link.incoming else f"(n)-[:{link.rel}]->(m)"


def _link(link: Link) -> str:
    """One link column's relationships, made after the node (several codes are split on ';')."""
    cell = _cell(link.zh)
    if link.many:
        return (
            f"  CALL (n, row) {{ UNWIND split(coalesce({cell}, ''), ';') AS c WITH n, c WHERE c <> '' "
            f"{_match('m', link, 'c')} CREATE {_pattern(link)} }}\n"
        )
    return f"  CALL (n, row) {{ WITH * WHERE {cell} IS NOT NULL {_match('m', link, cell)} CREATE {_pattern(link)} }}\n"


def _file(sheet: Sheet, folder_url: str) -> str:
    return f"LOAD CSV WITH HEADERS FROM '{folder_url}/{sheet.key}.csv' AS row\n"


def _links(sheet: Sheet) -> tuple[list[Link], list[Link]]:
    """A node sheet's link columns besides its parent: those naming sheets before it (made with the node),
    and those naming a sheet after it (made once that is loaded)."""
    earlier = {s.label for s in NODE_SHEETS[: NODE_SHEETS.index(sheet)]}
    others = [lk for lk in sheet.links if lk is not sheet.parent]
    before = [lk for lk in others if all(t in earlier for t in lk.targets)]
    return before, [lk for lk in others if lk not in before]


def _placed(sheet: Sheet) -> str:
    """The start of a node placed by the first of several links it fills (`Sheet.places`: a member's household,
    else branch, else community): each matched when named; the first found (`p`) gives the area codes, the
    parent (`p0`) its relationship."""
    matches = "".join(f"  OPTIONAL {_match(f'p{i}', lk, _cell(lk.zh))}\n" for i, lk in enumerate(sheet.places))
    return matches + f"  WITH row, p0, coalesce({', '.join(f'p{i}' for i in range(len(sheet.places)))}) AS p\n"


def node_statement(sheet: Sheet, folder_url: str) -> LiteralString:
    """A node sheet: its nodes, their parents and the links to sheets before it."""
    props = [f"{c.name}: {_value(c)}" for c in sheet.columns] + _area_codes(sheet)
    parent, several = sheet.parent, len(sheet.places) > 1
    body = ""
    if several:
        body += _placed(sheet)
    elif parent is not None:
        body += f"  {_match('p', parent, _cell(parent.zh))}\n"
    body += f"  CREATE (n:{sheet.label} {{{', '.join(props)}}})\n"
    if several and parent is not None:
        made = _pattern(parent).replace("(m)", "(p0)")
        body += f"  WITH n, row, p0 CALL (n, p0) {{ WITH * WHERE p0 IS NOT NULL CREATE {made} }}\n"
    elif parent is not None:
        body += f"  WITH n, row, p CREATE {_pattern(parent).replace('(m)', '(p)')}\n"
    links, _ = _links(sheet)
    if links:
        body += "  WITH n, row\n" + "".join(_link(lk) for lk in links)
    return cast(
        LiteralString,
        f"{_file(sheet, folder_url)}CALL (row) {{\n{body}}} IN TRANSACTIONS OF {BATCH} ROWS",
    )


def later_links_statement(sheet: Sheet, folder_url: str) -> LiteralString | None:
    """A node sheet's links to sheets after it (a central household's household), once those are loaded."""
    _, later = _links(sheet)
    if not later:
        return None
    code = _cell(sheet.columns[0].zh)
    body = f"  MATCH (n:{sheet.label} {{code: {code}}})\n" + "".join(_link(lk) for lk in later)
    return cast(LiteralString, f"{_file(sheet, folder_url)}CALL (row) {{\n{body}}} IN TRANSACTIONS OF {BATCH} ROWS")


def link_statement(sheet: Sheet, folder_url: str) -> LiteralString:
    """A link sheet: one dated relationship per row, with its properties."""
    assert sheet.source is not None
    assert sheet.target is not None
    props = [f"{c.name}: {_value(c)}" for c in sheet.columns]
    role = next((c for c in sheet.columns if c.name == "role"), None)
    props.append("key: " + (_value(role) if role else "''"))  # the loader's relationship key: the role, or empty
    body = (
        f"  {_match('s', sheet.source, _cell(sheet.source.zh))}\n"
        f"  {_match('t', sheet.target, _cell(sheet.target.zh))}\n"
        f"  CREATE (s)-[:{sheet.rel} {{{', '.join(props)}}}]->(t)\n"
    )
    return cast(LiteralString, f"{_file(sheet, folder_url)}CALL (row) {{\n{body}}} IN TRANSACTIONS OF {BATCH} ROWS")


async def run(graph: Graph, cypher: LiteralString) -> None:
    """Run one statement in an auto-commit transaction (`CALL { } IN TRANSACTIONS` commits its own batches)."""
    async with graph.driver.session(database=graph.database) as session:
        await (await session.run(cypher)).consume()


async def counts(graph: Graph) -> dict[str, int]:
    """Nodes per model label and relationships per model type (from Neo4j's count store: no scan)."""
    out = {}
    for label in sorted(LABELS):
        out[label] = (await graph.read_rows(count_label(label)))[0]["n"]
    for rel in REL_TYPES:
        out[rel] = (await graph.read_rows(count_type(rel)))[0]["n"]
    return out


def statements(folder_url: str, keys: set[str]) -> list[tuple[str, LiteralString]]:
    """(sheet key, statement) in load order for the sheets present (`keys`): nodes, later links, link sheets."""
    out: list[tuple[str, LiteralString]] = []
    nodes = [s for s in NODE_SHEETS if s.key in keys]
    out += [(s.key, node_statement(s, folder_url)) for s in nodes]
    for s in nodes:
        later = later_links_statement(s, folder_url)
        if later is not None:
            out.append((f"{s.key} (later links)", later))
    out += [(s.key, link_statement(s, folder_url)) for s in SHEETS if not s.is_node and s.key in keys]
    return out
