"""`network(root:, depth:)` for drawing, and `partnerNetwork(scope:)`: partner units and the communities they serve."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from core.errors import BAD_USER_INPUT, NOT_FOUND
from core.model import SHEET_BY_LABEL
from core.privacy import redact
from graph import network as nw
from graph.scope import AreaNotFound
from schema.common import Context, GapKind, Place, area_not_found, as_of, scope_of, to_date
from schema.entities import Entity, EntityType, global_id, make_entity
from schema.errors import UserError

MAX_NODES = 2000
MAX_DEPTH = 6
#: Most levels of detail one `network` request may try.
MAX_LEVELS = 6


@strawberry.type(description="未绘出的邻居 / Neighbours of one type a drawing left out (`types`): one aggregate.")
class HiddenNeighbours:
    type: str = strawberry.field(description="类型(英文标签) / Type (graph label).")
    type_name: str = strawberry.field(description="类型中文名 / Type in Chinese.")
    count: int = strawberry.field(description="个数 / How many.")
    level: int = strawberry.field(
        description="该类型在分层布局中的层(同 NetworkNode.level) / Row of that type in a hierarchical layout: a "
        "count on a node of a lower row is of things above it."
    )
    gaps: int = strawberry.field(
        description="其中存在空白点的个数 / How many of them break a gap rule (red octagons once opened)."
    )


@strawberry.type(description="图中的节点 / A node of a drawing (Cytoscape.js / AntV G6 ready).")
class NetworkNode:
    id: strawberry.ID = strawberry.field(description="全局ID(同 node(id:)) / Global ID, as for node(id:).")
    code: str = strawberry.field(description="编码 / Code.")
    type: str = strawberry.field(description="类型(英文标签) / Type (graph label).")
    type_name: str = strawberry.field(description="类型中文名 / Type in Chinese.")
    label: str = strawberry.field(description="显示名称 / Display label.")
    level: int = strawberry.field(description="分层布局的层(0 街道 … 5 中心户) / Row in a hierarchical layout.")
    depth: int = strawberry.field(description="距根节点的步数 / Hops from the root.")
    gaps: list[GapKind] = strawberry.field(  # type: ignore[valid-type]
        description="该节点存在的空白点 / Gap kinds this node breaks (to mark in the drawing)."
    )
    households: int | None = strawberry.field(
        description="折叠的住户数(楼栋、中心户) / Households collapsed into this building or central household."
    )
    households_without_central: int | None = strawberry.field(
        description="其中未联系中心户的 / Of them, households linked to no central household (buildings)."
    )
    hidden: list[HiddenNeighbours] = strawberry.field(
        description="按 types 未绘出的邻居,按类型计数 / Neighbours of the types left out by `types`, counted by "
        "type (empty without `types`): draw them as one node, open it with network(root: this code, types: …)."
    )


@strawberry.type(description="图中的边 / An edge of a drawing.")
class NetworkEdge:
    id: str = strawberry.field(description="边ID / Edge ID (stable within one answer).")
    source: strawberry.ID = strawberry.field(description="起点节点ID / Source node ID.")
    target: strawberry.ID = strawberry.field(description="终点节点ID / Target node ID.")
    type: str = strawberry.field(description="关系类型 / Relationship type, e.g. UNDER, COVERS.")


@strawberry.type(description="用于绘图的子图 / A subgraph to draw.")
class Network:
    root: strawberry.ID = strawberry.field(description="根节点ID / The root node's ID.")
    nodes: list[NetworkNode] = strawberry.field(description="节点 / Nodes.")
    edges: list[NetworkEdge] = strawberry.field(description="边 / Edges between the nodes.")
    truncated: bool = strawberry.field(
        description="超出节点上限而被截断 / True when the node budget stopped the walk: narrow the root or depth."
    )
    level_of_detail: int | None = strawberry.field(
        description="绘出的是 levelsOfDetail 中的第几层(从 0 起;未给 levelsOfDetail 时为空) / Which of "
        "`levelsOfDetail` was drawn, from 0 (null without `levelsOfDetail`)."
    )


@strawberry.input(description="一层细节 / A level of detail: the types it draws, and its node budget.")
class LevelOfDetail:
    types: list[EntityType] = strawberry.field(  # type: ignore[valid-type]
        description="只绘这些类型 / Draw only these types (as `network`'s `types`)."
    )
    max_nodes: int | None = strawberry.field(
        default=None,
        description="该层节点上限(不超过 maxNodes;默认 maxNodes) / This level's node budget, at most the request's "
        "maxNodes (default: maxNodes) — e.g. the nodes a window can show readably at this level.",
    )


def _node(node_id: str, node: dict[str, Any], drawing: nw.Drawing) -> NetworkNode:
    label = node["_label"]
    households = drawing.households.get(node_id)
    return NetworkNode(
        id=strawberry.ID(global_id(label, node["code"])),
        code=node["code"],
        type=label,
        type_name=SHEET_BY_LABEL[label].zh,
        label=redact(str(node.get("name") or node.get("room") or node["code"])),
        level=nw.DRAWN.get(label, nw.HOUSEHOLD_ROW),
        depth=drawing.depth[node_id],
        gaps=[GapKind[k] for k in drawing.gaps.get(node_id, [])],
        households=households[0] if households else None,
        households_without_central=households[1] if households and label == "Building" else None,
        hidden=[
            HiddenNeighbours(
                type=t,
                type_name=SHEET_BY_LABEL[t].zh,
                count=n,
                level=nw.DRAWN[t],
                gaps=drawing.hidden_gaps.get(node_id, {}).get(t, 0),
            )
            for t, n in sorted(drawing.hidden.get(node_id, {}).items(), key=lambda kv: nw.DRAWN[kv[0]])
        ],
    )


async def resolve_network(
    info: Info[Context, None],
    root: str,
    depth: int,
    max_nodes: int,
    households: bool,
    as_of_date: date | None,
    types: list[Any] | None = None,
    levels_of_detail: list[LevelOfDetail] | None = None,
) -> Network:
    """Resolver of `Query.network`."""
    if not 0 <= depth <= MAX_DEPTH:
        raise UserError(f"depth 应在 0–{MAX_DEPTH} 之间 / depth must be between 0 and {MAX_DEPTH}", BAD_USER_INPUT)
    if not 1 <= max_nodes <= MAX_NODES:
        raise UserError(f"maxNodes 应在 1–{MAX_NODES} 之间 / maxNodes must be between 1 and {MAX_NODES}")
    code = root.strip().upper()
    ladder = _ladder(types, levels_of_detail, max_nodes)
    drawing = await nw.network(
        info.context.graph, code, depth, households, info.context.scope, as_of(info, as_of_date), ladder
    )
    if drawing is None:
        raise UserError(f"找不到 {code} / no node with code {code} in your scope", NOT_FOUND)
    ids = {node_id: global_id(n["_label"], n["code"]) for node_id, n in drawing.nodes.items()}
    edges = [
        NetworkEdge(id=f"e{i}", source=strawberry.ID(ids[s]), target=strawberry.ID(ids[t]), type=kind)
        for i, (s, t, kind) in enumerate(drawing.edges.values())
        if s in ids and t in ids
    ]
    return Network(
        root=strawberry.ID(ids[drawing.root or ""]),
        nodes=[_node(node_id, n, drawing) for node_id, n in drawing.nodes.items()],
        edges=edges,
        truncated=drawing.truncated,
        level_of_detail=None if levels_of_detail is None else drawing.detail,
    )


def _ladder(
    types: list[Any] | None, levels_of_detail: list[LevelOfDetail] | None, max_nodes: int
) -> tuple[nw.Detail, ...]:
    """The levels of detail to try: `types` (one level) or `levelsOfDetail`, each keeping a drawn type, each
    budget within the request's `maxNodes` (what the request's cost was judged by)."""
    if types is not None and levels_of_detail is not None:
        both = "types 与 levelsOfDetail 只能给一个 / give `types` or `levelsOfDetail`, not both"
        raise UserError(both, BAD_USER_INPUT)
    if levels_of_detail is None:
        ladder = [nw.Detail(None if types is None else tuple(t.name for t in types), max_nodes)]
    elif not 1 <= len(levels_of_detail) <= MAX_LEVELS:
        raise UserError(
            f"levelsOfDetail 应有 1–{MAX_LEVELS} 层 / levelsOfDetail holds 1 to {MAX_LEVELS} levels", BAD_USER_INPUT
        )
    else:
        ladder = [
            nw.Detail(tuple(t.name for t in level.types), level.max_nodes or max_nodes) for level in levels_of_detail
        ]
    for detail in ladder:
        if detail.labels is not None and not set(detail.labels) & set(nw.DRAWN):
            drawn = ", ".join(nw.DRAWN)
            raise UserError(f"types 中没有可绘制的类型 / types names none of the drawn types ({drawn})", BAD_USER_INPUT)
        if not 1 <= detail.max_nodes <= max_nodes:
            raise UserError(
                f"levelsOfDetail 的 maxNodes 应在 1–{max_nodes}(请求的 maxNodes)之间 / a level's maxNodes must be "
                f"between 1 and the request's maxNodes ({max_nodes})",
                BAD_USER_INPUT,
            )
    return tuple(ladder)


@strawberry.type(description="共建单位与社区的联系 / A partner unit linked to a community.")
class PartnerLink:
    unit: Entity = strawberry.field(description="共建单位 / The partner unit (a Unit).")
    community: Entity = strawberry.field(description="社区 / The community (a Community).")
    reported_on: date | None = strawberry.field(description="到该社区报到日期 / When it reported there.")
    receipt_returned: bool | None = strawberry.field(description="报到回执已反馈 / Receipt returned.")
    committee_member: bool = strawberry.field(description="社区大党委成员单位 / Member of its widened committee.")
    services: int = strawberry.field(description="在该社区的服务次数 / Services delivered there.")
    hours: float = strawberry.field(description="在该社区的服务时长(小时) / Hours of service there.")


@strawberry.type(description="共建网络 / Partner units and the communities they serve, inside a scope.")
class PartnerNetwork:
    scope: Place = strawberry.field(description="范围 / The scope.")
    links: list[PartnerLink] = strawberry.field(description="单位—社区联系 / Unit–community links.")
    unit_count: int = strawberry.field(description="单位数 / Distinct units.")
    community_count: int = strawberry.field(description="有共建单位的社区数 / Communities with a partner unit.")
    services: int = strawberry.field(description="服务次数合计 / Services in all.")
    hours: float = strawberry.field(description="服务时长合计 / Hours in all.")


async def resolve_partner_network(
    info: Info[Context, None], scope: str, as_of_date: date | None = None
) -> PartnerNetwork:
    """Resolver of `Query.partnerNetwork`."""
    where = scope_of(info, scope)
    try:
        name, rows = await nw.partner_network(info.context.graph, where, as_of(info, as_of_date))
    except AreaNotFound:
        raise area_not_found(scope) from None
    links = [
        PartnerLink(
            unit=make_entity(r["unit"]),
            community=make_entity(r["community"]),
            reported_on=to_date(r["reportedOn"]),
            receipt_returned=r["receiptReturned"],
            committee_member=bool(r["committeeMember"]),
            services=int(r["services"]),
            hours=float(r["hours"]),
        )
        for r in rows
    ]
    return PartnerNetwork(
        scope=Place(code=where.code, name=name),
        links=links,
        unit_count=len({link.unit.code for link in links}),
        community_count=len({link.community.code for link in links}),
        services=sum(link.services for link in links),
        hours=sum(link.hours for link in links),
    )
