"""`grassroots load --prune`: end, inside the workbook's own area only, what its sheets no longer list.

Nothing is erased: a node or a link sheet's row the workbook no longer lists gets `until` = the day before the
load (its last day in force), so the network as it was on earlier days can still be asked about (graph/validity.py).
A node listed again later is in force again (a load writes its row as given, `until` empty)."""

from __future__ import annotations

from datetime import date, timedelta

from core.areas import COMMUNITY
from core.model import SHEETS
from graph.driver import Graph
from graph.loading import prune_links, prune_nodes
from loaders.plan import Plan
from loaders.written import Summary

#: Labels a workbook of one area never prunes: they are the city's, shared by every area.
CITY_WIDE = frozenset({"City", "Unit", "PropertyCompany"})


def prune_area(plan: Plan) -> dict[str, list[str]]:
    """The workbook's own area: its highest area sheet's codes, else the communities its rows lie in."""
    for key, level in (("District", "districts"), ("Street", "streets"), ("Community", "communities")):
        rows = plan.valid_rows(key)
        if rows:
            return {"districts": [], "streets": [], "communities": [], level: sorted({r.code for r in rows})}
    communities = sorted(
        {
            r.area[COMMUNITY.property]
            for s in SHEETS
            for chunk in plan.valid_chunks(s.key)
            for r in chunk
            if r.area.get(COMMUNITY.property)
        }
    )
    return {"districts": [], "streets": [], "communities": communities}


async def prune(graph: Graph, plan: Plan, summary: Summary, ended_on: date | None = None) -> None:
    """End, inside the workbook's area only, the nodes and link sheets' relationships its sheets no longer list;
    `ended_on` (default: yesterday) is their last day in force."""
    ended = (ended_on or date.today() - timedelta(days=1)).isoformat()
    area = prune_area(plan)
    if not any(area.values()):
        return
    for sheet in reversed(SHEETS):  # children first
        if not plan.count(sheet.key):
            continue
        if sheet.is_node:
            if sheet.label in CITY_WIDE:
                continue
            codes = [r.code for r in plan.valid_rows(sheet.key)]
            while True:
                rows = await graph.write_rows(prune_nodes(sheet.label), {**area, "codes": codes, "endedOn": ended})
                summary.nodes[sheet.label]["ended"] += rows[0]["ended"]
                if rows[0]["ended"] < 10000:
                    break
        else:
            assert sheet.source is not None
            assert sheet.target is not None
            source, target = sheet.source.en, sheet.target.en
            keys = [
                [r.resolved[source][0][1], r.resolved[target][0][1], str(r.props.get("role", ""))]
                for r in plan.valid_rows(sheet.key)
            ]
            for src in sheet.source.targets:
                for dst in sheet.target.targets:
                    params = {**area, "keys": keys, "endedOn": ended}
                    rows = await graph.write_rows(prune_links(src, sheet.rel, dst), params)
                    summary.links[sheet.key]["ended"] += rows[0]["ended"]
