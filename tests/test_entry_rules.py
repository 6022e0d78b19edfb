"""Entry rules that fit reality (issue 25): a street-level red station (红色驿站); a compound's 中心城区 flag
inherited from its community, and a warning when neither says.

The generated city (`loaders.demo`) holds one street-level station (`STREET_STATION`) and one compound whose flag
is inherited; what is expected is read from its generated rows and the model, and checked against the suite's
Neo4j through the scoped reads the API uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.areas import level_of
from core.model import SHEETS_BY_KEY
from graph.driver import Graph
from graph.entities import nodes_by_code
from graph.scope import Scope
from loaders.demo import STREET_STATION, dataset_to_xlsx, generate
from loaders.load import load_file
from loaders.unknowns import UNKNOWN_REASON
from tests.test_entry_errors import emptied  # noqa: F401  (the fixture: the suite's graph, migrated and emptied)


def test_a_red_station_names_a_community_or_a_street() -> None:
    parent = SHEETS_BY_KEY["RedStation"].parent
    assert parent is not None
    assert set(parent.targets) == {"Community", "Street"}


async def test_a_street_level_red_station_lies_in_its_street_and_no_community(
    graph: Graph, small: dict[str, Any]
) -> None:
    """Loaded under its street (IN a Street), seen in the street's scope, in none of its communities'; a
    community's station stays in its community."""
    rows = small["data"].rows
    station = rows["RedStation"][STREET_STATION]
    street = station["community_code"]
    assert level_of(street).key == "street"
    code = station["code"]
    seen = await nodes_by_code(graph, "RedStation", [code], Scope.parse(street))
    assert code in seen
    assert seen[code]["streetCode"] == street
    assert seen[code].get("communityCode") is None
    communities = [r["code"] for r in rows["Community"] if r["street_code"] == street]
    assert communities
    for community in communities:
        assert code not in await nodes_by_code(graph, "RedStation", [code], Scope.parse(community))
    parents = await graph.read_rows(
        "MATCH (:RedStation {code: $code})-[:IN]->(p) RETURN labels(p) AS labels", {"code": code}
    )
    assert [r["labels"] for r in parents] == [["Street"]]
    others = [r for i, r in enumerate(rows["RedStation"]) if i != STREET_STATION]
    assert others
    for other in others:
        assert level_of(other["community_code"]).key == "community"
        scope = Scope.parse(other["community_code"])
        assert other["code"] in await nodes_by_code(graph, "RedStation", [other["code"]], scope)


async def test_a_compound_of_unknown_eligibility_loads_with_a_warning(emptied: Graph, tmp_path: Path) -> None:  # noqa: F811
    """A compound whose flag is blank inherits its community's; with the community's blank too it loads, and the
    load warns about its row (its column named by letter); a compound with its own flag does not."""
    ds = generate("small", 5)
    community = ds.rows["Community"][0]
    community["central_city"] = ""
    ours = [r for r in ds.rows["Compound"] if r["community_code"] == community["code"]]
    ours[0]["central_city"] = ""
    flags = {r["code"]: r["central_city"] for r in ds.rows["Community"]}
    unknown = {
        (i + 2, r["code"])
        for i, r in enumerate(ds.rows["Compound"])
        if not r["central_city"] and not flags[r["community_code"]]
    }
    assert (ds.rows["Compound"].index(ours[0]) + 2, ours[0]["code"]) in unknown
    assert any(r["central_city"] for r in ours[1:])  # a flag of its own: no warning
    path = tmp_path / "unknown.xlsx"
    dataset_to_xlsx(ds, path)
    result = await load_file(path, emptied)
    assert result.skipped == 0
    assert {(w.row, w.value) for w in result.warnings} == unknown
    for warning in result.warnings:
        assert (warning.reason_zh, warning.reason_en) == UNKNOWN_REASON
        assert warning.letter
        assert warning.header == "是否中心城区"
