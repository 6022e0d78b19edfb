"""Coverage rollups: each community's coverage figures through time, stored beside it, so any day's coverage of a
city is a sum.

A whole city's figures touch two million households; summed from 515 rollup nodes they take milliseconds. A
`_Rollup` node (internal, like `_Migration`) per community holds its area codes and its **timeline**: `days`, the
sorted days on which any of its figures changes (the first is `EVER`), and per metric the units and covered counts
from each of those days on (`units_<key>`, `covered_<key>`). The figures on day d are the entries at the last
change on or before d (`at_day`). Beside the timeline, the **current** figures — those of the days from
`currentFrom` to `currentUntil`, the stretch that held the day the rollup was made — are plain properties
(`now_units_<key>`, `now_covered_<key>`): today's read takes them without touching the arrays, a past day's read
looks its day up in the arrays. `keep_current` moves that stretch on when the day passes its end (`ADVANCE`), from the
stored arrays. They are computed from spans (graph/validity.py): each unit is in force from the
latest of its starts to its `until`, and covered on the union of the spans of the patterns that cover it — the
day-by-day rule, for every day at once.

The rule: **only writers write rollups** — the loader after a load, an edit for the communities it touched, and
`keep_current`, the service's task that makes the rollups a community lacks or that an older version of the
service made. A read never does: it sums the current rollups and counts the communities without one itself, in
its read transaction (`stale_query`, `live_rows`), so what one reader asks can never change what another sees.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from typing import Any, LiteralString, cast

from neo4j import AsyncManagedTransaction

from graph.driver import Graph
from graph.metrics import METRIC_BY_KEY, METRICS
from graph.validity import EVER, NEVER_ENDS, all_spans, in_force, span, walk_now

log = logging.getLogger(__name__)

#: The rollups' format: a rollup of another version is remade by `keep_current` (and read as missing till then).
VERSION = 2
#: The Cypher condition "the rollup `r` is current" (the version is the code's constant, not a value from outside).
CURRENT: LiteralString = "r.version = 2"

#: How a metric's entities are reached from their community (households: through grid and building,
#: which needs no index over two million nodes); default: the entity's own communityCode.
_REACH: dict[str, LiteralString] = {
    "Household": cast(
        LiteralString,
        "MATCH {} WHERE {} AND c.code IN $codes".format(
            *walk_now("(c:Community)<-[:IN]-(:Grid)<-[:IN]-(:Building)<-[:IN]-(x:Household)")
        ),
    ),
}
ALL_COMMUNITIES: LiteralString = "MATCH (c:Community) RETURN c.code AS code ORDER BY code"
#: Communities inside a scope with no current rollup, and the child area of the scope each lies in.
STALE_COMMUNITIES: LiteralString = """
MATCH (c:Community) WHERE c.{level}Code = $scope
  AND NOT EXISTS { MATCH (r:_Rollup {code: c.code}) WHERE r.version = 2 }
RETURN c.code AS code, c.{child}Code AS child
"""
#: Communities with no current rollup (`keep_current`'s question).
MISSING: LiteralString = """
MATCH (c:Community) WHERE NOT EXISTS { MATCH (r:_Rollup {code: c.code}) WHERE r.version = 2 }
RETURN c.code AS code ORDER BY code
"""
assert CURRENT.endswith(f"= {VERSION}")
assert CURRENT in STALE_COMMUNITIES
assert CURRENT in MISSING
SAVE: LiteralString = """
UNWIND $rows AS row
MATCH (c:Community {code: row.code})
MERGE (r:_Rollup {code: row.code})
SET r = row.props, r.code = c.code, r.cityCode = c.cityCode, r.districtCode = c.districtCode,
    r.streetCode = c.streetCode, r.communityCode = c.communityCode
"""
#: Rollups of communities that no longer exist would still add to their street's sums.
DROP_ORPHANS: LiteralString = """
MATCH (r:_Rollup) WHERE NOT EXISTS { MATCH (:Community {code: r.code}) }
DELETE r
RETURN count(*) AS dropped
"""


def current(rollup: str) -> LiteralString:
    """The Cypher condition "the `_Rollup` bound to `rollup` is current"."""
    return cast(LiteralString, CURRENT.replace("r.", f"{rollup}.", 1))


def units_property(key: str) -> LiteralString:
    """The rollup property holding a metric's unit counts, one per change day."""
    return cast(LiteralString, f"units_{METRIC_BY_KEY[key].key}")


def covered_property(key: str) -> LiteralString:
    """The rollup property holding a metric's covered counts, one per change day."""
    return cast(LiteralString, f"covered_{METRIC_BY_KEY[key].key}")


def day_index(rollup: str, day: str = "date($asOf)") -> LiteralString:
    """The index into the rollup's timeline of the last change on or before `day` (a Cypher date expression), or
    -1 when `day` lies in its current stretch (no array is read then)."""
    return timeline_index(f"{rollup}.currentFrom", f"{rollup}.currentUntil", f"{rollup}.days", day)


def timeline_index(since: str, until: str, timeline: str, day: str) -> LiteralString:
    """`day_index` from Cypher expressions for a rollup's current stretch (`since`, `until`) and its `timeline`
    (e.g. variables a query read them into once)."""
    return cast(
        LiteralString,
        f"CASE WHEN {since} <= {day} AND {day} <= {until} THEN -1 "
        f"ELSE size([kt IN {timeline} WHERE kt <= {day}]) - 1 END",
    )


def at_day(rollup: str, prop: str, index: str) -> LiteralString:
    """The rollup's `prop` (a units or covered property) at timeline index `index` (-1: its current value)."""
    return value_at(f"{rollup}.now_{prop}", f"{rollup}.{prop}", index)


def value_at(now: str, timeline: str, index: str) -> LiteralString:
    """`at_day` from Cypher expressions for a property's current value (`now`) and its array (`timeline`), e.g.
    variables a query read them into once."""
    return cast(LiteralString, f"CASE WHEN {index} < 0 THEN {now} ELSE {timeline}[{index}] END")


def _now_values(rollup: str, index: str) -> str:
    """`SET` items giving every current property its value at timeline index `index`."""
    return ", ".join(
        f"{rollup}.now_{p} = {rollup}.{p}[{index}]"
        for m in METRICS
        for p in (units_property(m.key), covered_property(m.key))
    )


#: Moves the current stretch of every rollup whose stretch ended before $today on to the stretch holding $today
#: (`keep_current`: the stored arrays are the truth; nothing is recounted).
ADVANCE: LiteralString = cast(
    LiteralString,
    f"""
MATCH (r:_Rollup) WHERE {CURRENT} AND r.currentUntil < date($today)
WITH r, size([kt IN r.days WHERE kt <= date($today)]) - 1 AS i
SET r.currentFrom = r.days[i],
    r.currentUntil = CASE WHEN i + 1 < size(r.days) THEN r.days[i + 1] - duration({{days: 1}})
                     ELSE date('9999-12-31') END,
    {_now_values("r", "i")}
RETURN count(r) AS advanced
""",
)


def reach_from(community: str, label: str) -> LiteralString:
    """`MATCH (x:label) WHERE <x lies in the community node bound to `community`>` (households through their
    grid and building as they stand: graph/validity.py)."""
    if label == "Household":
        path, held = walk_now(f"({community})<-[:IN]-(:Grid)<-[:IN]-(:Building)<-[:IN]-(x:Household)")
        return cast(LiteralString, f"MATCH {path} WHERE {held}")
    return cast(LiteralString, f"MATCH (x:{label}) WHERE x.communityCode = {community}.code")


def _reach(label: str) -> LiteralString:
    return _REACH.get(label, cast(LiteralString, f"MATCH (x:{label}) WHERE x.communityCode IN $codes"))


@cache
def rollup_query(key: str) -> LiteralString:
    """units and covered per community on $asOf, for the communities in $codes (a read's live count)."""
    m = METRIC_BY_KEY[key]
    return cast(
        LiteralString,
        f"""
{_reach(m.label)} AND {in_force("x", m.label)} AND {m.eligible}
WITH x.communityCode AS community, CASE WHEN {m.covered} THEN 1 ELSE 0 END AS ok
RETURN community, count(*) AS units, sum(ok) AS covered
""",
    )


@cache
def spans_query(key: str) -> LiteralString:
    """For the communities in $codes: each distinct (unit span, covering spans clipped to it) with how many units
    share it — most units share one, the undated ones."""
    m = METRIC_BY_KEY[key]
    first, last = span(f"x:{m.label}")
    return cast(
        LiteralString,
        f"""
{_reach(m.label)} AND {m.eligible}
WITH x, {first} AS xs, {last} AS xe
WHERE xs <= xe
WITH x.communityCode AS community, xs, xe,
     [ks IN {all_spans(*m.covered_by)} WHERE ks[0] <= ks[1] AND ks[0] <= xe AND ks[1] >= xs |
      [CASE WHEN ks[0] < xs THEN xs ELSE ks[0] END, CASE WHEN ks[1] > xe THEN xe ELSE ks[1] END]] AS spans
RETURN community, xs, xe, spans, count(*) AS n
""",
    )


@cache
def stale_query(level: str) -> LiteralString:
    """Communities inside a scope of `level` with no current rollup, each with its child area's code (a
    community's: its own)."""
    if level not in ("city", "district", "street", "community"):
        raise ValueError(level)
    child = {"city": "district", "district": "street", "street": "community", "community": "community"}[level]
    return cast(LiteralString, STALE_COMMUNITIES.replace("{level}", level).replace("{child}", child))


def _day(value: Any) -> date:
    return value.to_native() if hasattr(value, "to_native") else value


def _after(day: date) -> date | None:
    """The day after `day`; None after NEVER_ENDS (a fact that never ends changes nothing)."""
    return None if day >= NEVER_ENDS else day + timedelta(days=1)


def _merged(spans: list[tuple[date, date]]) -> list[tuple[date, date]]:
    """Overlapping or touching spans joined."""
    out: list[tuple[date, date]] = []
    for first, last in sorted(spans):
        if out and (_after(out[-1][1]) or NEVER_ENDS) >= first:
            if last > out[-1][1]:
                out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return out


class Timeline:
    """One community's figures through time, built from span rows (`add`), read as change days and counts."""

    def __init__(self) -> None:
        self.changes: dict[str, dict[date, list[int]]] = {m.key: defaultdict(lambda: [0, 0]) for m in METRICS}

    def add(self, key: str, first: date, last: date, covering: list[tuple[date, date]], n: int) -> None:
        """`n` units in force from `first` to `last`, covered on the (clipped) `covering` spans."""
        changes = self.changes[key]
        changes[first][0] += n
        if (end := _after(last)) is not None:
            changes[end][0] -= n
        for a, b in _merged(covering):
            changes[a][1] += n
            if (end := _after(b)) is not None:
                changes[end][1] -= n

    def props(self, today: date) -> dict[str, Any]:
        """The rollup's properties: `days` from EVER, every metric's units and covered on each, and the current
        stretch (the one holding `today`) with its figures as plain properties."""
        days = sorted({EVER, *(d for c in self.changes.values() for d in c)})
        props: dict[str, Any] = {"version": VERSION, "days": days}
        for key, changes in self.changes.items():
            units, covered, u, c = [], [], 0, 0
            for d in days:
                du, dc = changes.get(d, (0, 0))
                u, c = u + du, c + dc
                units.append(u)
                covered.append(c)
            props[units_property(key)] = units
            props[covered_property(key)] = covered
        # Days on which no figure changes (a change undone the same day) are dropped.
        series = [props[p] for k in self.changes for p in (units_property(k), covered_property(k))]
        keep = [i for i in range(len(days)) if i == 0 or any(v[i] != v[i - 1] for v in series)]
        props = {p: [v[i] for i in keep] if isinstance(v, list) else v for p, v in props.items()}
        i = sum(1 for d in props["days"] if d <= today) - 1
        props["currentFrom"] = props["days"][i]
        props["currentUntil"] = props["days"][i + 1] - timedelta(days=1) if i + 1 < len(props["days"]) else NEVER_ENDS
        for key in self.changes:
            for prop in (units_property(key), covered_property(key)):
                props[f"now_{prop}"] = props[prop][i]
        return props

    def at(self, day: date) -> dict[str, tuple[int, int]]:
        """Every metric's (units, covered) on `day` (what a read of the stored rollup gives)."""
        out = {}
        for key, changes in self.changes.items():
            u = sum(v[0] for d, v in changes.items() if d <= day)
            c = sum(v[1] for d, v in changes.items() if d <= day)
            out[key] = (u, c)
        return out


async def timelines(tx: AsyncManagedTransaction, codes: list[str]) -> dict[str, Timeline]:
    """The timelines of the communities in `codes` (every one, also those with no units)."""
    out = {code: Timeline() for code in codes}
    for m in METRICS:
        async for r in await tx.run(spans_query(m.key), {"codes": codes}):
            if r["community"] in out:
                covering = [(_day(a), _day(b)) for a, b in r["spans"]]
                out[r["community"]].add(m.key, _day(r["xs"]), _day(r["xe"]), covering, r["n"])
    return out


async def refresh(
    graph: Graph, communities: list[str], chunk: int = 100, concurrent: int = 2, today: date | None = None
) -> int:
    """Remake the rollups of `communities` (all of them, and drop the orphans, when empty), a chunk per
    transaction, `concurrent` chunks at a time (chunks share no community, so they never wait on each other's
    locks)."""
    if not communities:
        await graph.write_rows(DROP_ORPHANS)
    codes = communities or [r["code"] for r in await graph.read_rows(ALL_COMMUNITIES)]
    day = today or date.today()
    chunks = [codes[i : i + chunk] for i in range(0, len(codes), chunk)]

    async def write(mine: list[list[str]]) -> None:
        for part in mine:
            await graph.write(_refresh, part, day)

    await asyncio.gather(*(write(chunks[i::concurrent]) for i in range(concurrent)))
    return len(codes)


async def live_rows(
    tx: AsyncManagedTransaction, keys: tuple[str, ...], codes: list[str], as_of: str
) -> list[tuple[str, str, int, int]]:
    """(community, metric key, units, covered) of `codes` on `as_of`, counted in the caller's read transaction."""
    out: list[tuple[str, str, int, int]] = []
    if not codes:
        return out
    for key in keys:
        async for r in await tx.run(rollup_query(key), {"codes": codes, "asOf": as_of}):
            out.append((r["community"], key, r["units"], r["covered"]))
    return out


async def keep_current(graph: Graph, every: float = 60.0, today: Callable[[], date] = date.today) -> None:
    """The service's writer of rollups: a community with none, or one an older version made (an upgrade, a load
    interrupted before its rollups), gets its rollup; a rollup whose current stretch has ended has it moved on to
    the day (`ADVANCE`). Runs until cancelled; a failure is logged and retried."""
    while True:
        try:
            missing = [r["code"] for r in await graph.read_rows(MISSING)]
            if missing:
                count = await refresh(graph, missing, today=today())
                log.info("rollups_made communities=%d", count)
            advanced = await graph.write_rows(ADVANCE, {"today": today().isoformat()})
            if advanced and advanced[0]["advanced"]:
                log.info("rollups_advanced communities=%d", advanced[0]["advanced"])
        except Exception as exc:  # the database away, a migration running: try again next time
            log.warning("rollups_not_made error=%s", type(exc).__name__)
        await asyncio.sleep(every)


async def _refresh(tx: AsyncManagedTransaction, codes: list[str], today: date) -> None:
    made = await timelines(tx, codes)
    rows = [{"code": code, "props": timeline.props(today)} for code, timeline in made.items()]
    await (await tx.run(SAVE, {"rows": rows})).consume()
