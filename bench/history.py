"""Coverage through time on the `city` profile: today, a past day, a 24-month history, and what history costs a load.

One command (`python -m bench history`): generate the city, load it into a fresh local Neo4j (time, store size),
then load it again changed as a year of work changes a city — 5 % of branches, groups and central households
ended and 5 % of households and buildings moved in on days of the last 24 months (time, store growth). On the
changed city, over HTTP on loopback as an admin of the whole city: `coverage` of the city today and on a past day,
and `coverageHistory` of one street by month over 24 months. Beside each, in the same run and interleaved, the
peer: the same figures counted day by day in one read transaction over Bolt (what a read did before the rollups
held timelines: graph/rollups.py `rollup_query`, one live count per day). The two must give the same numbers;
the run checks it. Medians and p95 of RUNS after WARMUP; ratios ours / peer.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from neo4j import GraphDatabase

from bench.api import _ours, _p, _post
from bench.report import median, write_section
from bench.signin import Account, bearer, ensure, first_city
from core.access import Role
from graph import rollups
from graph.history import Every, month_end, series_days
from graph.local import LocalNeo4j, free_port
from graph.metrics import METRICS
from graph.password import neo4j_password
from graph.settings import PROJECT_ROOT, Settings

RUNS = 11
WARMUP = 2
ADMIN = "bench-admin"
#: Share of the rows a year of work changes, per sheet, and the date column it sets.
CHANGES = {
    "GridBranch.csv": ("终止日期", 0.05),
    "BuildingGroup.csv": ("终止日期", 0.05),
    "CentralHousehold.csv": ("终止日期", 0.05),
    "Household.csv": ("起始日期", 0.05),
    "Building.csv": ("起始日期", 0.05),
}
#: Link columns a year of work changes: (file, column, share of the rows naming something) — each picked row then
#: names another target of its community (the load ends the old link and starts the new one: docs/time.md).
MOVES = (
    ("Household.csv", "联系党员中心户编码", 0.05),
    ("PartyMember.csv", "党组织关系所在支部编码", 0.02),
    ("Building.csv", "所属网格编码", 0.02),
)
CITY_COVERAGE = (
    "query($c: String!, $d: Date) { coverage(scope: $c, asOf: $d) { scope { figures { metric units covered } } } }"
)
HISTORY = """query($s: String!, $f: Date, $t: Date) {
  coverageHistory(scope: $s, from: $f, to: $t, every: MONTH) { points { asOf figures { metric units covered } } } }"""


def _changed(source: Path, target: Path, today: date) -> dict[str, int]:
    """Copy the generated city with a year of dated changes and of moves; rows changed per file and column."""
    shutil.copytree(source, target)
    rng = random.Random(23)
    changed = {}
    for name, (column, share) in CHANGES.items():
        path = target / name
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        at, since = rows[0].index(column), rows[0].index("起始日期")
        picked = rng.sample(range(1, len(rows)), max(1, int((len(rows) - 1) * share)))
        for i in picked:
            earliest = today - timedelta(days=730)
            if column == "终止日期" and rows[i][since]:  # an end on or after the row's own start
                earliest = max(earliest, date.fromisoformat(rows[i][since]))
            rows[i][at] = (earliest + timedelta(days=rng.randint(0, max(0, (today - earliest).days - 1)))).isoformat()
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
        changed[name.removesuffix(".csv")] = len(picked)
    return changed | _moved(target, rng)


def _moved(target: Path, rng: random.Random) -> dict[str, int]:
    """Point a share of each `MOVES` column at another target its community's rows name; rows moved per column."""
    moved = {}
    for name, column, share in MOVES:
        path = target / name
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        at = rows[0].index(column)
        named = [i for i in range(1, len(rows)) if rows[i][at]]
        targets: dict[str, list[str]] = {}
        for i in named:
            targets.setdefault(rows[i][0].split("-")[1], []).append(rows[i][at])
        count = 0
        for i in rng.sample(named, int(len(named) * share)):
            others = sorted(set(targets[rows[i][0].split("-")[1]]) - {rows[i][at]})
            if others:
                rows[i][at] = rng.choice(others)
                count += 1
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
        moved[f"{name.removesuffix('.csv')}.{column}"] = count
    return moved


def _load(data: Path, uri: str, password: str) -> tuple[float, str]:
    """`grassroots load`: wall seconds and its line of phases."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cli", "load", "--verbose", str(data)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "NEO4J_URI": uri, "NEO4J_PASSWORD": password},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise RuntimeError(f"grassroots load {data.name} failed:\n{tail}")
    phases = next((line for line in done.stdout.splitlines() if line.startswith("阶段")), "")
    return time.perf_counter() - t0, phases


def _store_bytes(home: Path) -> int:
    """The local Neo4j's files, its logs left out."""
    return sum(p.stat().st_size for p in home.rglob("*") if p.is_file() and "logs" not in p.relative_to(home).parts)


def _figures(data: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {f["metric"]: (f["units"], f["covered"]) for f in data}


def run() -> dict[str, Any]:
    """Measure; return the numbers (also written to docs/benchmarks.md)."""
    today = date.today()
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp_name:
        tmp = Path(tmp_name)
        subprocess.run([sys.executable, "-m", "cli", "demo", "--profile", "city", "--out", str(tmp / "city")],
                       cwd=PROJECT_ROOT, check=True, capture_output=True)  # fmt: skip
        changes = _changed(tmp / "city", tmp / "city-changed", today)
        home = tmp / "neo4j"
        settings = Settings(_env_file=None, NEO4J_LOCAL_HOME=str(home), NEO4J_LOCAL_PORT=free_port())  # type: ignore[call-arg]
        local = LocalNeo4j.from_settings(settings).start()
        password = neo4j_password(settings)
        try:
            first_s, first_phases = _load(tmp / "city", local.uri, password)
            first_bytes = _store_bytes(home)
            second_s, second_phases = _load(tmp / "city-changed", local.uri, password)
            second_bytes = _store_bytes(home)
            measured = _queries(local.uri, password, tmp / "data", today)
        finally:
            local.stop()
    return {"changes": changes, "first_s": first_s, "first_phases": first_phases, "first_bytes": first_bytes,
            "second_s": second_s, "second_phases": second_phases, "second_bytes": second_bytes, **measured}  # fmt: skip


def _queries(uri: str, password: str, data_dir: Path, today: date) -> dict[str, Any]:
    city = first_city(uri, password)
    ensure(uri, password, Account(ADMIN, Role.ADMIN, city))
    past = (today - timedelta(days=365)).replace(day=1) - timedelta(days=1)  # the end of a month a year ago
    first = month_end(today.year, today.month - 24)  # then 23 month ends and today: 24 months
    days = series_days(first, today, Every.MONTH)
    driver = GraphDatabase.driver(uri, auth=("neo4j", password))
    with driver.session() as s:
        street = s.run("MATCH (c:Street) RETURN c.code AS c ORDER BY c LIMIT 1").single()["c"]  # type: ignore[index]
        codes = [r["c"] for r in s.run("MATCH (c:Community) RETURN c.code AS c ORDER BY c")]
        in_street = [r["c"] for r in s.run("MATCH (c:Community {streetCode: $s}) RETURN c.code AS c", s=street)]

    def counted(communities: list[str], day: date) -> dict[str, tuple[int, int]]:
        """The peer: every metric counted day by day in one read transaction (the pre-timeline read)."""

        def work(tx: Any) -> dict[str, tuple[int, int]]:
            out = {}
            for m in METRICS:
                rows = list(tx.run(rollups.rollup_query(m.key), codes=communities, asOf=day.isoformat()))
                out[m.key] = (sum(r["units"] for r in rows), sum(r["covered"] for r in rows))
            return out

        with driver.session() as session:
            return session.execute_read(work)

    headers = bearer(data_dir, ADMIN)
    try:
        with _ours(uri, password, data_dir) as ours, httpx.Client(timeout=300, headers=headers) as client:
            got_past = _figures(_post(client, ours, CITY_COVERAGE, {"c": city, "d": past.isoformat()})[1]
                                ["coverage"]["scope"]["figures"])  # fmt: skip
            if got_past != counted(codes, past):
                raise RuntimeError(f"the city on {past}: ours {got_past}, counted {counted(codes, past)}")
            history = _post(client, ours, HISTORY, {"s": street, "f": first.isoformat(), "t": today.isoformat()})[1]
            points = history["coverageHistory"]["points"]
            for point in points[:: max(1, len(points) // 6)]:
                day = date.fromisoformat(point["asOf"])
                if _figures(point["figures"]) != counted(in_street, day):
                    raise RuntimeError(f"the street on {day} differs from the day-by-day count")
            variables = {"s": street, "f": first.isoformat(), "t": today.isoformat()}
            past_variables = {"c": city, "d": past.isoformat()}
            calls: dict[str, Callable[[], Any]] = {
                "coverage, whole city, today": lambda: _post(client, ours, CITY_COVERAGE, {"c": city}),
                f"coverage, whole city, {past}": lambda: _post(client, ours, CITY_COVERAGE, past_variables),
                f"peer: day-by-day count, whole city, {past}": lambda: counted(codes, past),
                f"coverageHistory, one street, {len(days)} days by month": lambda: _post(
                    client, ours, HISTORY, variables
                ),
                f"peer: {len(days)} day-by-day counts, one street": lambda: [counted(in_street, d) for d in days],
            }
            for _ in range(WARMUP):
                for call in calls.values():
                    call()
            times: dict[str, list[float]] = {name: [] for name in calls}
            for _ in range(RUNS):
                for name, call in calls.items():
                    t0 = time.perf_counter()
                    call()
                    times[name].append(time.perf_counter() - t0)
    finally:
        driver.close()
    return {"times": times, "past": past.isoformat(), "points": len(points), "street": street,
            "communities": len(codes), "street_communities": len(in_street)}  # fmt: skip


def main() -> None:
    r = run()
    times = r["times"]
    names = list(times)
    targets = {names[0]: 0.300, names[1]: 2.0, names[3]: 2.0}
    rows = ["| request | p50 | p95 | target |", "|---|---|---|---|"]
    for name, values in times.items():
        target = targets.get(name)
        mark = "" if target is None else (f"≤ {target * 1000:,.0f} ms " + ("✔" if _p(values, 0.5) <= target else "✘"))
        rows.append(f"| {name} | {_p(values, 0.5) * 1000:,.0f} ms | {_p(values, 0.95) * 1000:,.0f} ms | {mark} |")
    past_ratio = median(times[names[1]]) / median(times[names[2]])
    history_ratio = median(times[names[3]]) / median(times[names[4]])
    mib = 2**20
    growth = r["second_bytes"] - r["first_bytes"]
    body = "\n".join([
        "## Coverage through time / 覆盖率历史 (city profile)",
        "",
        f"`python -m bench history`: the city profile ({r['communities']} communities) loaded into a fresh local "
        "Neo4j, then loaded again with a year of dated changes ("
        + ", ".join(f"{k} {v:,}" for k, v in r["changes"].items() if "." not in k)
        + " rows ended or started on days of the last 24 months) and of moves ("
        + ", ".join(f"{k} {v:,}" for k, v in r["changes"].items() if "." in k)
        + " rows naming another target of their community: the load ends the old link and starts the new one). "
        "Our service over HTTP on loopback as an admin "
        f"of the city; the peer counts the same figures day by day over Bolt in one read transaction (the read "
        f"before rollups held timelines); both agree, checked in the run. {RUNS} timed after {WARMUP} warm-up "
        f"rounds, interleaved. The street has {r['street_communities']} communities; its history has "
        f"{r['points']} days.",
        "",
        *rows,
        "",
        f"**Ratios, ours / day-by-day count, same run (lower is better):** a past day of the city "
        f"**{past_ratio:.3f}**; the street's 24-month history **{history_ratio:.3f}**.",
        "",
        "**What keeping history costs a load:**",
        "",
        "| load | wall | store | phases |",
        "|---|---|---|---|",
        f"| first (the generated city) | {r['first_s']:.0f} s | {r['first_bytes'] / mib:,.0f} MiB | "
        f"{r['first_phases']} |",
        f"| second (the city with a year of dated changes) | {r['second_s']:.0f} s | "
        f"{r['second_bytes'] / mib:,.0f} MiB (+{growth / mib:,.0f} MiB) | {r['second_phases']} |",
    ])  # fmt: skip
    write_section("history", body)
