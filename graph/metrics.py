"""Coverage metrics: which entities a rule applies to, which meet it, and which area each counts in.

Each `Metric` becomes named Cypher built from fixed identifiers; the scope's code is a parameter.
Every entity counts in exactly one child area, so a parent's figures are the sums of its children's
(below a community, an entity's grid is `GRID_OF`: the grid it lies in on the day, the first by code when several
cover it; entities with no grid count in a "no grid" child, code null).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import LiteralString, cast

from graph.scope import AREA_PROPERTY, Scope
from graph.validity import Pattern, any_exists, in_force, walk, walk_now

#: The paths from an entity `x` to the grid it counts in.
_GRID_PATHS: dict[str, tuple[str, bool]] = {  # label -> (pattern to `g`, several grids: the first by code)
    "Compound": ("(g:Grid)-[:COVERS]->(x)", True),
    "Building": ("(x)-[:IN]->(g:Grid)", False),
    "Household": ("(x)-[:IN]->(:Building)-[:IN]->(g:Grid)", False),
    "BuildingGroup": ("(x)-[:UNDER]->(:GridBranch)-[:COVERS]->(g:Grid)", True),
    "GridBranch": ("(x)-[:COVERS]->(g:Grid)", True),
    "PartyMember": ("(x)-[:LIVES_IN]->(:Household)-[:IN]->(:Building)-[:IN]->(g:Grid)", False),
    "CentralHousehold": ("(x)-[:AT]->(:Household)-[:IN]->(:Building)-[:IN]->(g:Grid)", False),
}


def _grid_of(pattern: str, several: bool) -> LiteralString:
    path, held = walk(pattern)
    order = " AS c ORDER BY c" if several else ""
    return cast(LiteralString, f"head(COLLECT {{ MATCH {path} WHERE {held} RETURN g.code{order} }})")


#: The grid an entity counts in on $asOf, as a Cypher expression on `x` (None: the entity has no grid).
GRID_OF: dict[str, LiteralString] = {label: _grid_of(*path) for label, path in _GRID_PATHS.items()}
#: Households of a community as it stands (`walk_now`) and of a grid on $asOf, through their buildings.
_HOUSEHOLDS_OF_COMMUNITY = walk_now(
    "(:Community {code: $scope})<-[:IN]-(:Grid)<-[:IN]-(:Building)<-[:IN]-(x:Household)"
)
_HOUSEHOLDS_OF_GRID = walk("(:Grid {code: $scope})<-[:IN]-(:Building)<-[:IN]-(x:Household)")

# What covers an entity on the day $asOf: a pattern with every node and relationship in force then
# (graph/validity.py). Subquery variables are `k…`, never an outer query's.
#: A compound is covered by a branch directly, or through a grid that covers it.
COMPOUND_BRANCHES: tuple[Pattern, ...] = (
    Pattern("(x)<-[kr:COVERS]-(kb:GridBranch)", ("kr", "kb:GridBranch")),
    Pattern("(x)<-[kr1:COVERS]-(kg:Grid)<-[kr2:COVERS]-(kb:GridBranch)", ("kr1", "kg:Grid", "kr2", "kb:GridBranch")),
)
BUILDING_GROUPS = (Pattern("(x)<-[kr:COVERS]-(ko:BuildingGroup)", ("kr", "ko:BuildingGroup")),)
GROUP_CENTRALS = (Pattern("(x)<-[kr:UNDER]-(kc:CentralHousehold)", ("kr", "kc:CentralHousehold")),)
HOUSEHOLD_CENTRALS = (Pattern("(x)<-[kr:CONTACTS|AT]-(kc:CentralHousehold)", ("kr", "kc:CentralHousehold")),)
MANAGERS = (Pattern("(x)<-[kr:MANAGES]-(kp:PropertyCompany)", ("kr", "kp:PropertyCompany")),)
SERVICE_CENTERS = (Pattern("(x)<-[kr:IN]-(ks:ServiceCenter)", ("kr", "ks:ServiceCenter")),)
UNIT_REPORTS = (Pattern("(x)<-[kr:REPORTED_TO]-(ku:Unit)", ("kr", "ku:Unit")),)
MEMBER_REPORTS = (Pattern("(x)-[kr:REPORTED_TO]->(kc:Community)", ("kr", "kc:Community")),)

COMPOUND_HAS_BRANCH = any_exists(*COMPOUND_BRANCHES)
BUILDING_HAS_GROUP = any_exists(*BUILDING_GROUPS)
GROUP_HAS_CENTRAL = any_exists(*GROUP_CENTRALS)
HOUSEHOLD_HAS_CENTRAL = any_exists(*HOUSEHOLD_CENTRALS)
MANAGED_NOW = any_exists(*MANAGERS)
#: A compound in the central city (中心城区): its own flag, or, left blank, its community's (an undated condition).
CENTRAL_COMPOUND: LiteralString = (
    "(x.centralCity = true OR (x.centralCity IS NULL AND "
    "EXISTS { MATCH (cc:Community {code: x.communityCode}) WHERE cc.centralCity = true }))"
)
HAS_SERVICE_CENTER = any_exists(*SERVICE_CENTERS)
UNIT_REPORTED = any_exists(*UNIT_REPORTS)
MEMBER_REPORTED = any_exists(*MEMBER_REPORTS)


@dataclass(frozen=True)
class Metric:
    """One coverage figure: which entities count (`label`, `eligible`: an undated condition) and which are covered
    (any of the `covered_by` patterns holds)."""

    key: str
    zh: str
    en: str
    label: LiteralString
    covered_by: tuple[Pattern, ...]
    eligible: LiteralString = "true"
    gap: str | None = None  # the gap kind whose count is units - covered

    @property
    def covered(self) -> LiteralString:
        """The Cypher condition: `x` is covered on $asOf."""
        return any_exists(*self.covered_by)


METRICS: tuple[Metric, ...] = (
    Metric("compounds", "有党支部覆盖的小区", "compounds covered by a branch", "Compound", COMPOUND_BRANCHES,
           gap="compound_without_branch"),
    Metric("buildings", "有楼栋党小组的楼栋", "buildings with a party group", "Building", BUILDING_GROUPS,
           gap="building_without_group"),
    Metric("groups", "有党员中心户的党小组", "groups with at least one central household", "BuildingGroup",
           GROUP_CENTRALS, gap="group_without_central_household"),
    Metric("households", "联系到党员中心户的住户", "households linked to a central household", "Household",
           HOUSEHOLD_CENTRALS, gap="household_without_central_household"),
    Metric("propertyManaged", "有物业服务的中心城区小区", "central-city compounds with a property company",
           "Compound", MANAGERS, eligible=CENTRAL_COMPOUND, gap="compound_without_property_company"),
    Metric("serviceCenters", "有党群服务中心的社区", "communities with a service center", "Community",
           SERVICE_CENTERS, gap="community_without_service_center"),
    Metric("partnerReported", "有共建单位报到的社区", "communities where at least one partner unit reported",
           "Community", UNIT_REPORTS),
    Metric("membersReported", "已报到的在职党员", "in-service members who reported", "PartyMember",
           MEMBER_REPORTS, eligible="x.inService = true", gap="member_never_reported"),
)  # fmt: skip
METRIC_BY_KEY = {m.key: m for m in METRICS}


def scope_match(label: str, scope: Scope) -> LiteralString:
    """`MATCH (x:label) WHERE <inside scope>`: households of a community or grid through their buildings
    (no index over millions of households), everything else by its area property (indexed)."""
    if label == "Household" and scope.level == "community":
        return cast(LiteralString, "MATCH {} WHERE {}".format(*_HOUSEHOLDS_OF_COMMUNITY))
    if label == "Household" and scope.level == "grid":
        return cast(LiteralString, "MATCH {} WHERE {}".format(*_HOUSEHOLDS_OF_GRID))
    return cast(LiteralString, f"MATCH (x:{label}) WHERE {scope_filter(label, scope)}")


def scope_filter(label: str, scope: Scope, var: str = "x") -> LiteralString:
    """The Cypher condition that keeps `var` (a `label` node) inside `scope` ($scope, $community)."""
    if scope.level == "grid":
        grid_of = GRID_OF.get(label)
        if grid_of is None:
            return "false"  # community-level entities lie in no grid
        grid_of = cast(LiteralString, grid_of.replace("(x)", f"({var})"))
        return cast(LiteralString, f"{var}.communityCode = $community AND {grid_of} = $scope")
    return cast(LiteralString, f"{var}.{AREA_PROPERTY[scope.level]} = $scope")


def child_key(label: str, child_level: str | None) -> LiteralString:
    """The expression naming the child area an `x` counts in."""
    if child_level is None:
        return "null"
    if child_level == "grid":
        return GRID_OF.get(label, "null")
    return cast(LiteralString, f"x.{AREA_PROPERTY[child_level]}")


@cache
def metric_query(key: str, level: str) -> LiteralString:
    """units and covered per child area, for one metric at one scope level."""
    m = METRIC_BY_KEY[key]
    scope = Scope(level, "")
    return cast(
        LiteralString,
        f"""
{scope_match(m.label, scope)} AND {in_force("x", m.label)} AND {m.eligible}
WITH {child_key(m.label, scope.child_level)} AS child, CASE WHEN {m.covered} THEN 1 ELSE 0 END AS ok
RETURN child, count(*) AS units, sum(ok) AS covered
""",
    )
