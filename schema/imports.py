"""`imports`: the history of loads (`graph.imports`), newest first, each with what it changed and its `previous`.

The right is the audit log's (`Grants.audit_log`: admins, editors and auditors; a viewer is refused, as for
`auditLog`): who loaded what is an account of the data's upkeep. A caller sees only the loads whose scope lies
inside its own (a grid's reader: its community's), and a load's `previous` only when that one does too — the
same scope, so it always does. A read never writes.
"""

from __future__ import annotations

import json
from typing import Any

import strawberry
from strawberry.types import Info

from core.model import SHEETS_BY_KEY
from graph import imports
from schema.common import Context, GapKind, require
from schema.coverage import CoverageMetric
from schema.errors import UserError


@strawberry.type(description="一张表的导入计数 / What a load did to one sheet's rows.")
class ImportCount:
    sheet: str = strawberry.field(description="表名(英文键) / The sheet's key.")
    name: str = strawberry.field(description="表名(中文) / The sheet's Chinese name.")
    created: int = strawberry.field(description="新增 / Created.")
    updated: int = strawberry.field(description="更新 / Updated.")
    unchanged: int = strawberry.field(description="未变 / Unchanged.")
    ended: int = strawberry.field(description="结束(--prune) / Ended (pruned: their `until` set).")


@strawberry.type(description="一类空白点导入前后 / One gap kind's count in the loaded scope, before → after.")
class ImportGapChange:
    kind: GapKind = strawberry.field(description="空白点类型 / Gap kind.")  # type: ignore[valid-type]
    before: int = strawberry.field(description="导入前 / Before the load.")
    after: int = strawberry.field(description="导入后 / After the load.")
    opened: int | None = strawberry.field(
        description="新增(本次导入产生的空白点;社区、街道范围才计) / Gaps this load opened (community or street scope "
        "only; null above: only the net change is known)."
    )
    closed: int | None = strawberry.field(
        description="消除(本次导入消除的空白点;社区、街道范围才计) / Gaps this load closed (community or street scope "
        "only; null above)."
    )


@strawberry.type(description="一项覆盖率导入前后 / One coverage figure of the loaded scope, before → after.")
class ImportCoverageChange:
    metric: CoverageMetric = strawberry.field(description="指标 / The metric.")  # type: ignore[valid-type]
    units_before: int = strawberry.field(description="导入前应覆盖数 / Units before.")
    covered_before: int = strawberry.field(description="导入前已覆盖数 / Covered before.")
    units_after: int = strawberry.field(description="导入后应覆盖数 / Units after.")
    covered_after: int = strawberry.field(description="导入后已覆盖数 / Covered after.")


@strawberry.type(description="一次导入 / One load: its file, who, when, its scope and what it changed.")
class ImportRecord:
    id: str = strawberry.field(description="ID / ID.")
    at: str = strawberry.field(description="时间 / When (ISO 8601).")
    file: str = strawberry.field(description="文件名 / The input's file or folder name.")
    sha256: str = strawberry.field(description="SHA-256 / The input's SHA-256.")
    actor: str = strawberry.field(description="操作人 / Who: an account's login, or the OS user (`actorKind`).")
    actor_kind: str = strawberry.field(description="操作人类型 / account or os.")
    scope: str | None = strawberry.field(description="范围编码 / The loaded scope's area code.")
    rows: int = strawberry.field(description="行数 / Rows written.")
    counts: list[ImportCount] = strawberry.field(description="每张表的计数 / Per sheet, in model order.")
    gaps: list[ImportGapChange] = strawberry.field(description="空白点变化 / Gap counts before → after.")
    coverage: list[ImportCoverageChange] = strawberry.field(description="覆盖率变化 / Coverage before → after.")

    @strawberry.field(description="同一范围的上一次导入 / The load of the same scope just before this one.")
    async def previous(self, info: Info[Context, None]) -> ImportRecord | None:
        entry = await imports.previous(info.context.graph, self.id, info.context.scope)
        return record_of(entry) if entry else None


def record_of(entry: dict[str, Any]) -> ImportRecord:
    """A `_Load` entry (`graph.imports`) as the API shows it."""
    counts = json.loads(entry["counts"])["sheets"]
    effect = json.loads(entry["effect"]) if entry.get("effect") else None
    before, after = (effect["before"], effect["after"]) if effect else ({}, {})
    opened, closed = (effect.get("opened", {}), effect.get("closed", {})) if effect else ({}, {})
    kinds = sorted(set(before.get("gaps", {})) | set(after.get("gaps", {})))
    metrics = [k for k in after.get("coverage", {}) if k in CoverageMetric.__members__]
    return ImportRecord(
        id=entry["id"],
        at=entry["at"],
        file=entry["file"],
        sha256=entry["sha256"],
        actor=entry["actor"],
        actor_kind=entry["actorKind"],
        scope=entry["scope"],
        rows=entry["rows"],
        counts=[
            ImportCount(sheet=key, name=SHEETS_BY_KEY[key].zh, **{k: c.get(k, 0) for k in _COUNTS})
            for key, c in counts.items()
            if key in SHEETS_BY_KEY
        ],
        gaps=[
            ImportGapChange(
                kind=GapKind[k],
                before=before["gaps"].get(k, 0),
                after=after["gaps"].get(k, 0),
                opened=opened.get(k),
                closed=closed.get(k),
            )
            for k in kinds
            if k in GapKind.__members__
        ],
        coverage=[
            ImportCoverageChange(
                metric=CoverageMetric[k],
                units_before=before["coverage"].get(k, [0, 0])[0],
                covered_before=before["coverage"].get(k, [0, 0])[1],
                units_after=after["coverage"][k][0],
                covered_after=after["coverage"][k][1],
            )
            for k in metrics
        ],
    )


_COUNTS = ("created", "updated", "unchanged", "ended")


async def resolve_imports(info: Info[Context, None], first: int) -> list[ImportRecord]:
    """Resolver of `Query.imports`: for roles granted the audit log, the loads filed inside the caller's scope."""
    require(info, info.context.grants.audit_log, "查看导入记录", "read the history of loads")
    if not 1 <= first <= 500:
        raise UserError("first 应在 1–500 之间 / first must be between 1 and 500")
    return [record_of(e) for e in await imports.loads(info.context.graph, info.context.scope, first)]
