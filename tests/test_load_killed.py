"""A load killed half-way leaves only whole batches; a re-run completes and equals a clean load."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.model import NODE_SHEETS
from graph.driver import Graph
from graph.loading import links_naming
from graph.password import neo4j_password
from graph.settings import PROJECT_ROOT, Settings
from loaders.batches import PARTITIONS, partitions
from loaders.demo import write_demo
from loaders.load import validate_file
from loaders.write_nodes import batch_with_naming, community_of
from tests.helpers import FINGERPRINT, clear, graph_counts

LABEL_COUNTS = (
    "MATCH (n) WHERE NOT n:_Migration AND NOT n:_Rollup AND NOT n:_User RETURN labels(n)[0] AS label, count(n) AS n"
)
BATCH = 500  # small batches, so the kill lands among many


def whole_batch_totals(sizes: list[list[int]]) -> set[int]:
    """Every node count a sheet can show when each partition stopped after some whole number of its batches."""
    totals = {0}
    for part in sizes:
        prefixes = [sum(part[:i]) for i in range(len(part) + 1)]
        totals = {t + p for t in totals for p in prefixes}
    return totals


HOUSEHOLDS = "MATCH (h:Household) RETURN count(h) AS n"


@pytest.mark.slow
async def test_killed_load_then_rerun_equals_a_clean_load(graph: Graph, settings: Settings, tmp_path: Path) -> None:
    data = tmp_path / "small"
    manifest = write_demo("small", 11, data)
    await clear(graph)
    env = {
        **os.environ,
        "NEO4J_URI": settings.effective_uri,
        "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": neo4j_password(settings),
    }
    proc = await _start(env, data, subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while (await graph.read_rows(HOUSEHOLDS))[0]["n"] < 2 * BATCH:  # some batches of the biggest sheet are in
        assert proc.returncode is None, "the load finished before it could be killed"
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()

    partial = {r["label"]: r["n"] for r in await graph.read_rows(LABEL_COUNTS)}
    plan = await validate_file(data, None)
    for sheet in NODE_SHEETS:
        n = partial.get(sheet.label, 0)
        records = [r for chunk in plan.records(sheet.key) for r in chunk]
        # rows that also make the links naming them (central household -> household) come in smaller batches
        named = sum(len(r.resolved[lk.en]) for s, lk in links_naming(sheet.label) for r in plan.valid_rows(s.key))
        size = batch_with_naming(BATCH, len(records), named) if named else BATCH
        batches = partitions(records, size, PARTITIONS, community_of)
        possible = whole_batch_totals([[len(b) for b in part] for part in batches])
        assert n in possible, f"{sheet.label}: {n} nodes is not a sum of whole batches per partition"
    assert any(0 < n < manifest["entities"][label] for label, n in partial.items()), "killed between sheets"
    assert sum(partial.values()) < sum(v for k, v in manifest["entities"].items() if k in partial) + 1

    await _run(env, data)
    after_rerun = (await graph_counts(graph), await graph.read_rows(FINGERPRINT))

    await clear(graph)
    await _run(env, data)
    clean = (await graph_counts(graph), await graph.read_rows(FINGERPRINT))
    assert clean[0] == after_rerun[0]
    # On a difference, name the nodes that differ.
    rerun_nodes = {(label, code): props for label, code, props in after_rerun[1][0]["nodes"]}
    clean_nodes = {(label, code): props for label, code, props in clean[1][0]["nodes"]}
    differ = sorted(k for k in rerun_nodes.keys() | clean_nodes.keys() if rerun_nodes.get(k) != clean_nodes.get(k))
    assert differ == [], [(k, rerun_nodes.get(k), clean_nodes.get(k)) for k in differ[:5]]


async def _start(env: dict[str, str], data: Path, out: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        "load",
        str(data),
        "--batch-size",
        str(BATCH),
        env=env,
        cwd=PROJECT_ROOT,
        stdout=out,
        stderr=out,
    )


async def _run(env: dict[str, str], data: Path) -> None:
    proc = await _start(env, data, subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=600)
    assert proc.returncode == 0, (out + err).decode()[-2000:]
