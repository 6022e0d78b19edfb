"""Day-to-day edits through the API, validated exactly like a workbook row and written with an audit entry.

An edit becomes one row of the sheet it belongs to (the import format), goes through the loader's
validation (`loaders.plan.build_plan`, with the graph as the place unknown codes are looked
up), and is written with the loader's statements in one transaction together with its `_Audit`
node: who, when, what, and the entity before and after. Nothing is written when a check fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from neo4j import AsyncManagedTransaction

from core.areas import COMMUNITY, STREET, path
from core.model import SHEETS_BY_KEY, Column, Sheet
from core.privacy import masked_row, redact_value
from graph import rollups
from graph.driver import Graph
from graph.editing import (
    AUDIT_LOG,
    GROUPS_COVERING,
    audit_scope,
    children,
    end_node,
    read_state,
    record_audit,
)
from graph.scope import Scope
from loaders.load import graph_lookup
from loaders.plan import build_plan
from loaders.problems import InvalidInput, Problem
from loaders.read import Input, RawSheet
from loaders.write import write_plan_tx

SOURCE = "API"


class NotFound(LookupError):
    """The entity to edit does not exist."""


class Refused(ValueError):
    """An edit that would break the graph (e.g. removing an organization that still has members)."""


class OutsideScope(Exception):
    """An edit of an entity (before or after it) outside the editor's scope; nothing was written."""


@dataclass
class Change:
    """What an edit did, as written to the audit log."""

    audit_id: str
    at: str
    action: str
    label: str
    code: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    communities: frozenset[str] = frozenset()  # whose coverage rollups the change touched


# ---------------------------------------------------------------- an entity as a row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def _raw(sheet: Sheet, rows: list[dict[str, Any]]) -> RawSheet:
    items = sheet.items
    columns = {(i.name if isinstance(i, Column) else i.en): n for n, i in enumerate(items)}
    raw = RawSheet(sheet, f"{SOURCE}:{sheet.zh}", columns)
    for number, row in enumerate(rows, start=1):
        raw.rows.append((number, [_cell(row.get(i.en)) for i in items]))
    return raw


def _public(sheet: Sheet, row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row as stored in the audit log and answered by the edit: no internal keys, personal columns masked
    (`core.privacy.masked_row`), ID and phone numbers typed into free text masked (`core.privacy.redact_value`)."""
    if row is None:
        return None
    return redact_value(masked_row(sheet, {key: value for key, value in row.items() if not key.startswith("_")}))


# ---------------------------------------------------------------- edits


async def save(
    graph: Graph,
    key: str,
    values: dict[str, Any],
    *,
    mode: str,
    actor: str,
    action: str | None = None,
    allowed: Scope | None = None,
) -> Change:
    """Create (`mode="create"`), update (`"update"`: omitted values keep theirs) or upsert one row of a sheet;
    `OutsideScope` (nothing written) when the entity lies, before or after, outside `allowed`."""
    sheet = SHEETS_BY_KEY[key]
    code = str(values.get("code") or "").strip().upper() if sheet.is_node else ""
    if sheet.natural_key and not code:  # an edit names its node by code; natural keys are for imports
        raise InvalidInput([Problem(SOURCE, 1, "code", "", "编码为必填项", "the code is required")])
    before = None
    if sheet.is_node and code:
        before = await graph.read(read_state, sheet.label, code)
        if mode == "create" and before is not None:
            raise InvalidInput([Problem(SOURCE, 1, "code", code, "编码已存在", "this code already exists")])
        if mode == "update" and before is None:
            raise NotFound(code)
    row = {**(before or {}), **{k: v for k, v in values.items() if v is not None or mode != "update"}}
    plan = await build_plan(Input(Path(SOURCE), [_raw(sheet, [row])], []), graph_lookup(graph))
    if plan.problems:
        raise InvalidInput(plan.problems)
    change = await graph.write(_save, sheet, plan, code, before, Author(actor, allowed), action or f"{mode} {key}")
    await _refresh(graph, change)
    return change


async def _save(
    tx: AsyncManagedTransaction,
    sheet: Sheet,
    plan: Any,
    code: str,
    before: dict[str, Any] | None,
    author: Author,
    action: str,
) -> Change:
    await write_plan_tx(tx, plan)
    if sheet.is_node:
        after = await read_state(tx, sheet.label, code)
        label = sheet.label
    else:
        row = plan.valid_rows(sheet.key)[0]
        after = {k: _cell(v) for k, v in row.props.items()}
        after |= {end.en: row.resolved[end.en][0][1] for end in sheet.ends}
        label, code = sheet.key, row.code
    return await _audit(tx, author, action, label, code, before, after)


async def remove(
    graph: Graph, label: str, code: str, *, actor: str, action: str | None = None, allowed: Scope | None = None
) -> Change:
    """End an entity that nothing in force hangs from (children must be moved or removed first): yesterday was its
    last day in force. It is not deleted: asked about an earlier day, it is there (its dated history stays)."""
    code = code.strip().upper()
    change = await graph.write(_remove, label, code, Author(actor, allowed), action or f"remove {label}")
    await _refresh(graph, change)
    return change


async def _remove(tx: AsyncManagedTransaction, label: str, code: str, author: Author, action: str) -> Change:
    before = await read_state(tx, label, code)
    if before is None:
        raise NotFound(code)
    ended_on = date.today() - timedelta(days=1)
    if before.get("until") is not None and str(before["until"]) <= ended_on.isoformat():
        raise NotFound(code)  # already ended: nothing in force to remove
    hanging = await children(tx, label, code, ended_on)
    if hanging:
        what = ", ".join(f"{n} {child}" for child, n in hanging.items())
        raise Refused(f"{code} 下仍有 {what},请先移走或删除 / {code} still has {what}: move or remove them first")
    await end_node(tx, label, code, ended_on)
    return await _audit(tx, author, action, label, code, before, None)


async def move_building(graph: Graph, building: str, group: str, *, actor: str, allowed: Scope | None = None) -> Change:
    """Move a building to another building group: its old groups drop it, the new one lists it."""
    building, group = building.strip().upper(), group.strip().upper()
    before = await graph.read(read_state, "Building", building)
    if before is None:
        raise NotFound(building)
    target = await graph.read(read_state, "BuildingGroup", group)
    if target is None:
        raise NotFound(group)
    old = await graph.read_rows(GROUPS_COVERING, {"code": building})
    rows = []
    for r in old:
        if r["code"] == group:
            continue
        state = await graph.read(read_state, "BuildingGroup", r["code"])
        assert state is not None
        state["building_codes"] = [b for b in state["building_codes"] if b != building]
        rows.append(state)
    target["building_codes"] = sorted({*target["building_codes"], building})
    rows.append(target)
    sheet = SHEETS_BY_KEY["BuildingGroup"]
    plan = await build_plan(Input(Path(SOURCE), [_raw(sheet, rows)], []), graph_lookup(graph))
    if plan.problems:
        raise InvalidInput(plan.problems)
    groups_before = {"groups": sorted(r["code"] for r in old), "_area": before["_area"]}
    change = await graph.write(_move, plan, building, groups_before, group, Author(actor, allowed))
    await _refresh(graph, change)
    return change


async def _move(
    tx: AsyncManagedTransaction, plan: Any, building: str, before: dict[str, Any], group: str, author: Author
) -> Change:
    await write_plan_tx(tx, plan)
    return await _audit(tx, author, "move Building", "Building", building, before, {"groups": [group]})


@dataclass(frozen=True)
class Author:
    """Who makes an edit, and the scope it must stay inside (None: anywhere — the operator's own tools)."""

    actor: str
    allowed: Scope | None = None


async def _audit(
    tx: AsyncManagedTransaction,
    author: Author,
    action: str,
    label: str,
    code: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> Change:
    """Record the edit, in the transaction that made it — after checking that it stayed inside the author's
    scope: raising here rolls the whole edit back, so a refused edit writes nothing."""
    areas = [area for row in (before, after) if (area := _area(row)) is not None]
    if author.allowed is not None and (not areas or not all(a.within(author.allowed) for a in areas)):
        where = ", ".join(a.code for a in areas) or "?"
        raise OutsideScope(
            f"{code} 位于 {where},不在你的范围 {author.allowed.code} 内 / {code} lies in {where}, "
            f"outside your scope {author.allowed.code}: nothing was changed"
        )
    touched = frozenset(a.code for a in areas if a.level == "community")
    sheet = SHEETS_BY_KEY[label]  # a node sheet's key is its label
    before, after = _public(sheet, before), _public(sheet, after)
    params = {
        "actor": author.actor,
        "action": action,
        "area": _area_codes(areas),
        "label": label,
        "code": code,
        "before": None if before is None else json.dumps(before, ensure_ascii=False, default=str),
        "after": None if after is None else json.dumps(after, ensure_ascii=False, default=str),
    }
    audit_id, at = await record_audit(tx, params)
    return Change(audit_id, at, action, label, code, before, after, touched)


def _area(row: dict[str, Any] | None) -> Scope | None:
    """The area an entity row lies in (its community, else its street), or the community a relationship row
    names; None when the row says neither."""
    if not row:
        return None
    area = row.get("_area") or {}
    named = row.get("community_code")
    if area.get(COMMUNITY.property) or isinstance(named, str):
        return Scope(COMMUNITY.key, area.get(COMMUNITY.property) or named)
    if area.get(STREET.property):
        return Scope(STREET.key, area[STREET.property])
    return None


def _area_codes(areas: list[Scope]) -> dict[str, str]:
    """The area codes an audit entry is filed under (so `auditLog` can be scoped): the first area's path."""
    return path(areas[0].code, areas[0].level) if areas else {}


async def _refresh(graph: Graph, change: Change) -> None:
    """Recompute the coverage rollups of the communities an edit touched."""
    if change.communities:  # a street committee's edits change no community's figures
        await rollups.refresh(graph, sorted(change.communities))


async def audit_log(
    graph: Graph, code: str | None, actor: str | None, first: int, scope: Scope | None = None
) -> list[dict[str, Any]]:
    """The latest audit entries, optionally for one entity or one actor, filed inside `scope` (None: all)."""
    params = {"code": code, "actor": actor, "first": first, **audit_scope(scope)}
    rows = await graph.read_rows(AUDIT_LOG, params)
    return [r["entry"] for r in rows]


__all__ = ["Author", "Change", "NotFound", "OutsideScope", "Refused", "audit_log", "move_building", "remove", "save"]
