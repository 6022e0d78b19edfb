"""`gaps(scope:, kinds:, first:, after:)`: every gap as a record, paged, with counts per kind."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.relay import PageInfo
from strawberry.types import Info

from core.privacy import redact
from graph import gaps as gp
from graph.scope import AreaNotFound
from schema.common import (
    Context,
    EntityRef,
    GapKind,
    Place,
    area_not_found,
    as_of,
    encode_cursor,
    page_info,
    part_cursor,
    scope_of,
    selects,
)
from schema.errors import UserError

MAX_PAGE = 500


@strawberry.type(description="责任组织 / The organization up the chain that should act.")
class Responsible:
    type: str = strawberry.field(description="组织类型(英文标签) / Organization type (graph label).")
    code: str = strawberry.field(description="组织编码 / Organization code.")
    name: str | None = strawberry.field(description="组织名称 / Organization name.")

    def __post_init__(self) -> None:
        self.name = redact(self.name)  # free text (core.privacy)


@strawberry.type(description="空白点 / One entity breaking one rule.")
class Gap:
    kind: GapKind = strawberry.field(description="空白点类型 / Gap kind.")  # type: ignore[valid-type]
    rule: str = strawberry.field(description="违反的规则(中文) / The rule broken, in Chinese.")
    rule_en: str = strawberry.field(description="违反的规则(英文) / The rule broken, in English.")
    source: str = strawberry.field(description="规则出处 / Where the rule comes from (regulation or report target).")
    entity: EntityRef = strawberry.field(
        description="存在空白的实体(需求以内容为名称) / The entity with the gap (a need's name is its title)."
    )
    street: Place | None = strawberry.field(description="所在街道 / Its street.")
    community: Place | None = strawberry.field(description="所在社区 / Its community.")
    grid: Place | None = strawberry.field(description="所在网格 / Its grid, where it has one.")
    compound: Place | None = strawberry.field(description="所在小区 / Its compound, where it has one.")
    responsible: Responsible | None = strawberry.field(
        description="应当处理的上级组织 / The nearest organization up the chain that should act."
    )


@strawberry.type(description="空白点分页中的一条 / An edge of the gap listing.")
class GapEdge:
    node: Gap = strawberry.field(description="空白点 / The gap.")
    cursor: str = strawberry.field(description="游标 / Pass as `after` to continue after this gap.")


@strawberry.type(description="某类空白点的数量 / How many gaps of one kind lie in the scope.")
class GapCount:
    kind: GapKind = strawberry.field(description="空白点类型 / Gap kind.")  # type: ignore[valid-type]
    count: int = strawberry.field(description="数量 / Count.")


@strawberry.type(description="空白点列表(按类型、编码排序) / Gaps, ordered by kind then entity code.")
class GapConnection:
    edges: list[GapEdge] = strawberry.field(description="本页 / This page.")
    page_info: PageInfo = strawberry.field(description="分页信息 / Paging.")
    total_count: int = strawberry.field(description="所选类型的空白点总数 / Gaps of the requested kinds in all.")
    counts: list[GapCount] = strawberry.field(description="按类型计数 / Count per kind.")


def _gap(g: gp.Gap) -> Gap:
    r = g.responsible
    return Gap(
        kind=GapKind[g.rule.kind],
        rule=g.rule.zh,
        rule_en=g.rule.en,
        source=g.rule.source,
        entity=EntityRef.of({"code": g.code, "name": g.name}, g.label),  # type: ignore[arg-type]
        street=Place.of(g.street),
        community=Place.of(g.community),
        grid=Place.of(g.grid),
        compound=Place.of(g.compound),
        responsible=None if r is None else Responsible(type=r["label"], code=r["code"], name=r.get("name")),
    )


async def resolve_gaps(
    info: Info[Context, None],
    scope: str,
    kinds: list[GapKind] | None = None,  # type: ignore[valid-type]
    first: int = 50,
    after: str | None = None,
    as_of_date: date | None = None,
) -> GapConnection:
    """Resolver of `Query.gaps`."""
    where = scope_of(info, scope)
    if not 0 <= first <= MAX_PAGE:
        raise UserError(f"first 应在 0–{MAX_PAGE} 之间 / first must be between 0 and {MAX_PAGE}")
    position = part_cursor(after, len(gp.RULES))
    wanted = tuple(k.name for k in kinds) if kinds else None
    counted = selects(info, "totalCount", "counts")  # counting every kind costs more than a page
    try:
        page = await gp.gaps(info.context.graph, where, as_of(info, as_of_date), wanted, first, position, counted)
    except AreaNotFound:
        raise area_not_found(scope) from None
    edges = [GapEdge(node=_gap(g), cursor=encode_cursor(*gp.cursor_of(g))) for g in page.gaps]
    counts = [GapCount(kind=GapKind[k], count=n) for k, n in page.counts.items()]
    return GapConnection(
        edges=edges,
        page_info=page_info([e.cursor for e in edges], page.has_next, after),
        total_count=sum(page.counts.values()),
        counts=counts,
    )
