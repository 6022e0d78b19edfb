"""Finding entities: Relay `node(id:)`, look-up by code, search by Chinese name and code prefix."""

from __future__ import annotations

import strawberry
from strawberry.relay import PageInfo
from strawberry.types import Info

from core.errors import BAD_USER_INPUT
from graph import entities as ent
from graph.entities import SEARCHABLE, label_of_code
from schema.common import Context, encode_cursor, page_info, part_cursor, scope_of, selects
from schema.entities import Entity, EntityType, code_loader, entity_by_code, make_entity, parse_global_id
from schema.errors import UserError

MAX_PAGE = 500


@strawberry.type(description="搜索结果中的一条 / An edge of a search.")
class EntityEdge:
    node: Entity = strawberry.field(description="实体 / The entity.")
    cursor: str = strawberry.field(description="游标 / Pass as `after` to continue after this entity.")


@strawberry.type(description="搜索结果(按类型、编码排序) / Search results, by type then code.")
class EntityConnection:
    edges: list[EntityEdge] = strawberry.field(description="本页 / This page.")
    page_info: PageInfo = strawberry.field(description="分页信息 / Paging.")
    total_count: int = strawberry.field(description="匹配总数 / How many entities match in all.")


async def resolve_node(info: Info[Context, None], id: strawberry.ID) -> Entity | None:
    """Resolver of `Query.node`."""
    parsed = parse_global_id(str(id))
    if parsed is None:
        raise UserError(f"无效的全局ID / {id!r} is not a global ID of this service", BAD_USER_INPUT)
    row = await code_loader(info, parsed[0]).load(parsed[1])
    return make_entity(row) if row else None


async def resolve_nodes(info: Info[Context, None], ids: list[strawberry.ID]) -> list[Entity | None]:
    """Resolver of `Query.nodes`: every id in one read transaction (one statement per label), each inside the
    caller's scope (null where not found or outside it)."""
    parsed = []
    for id in ids:
        found = parse_global_id(str(id))
        if found is None:
            raise UserError(f"无效的全局ID / {id!r} is not a global ID of this service", BAD_USER_INPUT)
        parsed.append(found)
    if not parsed:
        return []
    codes: dict[str, list[str]] = {}
    for label, code in dict.fromkeys(parsed):
        codes.setdefault(label, []).append(code)
    rows = await ent.nodes_by_labels(info.context.graph, codes, info.context.scope)
    return [make_entity(rows[key]) if key in rows else None for key in parsed]


async def resolve_entity(info: Info[Context, None], code: str, type: EntityType | None) -> Entity | None:  # type: ignore[valid-type]
    """Resolver of `Query.entity`: the code's shape tells the type when it is not given."""
    code = code.strip().upper()
    labels = (type.name,) if type is not None else label_of_code(code)
    if not labels:
        raise UserError(f"无法从编码判断类型,请给出 type / cannot tell the type of {code!r}: pass `type`")
    return await entity_by_code(info, code, labels)


async def resolve_search(
    info: Info[Context, None],
    name: str | None,
    code_prefix: str | None,
    types: list[EntityType] | None,  # type: ignore[valid-type]
    scope: str | None,
    first: int,
    after: str | None,
) -> EntityConnection:
    """Resolver of `Query.search`."""
    name = (name or "").strip() or None
    prefix = (code_prefix or "").strip().upper() or None
    if name is None and prefix is None:
        raise UserError("请给出 name 或 codePrefix / give a name (substring) or a codePrefix to search by")
    if not 0 <= first <= MAX_PAGE:
        raise UserError(f"first 应在 0–{MAX_PAGE} 之间 / first must be between 0 and {MAX_PAGE}")
    where = scope_of(info, scope) if scope else info.context.scope
    labels = tuple(t.name for t in types) if types else SEARCHABLE
    if name is not None:
        labels = tuple(label for label in labels if label in SEARCHABLE)
    position = part_cursor(after, len(labels))
    page = await ent.search(
        info.context.graph, labels, name, prefix, where, first, position, selects(info, "totalCount")
    )
    edges = []
    for row in page.nodes:
        edges.append(EntityEdge(node=make_entity(row), cursor=encode_cursor(labels.index(row["_label"]), row["code"])))
    return EntityConnection(
        edges=edges,
        page_info=page_info([e.cursor for e in edges], page.has_next, after),
        total_count=page.total or 0,
    )
