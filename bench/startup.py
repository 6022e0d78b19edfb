"""Neo4j start-up time (cold and warm), idle resident memory of Neo4j and of the service,
and cold and warm `make test` wall time on a fresh clone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.report import median, write_section
from graph.local import LocalNeo4j, free_port
from graph.settings import PROJECT_ROOT, Settings

RUNS = 3
IDLE_SECONDS = 15


def rss_mib(pid: int) -> float:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _settings(home: Path, port: int) -> Settings:
    return Settings(_env_file=None, NEO4J_LOCAL_HOME=str(home), NEO4J_LOCAL_PORT=port)  # type: ignore[call-arg]


def startup_and_memory() -> str:
    cold: list[float] = []
    warm: list[float] = []
    neo4j_rss: list[float] = []
    service_rss: list[float] = []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory(prefix="bench-neo4j-") as tmp:
            home = Path(tmp) / "neo4j"
            port = free_port()
            local = LocalNeo4j.from_settings(_settings(home, port))
            t0 = time.perf_counter()
            local.start()
            cold.append(time.perf_counter() - t0)
            local.stop()
            t0 = time.perf_counter()
            local.start()
            warm.append(time.perf_counter() - t0)
            try:
                service_rss.append(_service_idle_rss(local.uri))
                neo4j_rss.append(rss_mib(local.pid or 0))
            finally:
                local.stop()
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    return "\n".join(
        [
            f"Defaults: heap {s.local_heap}, page cache {s.local_pagecache}; median of {RUNS} runs.",
            "",
            "| measure | median | runs |",
            "|---|---|---|",
            f"| Neo4j start-up, new empty store (until Bolt answers) | {median(cold):.1f} s | "
            + ", ".join(f"{v:.1f}" for v in cold)
            + " |",
            f"| Neo4j start-up, existing store | {median(warm):.1f} s | " + ", ".join(f"{v:.1f}" for v in warm) + " |",
            f"| Neo4j idle resident memory (after {IDLE_SECONDS} s idle, with the service connected) | "
            f"{median(neo4j_rss):.0f} MiB | " + ", ".join(f"{v:.0f}" for v in neo4j_rss) + " |",
            f"| service idle resident memory (uvicorn, after /readyz) | {median(service_rss):.0f} MiB | "
            + ", ".join(f"{v:.0f}" for v in service_rss)
            + " |",
        ]
    )


def _service_idle_rss(uri: str) -> float:
    port = free_port()
    env = {
        **os.environ,
        "NEO4J_URI": uri,
        "GRASSROOTS_PORT": str(port),
        "GRASSROOTS_LOG_LEVEL": "warning",
        "GRASSROOTS_DEMO": "none",
    }
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve"], env=env, cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("service did not become ready")
            time.sleep(0.3)
        time.sleep(IDLE_SECONDS)
        return rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def make_test_times() -> str:
    """`make test` on a fresh clone (cold: new venv and Maven build; Maven and pip caches as they are), then again."""
    with tempfile.TemporaryDirectory(prefix="bench-clone-") as tmp:
        clone = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", str(PROJECT_ROOT), str(clone)], check=True)
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            run = subprocess.run(["make", "test"], cwd=clone, capture_output=True, text=True)
            if run.returncode != 0:
                raise RuntimeError("make test failed on a fresh clone:\n" + (run.stdout + run.stderr)[-5000:])
            times.append(time.perf_counter() - t0)
        shutil.rmtree(clone, ignore_errors=True)
    return "\n".join(
        [
            "One run each (a full run takes minutes; the committed HEAD is cloned).",
            "",
            "| measure | time |",
            "|---|---|",
            f"| `make test` cold (fresh clone: venv, pip install, Maven build, suite) | {times[0]:.0f} s |",
            f"| `make test` warm (same clone again: suite only) | {times[1]:.0f} s |",
        ]
    )


def main(with_startup: bool, with_make_test: bool) -> None:
    if with_startup:
        write_section("startup", "## Neo4j start-up and idle memory / 启动时间与空闲内存\n\n" + startup_and_memory())
    if with_make_test:
        write_section("make-test", "## `make test` wall time / 测试总耗时\n\n" + make_test_times())
