"""Mutations for day-to-day upkeep: organizations, moving a building, central households, reports, services.

Input types are generated from the import sheets (same fields, same checks: `loaders.edits` turns an
input into a workbook row and validates it with the loader). Every change is written together with
an audit entry; the result carries that entry (who, when, before, after).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.errors import BAD_USER_INPUT, FORBIDDEN, NOT_FOUND
from core.model import SHEETS_BY_KEY, Column, Kind, Link, Sheet
from core.privacy import redact_value
from graph.scope import Scope, shown
from loaders import edits
from loaders.problems import InvalidInput
from schema.accounts import AccountMutations
from schema.common import Context, require
from schema.errors import UserError

ORGANIZATIONS = ("StreetWorkingCommittee", "CommunityCommittee", "GridBranch", "BuildingGroup")
_PY = {Kind.INT: int, Kind.FLOAT: float, Kind.BOOL: bool, Kind.DATE: date}


@strawberry.type(description="一次修改及其审计记录 / A change and its audit entry.")
class EditResult:
    audit_id: str = strawberry.field(description="审计记录ID / ID of the audit entry.")
    at: str = strawberry.field(description="时间 / When (ISO 8601).")
    actor: str = strawberry.field(description="操作人 / Who: the signed-in account's login.")
    action: str = strawberry.field(description="操作 / What was done.")
    type: str = strawberry.field(description="实体类型 / Entity type or relationship sheet.")
    code: str = strawberry.field(description="编码 / Code of the entity (or source>target of a relationship).")
    before: JSON | None = strawberry.field(description="修改前(导入表格式) / Before, as an import row.")
    after: JSON | None = strawberry.field(description="修改后 / After (null when removed).")


@strawberry.type(description="审计记录 / An audit log entry.")
class AuditEntry:
    id: str = strawberry.field(description="ID / ID.")
    at: str = strawberry.field(description="时间 / When.")
    actor: str = strawberry.field(description="操作人 / Who.")
    action: str = strawberry.field(description="操作 / What.")
    type: str = strawberry.field(description="实体类型 / Entity type.")
    code: str = strawberry.field(description="编码 / Code.")
    before: JSON | None = strawberry.field(description="修改前 / Before.")
    after: JSON | None = strawberry.field(description="修改后 / After.")


def _field_name(item: Column | Link) -> str:
    if isinstance(item, Column):
        return item.name
    head, *rest = item.en.split("_")
    return head + "".join(p.title() for p in rest)


def _input_type(sheet: Sheet, name: str) -> type:
    ns: dict[str, Any] = {"__annotations__": {}, "__module__": __name__}
    for item in sheet.items:
        field = _field_name(item)
        if isinstance(item, Column):
            py: Any = _PY.get(item.kind, str)
            doc = f"{item.zh} / {item.en}" + (" (必填 / required)" if item.required else "")
        else:
            py = list[str] if item.many else str
            doc = f"{item.zh} / {item.en}" + (" (必填 / required)" if item.required else "")
        if field == "code":  # an edit names its node by code, natural key or not (`loaders.edits`)
            doc = f"{item.zh} / {item.en} (必填 / required)"
            ns["__annotations__"][field] = str
            ns[field] = strawberry.field(description=doc)
        else:
            ns["__annotations__"][field] = py | None
            ns[field] = strawberry.field(default=None, description=doc)
    cls = type(name, (), ns)
    return strawberry.input(cls, description=f"{sheet.zh}(与导入表同列,同样校验) / {sheet.doc}: the import sheet's "
                            "columns, checked the same way; omitted fields keep their values on update.")  # fmt: skip


INPUTS: dict[str, type] = {
    key: _input_type(SHEETS_BY_KEY[key], f"{key}Input")
    for key in (*ORGANIZATIONS, "CentralHousehold", "Service", "UnitReport", "MemberReport")
}
globals().update({f"{k}Input": v for k, v in INPUTS.items()})


def _values(sheet: Sheet, given: Any) -> dict[str, Any]:
    """An input object as a row keyed by English header (unset fields left out)."""
    out: dict[str, Any] = {}
    for item in sheet.items:
        value = getattr(given, _field_name(item), None)
        if value is not None:
            out[item.en] = value
    return out


def _result(change: edits.Change, actor: str) -> EditResult:
    return EditResult(
        audit_id=change.audit_id, at=change.at, actor=actor, action=change.action, type=change.label,
        code=change.code, before=change.before, after=change.after,
    )  # fmt: skip


async def _run(info: Info[Context, None], work: Any) -> EditResult:
    """Run an edit as the caller: refused (FORBIDDEN, nothing written) for a role that may not write, or for an
    entity outside the caller's scope (`loaders.edits` checks inside the edit's transaction)."""
    require(info, info.context.grants.write, "修改数据", "change data")
    actor = info.context.actor
    try:
        change = await work(actor)
    except edits.OutsideScope as exc:
        raise UserError(str(exc), FORBIDDEN) from None
    except InvalidInput as exc:
        raise UserError(f"{exc} — " + "; ".join(str(p) for p in exc.problems[:20]), BAD_USER_INPUT) from None
    except edits.NotFound as exc:
        raise UserError(f"找不到 {exc} / {exc} does not exist", NOT_FOUND) from None
    except edits.Refused as exc:
        raise UserError(str(exc), BAD_USER_INPUT) from None
    return _result(change, actor)


def _save_field(key: str, mode: str) -> Any:
    sheet = SHEETS_BY_KEY[key]
    verb = {"create": ("新建", "Create"), "update": ("修改", "Update"), "upsert": ("登记", "Record")}[mode]

    async def resolve(info: Info[Context, None], input: Any) -> EditResult:
        values = _values(sheet, input)
        graph, scope = info.context.graph, info.context.scope
        return await _run(info, lambda actor: edits.save(graph, key, values, mode=mode, actor=actor, allowed=scope))

    resolve.__annotations__ = {
        "info": Info[Context, None],
        "input": Annotated[INPUTS[key], strawberry.argument(description=f"{sheet.zh} / {key}")],
        "return": EditResult,
    }
    return strawberry.mutation(resolver=resolve, description=f"{verb[0]}{sheet.zh} / {verb[1]} a {key}.")


def _remove_field(label: str, zh: str, en: str) -> Any:
    sheet = SHEETS_BY_KEY[label]

    async def resolve(info: Info[Context, None], code: str) -> EditResult:
        return await _run(
            info, lambda actor: edits.remove(info.context.graph, label, code, actor=actor, allowed=info.context.scope)
        )

    resolve.__annotations__ = {
        "info": Info[Context, None],
        "code": Annotated[str, strawberry.argument(description=f"{sheet.zh}编码 / Code.")],
        "return": EditResult,
    }
    return strawberry.mutation(resolver=resolve, description=f"{zh}{sheet.zh} / {en} a {label}.")


@strawberry.type(description="修改入口(每次修改都写入审计日志) / Changes; each is written to the audit log.")
class Mutation(AccountMutations):
    create_street_working_committee = _save_field("StreetWorkingCommittee", "create")
    update_street_working_committee = _save_field("StreetWorkingCommittee", "update")
    remove_street_working_committee = _remove_field("StreetWorkingCommittee", "删除", "Remove")
    create_community_committee = _save_field("CommunityCommittee", "create")
    update_community_committee = _save_field("CommunityCommittee", "update")
    remove_community_committee = _remove_field("CommunityCommittee", "删除", "Remove")
    create_grid_branch = _save_field("GridBranch", "create")
    update_grid_branch = _save_field("GridBranch", "update")
    remove_grid_branch = _remove_field("GridBranch", "删除", "Remove")
    create_building_group = _save_field("BuildingGroup", "create")
    update_building_group = _save_field("BuildingGroup", "update")
    remove_building_group = _remove_field("BuildingGroup", "删除", "Remove")
    designate_central_household = _save_field("CentralHousehold", "create")
    revoke_central_household = _remove_field("CentralHousehold", "撤销", "Revoke")
    record_unit_report = _save_field("UnitReport", "upsert")
    record_member_report = _save_field("MemberReport", "upsert")
    record_service = _save_field("Service", "create")

    @strawberry.mutation(description="楼栋调整到另一个党小组 / Move a building to another building group.")
    async def move_building(
        self,
        info: Info[Context, None],
        building: Annotated[str, strawberry.argument(description="楼栋编码 / Building code.")],
        to_group: Annotated[str, strawberry.argument(description="新党小组编码 / The new group's code.")],
    ) -> EditResult:
        graph, scope = info.context.graph, info.context.scope
        return await _run(
            info, lambda actor: edits.move_building(graph, building, to_group, actor=actor, allowed=scope)
        )


async def resolve_audit_log(
    info: Info[Context, None], code: str | None, actor: str | None, first: int
) -> list[AuditEntry]:
    """Resolver of `Query.auditLog`: for roles granted it, the entries filed inside the caller's scope."""
    require(info, info.context.grants.audit_log, "查看审计日志", "read the audit log")
    if not 1 <= first <= 500:
        raise UserError("first 应在 1–500 之间 / first must be between 1 and 500")
    scope = info.context.scope
    entries = await edits.audit_log(info.context.graph, code, actor, first, scope)
    return [
        AuditEntry(
            id=e["id"],
            at=e["at"],
            actor=e["actor"],
            action=e["action"],
            type=e["label"],
            code=">".join(end if shown(end, scope) else OUTSIDE for end in e["code"].split(">")),
            # free text redacted too (older entries); codes outside the reader's area hidden
            before=_confined(redact_value(json.loads(e["before"])), scope) if e["before"] else None,
            after=_confined(redact_value(json.loads(e["after"])), scope) if e["after"] else None,
        )
        for e in entries
    ]


#: What an audit entry's code shows for an end outside the reader's area (a member of another community who
#: reported to the reader's).
OUTSIDE = "*"


def _confined(value: Any, scope: Scope | None) -> Any:
    """An audit row as a reader of `scope` may see it: a code outside its area is null, as the entity itself
    would be in any other answer."""
    if isinstance(value, dict):
        return {k: _confined(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [_confined(v, scope) for v in value]
    if isinstance(value, str) and not shown(value, scope):
        return None
    return value
