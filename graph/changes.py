"""What changed in a scope between two days: the dated facts that started or ended then, and the edits filed.

The parts, in order (`PARTS`): every node label that lies in an area (its start dates and its `until`), then every
link sheet's relationships (their start dates and `until`; in scope through their target, which always lies in an
area), then — for readers granted the audit log — the `_Audit` entries filed inside the scope. A start on day d
is a change on d (`started`); an `until` of d is a change on d, its last day in force (`ended`); an audit entry is a
change on the day it was filed (`edited`). Within a part, changes are ordered by day, then entity code, then the
date column, so keyset paging (`graph.paging.page_across`) walks them in a stable order. Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from core.model import LINK_SHEETS, NODE_SHEETS, Sheet
from graph.driver import Graph
from graph.editing import audit_scope
from graph.metrics import scope_filter, scope_match
from graph.paging import page_across
from graph.scope import AreaNotFound, Scope, area_query
from graph.validity import REL_STARTS

#: Node labels that lie in an area (a unit and a property company serve the whole city: their links say where).
NODE_PARTS: tuple[Sheet, ...] = tuple(s for s in NODE_SHEETS if s.area_level or s.parent is not None)
#: The parts in listing order: node sheets, link sheets, the audit log.
PARTS: tuple[Sheet | None, ...] = (*NODE_PARTS, *LINK_SHEETS, None)
AUDIT_PART = len(PARTS) - 1
#: What each date column means, for people.
FIELD_NAMES: dict[str, str] = {
    "since": "起始日期 / since",
    "until": "终止日期 / until",
    "joinedAt": "入党日期 / joined",
    "raisedAt": "提出日期 / raised",
    "date": "日期 / date",
}


def _events(var: str, starts: tuple[str, ...], until: bool) -> LiteralString:
    """`[[column, day], …]` of an element's start columns and `until`, as a Cypher list."""
    columns = [*starts, *(["until"] if until else [])]
    return cast(LiteralString, "[" + ", ".join(f"['{c}', {var}.{c}]" for c in columns) + "]")


_IN_PERIOD: LiteralString = """
UNWIND {events} AS e
WITH {keep}, e[0] AS field, e[1] AS day
WHERE day IS NOT NULL AND day >= date($from) AND day <= date($to)
WITH {keep}, field, day, toString(day) + '|' + {code} + '|' + field AS key
WHERE key > $after
"""


@cache
def node_query(index: int, level: str) -> LiteralString:
    """A node part's changes inside a scope of `level`, after $after (a key), at most $first, in key order."""
    sheet = cast(Sheet, PARTS[index])
    events = _events("x", sheet.starts, sheet.ended_by is not None)
    period = _IN_PERIOD.replace("{events}", events).replace("{keep}", "x").replace("{code}", "x.code")
    return cast(
        LiteralString,
        f"""
{scope_match(sheet.label, Scope(level, ""))}
{period}
RETURN key, day, field, x {{.code, name: coalesce(x.name, x.title), label: labels(x)[0]}} AS entity,
       null AS related
ORDER BY key LIMIT $first
""",
    )


@cache
def link_query(index: int, level: str) -> LiteralString:
    """A link sheet's changes (its relationships' dates), in scope through the relationship's target."""
    sheet = cast(Sheet, PARTS[index])
    assert sheet.source is not None
    assert sheet.target is not None
    sources = "|".join(sheet.source.targets)
    parts = []
    for target in sheet.target.targets:
        inside = scope_filter(target, Scope(level, ""), "b")
        parts.append(f"MATCH (a:{sources})-[r:{sheet.rel}]->(b:{target}) WHERE {inside} RETURN a, r, b")
    union = "\n  UNION ALL\n  ".join(parts)
    events = _events("r", REL_STARTS, True)
    key = "b.code + '|' + elementId(r)"  # never the other end's code: it may lie outside the reader's area
    period = _IN_PERIOD.replace("{events}", events).replace("{keep}", "a, r, b").replace("{code}", key)
    return cast(
        LiteralString,
        f"""
CALL {{
  {union}
}}
{period}
RETURN key, day, field, b {{.code, name: coalesce(b.name, b.title), label: labels(b)[0]}} AS entity,
       a {{.code, name: coalesce(a.name, a.title), label: labels(a)[0]}} AS related
ORDER BY key LIMIT $first
""",
    )


#: The audit entries filed inside the scope ($scope, $scopeProperty) in the period, after $after, in key order.
AUDIT_QUERY: LiteralString = """
MATCH (a:_Audit) WHERE ($scope IS NULL OR a[$scopeProperty] = $scope)
  AND date(a.at) >= date($from) AND date(a.at) <= date($to)
WITH a, toString(a.at) + '|' + a.id AS key
WHERE key > $after
RETURN key, date(a.at) AS day, 'edited' AS field, {code: a.code, name: null, label: a.label} AS entity,
       null AS related, a.actor AS actor, a.action AS action
ORDER BY key LIMIT $first
"""


@dataclass(frozen=True)
class Change:
    """One change: the part it belongs to, its key there (its position), the day, the date column, the entity
    and, for a relationship, the other end; for an edit, who and what."""

    part: int
    key: str
    day: Any
    field: str
    entity: dict[str, Any]
    related: dict[str, Any] | None
    actor: str | None = None
    action: str | None = None

    @property
    def kind(self) -> str:
        """started, ended or edited."""
        return {"until": "ended", "edited": "edited"}.get(self.field, "started")

    @property
    def relation(self) -> Sheet | None:
        """The link sheet of a relationship's change."""
        part = PARTS[self.part]
        return part if part is not None and not part.is_node else None


@dataclass
class ChangePage:
    """A page of changes and whether more follow."""

    changes: list[Change]
    has_next: bool


async def changes(
    graph: Graph,
    scope: Scope,
    first_day: str,
    last_day: str,
    first: int,
    after: tuple[int, str] | None,
    with_audit: bool,
) -> ChangePage:
    """Changes inside `scope` from `first_day` to `last_day` (ISO dates, both included), `first` of them after
    `after`; the audit log's entries only `with_audit`. One read transaction. Raises AreaNotFound."""
    return await graph.read(_changes, scope, first_day, last_day, first, after, with_audit)


async def _changes(
    tx: AsyncManagedTransaction,
    scope: Scope,
    first_day: str,
    last_day: str,
    first: int,
    after: tuple[int, str] | None,
    with_audit: bool,
) -> ChangePage:
    params: dict[str, Any] = {"scope": scope.code, "community": scope.community, "from": first_day, "to": last_day}
    if await (await tx.run(area_query(scope.level), params)).single() is None:
        raise AreaNotFound(scope.code)

    async def fetch(index: int, start: str, limit: int) -> list[Change]:
        part = PARTS[index]
        asked = {**params, "after": start, "first": limit}
        if part is None:
            query, asked = AUDIT_QUERY, {**asked, **audit_scope(scope)}
        elif part.is_node:
            query = node_query(index, scope.level)
        else:
            query = link_query(index, scope.level)
        result = await tx.run(query, asked)
        return [Change(index, r["key"], r["day"], r["field"], r["entity"], r["related"],
                       r.get("actor"), r.get("action")) async for r in result]  # fmt: skip

    parts = [i for i, part in enumerate(PARTS) if part is not None or with_audit]
    found, has_next = await page_across(parts, first, after, fetch)
    return ChangePage(found, has_next)
