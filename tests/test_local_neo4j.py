"""The embedded local Neo4j: clean stop, crash recovery, and one clear sentence for each start-up failure."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
from neo4j import GraphDatabase

from graph.local import LocalNeo4j, LocalNeo4jError, free_port
from graph.settings import PROJECT_ROOT
from tests.helpers import TEST_PASSWORD, make_settings, start_local


def _count(uri: str, cypher: str) -> int:
    with GraphDatabase.driver(uri, auth=("neo4j", TEST_PASSWORD)) as driver:
        records, _, _ = driver.execute_query(cypher)
        return int(records[0][0]) if records else 0


def _local(home: Path, **overrides: object) -> LocalNeo4j:
    return LocalNeo4j.from_settings(
        make_settings(NEO4J_LOCAL_HOME=str(home), NEO4J_LOCAL_PORT=free_port(), **overrides)
    )


@pytest.mark.slow
@pytest.mark.integration  # starts a Neo4j of its own
def test_crash_recovery_clean_stop_and_corrupt_store(tmp_path: Path) -> None:
    """One server's life: write, SIGKILL, restart over the stale pid file, clean stop, then a corrupted store."""
    home = tmp_path / "neo4j"
    server = start_local(home)
    port = server.port
    _count(server.uri, "CREATE (:Probe {code: 'p1'}) RETURN 1")
    crashed_pid = server.pid
    server.kill()  # as a crash: no shutdown, the pid file stays as a killed run leaves it
    server.pid_file.write_text(str(crashed_pid))

    restarted = start_local(home, port=port)
    try:
        assert _count(restarted.uri, "MATCH (p:Probe {code: 'p1'}) RETURN count(p)") == 1
        assert restarted.pid_file.read_text() == str(restarted.pid)
    finally:
        code = restarted.stop()
    assert "STOPPED 已关闭 / stopped cleanly" in restarted.output
    assert code in (0, 143)  # the JVM exits 143 after its SIGTERM shutdown hook completes
    assert not restarted.pid_file.exists()

    store = home / "data" / "databases" / "neo4j"
    for f in store.glob("neostore*"):
        f.write_bytes(os.urandom(8192))
    with pytest.raises(LocalNeo4jError, match="store may be corrupt"):
        start_local(home)


def test_port_in_use_is_one_clear_sentence(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        local = LocalNeo4j.from_settings(make_settings(NEO4J_LOCAL_HOME=str(tmp_path), NEO4J_LOCAL_PORT=port))
        with pytest.raises(LocalNeo4jError, match=f"Port {port} on 127.0.0.1 is already in use") as err:
            local.start()
    assert "NEO4J_LOCAL_PORT" in str(err.value)


def test_home_in_use_by_a_live_server_is_refused(neo4j_server: LocalNeo4j) -> None:
    second = LocalNeo4j.from_settings(
        make_settings(NEO4J_LOCAL_HOME=str(neo4j_server.home), NEO4J_LOCAL_PORT=free_port())
    )
    with pytest.raises(LocalNeo4jError, match=f"pid {neo4j_server.pid}"):
        second.start()


def test_home_locked_by_neo4j_itself(neo4j_server: LocalNeo4j) -> None:
    """Without our pid file, Neo4j's own store lock still stops a second server, with a clear sentence."""
    pid_text = neo4j_server.pid_file.read_text()
    neo4j_server.pid_file.unlink()
    try:
        second = LocalNeo4j.from_settings(
            make_settings(NEO4J_LOCAL_HOME=str(neo4j_server.home), NEO4J_LOCAL_PORT=free_port())
        )
        with pytest.raises(LocalNeo4jError, match="in use by another Neo4j process"):
            second.start()
    finally:
        neo4j_server.pid_file.write_text(pid_text)


def test_java_missing_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LocalNeo4jError, match=r"Java 17 or newer was not found.*apt-get install"):
        _local(tmp_path / "home").start()


def test_unbuilt_module_says_how_to_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "neo4j-local"
    dist.mkdir()
    with pytest.raises(LocalNeo4jError, match="make neo4j-local"):
        _local(tmp_path / "home", NEO4J_LOCAL_DIST=str(dist)).start()
    # and without Maven on PATH, it says to install Maven
    java = shutil.which("java")
    assert java is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(java)
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(LocalNeo4jError, match=r"Maven is missing.*apt-get install maven"):
        _local(tmp_path / "home", NEO4J_LOCAL_DIST=str(dist)).start()


def test_default_local_settings_are_loopback_and_under_data() -> None:
    settings = make_settings()
    assert settings.local_listen == "127.0.0.1"
    assert settings.local_port == 7687
    assert Path(settings.local_home) == PROJECT_ROOT / "data" / "neo4j"


@pytest.mark.slow
@pytest.mark.integration  # starts a Neo4j of its own
def test_extra_neo4j_settings_apply_and_a_bad_one_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_CONFIG", "db.transaction.timeout=123s; db.lock.acquisition.timeout=7s")
    server = _local(tmp_path / "ok").start()
    try:
        with GraphDatabase.driver(server.uri, auth=("neo4j", TEST_PASSWORD)) as driver:
            records, _, _ = driver.execute_query(
                "SHOW SETTINGS YIELD name, value "
                "WHERE name IN ['db.transaction.timeout', 'db.lock.acquisition.timeout'] RETURN name, value"
            )
        assert {r["name"]: r["value"] for r in records} == {
            "db.lock.acquisition.timeout": "7s",
            "db.transaction.timeout": "2m3s",
        }
    finally:
        server.stop()
    monkeypatch.setenv("NEO4J_CONFIG", "db.no.such.setting=1")
    with pytest.raises(LocalNeo4jError) as failure:
        _local(tmp_path / "bad").start()
    assert "db.no.such.setting" in str(failure.value)


def test_the_collector_is_chosen_by_name_and_an_unknown_one_refused(tmp_path: Path) -> None:
    def local(gc: str) -> LocalNeo4j:
        return LocalNeo4j(tmp_path, free_port(), "neo4j", TEST_PASSWORD, gc=gc, dist=PROJECT_ROOT / "neo4j-local")

    assert "-XX:+UseParallelGC" in local("Parallel").command()
    assert "-XX:+UseG1GC" in local("G1").command()
    assert [f for f in local("G1").command() if f.startswith("-XX:+Use") and f.endswith("GC")] == ["-XX:+UseG1GC"]
    with pytest.raises(LocalNeo4jError, match="NEO4J_GC"):
        local("CMS").command()
