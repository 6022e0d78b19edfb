"""The graph's entity labels: one registry that migrations, loaders, the schema and docs read.

Issue #3 grows this into the full model (properties and typed relationships); what is fixed here
is that every entity has a label and a stable `code`, unique per label.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    """A node label with its Chinese and English names."""

    label: str
    zh: str
    en: str


ENTITIES: tuple[Entity, ...] = (
    # Administrative and spatial units, top down.
    Entity("City", "市", "city"),
    Entity("District", "区", "district"),
    Entity("Street", "街道", "street (subdistrict)"),
    Entity("Community", "社区", "community"),
    Entity("Grid", "网格", "grid"),
    Entity("Compound", "小区", "compound"),
    Entity("Building", "楼栋", "building"),
    Entity("Household", "户", "household"),
    # The organization chain and the widened committees.
    Entity("StreetWorkingCommittee", "街道大工委", "street working committee"),
    Entity("CommunityCommittee", "社区党委(大党委)", "community party committee"),
    Entity("GridBranch", "网格(小区)党支部", "grid/compound party branch"),
    Entity("BuildingGroup", "楼栋(单元)党小组", "building/unit party group"),
    Entity("CentralHousehold", "党员中心户", "party-member central household"),
    # Partners, people, the three-party mechanism, places and the three lists.
    Entity("Unit", "共建单位", "partner unit"),
    Entity("PartyMember", "党员", "party member"),
    Entity("ResidentsCommittee", "居委会", "residents' committee"),
    Entity("OwnersCommittee", "业委会", "owners' committee"),
    Entity("PropertyCompany", "物业服务公司", "property company"),
    Entity("ServiceCenter", "党群服务中心", "party-masses service center"),
    Entity("RedStation", "红色驿站", "red station"),
    Entity("Resource", "资源清单", "resource (list entry)"),
    Entity("Need", "需求清单", "need (list entry)"),
    Entity("Service", "服务清单", "service (list entry)"),
)

LABELS: frozenset[str] = frozenset(e.label for e in ENTITIES)
