"""`changes(scope:, from:, to:)`: what started, ended or was edited inside a scope in a period — why a figure moved."""

from __future__ import annotations

from datetime import date, timedelta
from enum import Enum

import strawberry
from strawberry.relay import PageInfo
from strawberry.types import Info

from graph import changes as ch
from graph.scope import AreaNotFound, Scope, shown
from schema.common import (
    Context,
    EntityRef,
    area_not_found,
    as_of,
    encode_cursor,
    page_info,
    part_cursor,
    scope_of,
    to_date,
)
from schema.errors import UserError

MAX_PAGE = 500
#: What an edit's code shows for an end outside the reader's area (as `auditLog` does).
OUTSIDE = "*"

ChangeKind = strawberry.enum(
    Enum(  # type: ignore[misc]
        "ChangeKind",
        {
            "started": strawberry.enum_value("started", description="开始 / a start date (since, joined, raised…)"),
            "ended": strawberry.enum_value("ended", description="终止 / its last day in force (until)"),
            "edited": strawberry.enum_value("edited", description="修改 / an edit filed in the audit log"),
        },
    ),
    description="变化类型 / What happened: 开始 started (a start date), 终止 ended (its last day in force), "
    "修改 edited (an edit filed in the audit log).",
)


@strawberry.type(description="一项变化 / One change: a fact that started or ended that day, or an edit filed then.")
class Change:
    day: date = strawberry.field(description="日期 / The day.")
    kind: ChangeKind = strawberry.field(description="变化类型 / started, ended or edited.")  # type: ignore[valid-type]
    field: str = strawberry.field(
        description="日期列 / The date column: since, until, joinedAt, raisedAt, date; `edited` for an edit."
    )
    field_name: str = strawberry.field(description="日期列含义 / The column in Chinese and English.")
    entity: EntityRef = strawberry.field(
        description="实体 / What changed (for a relationship: its end inside the scope, e.g. the committee)."
    )
    relation: str | None = strawberry.field(
        description="关系 / For a relationship: its sheet, e.g. 任职 / Role, 单位报到 / UnitReport, or a link "
        "column, e.g. 楼栋·所属网格编码 / Building.grid_code."
    )
    related: EntityRef | None = strawberry.field(
        description="关系另一端 / A relationship's other end (null when it lies outside the area you may read)."
    )
    actor: str | None = strawberry.field(description="修改人 / For an edit: the account that made it.")
    action: str | None = strawberry.field(description="修改动作 / For an edit: what it did.")


@strawberry.type(description="变化列表的一项 / A change and its cursor.")
class ChangeEdge:
    node: Change = strawberry.field(description="变化 / The change.")
    cursor: str = strawberry.field(description="游标 / Cursor.")


@strawberry.type(
    description="变化列表:按实体类型、日期、编码排序 / Changes, by entity type (nodes, relationships, edits), then "
    "day and code."
)
class ChangeConnection:
    edges: list[ChangeEdge] = strawberry.field(description="本页 / This page.")
    page_info: PageInfo = strawberry.field(description="分页信息 / Paging.")
    audit_included: bool = strawberry.field(
        description="是否含审计日志中的修改 / Whether edits from the audit log are listed (roles that may read it)."
    )


def _change(c: ch.Change, reader: Scope | None) -> Change:
    entity, related = dict(c.entity), c.related
    if c.kind == "edited":
        entity["code"] = ">".join(end if shown(end, reader) else OUTSIDE for end in str(entity["code"]).split(">"))
    if related is not None and not shown(related["code"], reader):
        related = None  # a member of another area who holds a role here: not named to this reader
    return Change(
        day=to_date(c.day),  # type: ignore[arg-type]
        kind=ChangeKind[c.kind],
        field=c.field,
        field_name=ch.FIELD_NAMES.get(c.field, "修改 / edited"),
        entity=EntityRef.of(entity),  # type: ignore[arg-type]
        relation=c.relation,
        related=EntityRef.of(related),
        actor=c.actor,
        action=c.action,
    )


async def resolve_changes(
    info: Info[Context, None],
    scope: str,
    first_day: date | None,
    last_day: date | None,
    first: int,
    after: str | None,
) -> ChangeConnection:
    """Resolver of `Query.changes`: `to` defaults to today, `from` to a year before it."""
    where = scope_of(info, scope)
    if not 0 <= first <= MAX_PAGE:
        raise UserError(f"first 应在 0–{MAX_PAGE} 之间 / first must be between 0 and {MAX_PAGE}")
    end = date.fromisoformat(as_of(info, last_day))
    start = first_day or end - timedelta(days=365)
    if end < start:
        raise UserError(f"截止日 {end} 早于起始日 {start} / `to` ({end}) lies before `from` ({start})")
    position = part_cursor(after, len(ch.PARTS))
    with_audit = info.context.grants.audit_log
    try:
        page = await ch.changes(
            info.context.graph, where, start.isoformat(), end.isoformat(), first, position, with_audit
        )
    except AreaNotFound:
        raise area_not_found(scope) from None
    reader = info.context.scope
    edges = [ChangeEdge(node=_change(c, reader), cursor=encode_cursor(c.part, c.key)) for c in page.changes]
    return ChangeConnection(
        edges=edges, page_info=page_info([e.cursor for e in edges], page.has_next, after), audit_included=with_audit
    )
