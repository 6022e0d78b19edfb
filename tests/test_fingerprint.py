"""The suite's graph fingerprint (`tests.helpers.FINGERPRINT`) sees properties, not the order they are stored in."""

from __future__ import annotations

from graph.driver import Graph
from tests.helpers import FINGERPRINT

#: The same properties written two ways: at once, and with one of them removed and set again in a later
#: transaction (the store then keeps them in another order, as it does for a node MERGEd then SET).
CREATE = "UNWIND $codes AS c CREATE (n:FingerprintProbe {code: c, unit: '1', room: '0101', size: 3})"
REMOVE = "MATCH (n:FingerprintProbe) WHERE n.code IN $codes REMOVE n.unit"
SET_AGAIN = "MATCH (n:FingerprintProbe) WHERE n.code IN $codes SET n.unit = '1'"
STORED_ORDER = "MATCH (n:FingerprintProbe) RETURN DISTINCT keys(n) AS keys"
PROBES = "MATCH (n:FingerprintProbe) DETACH DELETE n"


async def test_equal_nodes_written_two_ways_have_one_fingerprint(graph: Graph) -> None:
    await graph.write_rows(PROBES)
    try:
        await graph.write_rows(CREATE, {"codes": ["c1", "c2", "m1", "m2"]})
        await graph.write_rows(REMOVE, {"codes": ["m1", "m2"]})
        await graph.write_rows(SET_AGAIN, {"codes": ["m1", "m2"]})
        assert len(await graph.read_rows(STORED_ORDER)) == 2, "the store no longer orders them differently"
        nodes = [n for n in (await graph.read_rows(FINGERPRINT))[0]["nodes"] if n[0] == "FingerprintProbe"]
        assert [n[1] for n in nodes] == ["c1", "c2", "m1", "m2"]
        assert len({str([p for p in n[2] if p[0] != "code"]) for n in nodes}) == 1
    finally:
        await graph.write_rows(PROBES)
