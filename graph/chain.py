"""Who answers for a household, building or compound: the chain up to the street, and the partner units.

central household → building group and its leader → grid branch and its secretary → community
committee and its secretary → street working committee and its secretary → street. A link that is
missing stays in the chain as a break (organization null), which is what an auditor looks for. Inside a
scope, a head who lives outside it is not named (null): the organization shows its code and name only.
One named query per subject label; the code, the date and the scope are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from graph.driver import Graph
from graph.metrics import scope_filter
from graph.scope import Scope
from graph.validity import exists, first_on_day, in_force, rel_in_force, walk

#: Subject labels by own-code prefix.
SUBJECTS: dict[str, LiteralString] = {"HU": "Household", "LD": "Building", "XQ": "Compound"}


def _f(var: str, label: str | None) -> str:
    return in_force(var, label)


#: The subject's building, compound and central household, each in force on $asOf.
_BUILDING: dict[str, LiteralString] = {
    "Household": first_on_day("(x)-[:IN]->(b:Building)", "b", _f("b", "Building")),
    "Building": "x",
    "Compound": "null",
}
_COMPOUND: dict[str, LiteralString] = {
    "Household": first_on_day(
        "(x)-[:IN]->(b:Building)-[:IN_COMPOUND]->(c:Compound)", "c", f"{_f('b', 'Building')} AND {_f('c', 'Compound')}"
    ),
    "Building": first_on_day("(x)-[:IN_COMPOUND]->(c:Compound)", "c", _f("c", "Compound")),
    "Compound": "x",
}
_CENTRAL: dict[str, LiteralString] = {
    "Household": first_on_day(
        "(ch:CentralHousehold)-[:CONTACTS|AT]->(x)", "ch", _f("ch", "CentralHousehold"), order="ch.code"
    ),
    "Building": "null",
    "Compound": "null",
}
_BRANCH_IN_FORCE = _f("o", "GridBranch")
_GRID_IN_FORCE = _f("gd", "Grid")
#: The branch: the group's, else one covering the building's grid, else one covering the compound or its grid.
_BRANCH: LiteralString = cast(
    LiteralString,
    f"""coalesce(
  {first_on_day("(grp)-[:UNDER]->(o:GridBranch)", "o", _BRANCH_IN_FORCE)},
  {
        first_on_day(
            "(building)-[:IN]->(gd:Grid)<-[:COVERS]-(o:GridBranch)",
            "o",
            f"{_GRID_IN_FORCE} AND {_BRANCH_IN_FORCE}",
            "o.code",
        )
    },
  {first_on_day("(compound)<-[:COVERS]-(o:GridBranch)", "o", _BRANCH_IN_FORCE, "o.code")},
  {
        first_on_day(
            "(compound)<-[:COVERS]-(gd:Grid)<-[:COVERS]-(o:GridBranch)",
            "o",
            f"{_GRID_IN_FORCE} AND {_BRANCH_IN_FORCE}",
            "o.code",
        )
    })""",
)


_DELIVERED = walk("(s:Service)-[:DELIVERED_BY]->(u)")
REPORTED = exists("(u)-[r:REPORTED_TO]->(community)", "r")
JOINED = exists("(u)-[r:MEMBER_UNIT_OF]->(cc)", "r")


def _member_inside(level: str | None) -> LiteralString:
    """The condition that keeps a member `p` inside a scope of `level`: a head who lives outside it (a street
    committee's secretary from another community) is not shown to a reader of the community below. A grid
    reads its community's people, as every entity read does (`graph.entities.scope_params`)."""
    if level is None:
        return "true"
    if level == "grid":
        return "p.communityCode = $community"
    return scope_filter("PartyMember", Scope(level, ""), "p")


def _head(org: str, roles: str, level: str | None) -> LiteralString:
    """The member holding one of `roles` in `org` on $asOf (latest appointment first), inside the scope."""
    return cast(
        LiteralString,
        f"head(COLLECT {{ MATCH (p:PartyMember)-[r:HOLDS]->({org}) WHERE r.role IN {roles} "
        f"AND {rel_in_force('r')} AND {in_force('p', 'PartyMember')} "
        f"AND {_member_inside(level)} RETURN p {{.code, .name, role: r.role}} ORDER BY r.since DESC }})",
    )


@cache
def chain_query(label: str, level: str | None) -> LiteralString:
    """The chain of one subject of `label` ($code) inside a scope of `level` ($scope; None: anywhere), on $asOf."""
    if label not in _BUILDING:
        raise ValueError(label)
    inside = "true" if level is None else scope_filter(label, Scope(level, ""))
    org = "{.code, .name, label: labels(%s)[0]}"
    return cast(
        LiteralString,
        f"""
MATCH (x:{label} {{code: $code}}) WHERE {inside} AND {_f("x", label)}
WITH x, {_BUILDING[label]} AS building, {_COMPOUND[label]} AS compound, {_CENTRAL[label]} AS ch
WITH x, building, compound, ch, coalesce(
  {first_on_day("(ch)-[:UNDER]->(g:BuildingGroup)", "g", _f("g", "BuildingGroup"))},
  {first_on_day("(building)<-[:COVERS]-(g:BuildingGroup)", "g", _f("g", "BuildingGroup"), "g.code")}) AS grp
WITH x, building, compound, ch, grp, {_BRANCH} AS branch
OPTIONAL MATCH (community:Community {{code: x.communityCode}})
OPTIONAL MATCH (street:Street {{code: x.streetCode}})
WITH x, building, compound, ch, grp, branch, community, street,
     {first_on_day("(cc:CommunityCommittee)-[:LEADS]->(community)", "cc", _f("cc", "CommunityCommittee"))} AS cc,
     {first_on_day("(swc:StreetWorkingCommittee)-[:LEADS]->(street)", "swc", _f("swc", "StreetWorkingCommittee"))}
     AS swc
RETURN x {{.code, .name, label: labels(x)[0]}} AS subject,
       community {{.code, .name}} AS community, street {{.code, .name}} AS street,
       compound {{.code, .name}} AS compound,
       CASE WHEN ch IS NULL THEN null ELSE ch {org % "ch"} END AS centralHousehold,
       CASE WHEN ch IS NULL THEN null ELSE
         {
            first_on_day(
                "(p:PartyMember)-[:LIVES_IN]->(:Household)<-[:AT]-(ch)",
                "p {.code, .name}",
                f"{_member_inside(level)} AND {_f('p', 'PartyMember')}",
                "p.code",
            )
        }
       END AS centralHouseholdMember,
       CASE WHEN grp IS NULL THEN null ELSE grp {org % "grp"} END AS grp,
       {_head("grp", "['组长']", level)} AS groupLeader,
       CASE WHEN branch IS NULL THEN null ELSE branch {org % "branch"} END AS branch,
       {_head("branch", "['书记']", level)} AS branchSecretary,
       CASE WHEN cc IS NULL THEN null ELSE cc {org % "cc"} END AS communityCommittee,
       {_head("cc", "['书记']", level)} AS communitySecretary,
       CASE WHEN swc IS NULL THEN null ELSE swc {org % "swc"} END AS streetCommittee,
       {_head("swc", "['书记']", level)} AS streetSecretary,
       COLLECT {{
         MATCH (u:Unit) WHERE {_f("u", "Unit")} AND ({REPORTED} OR {JOINED})
         CALL (u, community) {{
           OPTIONAL MATCH {_DELIVERED[0]}
           WHERE {_DELIVERED[1]} AND s.communityCode = community.code AND {_f("s", "Service")}
           RETURN count(s) AS services, sum(s.hours) AS hours
         }}
         WITH u, services, hours ORDER BY u.name
         RETURN u {{.code, .name, .kind, services: services, hours: hours,
                   reportedOn: head(COLLECT {{ MATCH (u)-[r:REPORTED_TO]->(community) WHERE {rel_in_force("r")}
                                              RETURN r.date ORDER BY r.date }}),
                   committeeMember: {JOINED}}}
       }} AS partnerUnits
""",
    )


@dataclass
class Chain:
    """The record `chain_query` returns, as a dict of its columns."""

    row: dict[str, Any]


class SubjectError(ValueError):
    """The code is not a household, building or compound code."""


def subject_label(code: str) -> LiteralString:
    """The label a subject code names, from its prefix (HU-, LD-, XQ-)."""
    label = SUBJECTS.get(code.split("-", 1)[0])
    if label is None:
        raise SubjectError(
            f"编码 {code!r} 不是住户(HU-)、楼栋(LD-)或小区(XQ-)编码 / "
            f"{code!r} is not a household (HU-), building (LD-) or compound (XQ-) code"
        )
    return label


async def responsibility_chain(graph: Graph, code: str, as_of: str, scope: Scope | None = None) -> Chain | None:
    """The chain for `code`, or None when no such subject lies inside `scope` (or exists at all)."""
    label = subject_label(code)
    row = await graph.read(_chain, label, code, as_of, scope)
    return None if row is None else Chain(row)


async def _chain(
    tx: AsyncManagedTransaction, label: str, code: str, as_of: str, scope: Scope | None
) -> dict[str, Any] | None:
    params = {"code": code, "asOf": as_of}
    if scope is not None:
        params |= {"scope": scope.code, "community": scope.community}
    result = await tx.run(chain_query(label, scope.level if scope else None), params)
    record = await result.single()
    return record.data() if record else None
