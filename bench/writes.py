"""Write micro-benchmark: what a household costs Neo4j, by Cypher shape, batch size and garbage collector.

Each collector gets a fresh local Neo4j holding 3,000 buildings; 200,000 synthetic households (the
loader's payload: code, three text/number columns, four area codes, the building's code) are written
in one partition, each variant under its own label (with its uniqueness constraint) and deleted afterwards.
Measured: rows per second and Neo4j CPU per row (from /proc), medians of three runs after a warm-up.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, LiteralString, cast

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction

from bench.report import write_section
from graph.local import LocalNeo4j, free_port
from graph.settings import Settings

ROWS = 200_000
BUILDINGS = 3_000
RUNS = 3
_PROPS = (
    "{code: r[0], unit: r[1], room: r[2], size: r[3], cityCode: r[4], districtCode: r[5], "
    "streetCode: r[6], communityCode: r[7]}"
)
#: name → (Cypher with L for the label, batch size)
VARIANTS: dict[str, tuple[str, int]] = {
    "node + link, CALL subquery (the loader's shape)": (
        "UNWIND $rows AS r CREATE (n:L " + _PROPS + ") WITH n, r "
        "CALL (n, r) { WITH * WHERE r[8] IS NOT NULL MATCH (m:Building {code: r[8]}) CREATE (n)-[:IN]->(m) }",
        10_000,
    ),
    "node + link, plain MATCH": (
        "UNWIND $rows AS r MATCH (m:Building {code: r[8]}) CREATE (n:L " + _PROPS + ")-[:IN]->(m)",
        10_000,
    ),
    "node + link, CALL subquery, 50,000-row batches": (
        "UNWIND $rows AS r CREATE (n:L " + _PROPS + ") WITH n, r "
        "CALL (n, r) { WITH * WHERE r[8] IS NOT NULL MATCH (m:Building {code: r[8]}) CREATE (n)-[:IN]->(m) }",
        50_000,
    ),
    "node only": ("UNWIND $rows AS r CREATE (n:L " + _PROPS + ")", 10_000),
    "node only, code only": ("UNWIND $rows AS r CREATE (n:L {code: r[0]})", 10_000),
}


def _rows() -> list[list[Any]]:
    out = []
    for i in range(ROWS):
        community = f"42060200{(i // 4000) % 1000:04d}"
        out.append(
            [
                f"HU-{community}-{i // 60:04d}-{i:06d}",
                f"{i % 6 + 1}单元",
                f"{i % 30 + 101}",
                i % 5 + 1,
                "420600000000",
                "420602000000",
                community[:9] + "000",
                community,
                f"LD-{i % BUILDINGS:05d}",
            ]
        )
    return out


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _run(tx: AsyncManagedTransaction, cypher: LiteralString, rows: list[list[Any]]) -> None:
    await (await tx.run(cypher, {"rows": rows})).consume()


async def _variant(driver: AsyncDriver, pid: int, name: str, rows: list[list[Any]], run: int) -> tuple[float, float]:
    cypher, batch = VARIANTS[name]
    label = f"W{abs(hash((name, run))) % 10**8}"
    await driver.execute_query(
        cast(LiteralString, f"CREATE CONSTRAINT {label} FOR (n:{label}) REQUIRE n.code IS UNIQUE")
    )
    query = cast(LiteralString, cypher.replace(":L ", f":{label} "))
    started, cpu = time.perf_counter(), _cpu_seconds(pid)
    for i in range(0, len(rows), batch):
        async with driver.session() as session:
            await session.execute_write(_run, query, rows[i : i + batch])
    wall, used = time.perf_counter() - started, _cpu_seconds(pid) - cpu
    while (
        await driver.execute_query(
            cast(LiteralString, f"MATCH (n:{label}) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS c")
        )
    )[0][0]["c"]:
        pass
    await driver.execute_query(cast(LiteralString, f"DROP CONSTRAINT {label}"))
    return len(rows) / wall, used / len(rows) * 1e6


async def _measure(local: LocalNeo4j, rows: list[list[Any]]) -> dict[str, tuple[float, float]]:
    driver = AsyncGraphDatabase.driver(local.uri, auth=(local.user, local.password))
    try:
        await driver.execute_query("CREATE CONSTRAINT building IF NOT EXISTS FOR (b:Building) REQUIRE b.code IS UNIQUE")
        await driver.execute_query(
            "UNWIND range(0, $n - 1) AS i CREATE (:Building {code: 'LD-' + right('0000' + toString(i), 5)})",
            {"n": BUILDINGS},
        )
        assert local.pid is not None
        await _variant(driver, local.pid, next(iter(VARIANTS)), rows, -1)  # warm-up (JIT)
        out = {}
        for name in VARIANTS:
            runs = [await _variant(driver, local.pid, name, rows, run) for run in range(RUNS)]
            out[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        return out
    finally:
        await driver.close()


def main() -> None:
    rows = _rows()
    results: dict[str, dict[str, tuple[float, float]]] = {}
    for gc in ("G1", "Parallel"):
        with tempfile.TemporaryDirectory(prefix=f"bench-writes-{gc}-") as tmp:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None, NEO4J_LOCAL_HOME=tmp, NEO4J_LOCAL_PORT=free_port(), NEO4J_GC=gc
            )
            local = LocalNeo4j.from_settings(settings).start()
            try:
                results[gc] = asyncio.run(_measure(local, rows))
            finally:
                local.stop()
    lines = [
        f"`python -m bench writes`: {ROWS:,} synthetic households written in one partition to a fresh local Neo4j "
        f"(heap 4g, page cache 4g) linking to {BUILDINGS:,} buildings; median of {RUNS} runs after a warm-up. "
        "Neo4j CPU per row from /proc; the ratio compares the two collectors in the same run.",
        "",
        "| write | G1: rows/s | G1: Neo4j CPU per row | Parallel: rows/s | Parallel: Neo4j CPU per row | CPU Parallel/G1 |",
        "|---|---|---|---|---|---|",
    ]
    for name in VARIANTS:
        (g_rate, g_cpu), (p_rate, p_cpu) = results["G1"][name], results["Parallel"][name]
        lines.append(
            f"| {name} | {g_rate:,.0f} | {g_cpu:.1f} µs | {p_rate:,.0f} | {p_cpu:.1f} µs | {p_cpu / g_cpu:.2f} |"
        )
    write_section("writes", "## Write shapes / 写入方式 (micro-benchmark)\n\n" + "\n".join(lines))
