"""A changed link column keeps its history (issue 23): a load that moves a building to another group and another
grid, gives households other central households and a member another branch ends the old links (their last day
yesterday) and starts the new ones today. Asked about yesterday, every answer is what it was before the load; asked
about today, every answer is what a fresh load of the changed workbook into an empty graph gives."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from graph.driver import Graph
from graph.migrations import migrate
from loaders.demo import write_demo
from loaders.load import load_file
from tests.helpers import clear, data_of

COMMUNITY, STREET, CITY = "420602001001", "420602001000", "420600000000"
TODAY = date.today()
YESTERDAY = TODAY - timedelta(days=1)
FIGURES = "scope { figures { metric units covered } } children { area { code } figures { metric units covered } }"
ASK = f"""query($c: String!, $s: String!, $city: String!, $w: String!, $b: String!, $d: Date) {{
  community: coverage(scope: $c, asOf: $d) {{ {FIGURES} }}
  street: coverage(scope: $s, asOf: $d) {{ {FIGURES} }}
  city: coverage(scope: $city, asOf: $d) {{ {FIGURES} }}
  grid: coverage(scope: $w, asOf: $d) {{ {FIGURES} }}
  gridGaps: gaps(scope: $w, first: 500, asOf: $d) {{ totalCount edges {{ node {{ kind entity {{ code }} }} }} }}
  gaps(scope: $c, first: 500, asOf: $d) {{
    totalCount
    edges {{ node {{ kind entity {{ code }} grid {{ code }} compound {{ code }} responsible {{ code }} }} }}
  }}
  network(root: $c, depth: 6, maxNodes: 2000, asOf: $d) {{
    truncated nodes {{ id code households }} edges {{ source target type }}
  }}
  buildingNetwork: network(root: $b, depth: 2, maxNodes: 2000, households: true, asOf: $d) {{
    truncated nodes {{ id code households }} edges {{ source target type }}
  }}
}}"""
CHAIN = """query($x: String!, $d: Date) {
  responsibilityChain(code: $x, asOf: $d) { links { level organization { code } head { code } } }
}"""
NOW = """query($b1: String!, $b2: String!, $h: String!, $m: String!, $w1: String!, $w2: String!) {
  b1: building(code: $b1) { grid { code } buildingGroups { code } }
  b2: building(code: $b2) { grid { code } buildingGroups { code } households { code centralHousehold { code } } }
  h: household(code: $h) { centralHousehold { code } building { code } }
  m: partyMember(code: $m) { branch { code } household { code } }
  w1: grid(code: $w1) { buildings { code } gridBranches { code } }
  w2: grid(code: $w2) { buildings { code } gridBranches { code } }
}"""


def _read(folder: Path, sheet: str) -> tuple[list[str], list[list[str]]]:
    with (folder / f"{sheet}.csv").open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def _write(folder: Path, sheet: str, header: list[str], rows: list[list[str]]) -> None:
    with (folder / f"{sheet}.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])


def _ours(code: str) -> bool:
    return f"-{COMMUNITY}-" in code


def _change(folder: Path) -> dict[str, str]:
    """Edit the demo's CSV files in place: the moves this test makes; the codes it asks about."""
    picked: dict[str, str] = {}
    header, groups = _read(folder, "BuildingGroup")
    covers = header.index("覆盖楼栋编码")
    ours = [g for g in groups if _ours(g[0]) and len(g[covers].split(";")) >= 2]
    g1, g2 = ours[0], ours[1]
    b1 = g1[covers].split(";")[0]
    g1[covers] = ";".join(b for b in g1[covers].split(";") if b != b1)
    g2[covers] = ";".join([*g2[covers].split(";"), b1])
    _write(folder, "BuildingGroup", header, groups)

    header, buildings = _read(folder, "Building")
    grid = header.index("所属网格编码")
    grids = sorted({b[grid] for b in buildings if _ours(b[0]) and b[grid]})
    b2 = next(b for b in buildings if _ours(b[0]) and b[0] != b1 and b[grid] == grids[0])
    b2[grid] = grids[1]
    _write(folder, "Building", header, buildings)
    picked |= {"b1": b1, "b2": b2[0], "w1": grids[0], "w2": grids[1]}

    header, households = _read(folder, "Household")
    central = header.index("联系党员中心户编码")
    ours_h = [h for h in households if _ours(h[0])]
    with_one = [h for h in ours_h if h[central]]
    h, h1 = with_one[0], with_one[1]
    other = next(x[central] for x in with_one if x[central] != h[central])
    h0 = next(x for x in ours_h if not x[central])
    h0[central], h[central], h1[central] = h[central], other, ""
    _write(folder, "Household", header, households)
    picked |= {"h": h[0], "h0": h0[0], "h1": h1[0]}

    header, members = _read(folder, "PartyMember")
    branch = header.index("党组织关系所在支部编码")
    m = next(x for x in members if _ours(x[0]) and x[branch].endswith("-01"))
    m[branch] = m[branch][:-2] + "02"
    _write(folder, "PartyMember", header, members)
    picked["m"] = m[0]
    return picked


async def _ask(client: AsyncClient, day: date, picked: dict[str, str]) -> dict[str, Any]:
    """Every answer this test compares, on `day`, with the network's element ids replaced by codes."""
    subjects = [picked[k] for k in ("b1", "b2", "h", "h0", "h1")]
    data = await data_of(
        client, ASK, c=COMMUNITY, s=STREET, city=CITY, w=picked["w1"], b=picked["b2"], d=day.isoformat()
    )
    for name in ("network", "buildingNetwork"):
        network = data.pop(name)
        assert not network["truncated"], name
        code = {n["id"]: n["code"] for n in network["nodes"]}
        data[name] = {
            "nodes": sorted((n["code"], n["households"] or 0) for n in network["nodes"]),
            "edges": sorted((code[e["source"]], e["type"], code[e["target"]]) for e in network["edges"]),
        }
    data["gaps"]["edges"].sort(key=lambda e: (e["node"]["kind"], e["node"]["entity"]["code"]))
    for subject in subjects:
        data[subject] = await data_of(client, CHAIN, x=subject, d=day.isoformat())
    return data


@pytest.fixture(scope="module")
async def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    before = tmp_path_factory.mktemp("history") / "before"
    after = before.with_name("after")
    write_demo("small", 7, before)
    write_demo("small", 7, after)
    return before, after, _change(after)


async def test_a_moved_link_keeps_yesterday_and_today_equals_a_fresh_load(
    client: AsyncClient, graph: Graph, folders: tuple[Path, Path, dict[str, str]]
) -> None:
    before, after, picked = folders
    await migrate(graph)
    await clear(graph)
    await load_file(before, graph)
    then = await _ask(client, YESTERDAY, picked)
    summary = (await load_file(after, graph)).summary.links
    assert summary["BuildingGroup-COVERS->Building"] == {"created": 1, "ended": 1}
    assert summary["Building-IN->Grid"] == {"created": 1, "ended": 1}
    assert summary["Household-CONTACTS->CentralHousehold"] == {"created": 2, "ended": 2}
    assert summary["PartyMember-MEMBER_OF->GridBranch"] == {"created": 1, "ended": 1}

    kept = await _ask(client, YESTERDAY, picked)
    now = await _ask(client, TODAY, picked)
    now_entities = await data_of(client, NOW, **{k: picked[k] for k in ("b1", "b2", "h", "m", "w1", "w2")})
    changed = await client.post(
        "/graphql",
        json={
            "query": "query($c: String!, $f: Date, $t: Date) { changes(scope: $c, from: $f, to: $t, first: 500) "
            "{ edges { node { day kind field relation entity { code } related { code } } } } }",
            "variables": {"c": COMMUNITY, "f": YESTERDAY.isoformat(), "t": TODAY.isoformat()},
        },
    )

    await clear(graph)
    await load_file(after, graph)
    fresh = await _ask(client, TODAY, picked)
    fresh_entities = await data_of(client, NOW, **{k: picked[k] for k in ("b1", "b2", "h", "m", "w1", "w2")})

    assert now != then, "the moves changed no answer: this test would prove nothing"
    for part in then:
        assert kept[part] == then[part], f"{part}: yesterday's answer changed"
    for part in fresh:
        assert now[part] == fresh[part], f"{part}: today's answer differs from a fresh load's"
    assert now_entities == fresh_entities
    assert now_entities["b1"]["grid"] is not None
    assert now_entities["b2"]["grid"] == {"code": picked["w2"]}
    assert picked["b2"] not in [b["code"] for b in now_entities["w1"]["buildings"]]
    assert now_entities["m"]["branch"]["code"].endswith("-02")

    listed = [e["node"] for e in changed.json()["data"]["changes"]["edges"]]
    moves = {(c["entity"]["code"], c["relation"], c["kind"], c["day"]) for c in listed if c["relation"]}
    grid = "楼栋·所属网格编码 / Building.grid_code"
    assert (picked["b2"], grid, "ended", YESTERDAY.isoformat()) in moves
    assert (picked["b2"], grid, "started", TODAY.isoformat()) in moves
    member = {(c["entity"]["code"], c["kind"]) for c in listed if (c["relation"] or "").startswith("党员·")}
    assert {(picked["m"], "ended"), (picked["m"], "started")} <= member
