"""The personal-data access log: one `_Access` node per entity whose ID number or phone a response showed
unmasked (who, when, which entity, which fields), filed under the entity's area codes so admins read the
entries inside their own scope.

Written after the response's data is complete, in its own transaction; it is a log of reads, never read by
the entity queries (its label is internal, like `_Audit`).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any, LiteralString, cast

from core.areas import AREA_PROPERTIES
from core.model import LABELS
from graph.driver import Graph
from graph.editing import audit_scope
from graph.scope import Scope


@cache
def record_query(label: str) -> LiteralString:
    """One `_Access` per `label` entity in $rows ({code, fields}), with its area codes, by $login."""
    if label not in LABELS:
        raise ValueError(label)
    area = ", ".join(f"{k}: n.{k}" for k in AREA_PROPERTIES)
    return cast(
        LiteralString,
        f"UNWIND $rows AS r MATCH (n:{label} {{code: r.code}}) CREATE (:_Access "
        f"{{at: datetime(), login: $login, label: '{label}', code: r.code, fields: r.fields, {area}}})",
    )


#: The newest entries filed inside a scope (parameters of `audit_scope`), optionally one entity's or login's.
ACCESS_LOG: LiteralString = """
MATCH (a:_Access) WHERE ($code IS NULL OR a.code = $code) AND ($login IS NULL OR a.login = $login)
  AND ($scope IS NULL OR a[$scopeProperty] = $scope)
RETURN a {.login, .label, .code, .fields, at: toString(a.at)} AS entry
ORDER BY a.at DESC
LIMIT $first
"""


async def record(graph: Graph, login: str, revealed: list[tuple[str, str, str]]) -> None:
    """Write what one response showed unmasked: (label, code, field) triples, one entry per entity."""
    fields: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for label, code, field in revealed:
        fields[label][code].add(field)
    for label, by_code in fields.items():
        rows = [{"code": code, "fields": sorted(names)} for code, names in by_code.items()]
        await graph.write_rows(record_query(label), {"rows": rows, "login": login})


async def entries(
    graph: Graph, scope: Scope | None, code: str | None, login: str | None, first: int
) -> list[dict[str, Any]]:
    """The newest access entries inside `scope` (None: all)."""
    params = {"code": code, "login": login, "first": first, **audit_scope(scope)}
    return [r["entry"] for r in await graph.read_rows(ACCESS_LOG, params)]
