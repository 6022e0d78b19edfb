"""HTTP hygiene and the install's own Neo4j password.

Trusted hosts (a `Host` outside the list is refused with 400), the headers every answer carries, pages that no
one may frame, `/readyz` without addresses or versions, introspection that can be turned off; the password
generated on first use (0600, reused), never shared, and a server with the former shared default taken over.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from httpx import AsyncClient
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError
from starlette.applications import Starlette
from starlette.types import Message

from graph.local import LocalNeo4j, database_uri, free_port
from graph.password import FORMER_DEFAULT, PasswordMissing, neo4j_password, password_file
from graph.settings import PROJECT_ROOT, Settings
from tests.helpers import SUITE_ADMIN, bearer, make_settings, own_app

ME = {"query": "{ me { login } }"}
INTROSPECT = {"query": "{ __schema { queryType { name } } }"}


# ---------------------------------------------------------------- trusted hosts


async def test_a_foreign_host_is_refused_and_ours_are_served(client: AsyncClient) -> None:
    for path in ("/healthz", "/readyz", "/graphql", "/login"):
        refused = await client.get(path, headers={"Host": "attacker.example"})
        assert refused.status_code == 400, path
        assert "attacker" not in refused.text
    refused = await client.post("/graphql", json=ME, headers={"Host": "attacker.example:8000"})
    assert refused.status_code == 400
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000", "test"):
        answered = await client.post("/graphql", json=ME, headers={"Host": host})
        assert answered.status_code == 200, host
        assert answered.json()["data"]["me"]["login"] == SUITE_ADMIN


def test_trusted_hosts_default_to_loopback_and_add_the_listen_address() -> None:
    default = Settings(_env_file=None, NEO4J_PASSWORD="x" * 10)  # type: ignore[call-arg]
    assert default.trusted_hosts == ["127.0.0.1", "localhost", "::1", "[::1]"]
    named = Settings(_env_file=None, GRASSROOTS_HOST="10.1.2.3", GRASSROOTS_ALLOWED_HOSTS=" Graph.Example.org ,")  # type: ignore[call-arg]
    assert named.trusted_hosts == ["graph.example.org", "10.1.2.3"]
    v6 = Settings(_env_file=None, GRASSROOTS_HOST="fd00::5")  # type: ignore[call-arg]
    assert v6.trusted_hosts[-2:] == ["fd00::5", "[fd00::5]"]
    everywhere = Settings(_env_file=None, GRASSROOTS_HOST="0.0.0.0")  # type: ignore[call-arg]
    assert everywhere.trusted_hosts == default.trusted_hosts  # 0.0.0.0 names no host
    with pytest.raises(ValueError, match="GRASSROOTS_ALLOWED_HOSTS"):
        Settings(_env_file=None, GRASSROOTS_ALLOWED_HOSTS=" , ")  # type: ignore[call-arg]


def test_allowed_hosts_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRASSROOTS_ALLOWED_HOSTS", "graph.internal,*.city.example")
    assert Settings(_env_file=None).allowed_hosts == ["graph.internal", "*.city.example"]  # type: ignore[call-arg]


# ---------------------------------------------------------------- headers, pages, readiness


async def test_every_answer_carries_the_hygiene_headers(client: AsyncClient, anonymous: AsyncClient) -> None:
    answers = [
        await client.get("/healthz"),
        await client.get("/readyz"),
        await client.post("/graphql", json=ME),
        await client.get("/static/login.js"),
        await anonymous.post("/graphql", json=ME),  # 401
        await client.get("/healthz", headers={"Host": "attacker.example"}),  # 400
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 401, 400]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"


async def test_a_client_gone_mid_body_is_a_log_line_not_an_exception(
    app: Starlette, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A signed-in POST whose client hangs up after part of its body (a closed tab): the app returns without raising
    (the ASGI server would log "Exception in ASGI application" with a traceback), sends nothing, logs one line."""
    token = bearer(settings, SUITE_ADMIN)["Authorization"].encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
             "client": ("127.0.0.1", 50000), "server": ("test", 80),
             "headers": [(b"host", b"test"), (b"content-type", b"application/json"), (b"content-length", b"40"),
                         (b"authorization", token)]}  # fmt: skip
    messages = iter([{"type": "http.request", "body": b'{"query": "{ me', "more_body": True}])
    sent: list[Message] = []

    async def receive() -> Message:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: Message) -> None:
        sent.append(message)

    with caplog.at_level(logging.INFO, logger="grassroots.http"):
        await app(scope, receive, send)
    assert sent == []
    assert any("client_disconnected" in r.getMessage() and "/graphql" in r.getMessage() for r in caplog.records)


async def test_no_page_may_be_framed(client: AsyncClient) -> None:
    html = {"Accept": "text/html"}
    for path in ("/", "/login", "/playground", "/graphql"):
        page = await client.get(path, headers=html)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"], path
    static = PROJECT_ROOT / "web" / "static"
    own = [p for p in static.rglob("*") if p.suffix in (".html", ".js") and "vendor" not in p.parts]
    assert own
    assert not [p.name for p in own if "<iframe" in p.read_text(encoding="utf-8")]  # the page frames nothing itself


async def test_readyz_names_no_address_or_version(client: AsyncClient, settings: Settings) -> None:
    ready = await client.get("/readyz")
    assert ready.json() == {"status": "ready"}
    assert settings.neo4j_uri is not None
    assert settings.neo4j_uri.split(":")[-1] not in ready.text


# ---------------------------------------------------------------- introspection


async def test_introspection_is_on_by_default_and_can_be_turned_off(client: AsyncClient, settings: Settings) -> None:
    on = (await client.post("/graphql", json=INTROSPECT)).json()
    assert on["data"]["__schema"]["queryType"]["name"] == "Query"

    async with own_app(settings, GRASSROOTS_INTROSPECTION="false") as closed, closed.client() as http:
        off = (await http.post("/graphql", json=INTROSPECT)).json()
        assert off.get("data") is None
        assert "introspection" in off["errors"][0]["message"].lower()
        by_type = (await http.post("/graphql", json={"query": '{ __type(name: "Query") { name } }'})).json()
        assert by_type.get("data") is None
        assert (await http.post("/graphql", json=ME)).json()["data"]["me"]["login"] == SUITE_ADMIN


# ---------------------------------------------------------------- the install's own password


def _no_password(tmp_path: Path, **overrides: object) -> Settings:
    return make_settings(NEO4J_PASSWORD=None, GRASSROOTS_DATA_DIR=str(tmp_path / "data"), **overrides)


def test_the_password_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    settings = _no_password(tmp_path)
    path = password_file(settings.data_dir)
    assert not path.exists()
    first = neo4j_password(settings)
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 24
    assert first != FORMER_DEFAULT
    assert neo4j_password(_no_password(tmp_path)) == first  # the next command reads the same file
    assert neo4j_password(_no_password(tmp_path / "other")) != first  # another install, another password


def test_a_given_password_wins_and_a_remote_server_needs_one(tmp_path: Path) -> None:
    given = make_settings(NEO4J_PASSWORD="given-password-1", GRASSROOTS_DATA_DIR=str(tmp_path / "data"))
    assert neo4j_password(given) == "given-password-1"
    assert not password_file(given.data_dir).exists()
    with pytest.raises(PasswordMissing, match="NEO4J_PASSWORD"):
        neo4j_password(_no_password(tmp_path, NEO4J_URI="bolt://db.example:7687"))


def _answers(uri: str, password: str) -> bool:
    """A query answers with this password (at most one wrong one in a row: Neo4j locks after three)."""
    with GraphDatabase.driver(uri, auth=("neo4j", password), connection_timeout=3) as driver:
        try:
            driver.execute_query("RETURN 1")
        except AuthError:
            return False
        return True


@pytest.mark.slow
@pytest.mark.integration  # starts a Neo4j of its own
def test_a_store_made_with_the_former_default_takes_the_installs_password(tmp_path: Path) -> None:
    home, port = tmp_path / "neo4j", free_port()
    # As an earlier version left it: a store, and a server running, with the shared default.
    earlier = make_settings(NEO4J_PASSWORD=FORMER_DEFAULT, NEO4J_LOCAL_HOME=str(home), NEO4J_LOCAL_PORT=port)
    old = LocalNeo4j.from_settings(earlier).start()
    try:
        now = _no_password(tmp_path, NEO4J_LOCAL_HOME=str(home), NEO4J_LOCAL_PORT=port)
        with database_uri(now) as uri:  # uses the running server and changes its password
            generated = password_file(now.data_dir).read_text().strip()
            assert _answers(uri, generated)
            assert not _answers(uri, FORMER_DEFAULT)
    finally:
        old.stop()
    # Restarted by this version: the file's password, the shared default refused.
    again = LocalNeo4j.from_settings(now).start()
    try:
        assert again.password == generated
        assert _answers(again.uri, generated)
        assert not _answers(again.uri, FORMER_DEFAULT)
    finally:
        again.stop()
    # A store whose server is stopped with the default: the launcher sets the install's password at start.
    fresh = tmp_path / "fresh"
    LocalNeo4j.from_settings(
        make_settings(NEO4J_PASSWORD=FORMER_DEFAULT, NEO4J_LOCAL_HOME=str(fresh), NEO4J_LOCAL_PORT=port)
    ).start().stop()
    with database_uri(_no_password(tmp_path, NEO4J_LOCAL_HOME=str(fresh), NEO4J_LOCAL_PORT=port)) as uri:
        assert _answers(uri, generated)
        assert not _answers(uri, FORMER_DEFAULT)
