"""`responsibilityChain(code:)`: who answers for a household, building or compound, up to the street."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from core.errors import NOT_FOUND
from core.privacy import redact
from graph import chain as ch
from schema.common import Context, EntityRef, PersonRef, Place, as_of, scope_of, to_date
from schema.errors import UserError


@strawberry.enum(description="责任链层级 / Levels of the responsibility chain, nearest first.")
class ChainLevel(Enum):
    CENTRAL_HOUSEHOLD = strawberry.enum_value("central_household", description="党员中心户 / central household")
    BUILDING_GROUP = strawberry.enum_value("building_group", description="楼栋党小组 / building party group")
    GRID_BRANCH = strawberry.enum_value("grid_branch", description="网格(小区)党支部 / grid or compound branch")
    COMMUNITY_COMMITTEE = strawberry.enum_value("community_committee", description="社区党委 / community committee")
    STREET_COMMITTEE = strawberry.enum_value("street_committee", description="街道大工委 / street working committee")


#: (level, organization column, head column, Chinese and English name of the level)
LEVELS = (
    (ChainLevel.CENTRAL_HOUSEHOLD, "centralHousehold", "centralHouseholdMember", "党员中心户 / central household"),
    (ChainLevel.BUILDING_GROUP, "grp", "groupLeader", "楼栋党小组 / building group (leader 组长)"),
    (ChainLevel.GRID_BRANCH, "branch", "branchSecretary", "网格党支部 / grid branch (secretary 书记)"),
    (ChainLevel.COMMUNITY_COMMITTEE, "communityCommittee", "communitySecretary", "社区党委 / community committee"),
    (ChainLevel.STREET_COMMITTEE, "streetCommittee", "streetSecretary", "街道大工委 / street working committee"),
)


@strawberry.type(description="责任链的一环 / One link of the chain; `broken` when nobody holds it.")
class ChainLink:
    level: ChainLevel = strawberry.field(description="层级 / Level.")
    level_name: str = strawberry.field(description="层级名称 / Level name (中文 / English).")
    organization: EntityRef | None = strawberry.field(description="组织 / The organization (null: missing).")
    head: PersonRef | None = strawberry.field(
        description="负责人 / Who leads it: the member at a central household, a group leader or a secretary."
    )
    broken: bool = strawberry.field(description="此环缺失 / True when no organization holds this link.")


@strawberry.type(description="服务该社区的共建单位 / A partner unit serving the subject's community.")
class ServingUnit:
    code: str = strawberry.field(description="统一社会信用代码 / Unified social credit code.")
    name: str | None = strawberry.field(description="单位名称 / Name.")
    kind: str | None = strawberry.field(description="单位类型 / Kind: 机关, 企事业单位, 两新组织.")
    reported_on: date | None = strawberry.field(description="到社区报到日期 / First report to the community.")
    committee_member: bool = strawberry.field(description="是否社区大党委成员单位 / Member of the widened committee.")
    services: int = strawberry.field(description="在该社区的服务次数 / Services delivered in the community.")
    hours: float = strawberry.field(description="在该社区的服务时长(小时) / Hours of service in the community.")

    def __post_init__(self) -> None:
        self.name = redact(self.name)  # free text (core.privacy)


@strawberry.type(description="责任链 / Who answers for a household, building or compound.")
class ResponsibilityChain:
    subject: EntityRef = strawberry.field(description="查询对象 / The household, building or compound.")
    street: Place | None = strawberry.field(description="街道 / Street.")
    community: Place | None = strawberry.field(description="社区 / Community.")
    compound: Place | None = strawberry.field(description="小区 / Compound.")
    links: list[ChainLink] = strawberry.field(
        description="由近及远的各环(楼栋、小区没有中心户一环) / Links, nearest first (no central household "
        "for a building or compound)."
    )
    partner_units: list[ServingUnit] = strawberry.field(description="服务该社区的共建单位 / Partner units.")
    complete: bool = strawberry.field(description="责任链完整 / True when no link is broken.")


def _links(row: dict[str, Any]) -> list[ChainLink]:
    out = []
    for level, org, head, name in LEVELS:
        if level is ChainLevel.CENTRAL_HOUSEHOLD and row["subject"]["label"] != "Household":
            continue
        organization = EntityRef.of(row[org])
        out.append(
            ChainLink(
                level=level,
                level_name=name,
                organization=organization,
                head=PersonRef.of(row[head]),
                broken=organization is None,
            )
        )
    return out


def _unit(u: dict[str, Any]) -> ServingUnit:
    return ServingUnit(
        code=u["code"],
        name=u.get("name"),
        kind=u.get("kind"),
        reported_on=to_date(u.get("reportedOn")),
        committee_member=bool(u.get("committeeMember")),
        services=int(u.get("services") or 0),
        hours=float(u.get("hours") or 0),
    )


async def resolve_chain(
    info: Info[Context, None], code: str, scope: str | None = None, as_of_date: date | None = None
) -> ResponsibilityChain:
    """Resolver of `Query.responsibilityChain`."""
    where = scope_of(info, scope) if scope else info.context.scope
    code = code.strip().upper()
    try:
        found = await ch.responsibility_chain(info.context.graph, code, as_of(info, as_of_date), where)
    except ch.SubjectError as exc:
        raise UserError(str(exc)) from None
    if found is None:
        raise UserError(f"找不到 {code} / no household, building or compound {code} in this scope", NOT_FOUND)
    row = found.row
    links = _links(row)
    return ResponsibilityChain(
        subject=EntityRef.of(row["subject"]),  # type: ignore[arg-type]
        street=Place.of(row["street"]),
        community=Place.of(row["community"]),
        compound=Place.of(row["compound"]),
        links=links,
        partner_units=[_unit(u) for u in row["partnerUnits"]],
        complete=not any(link.broken for link in links),
    )
