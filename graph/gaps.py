"""Gaps: every entity that breaks a rule of the network, with the rule, its source and who should act.

One `GapRule` per (kind, label): a Cypher condition on `x` that is true when `x` breaks the rule, and
the organization up the chain that answers for it. Counting and paging are named queries built from
these fixed fragments; the scope and the cursor are parameters. The kinds are `core.model.GAP_KINDS`,
the same names as the demo generator's manifest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from core.model import GAP_KINDS
from graph import rollups
from graph.driver import Graph
from graph.metrics import (
    BUILDING_HAS_GROUP,
    CENTRAL_COMPOUND,
    COMPOUND_HAS_BRANCH,
    GRID_OF,
    GROUP_HAS_CENTRAL,
    HAS_SERVICE_CENTER,
    HOUSEHOLD_HAS_CENTRAL,
    MANAGED_NOW,
    MEMBER_REPORTED,
    METRICS,
    scope_filter,
    scope_match,
)
from graph.paging import page_across
from graph.scope import AREA_PROPERTY, AreaNotFound, Scope, area_query
from graph.validity import all_in_force, exists, first_on_day, in_force, walk_now

#: Full members on $asOf: 正式党员 confirmed by then (`fullSince` empty or on or before the day), in force then.
FULL_MEMBERS: LiteralString = cast(
    LiteralString,
    "COUNT { (x)<-[kr:MEMBER_OF]-(km:PartyMember) WHERE km.status = '正式党员' AND "
    f"coalesce(km.fullSince <= date($asOf), true) AND {all_in_force('kr', 'km:PartyMember')} }}",
)
#: The term in office on $asOf — the current one from its start, before it the previous one (same years), before
#: that none known (not judged) — has run past its years.
TERM_ENDED: LiteralString = """CASE
  WHEN x.termStart <= date($asOf) THEN x.termStart + duration({years: coalesce(x.termYears, 5)}) < date($asOf)
  WHEN x.previousTermStart <= date($asOf)
    THEN x.previousTermStart + duration({years: coalesce(x.termYears, 5)}) < date($asOf)
  ELSE false
END"""

#: A community's households on $asOf: from its coverage rollup's timeline when current (graph/rollups.py), else
#: counted.
_HOUSEHOLD_PATH, _HOUSEHOLD_PATH_HELD = walk_now("(x)<-[:IN]-(:Grid)<-[:IN]-(:Building)<-[:IN]-(kh:Household)")
HOUSEHOLDS: LiteralString = cast(
    LiteralString,
    f"coalesce(COLLECT {{ MATCH (kr:_Rollup {{code: x.code}}) WHERE {rollups.current('kr')} "
    f"RETURN {rollups.at_day('kr', rollups.units_property('households'), rollups.day_index('kr'))} }}[0], "
    f"COUNT {{ {_HOUSEHOLD_PATH} WHERE {_HOUSEHOLD_PATH_HELD} AND {in_force('kh', 'Household')} }})",
)
MEMBER_UNIT: LiteralString = exists("(x)-[kr:MEMBER_UNIT_OF]->(ko)", "kr", "ko:")
UNIT_HAS_REPORTED: LiteralString = exists("(x)-[kr:REPORTED_TO]->(kc:Community)", "kr", "kc:Community")
NEED_SERVED: LiteralString = exists("(x)<-[kr:FULFILS]-(ks:Service)", "kr", "ks:Service")

# The organization that should act, as Cypher expressions on `x` giving a node (first match wins).
COMMUNITY_COMMITTEE = first_on_day("(o:CommunityCommittee)-[:LEADS]->(:Community {code: x.communityCode})", "o")
STREET_COMMITTEE = first_on_day("(o:StreetWorkingCommittee)-[:LEADS]->(:Street {code: x.streetCode})", "o")
GRID_BRANCH_OF_BUILDING = first_on_day("(x)-[:IN]->(:Grid)<-[:COVERS]-(o:GridBranch)", "o", order="o.code")
#: The organization directly above `x` along `rel` (its hierarchy link) on $asOf.
_UP = {label: first_on_day(f"(x)-[:UNDER]->(o:{label})", "o")
       for label in ("GridBranch", "CommunityCommittee", "StreetWorkingCommittee")}  # fmt: skip


@dataclass(frozen=True)
class GapRule:
    """A rule and the entities of one label that break it."""

    kind: str
    label: LiteralString
    breaks: LiteralString  # Cypher condition on x
    zh: str
    en: str
    source: str
    responsible: LiteralString  # Cypher expression on x: the organization node that should act


RULES: tuple[GapRule, ...] = (
    GapRule("compound_without_branch", "Compound", f"NOT {COMPOUND_HAS_BRANCH}",
            "小区没有党支部覆盖(支部直接覆盖小区,或覆盖小区所在网格)",
            "no branch covers the compound or any grid covering it",
            "调研报告目标:党组织覆盖每个小区 / report target: a branch in every compound", COMMUNITY_COMMITTEE),
    GapRule("building_without_group", "Building", f"NOT {BUILDING_HAS_GROUP}",
            "楼栋没有党小组", "no building group covers the building",
            "调研报告目标:楼栋党小组全覆盖 / report target: a party group in every building",
            f"coalesce({GRID_BRANCH_OF_BUILDING}, {COMMUNITY_COMMITTEE})"),
    GapRule("group_without_central_household", "BuildingGroup", f"NOT {GROUP_HAS_CENTRAL}",
            "党小组没有党员中心户", "the group has no central household",
            "调研报告:党员中心户联系群众 / report: central households keep in touch with residents",
            _UP["GridBranch"]),
    GapRule("household_without_central_household", "Household", f"NOT {HOUSEHOLD_HAS_CENTRAL}",
            "住户未联系党员中心户(本户也不是中心户)",
            "no central household keeps in touch with the household (nor lives there)",
            "调研报告:党员中心户联系群众 / report: central households keep in touch with residents",
            f"coalesce({first_on_day('(x)-[:IN]->(:Building)<-[:COVERS]-(o:BuildingGroup)', 'o', order='o.code')}, "
            f"{first_on_day('(x)-[:IN]->(:Building)-[:IN]->(:Grid)<-[:COVERS]-(o:GridBranch)', 'o', order='o.code')},"
            f" {COMMUNITY_COMMITTEE})"),
    GapRule("branch_under_three_full_members", "GridBranch", f"{FULL_MEMBERS} < 3",
            "支部正式党员少于3名", "fewer than 3 full members",
            "中国共产党支部工作条例(试行)第六条 / Regulations on Party Branch Work, art. 6",
            _UP["CommunityCommittee"]),
    GapRule("branch_without_committee", "GridBranch", f"{FULL_MEMBERS} >= 7 AND NOT coalesce(x.hasCommittee, false)",
            "正式党员7人以上未设支部委员会", "7 or more full members and no branch committee",
            "中国共产党支部工作条例(试行)第二章 组织设置 / Regulations on Party Branch Work, ch. 2",
            _UP["CommunityCommittee"]),
    GapRule("expired_committee_term", "CommunityCommittee", TERM_ENDED,
            "社区党委任期届满未换届(本届起始日期+任期年限,默认5年)",
            "the committee's term (start + years, default 5) has ended",
            "社区党组织每届任期5年 / community party organizations serve 5-year terms",
            _UP["StreetWorkingCommittee"]),
    GapRule("expired_committee_term", "GridBranch", TERM_ENDED,
            "支部委员会任期届满未换届(本届起始日期+任期年限,默认5年)",
            "the branch committee's term (start + years, default 5) has ended",
            "支部工作条例(试行);社区党支部每届5年 / Regulations on Party Branch Work; 5-year terms in communities",
            _UP["CommunityCommittee"]),
    GapRule("community_size_out_of_range", "Community", f"NOT (3000 <= {HOUSEHOLDS} <= 5000)",
            "社区户数不在3000–5000户之间", "the community has fewer than 3,000 or more than 5,000 households",
            "调研报告目标:社区规模3000–5000户 / report target: 3,000-5,000 households per community",
            STREET_COMMITTEE),
    GapRule("compound_without_property_company", "Compound", f"{CENTRAL_COMPOUND} AND NOT {MANAGED_NOW}",
            "中心城区小区(空则随所属社区)无在管物业服务企业",
            "a central-city compound (blank: as its community) with no property company in force",
            "调研报告目标:中心城区小区物业全覆盖 / report target: property service in every central-city compound",
            COMMUNITY_COMMITTEE),
    GapRule("unit_never_reported", "Unit", f"{MEMBER_UNIT} AND NOT {UNIT_HAS_REPORTED}",
            "大工委/大党委成员单位从未到社区报到", "a member unit of a working or widened committee never reported",
            "“双报到”制度 / the dual-reporting rule",
            "head(COLLECT { MATCH (x)-[:MEMBER_UNIT_OF]->(o) RETURN o ORDER BY o.code })"),
    GapRule("member_never_reported", "PartyMember",
            f"x.inService = true AND NOT {MEMBER_REPORTED}",
            "在职党员从未到居住地社区报到", "an in-service member never reported to a community",
            "“双报到”制度 / the dual-reporting rule",
            f"coalesce({first_on_day('(x)-[:MEMBER_OF]->(o:GridBranch)', 'o')}, {COMMUNITY_COMMITTEE})"),
    GapRule("need_unserved", "Need", f"NOT {NEED_SERVED}",
            "需求清单中的需求无人服务", "a need that no service fulfils",
            "三张清单制度 / the three-lists rule", COMMUNITY_COMMITTEE),
    GapRule("community_without_service_center", "Community", f"NOT {HAS_SERVICE_CENTER}",
            "社区没有党群服务中心", "the community has no party-and-people service center",
            "调研报告目标:党群服务中心全覆盖 / report target: a service center in every community",
            STREET_COMMITTEE),
)  # fmt: skip
assert {r.kind for r in RULES} == set(GAP_KINDS)

#: Gap kinds that are the uncovered part of a coverage metric (their counts can come from rollups).
METRIC_OF_GAP: dict[str, str] = {m.gap: m.key for m in METRICS if m.gap}

#: Where an entity lies, as Cypher expressions on `x` (null where the level does not apply).
COMPOUND_OF: dict[str, LiteralString] = {
    "Compound": "x",
    "Building": first_on_day("(x)-[:IN_COMPOUND]->(c:Compound)", "c"),
    "Household": first_on_day("(x)-[:IN]->(:Building)-[:IN_COMPOUND]->(c:Compound)", "c"),
}


def rules_of(kinds: tuple[str, ...] | None = None) -> tuple[GapRule, ...]:
    """The rules of the given kinds, in GAP_KINDS order (all of them when `kinds` is None)."""
    wanted = set(kinds or GAP_KINDS)
    return tuple(sorted((r for r in RULES if r.kind in wanted), key=lambda r: GAP_KINDS.index(r.kind)))


def _match(rule: GapRule, scope: Scope) -> LiteralString:
    """`MATCH (x) WHERE <x inside the scope, in force on $asOf>` for the rule's label."""
    if rule.label == "Unit":  # city-wide: in scope through the committee it joined
        inner = cast(LiteralString, scope_filter("CommunityCommittee", scope, "o"))
        return cast(
            LiteralString,
            f"MATCH (x:Unit) WHERE EXISTS {{ (x)-[:MEMBER_UNIT_OF]->(o) WHERE {inner} }} AND {in_force('x', 'Unit')}",
        )
    return cast(LiteralString, f"{scope_match(rule.label, scope)} AND {in_force('x', rule.label)}")


def _responsible(rule: GapRule, scope: Scope) -> LiteralString:
    """The organization that should act, as seen from inside `scope`: a unit's is the first committee it
    joined inside the scope (a unit is city-wide: the first of all its committees may lie in another street)."""
    if rule.label == "Unit":
        inner = cast(LiteralString, scope_filter("CommunityCommittee", scope, "o"))
        joined = f"MATCH (x)-[:MEMBER_UNIT_OF]->(o) WHERE {inner} RETURN o ORDER BY o.code"
        return cast(LiteralString, f"head(COLLECT {{ {joined} }})")
    return rule.responsible


@cache
def count_query(index: int, level: str) -> LiteralString:
    """How many entities break rule RULES[index] inside a scope of `level`.

    Above a community, a rule that is a coverage metric's complement sums the communities' rollups on $asOf and
    counts the entities of communities without a current rollup itself.
    """
    rule = RULES[index]
    metric = METRIC_OF_GAP.get(rule.kind)
    if metric is not None and level in ("city", "district", "street"):
        units, covered = rollups.units_property(metric), rollups.covered_property(metric)
        area = AREA_PROPERTY[level]
        reach = rollups.reach_from("cm", rule.label)
        return cast(
            LiteralString,
            f"""
CALL {{
  MATCH (c:_Rollup) WHERE c.{area} = $scope AND {rollups.current("c")}
  WITH c, {rollups.day_index("c")} AS i
  RETURN sum({rollups.at_day("c", units, "i")} - {rollups.at_day("c", covered, "i")}) AS made
}}
CALL {{
  MATCH (cm:Community) WHERE cm.{area} = $scope
    AND NOT EXISTS {{ MATCH (kr:_Rollup {{code: cm.code}}) WHERE {rollups.current("kr")} }}
  {reach} AND {in_force("x", rule.label)} AND ({rule.breaks})
  RETURN count(x) AS counted
}}
RETURN made + counted AS n
""",
        )
    return cast(
        LiteralString,
        f"{_match(rule, Scope(level, ''))} AND ({rule.breaks}) RETURN count(x) AS n",
    )


@cache
def codes_query(index: int, level: str) -> LiteralString:
    """The codes of the entities breaking rule RULES[index] inside a scope of `level`, read from the entities
    themselves (never the rollups): which gaps a load opened and closed needs the sets, not their sizes."""
    rule = RULES[index]
    return cast(LiteralString, f"{_match(rule, Scope(level, ''))} AND ({rule.breaks}) RETURN collect(x.code) AS codes")


@cache
def page_query(index: int, level: str) -> LiteralString:
    """The next entities (by code, after $after) that break rule RULES[index], with path and responsible org."""
    rule = RULES[index]
    grid = GRID_OF.get(rule.label, "null")
    compound = COMPOUND_OF.get(rule.label, "null")
    return cast(
        LiteralString,
        f"""
{_match(rule, Scope(level, ""))} AND x.code > $after AND ({rule.breaks})
WITH x ORDER BY x.code LIMIT $first
WITH x, {compound} AS compound, {grid} AS gridCode, {_responsible(rule, Scope(level, ""))} AS o
OPTIONAL MATCH (s:Street {{code: x.streetCode}})
OPTIONAL MATCH (c:Community {{code: x.communityCode}})
OPTIONAL MATCH (g:Grid {{code: gridCode}})
RETURN x.code AS code, coalesce(x.name, x.title) AS name, labels(x)[0] AS label,
       s {{.code, .name}} AS street, c {{.code, .name}} AS community, g {{.code, .name}} AS grid,
       compound {{.code, .name}} AS compound,
       CASE WHEN o IS NULL THEN null ELSE o {{.code, .name, label: labels(o)[0]}} END AS responsible
ORDER BY code
""",
    )


@dataclass(frozen=True)
class Gap:
    """One entity breaking one rule."""

    rule: GapRule
    code: str
    name: str | None
    label: str
    street: dict[str, Any] | None
    community: dict[str, Any] | None
    grid: dict[str, Any] | None
    compound: dict[str, Any] | None
    responsible: dict[str, Any] | None


@dataclass
class GapPage:
    """A page of gaps, the count per kind, and whether more follow."""

    gaps: list[Gap]
    counts: dict[str, int]
    has_next: bool


def cursor_of(gap: Gap) -> tuple[int, str]:
    """The position of a gap in the listing: (its rule's index in RULES, its entity's code)."""
    return RULES.index(gap.rule), gap.code


async def count_kinds(
    tx: AsyncManagedTransaction, rules: tuple[GapRule, ...], level: str, params: dict[str, Any]
) -> dict[str, int]:
    """How many entities break each of `rules` inside a scope of `level` (`count_query`), summed per kind."""
    counts: dict[str, int] = {}
    for rule in rules:
        record = await (await tx.run(count_query(RULES.index(rule), level), params)).single()
        counts[rule.kind] = counts.get(rule.kind, 0) + (record["n"] if record else 0)
    return counts


async def kind_codes(tx: AsyncManagedTransaction, level: str, params: dict[str, Any]) -> dict[str, set[str]]:
    """The codes of the entities breaking each rule inside a scope of `level` (`codes_query`), per kind."""
    codes: dict[str, set[str]] = {}
    for index, rule in enumerate(RULES):
        record = await (await tx.run(codes_query(index, level), params)).single()
        codes.setdefault(rule.kind, set()).update(record["codes"] if record else ())
    return codes


async def gaps(
    graph: Graph,
    scope: Scope,
    as_of: str,
    kinds: tuple[str, ...] | None,
    first: int,
    after: tuple[int, str] | None,
    with_counts: bool = True,
) -> GapPage:
    """Gaps inside `scope`, ordered by kind then code, `first` of them after `after`; one read transaction."""
    return await graph.read(_gaps, scope, as_of, kinds, first, after, with_counts)


async def _gaps(
    tx: AsyncManagedTransaction,
    scope: Scope,
    as_of: str,
    kinds: tuple[str, ...] | None,
    first: int,
    after: tuple[int, str] | None,
    with_counts: bool,
) -> GapPage:
    rules = rules_of(kinds)
    params: dict[str, Any] = {"scope": scope.code, "community": scope.community, "asOf": as_of}
    if await (await tx.run(area_query(scope.level), params)).single() is None:
        raise AreaNotFound(scope.code)
    counts = await count_kinds(tx, rules, scope.level, params) if with_counts else {}

    async def fetch(index: int, start: str, limit: int) -> list[Gap]:
        rule = RULES[index]
        result = await tx.run(page_query(index, scope.level), {**params, "after": start, "first": limit})
        return [Gap(rule, r["code"], r["name"], r["label"], r["street"], r["community"], r["grid"], r["compound"],
                    r["responsible"]) async for r in result]  # fmt: skip

    found, has_next = await page_across([RULES.index(rule) for rule in rules], first, after, fetch)
    return GapPage(found, counts, has_next)


async def all_gaps(
    graph: Graph, scope: Scope, as_of: str, kinds: tuple[str, ...] | None = None, batch: int = 2000
) -> AsyncIterator[Gap]:
    """Every gap inside `scope` (kind order, then code), read page by page through the keyset pager."""
    after: tuple[int, str] | None = None
    while True:
        page = await gaps(graph, scope, as_of, kinds, batch, after, with_counts=False)
        for gap in page.gaps:
            yield gap
        if not page.has_next or not page.gaps:
            return
        after = cursor_of(page.gaps[-1])
