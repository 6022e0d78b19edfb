"""`grassroots template --with-data SCOPE`: a scope's graph as the import workbook, which loads back changing nothing.

The workbook is the template (`loaders.workbooks.TemplateBook`: the same sheets in model order, headers, formats,
drop-down lists and example rows) with the scope's rows after each sheet's example row, as `graph.export` reads them
(its rules: what is current, what lies in the scope, what the rows need besides). Each value is written the way the
reader reads it back into the same property (`cell_value`): a date as a date, yes/no as 是/否 (the drop-down's
words), a number as a number, an enum as its Chinese choice, codes, ID numbers and phones as text, several codes in
one cell joined by `;` (`loaders.cells` splits on it). A node's area codes are not columns: the loader derives them
from its parent again. So a load of the export writes exactly what the graph holds: every row unchanged.

Personal data: this is an operator's tool (Bolt access to the whole graph), so ID numbers and phones are written
unmasked. The file is written whole to a temporary file beside the target, made 0600 (its owner alone reads it),
then renamed over the target.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

from core.model import SHEETS, Column, Kind, Sheet
from graph.driver import Graph
from graph.export import Export, area_scope, link_rows, needed, node_rows
from graph.scope import AreaNotFound, Scope, area_query
from loaders.examples import YES_NO
from loaders.workbooks import TemplateBook

#: How several codes share a cell (`loaders.cells` splits on ; , 、 and spaces; the template says `;`).
SEPARATOR = ";"
#: Only the file's owner may read or write it: it holds personal data unmasked.
PRIVATE = 0o600


def cell_value(column: Column, value: Any) -> Any:
    """A property as its cell: what `loaders.cells` converts back to the same value."""
    if value is None:
        return None
    if column.kind is Kind.DATE:
        return value.to_native() if hasattr(value, "to_native") else value  # neo4j.time.Date -> datetime.date
    if column.kind is Kind.BOOL:
        return YES_NO[0] if value else YES_NO[1]
    return value


def node_values(sheet: Sheet, row: dict[str, Any]) -> list[Any]:
    """A node's row in `sheet.items` order: its properties' cells, each link column's codes joined."""
    links = dict(zip((lk.en for lk in sheet.links), row["links"], strict=True))
    props = row["props"]
    return [
        cell_value(item, props.get(item.name)) if isinstance(item, Column) else SEPARATOR.join(sorted(links[item.en]))
        for item in sheet.items
    ]


def link_values(sheet: Sheet, source: str, target: str, props: dict[str, Any]) -> list[Any]:
    """A link sheet's row in `sheet.items` order: its two ends' codes, then its properties' cells."""
    return [source, target, *(cell_value(c, props.get(c.name)) for c in sheet.columns)]


async def sheet_rows(graph: Graph, export: Export, sheet: Sheet) -> AsyncIterator[list[Any]]:
    """One sheet's rows of the export, streamed a page at a time."""
    if sheet.is_node:
        async for row in node_rows(graph, export, sheet.label):
            yield node_values(sheet, row)
    else:
        async for source, target, props in link_rows(graph, export, sheet.key):
            yield link_values(sheet, source, target, props)


def notes(scope: Scope, name: str, today: date) -> tuple[str, ...]:
    """The 说明 sheet's lines on what the export holds."""
    return (
        f"数据导出 / data export:{name} {scope.code},{today.isoformat()} 的现行数据 / its current data on "
        f"{today.isoformat()}。各表示例行之后为数据行;原样导入不改变任何数据 / the data rows follow each sheet's "
        "example row; loading the workbook as it is changes nothing.",
        "含未遮盖的个人信息(身份证号、联系电话):仅限授权人员使用,妥善保管,用后删除 / holds personal data "
        "unmasked (ID numbers, phones): for authorised staff only; keep it safe and delete it after use.",
    )


async def export_scope(graph: Graph, scope: Scope, out: Path, today: date | None = None) -> dict[str, int]:
    """Write the import workbook of `scope`'s current graph (an area; `graph.export.NotAnArea` for a grid) to
    `out`, mode 0600; its rows per sheet key. `AreaNotFound` when the graph has no such area. Reads only."""
    day = today or date.today()
    found = await graph.read_rows(area_query(area_scope(scope).level), {"scope": scope.code})
    if not found:
        raise AreaNotFound(scope.code)
    export = await needed(graph, scope, day)
    book = TemplateBook(notes(scope, str(found[0]["name"] or ""), day))
    counts: dict[str, int] = {}
    try:
        for sheet in SHEETS:
            rows = book.sheet(sheet)
            async for values in sheet_rows(graph, export, sheet):
                rows.append(values)
            counts[sheet.key] = rows.close()
    except BaseException:
        book.discard()
        raise
    save_private(book, out)
    return counts


def save_private(book: TemplateBook, out: Path) -> None:
    """Save the workbook whole, mode 0600: to a temporary file beside `out` (made 0600 by `mkstemp`), then renamed
    over it — an export that fails leaves no partial file, and no other user can read it meanwhile."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            book.save(fh)
        os.chmod(name, PRIVATE)
        os.replace(name, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
