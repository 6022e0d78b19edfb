"""`grassroots serve`, started as people start it, stops the local Neo4j it started before it exits — on SIGTERM
(systemd, `kill`) as on Ctrl-C: no JVM left running after the service, no pid file left behind for the next start
to mistake for a live server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from graph.local import PID_FILE, free_port
from graph.settings import PROJECT_ROOT

#: Seconds for the service to start its Neo4j and answer `/readyz` on a busy 2-core machine.
START = 300.0
#: Seconds for it to stop after the signal (Neo4j's clean shutdown included).
STOP = 150.0


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


@pytest.mark.slow
@pytest.mark.integration  # starts a Neo4j of its own
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stops_its_local_neo4j_before_it_exits(tmp_path: Path, sig: signal.Signals) -> None:
    home, port = tmp_path / "neo4j", free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("NEO4J_URI", "NEO4J_PASSWORD")}
    env |= {
        "NEO4J_LOCAL_HOME": str(home),
        "NEO4J_LOCAL_PORT": str(free_port()),
        "GRASSROOTS_DATA_DIR": str(tmp_path / "data"),
        "GRASSROOTS_HOST": "127.0.0.1",
        "GRASSROOTS_PORT": str(port),
        "GRASSROOTS_DEMO": "none",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "cli", "serve"], cwd=PROJECT_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + START
        while True:
            assert proc.poll() is None, f"serve exited early: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"not ready within {START} s: {log.read_text()[-2000:]}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        jvm = int((home / PID_FILE).read_text())
        assert _alive(jvm)

        proc.send_signal(sig)
        proc.wait(timeout=STOP)
        # When the service has exited, its Neo4j has stopped cleanly and forgotten its pid.
        assert not _alive(jvm), f"the local Neo4j (pid {jvm}) outlived the service"
        assert not (home / PID_FILE).exists()
        assert "Finished server process" in log.read_text()
        if sig == signal.SIGTERM:
            assert proc.returncode == 0, log.read_text()[-2000:]
            assert "已停止 / stopped (SIGTERM)" in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
