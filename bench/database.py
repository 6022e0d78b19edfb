"""A Neo4j holding a demo profile for a benchmark: NEO4J_URI as given, else the profile generated and loaded afresh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.local import LocalNeo4j, free_port
from graph.password import neo4j_password
from graph.settings import PROJECT_ROOT, Settings


@dataclass
class Database:
    """Where the benchmark's data is: bolt URI, password, and the generator's manifest (None when given)."""

    uri: str
    password: str
    manifest: dict[str, Any] | None
    fresh: bool  # generated and loaded by this run


@contextmanager
def profile_database(tmp: Path, profile: str) -> Iterator[Database]:
    """NEO4J_URI as it is (it must hold the profile), else `grassroots demo` + `grassroots load` into a fresh
    local Neo4j in `tmp`, stopped afterwards."""
    if os.environ.get("NEO4J_URI"):
        password = neo4j_password(Settings())  # type: ignore[call-arg]
        yield Database(os.environ["NEO4J_URI"], password, None, False)
        return
    data = tmp / profile
    subprocess.run(
        [sys.executable, "-m", "cli", "demo", "--profile", profile, "--out", str(data)],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    settings = Settings(_env_file=None, NEO4J_LOCAL_HOME=str(tmp / "neo4j"), NEO4J_LOCAL_PORT=free_port())  # type: ignore[call-arg]
    local = LocalNeo4j.from_settings(settings).start()
    password = neo4j_password(settings)
    try:
        env = {**os.environ, "NEO4J_URI": local.uri, "NEO4J_PASSWORD": password}
        subprocess.run(
            [sys.executable, "-m", "cli", "load", str(data)], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True
        )
        manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
        yield Database(local.uri, password, manifest, True)
    finally:
        local.stop()
