"""Loader benchmark: generate a profile, load it into a fresh local Neo4j, and measure time, rows per
second and peak memory of the loader and of Neo4j. Targets: city ≤ 120 s, province ≤ 20 min.

This machine's speed drifts by half over an hour (other tenants share its host), so a profile is loaded
`RUNS` times, each into a fresh Neo4j, and the median is the result; beside each run stands a speed index
(a fixed pure-Python loop, timed just before it) so a slow run can be told from a slow loader."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import peer
from bench.report import write_section
from bench.startup import rss_mib
from graph.driver import Graph
from graph.local import LocalNeo4j, free_port
from graph.migrations import migrate
from graph.password import neo4j_password
from graph.settings import PROJECT_ROOT, Settings

TARGETS = {"small": None, "city": 120.0, "province": 1200.0}
#: Neo4j's memory per profile (heap, page cache): a province's store (~25 GB) wants a bigger page cache.
MEMORY = {"small": ("4g", "4g"), "city": ("4g", "4g"), "province": ("4g", "7g")}
#: Validated rows the loader keeps in memory before it spools to disk (GRASSROOTS_SPOOL_ROWS), for every profile:
#: the loader's default, pinned so a shell's setting does not move the benchmark. The province's 28 M rows share
#: 24 GiB with Neo4j, so most of them wait on disk (its loader peaked at 9.8 GiB with 4 M kept, Neo4j at 8.9).
SPOOL_ROWS = 4_000_000
#: Loads per profile (the province's takes twenty minutes and more: one).
RUNS = {"small": 3, "city": 3, "province": 1}
#: Profiles whose every run is followed by the peer's (`bench.peer`, Neo4j's own LOAD CSV): every one, so each
#: time has its ratio, which moves far less with the host's hour (the province's adds twenty minutes and more).
PEER = {"small": True, "city": True, "province": True}


def speed_index() -> float:
    """Milliseconds this machine takes now for a fixed pure-Python loop (lower is faster): the median of three."""
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        sum(i * i for i in range(3_000_000))
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _peak_rss(pid: int, stop: threading.Event, out: list[float]) -> None:
    peak = 0.0
    while not stop.wait(0.5):
        try:
            peak = max(peak, rss_mib(pid))
        except (OSError, RuntimeError):
            break
    out.append(peak)


def load_profile(profile: str, seed: int = 1, runs: int | None = None) -> dict[str, Any]:
    """Generate the profile once, load it `runs` times (each into a fresh Neo4j); the median run, with all runs."""
    with tempfile.TemporaryDirectory(prefix=f"bench-load-{profile}-") as tmp:
        data = Path(tmp) / profile
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "cli", "demo", "--profile", profile, "--seed", str(seed), "--out", str(data)],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
        generate_s = time.perf_counter() - t0
        manifest = json.loads((data / "manifest.json").read_text())
        rows = sum(manifest["entities"].values())
        done = []
        for i in range(runs or RUNS[profile]):
            run = _load_once(profile, data, rows, Path(tmp) / f"neo4j-{i}")
            if PEER[profile]:  # right after, on the same hour's machine: the ratio is the comparison
                peer = _peer_once(profile, data, Path(tmp) / f"peer-{i}")
                if peer["counts"] != run["counts"]:
                    raise RuntimeError(f"the peer wrote another graph: {peer['counts']} against {run['counts']}")
                run |= {"peer_s": peer["load_s"], "ratio": run["load_s"] / peer["load_s"], "peer_steps": peer["steps"]}
            done.append(run)
    done.sort(key=lambda r: r["load_s"])
    median = done[len(done) // 2]
    kept = ("load_s", "speed_index_ms", "speed_index_after_ms", "phases", "peer_s", "ratio")
    ratios = sorted(r["ratio"] for r in done if "ratio" in r)
    return median | {
        "generate_s": generate_s,
        "runs": [{k: r[k] for k in kept if k in r} for r in done],
        **({"ratio_median": ratios[len(ratios) // 2]} if ratios else {}),
    }


def _settings(profile: str, home: Path) -> Settings:
    heap, pagecache = MEMORY[profile]
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        NEO4J_LOCAL_HOME=str(home),
        NEO4J_LOCAL_PORT=free_port(),
        NEO4J_HEAP=heap,
        NEO4J_PAGECACHE=pagecache,
    )


def _graph_counts(settings: Settings, uri: str) -> dict[str, int]:
    async def run() -> dict[str, int]:
        graph = Graph(settings, uri=uri)
        try:
            return await peer.counts(graph)
        finally:
            await graph.close()

    return asyncio.run(run())


def _peer_once(profile: str, data: Path, home: Path) -> dict[str, Any]:
    """Neo4j's own LOAD CSV of the folder (`bench.peer`) into a fresh local Neo4j at `home`, measured."""
    settings = _settings(profile, home)
    local = LocalNeo4j.from_settings(settings)
    local.config = peer.server_config(data)
    local.start()
    keys = {f.stem for f in data.glob("*.csv")}

    async def run() -> dict[str, Any]:
        graph = Graph(settings, uri=local.uri)
        try:
            await migrate(graph)  # the same constraints and indexes the loader's run starts from
            steps: dict[str, float] = {}
            t0 = time.perf_counter()
            for key, cypher in peer.statements("file://", keys):
                t1 = time.perf_counter()
                await peer.run(graph, cypher)
                steps[key] = round(time.perf_counter() - t1, 1)
            load_s = time.perf_counter() - t0
            return {"load_s": load_s, "steps": steps, "counts": await peer.counts(graph)}
        finally:
            await graph.close()

    try:
        return asyncio.run(run())
    finally:
        local.stop()
        shutil.rmtree(home, ignore_errors=True)


def _load_once(profile: str, data: Path, rows: int, home: Path) -> dict[str, Any]:
    """One `grassroots load` of the folder into a fresh local Neo4j at `home`, measured."""
    settings = _settings(profile, home)
    heap, pagecache = MEMORY[profile]
    local = LocalNeo4j.from_settings(settings).start()
    try:
        stop, neo4j_peak = threading.Event(), []
        watcher = threading.Thread(target=_peak_rss, args=(local.pid, stop, neo4j_peak))
        watcher.start()
        env = {
            **os.environ,
            "NEO4J_URI": local.uri,
            "NEO4J_PASSWORD": neo4j_password(settings),
            "GRASSROOTS_SPOOL_ROWS": str(SPOOL_ROWS),
        }
        speed = speed_index()
        t0 = time.perf_counter()
        run = subprocess.run(
            ["/usr/bin/time", "-v", sys.executable, "-m", "cli", "load", "--verbose", str(data)],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        load_s = time.perf_counter() - t0
        speed_after = speed_index()
        stop.set()
        watcher.join()
        if run.returncode != 0:
            raise RuntimeError(f"load failed:\n{(run.stdout + run.stderr)[-3000:]}")
        phases = re.search(r"阶段 / phases: (.*)", run.stdout)
        loader_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)[1])  # type: ignore[index]
        counts = _graph_counts(settings, local.uri)
    finally:
        local.stop()
        shutil.rmtree(home, ignore_errors=True)
    return {
        "profile": profile,
        "rows": rows,
        "load_s": load_s,
        "speed_index_ms": speed,
        "speed_index_after_ms": speed_after,
        "rows_per_s": rows / load_s,
        "loader_peak_mib": loader_kib / 1024,
        "neo4j_peak_mib": neo4j_peak[0] if neo4j_peak else 0.0,
        "phases": phases[1] if phases else "",
        "counts": counts,
        "memory": f"heap {heap}, page cache {pagecache}, {settings.local_gc} GC; "
        f"loader spool {SPOOL_ROWS:,} rows in memory",
    }


#: Every profile's last run (so measuring one profile keeps the others' rows), committed with the docs.
RESULTS = PROJECT_ROOT / "docs" / "benchmarks-load.json"


def main(profiles: list[str]) -> None:
    measured = {p: load_profile(p) | {"measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} for p in profiles}
    kept = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    kept.update(measured)
    RESULTS.write_text(json.dumps(kept, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    render(kept)


def _speed(run: dict[str, Any]) -> str:
    """A run's speed index before it, and after it when measured ("125", "123→237")."""
    after = run.get("speed_index_after_ms")
    return f"{run['speed_index_ms']:.0f}" + (f"→{after:.0f}" if after is not None else "")


def _writes_s(run: dict[str, Any]) -> float:
    """A run's writing phases (nodes, relationships): what the peer's statements do, without validation or rollups."""
    phases = dict(re.findall(r"([a-z ]+?) ([\d.]+) s(?:, |$)", run.get("phases", "")))
    return float(phases.get("nodes", 0)) + float(phases.get("relationships", 0))


def render(kept: dict[str, dict[str, Any]]) -> None:
    """The load section of docs/benchmarks.md from every profile's last run."""
    results = [kept[p] for p in TARGETS if p in kept]
    lines = [
        "`grassroots load` of a CSV folder made by `grassroots demo`, into a fresh local Neo4j, wall time including "
        "validation; each profile loaded several times (the province once), the median run shown. The speed index "
        "is how many milliseconds a fixed pure-Python loop took just before each run (and just after it, where shown) (lower: a faster machine at "
        "that moment; it drifts by half on this shared host). Each profile's last measurement is kept in "
        "`docs/benchmarks-load.json`.",
        "",
        "The peer is Neo4j's own `LOAD CSV` of the same folder (`bench/peer.py`: one server-side statement per sheet, "
        "generated from the model, `CALL { } IN TRANSACTIONS OF 10000 ROWS`), into its own fresh Neo4j right after "
        "each of our runs; it validates nothing and computes no coverage rollups, and must write the same nodes and "
        "relationships, label by label and type by type, or the benchmark stops. The ratio is our time over the "
        "peer's, run by run (lower is better; below 1, faster than the peer); it moves far less with the hour than "
        "either time does. In brackets, our writing phases alone (nodes and relationships) over the peer's time.",
        "",
        "| profile | measured | rows | load time (median) | runs: s @ speed index | target | peer: LOAD CSV, s | "
        "ratio (median) | rows/s | loader peak RSS | Neo4j peak RSS | memory |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        target = TARGETS[str(r["profile"])]
        verdict = "" if target is None else (f"≤ {target:.0f} s ✔" if r["load_s"] <= target else f"≤ {target:.0f} s ✘")
        runs = ", ".join(f"{x['load_s']:.0f} @ {_speed(x)}" for x in r.get("runs", [])) or "1 run"
        peers = ", ".join(f"{x['peer_s']:.0f}" for x in r.get("runs", []) if "peer_s" in x) or "not run"
        ratio = f"{r['ratio_median']:.2f}" if "ratio_median" in r else ""
        writes = sorted(_writes_s(x) / x["peer_s"] for x in r.get("runs", []) if "peer_s" in x)
        if writes:
            ratio += f" (writes alone {writes[len(writes) // 2]:.2f})"
        lines.append(
            f"| {r['profile']} | {r.get('measured', '')} | {r['rows']:,} | {r['load_s']:.0f} s | {runs} | {verdict} | "
            f"{peers} | {ratio} | {r['rows_per_s']:,.0f} | {r['loader_peak_mib']:,.0f} MiB | "
            f"{r['neo4j_peak_mib']:,.0f} MiB | {r.get('memory', '')} |"
        )
    lines += ["", "Phases: " + "; ".join(f"{r['profile']}: {r['phases']}" for r in results)]
    write_section("load", "## Loading / 导入\n\n" + "\n".join(lines))
