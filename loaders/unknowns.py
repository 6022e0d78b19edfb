"""A load's warnings: what it leaves unknown without being wrong, said once the rows are written.

A compound whose 中心城区 flag is blank inherits its community's (`graph.metrics.CENTRAL_COMPOUND`); when the
community's is blank too, whether the property rule applies is unknown and the compound counts in no property
figure or gap. That is no error (the flag may not be known yet), so nothing is refused: each such compound of the
load is a warning naming its row. It is asked of the graph after the write, since the community may have been
loaded before.
"""

from __future__ import annotations

from typing import LiteralString

from core.model import SHEETS_BY_KEY
from graph.driver import Graph
from loaders.plan import Plan
from loaders.problems import Problem
from loaders.read import col_letter

#: At most this many warnings are listed (a city whose communities have no flag would list every compound).
MAX_WARNINGS = 1000

UNKNOWN_ELIGIBILITY: LiteralString = """
UNWIND $codes AS code
MATCH (x:Compound {code: code})
WHERE x.centralCity IS NULL
  AND NOT EXISTS { MATCH (c:Community {code: x.communityCode}) WHERE c.centralCity IS NOT NULL }
RETURN x.code AS code ORDER BY code LIMIT $limit
"""

UNKNOWN_REASON = (
    "小区和所属社区都未填是否中心城区:物业覆盖不计入此小区,请补填",
    "neither the compound nor its community says whether it is in the central city: it is left out of the "
    "property figure until one does",
)


async def load_warnings(graph: Graph, plan: Plan) -> list[Problem]:
    """The loaded compounds whose property eligibility is unknown, as warnings naming their rows."""
    rows = {r.code: r for chunk in plan.valid_chunks("Compound") for r in chunk}
    if not rows:
        return []
    found = await graph.read_rows(UNKNOWN_ELIGIBILITY, {"codes": sorted(rows), "limit": MAX_WARNINGS})
    column = next(c for c in SHEETS_BY_KEY["Compound"].columns if c.name == "centralCity")
    raw = plan.raws.get("Compound")
    pos = raw.columns.get(column.name) if raw is not None else None
    header = column.zh if pos is None else f"{col_letter(pos + 1)} {column.zh}"
    return [
        Problem(rows[r["code"]].source_name, rows[r["code"]].number, header, r["code"], *UNKNOWN_REASON) for r in found
    ]
