"""Loader benchmark: generate a profile, load it into a fresh local Neo4j, and measure time, rows per
second and peak memory of the loader and of Neo4j. Targets: city ≤ 120 s, province ≤ 20 min.

This machine's speed drifts by half over an hour (other tenants share its host), so a profile is loaded
`RUNS` times, each into a fresh Neo4j, and the median is the result; beside each run stands a speed index
(a fixed pure-Python loop, timed just before it) so a slow run can be told from a slow loader."""

from __future__ import annotations

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

from bench.report import write_section
from bench.startup import rss_mib
from graph.local import LocalNeo4j, free_port
from graph.settings import PROJECT_ROOT, Settings

TARGETS = {"small": None, "city": 120.0, "province": 1200.0}
#: Neo4j's memory per profile (heap, page cache): a province's store (~25 GB) wants a bigger page cache.
MEMORY = {"small": ("4g", "4g"), "city": ("4g", "4g"), "province": ("4g", "7g")}
#: Validated rows the loader keeps in memory before it spools to disk (GRASSROOTS_SPOOL_ROWS): the province's
#: 28 M rows share 24 GiB with Neo4j, so most of them wait on disk.
SPOOL_ROWS = {"small": "4000000", "city": "4000000", "province": "2000000"}
#: Loads per profile (the province's takes twenty minutes and more: one).
RUNS = {"small": 3, "city": 3, "province": 1}


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
            done.append(_load_once(profile, data, rows, Path(tmp) / f"neo4j-{i}"))
    done.sort(key=lambda r: r["load_s"])
    median = done[len(done) // 2]
    return median | {
        "generate_s": generate_s,
        "runs": [{k: r[k] for k in ("load_s", "speed_index_ms", "speed_index_after_ms", "phases")} for r in done],
    }


def _load_once(profile: str, data: Path, rows: int, home: Path) -> dict[str, Any]:
    """One `grassroots load` of the folder into a fresh local Neo4j at `home`, measured."""
    heap, pagecache = MEMORY[profile]
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        NEO4J_LOCAL_HOME=str(home),
        NEO4J_LOCAL_PORT=free_port(),
        NEO4J_HEAP=heap,
        NEO4J_PAGECACHE=pagecache,
    )
    local = LocalNeo4j.from_settings(settings).start()
    try:
        stop, neo4j_peak = threading.Event(), []
        watcher = threading.Thread(target=_peak_rss, args=(local.pid, stop, neo4j_peak))
        watcher.start()
        env = {
            **os.environ,
            "NEO4J_URI": local.uri,
            "NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
            "GRASSROOTS_SPOOL_ROWS": SPOOL_ROWS[profile],
        }
        speed = speed_index()
        t0 = time.perf_counter()
        run = subprocess.run(
            ["/usr/bin/time", "-v", sys.executable, "-m", "cli", "load", str(data)],
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
        "memory": f"heap {heap}, page cache {pagecache}, {settings.local_gc} GC; "
        f"loader spool {int(SPOOL_ROWS[profile]):,} rows in memory",
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
        "| profile | measured | rows | load time (median) | runs: s @ speed index | target | rows/s | loader peak RSS "
        "| Neo4j peak RSS | memory |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        target = TARGETS[str(r["profile"])]
        verdict = "" if target is None else (f"≤ {target:.0f} s ✔" if r["load_s"] <= target else f"≤ {target:.0f} s ✘")
        runs = ", ".join(f"{x['load_s']:.0f} @ {_speed(x)}" for x in r.get("runs", [])) or "1 run"
        lines.append(
            f"| {r['profile']} | {r.get('measured', '')} | {r['rows']:,} | {r['load_s']:.0f} s | {runs} | {verdict} | "
            f"{r['rows_per_s']:,.0f} | {r['loader_peak_mib']:,.0f} MiB | {r['neo4j_peak_mib']:,.0f} MiB | "
            f"{r.get('memory', '')} |"
        )
    lines += ["", "Phases: " + "; ".join(f"{r['profile']}: {r['phases']}" for r in results)]
    write_section("load", "## Loading / 导入\n\n" + "\n".join(lines))
