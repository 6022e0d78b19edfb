"""Day-to-day edits through the API, validated exactly like a workbook row and written with an audit entry.

An edit becomes one row of the sheet it belongs to (the import format), goes through the loader's
validation (`loaders.plan.build_plan`, with the graph as the place unknown codes are looked
up), and is written with the loader's statements in one transaction together with its `_Audit`
node: who, when, what, and the entity before and after. Nothing is written when a check fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from neo4j import AsyncManagedTransaction

from core.areas import COMMUNITY
from core.model import SHEETS_BY_KEY, Column, Sheet
from core.privacy import masked_row
from graph import rollups
from graph.driver import Graph
from graph.editing import (
    AUDIT_LOG,
    GROUPS_COVERING,
    children,
    delete_node,
    read_state,
    record_audit,
)
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
    """A row as stored in the audit log: no internal keys, personal data masked (`core.privacy.masked_row`)."""
    if row is None:
        return None
    return masked_row(sheet, {key: value for key, value in row.items() if not key.startswith("_")})


# ---------------------------------------------------------------- edits


async def save(
    graph: Graph, key: str, values: dict[str, Any], *, mode: str, actor: str, action: str | None = None
) -> Change:
    """Create (`mode="create"`), update (`"update"`: omitted values keep theirs) or upsert one row of a sheet."""
    sheet = SHEETS_BY_KEY[key]
    code = str(values.get("code") or "").strip().upper() if sheet.is_node else ""
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
    change = await graph.write(_save, sheet, plan, code, before, actor, action or f"{mode} {key}")
    await _refresh(graph, change)
    return change


async def _save(
    tx: AsyncManagedTransaction,
    sheet: Sheet,
    plan: Any,
    code: str,
    before: dict[str, Any] | None,
    actor: str,
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
    return await _audit(tx, actor, action, label, code, before, after)


async def remove(graph: Graph, label: str, code: str, *, actor: str, action: str | None = None) -> Change:
    """Delete an entity that nothing hangs from (children must be moved or removed first)."""
    code = code.strip().upper()
    change = await graph.write(_remove, label, code, actor, action or f"remove {label}")
    await _refresh(graph, change)
    return change


async def _remove(tx: AsyncManagedTransaction, label: str, code: str, actor: str, action: str) -> Change:
    before = await read_state(tx, label, code)
    if before is None:
        raise NotFound(code)
    hanging = await children(tx, label, code)
    if hanging:
        what = ", ".join(f"{n} {child}" for child, n in hanging.items())
        raise Refused(f"{code} 下仍有 {what},请先移走或删除 / {code} still has {what}: move or remove them first")
    await delete_node(tx, label, code)
    return await _audit(tx, actor, action, label, code, before, None)


async def move_building(graph: Graph, building: str, group: str, *, actor: str) -> Change:
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
    change = await graph.write(_move, plan, building, groups_before, group, actor)
    await _refresh(graph, change)
    return change


async def _move(
    tx: AsyncManagedTransaction, plan: Any, building: str, before: dict[str, Any], group: str, actor: str
) -> Change:
    await write_plan_tx(tx, plan)
    return await _audit(tx, actor, "move Building", "Building", building, before, {"groups": [group]})


async def _audit(
    tx: AsyncManagedTransaction,
    actor: str,
    action: str,
    label: str,
    code: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> Change:
    touched = frozenset(c for c in (_community(before), _community(after)) if c)
    sheet = SHEETS_BY_KEY[label]  # a node sheet's key is its label
    before, after = _public(sheet, before), _public(sheet, after)
    params = {
        "actor": actor,
        "action": action,
        "label": label,
        "code": code,
        "before": None if before is None else json.dumps(before, ensure_ascii=False, default=str),
        "after": None if after is None else json.dumps(after, ensure_ascii=False, default=str),
    }
    audit_id, at = await record_audit(tx, params)
    return Change(audit_id, at, action, label, code, before, after, touched)


def _community(row: dict[str, Any] | None) -> str | None:
    """The community an entity row lies in (its area), or the community a relationship row names."""
    if not row:
        return None
    area = row.get("_area") or {}
    return area.get(COMMUNITY.property) or (
        row.get("community_code") if isinstance(row.get("community_code"), str) else None
    )


async def _refresh(graph: Graph, change: Change) -> None:
    """Recompute the coverage rollups of the communities an edit touched."""
    if change.communities:  # a street committee's edits change no community's figures
        await rollups.refresh(graph, sorted(change.communities), date.today().isoformat())


async def audit_log(graph: Graph, code: str | None, actor: str | None, first: int) -> list[dict[str, Any]]:
    """The latest audit entries, optionally for one entity or one actor."""
    rows = await graph.read_rows(AUDIT_LOG, {"code": code, "actor": actor, "first": first})
    return [r["entry"] for r in rows]


__all__ = ["Change", "NotFound", "Refused", "audit_log", "move_building", "remove", "save"]
