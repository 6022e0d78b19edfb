"""Signing in over HTTP: 401 without credentials, bearer tokens, the session cookie and its anti-forgery value,
failed sign-ins throttled, accounts disabled or re-passworded taking effect at once, the first admin."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from starlette.applications import Starlette

from access import accounts
from access.tokens import Signer, secret
from access.web import CSRF_COOKIE, SESSION_COOKIE, FailedSignIns
from graph import accounts as store
from graph.driver import Graph
from graph.settings import Settings
from tests.helpers import SUITE_ADMIN, SUITE_CITY, TEST_PASSWORD, bearer, ensure_account

ME = "{ me { login role roleName scope { code } canWrite seesPersonalData } }"


async def _sign_in(http: AsyncClient, login: str, password: str = TEST_PASSWORD) -> Any:
    return await http.post("/login", json={"login": login, "password": password})


@pytest.fixture
async def browser_like(app: Starlette) -> AsyncIterator[AsyncClient]:
    """A client with a cookie jar of its own and no credentials (a fresh browser)."""
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def test_without_credentials_only_the_open_paths_answer(anonymous: AsyncClient) -> None:
    refused = await anonymous.post("/graphql", json={"query": "{ cities { code } }"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "登录" in error["message"]
    assert "sign in" in error["message"]
    report = await anonymous.get(f"/reports/audit.xlsx?scope={SUITE_CITY}")
    assert report.status_code == 401
    assert report.json()["error"]["code"] == "UNAUTHENTICATED"
    assert (await anonymous.get("/graphql?query={cities{code}}")).status_code == 401
    for path in ("/healthz", "/login", "/static/app/page.css", "/static/login.js"):
        assert (await anonymous.get(path)).status_code == 200, path
    # a browser asking for a page is sent to the sign-in form, and comes back after
    for path in ("/", "/graphql", "/playground"):
        page = await anonymous.get(path, headers={"accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"] == f"/login?next={path.replace('/', '%2F')}"


async def test_a_bearer_token_names_the_account_and_a_bad_one_is_refused(
    anonymous: AsyncClient, settings: Settings
) -> None:
    me = await anonymous.post("/graphql", json={"query": ME}, headers=bearer(settings, SUITE_ADMIN))
    assert me.json()["data"]["me"] == {
        "login": SUITE_ADMIN, "role": "admin", "roleName": "管理员", "scope": {"code": SUITE_CITY},
        "canWrite": True, "seesPersonalData": True,
    }  # fmt: skip
    token = bearer(settings, SUITE_ADMIN)["Authorization"]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    foreign = "Bearer " + Signer(os.urandom(32)).issue(SUITE_ADMIN, timedelta(hours=1))
    expired = "Bearer " + Signer(secret(settings.data_dir)).issue(
        SUITE_ADMIN, timedelta(minutes=1), now=datetime.now(UTC) - timedelta(hours=1)
    )
    for header in (tampered, foreign, expired, "Basic c3VpdGUtYWRtaW46eA==", "Bearer "):
        refused = await anonymous.post("/graphql", json={"query": ME}, headers={"Authorization": header})
        assert refused.status_code == 401, header
    expired_message = (await anonymous.post("/graphql", json={"query": ME}, headers={"Authorization": expired})).json()
    assert "过期" in expired_message["errors"][0]["message"]


async def test_the_session_cookie_signs_in_and_changes_need_the_anti_forgery_value(
    browser_like: AsyncClient, graph: Graph
) -> None:
    assert (await _sign_in(browser_like, SUITE_ADMIN, "wrong-password-1")).status_code == 401
    signed = await _sign_in(browser_like, SUITE_ADMIN)
    assert signed.status_code == 200
    body = signed.json()
    assert body["login"] == SUITE_ADMIN
    assert body["csrfToken"]
    cookies = signed.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(SESSION_COOKIE + "="))
    assert "httponly" in session.lower()
    assert "samesite=strict" in session.lower()
    csrf_cookie = next(c for c in cookies if c.startswith(CSRF_COOKIE + "="))
    assert "httponly" not in csrf_cookie.lower()  # the page's scripts read it
    # reads by GET need no anti-forgery value; a POST does
    assert (await browser_like.get("/graphql", params={"query": ME})).json()["data"]["me"]["login"] == SUITE_ADMIN
    forged = await browser_like.post("/graphql", json={"query": ME})
    assert forged.status_code == 403
    assert forged.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    wrong = await browser_like.post("/graphql", json={"query": ME}, headers={"x-csrf-token": "guess"})
    assert wrong.status_code == 403
    other_site = await browser_like.post(
        "/graphql", json={"query": ME}, headers={"x-csrf-token": body["csrfToken"], "origin": "https://evil.example"}
    )
    assert other_site.status_code == 403
    ok = await browser_like.post("/graphql", json={"query": ME}, headers={"x-csrf-token": body["csrfToken"]})
    assert ok.status_code == 200
    assert ok.json()["data"]["me"]["login"] == SUITE_ADMIN
    # signing out clears the cookies
    out = await browser_like.post("/logout", json={})
    assert out.status_code == 200
    assert (await browser_like.get("/graphql", params={"query": ME})).status_code == 401
    account = await store.find(graph, SUITE_ADMIN)
    assert account is not None
    assert account[0].last_login_at is not None


async def test_the_form_goes_back_where_it_came_from_and_only_to_this_site(browser_like: AsyncClient) -> None:
    form = {"login": SUITE_ADMIN, "password": TEST_PASSWORD, "next": "/playground?x=1"}
    back = await browser_like.post("/login", data=form)
    assert back.status_code == 303
    assert back.headers["location"] == "/playground?x=1"
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        away = await browser_like.post("/login", data={**form, "next": target})
        assert away.headers["location"] == "/", target
    failed = await browser_like.post("/login", data={**form, "password": "not-the-one-1"})
    assert failed.status_code == 303
    assert failed.headers["location"].startswith("/login?error=401")


async def test_a_token_for_scripts_comes_from_post_token(anonymous: AsyncClient) -> None:
    issued = await anonymous.post("/token", json={"login": SUITE_ADMIN, "password": TEST_PASSWORD})
    assert issued.status_code == 200
    assert issued.headers["cache-control"] == "no-store"
    token = issued.json()["token"]
    assert "set-cookie" not in issued.headers
    me = await anonymous.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"})
    assert me.json()["data"]["me"]["login"] == SUITE_ADMIN
    assert (await anonymous.post("/token", json={"login": SUITE_ADMIN})).status_code == 400
    big = await anonymous.post("/token", json={"login": SUITE_ADMIN, "password": "x" * 10_000})
    assert big.status_code == 400


async def test_a_disabled_account_or_a_new_password_ends_its_tokens_at_once(
    anonymous: AsyncClient, graph: Graph, settings: Settings
) -> None:
    await ensure_account(graph, "leaving.soon", "viewer")
    await ensure_account(graph, "new.password", "viewer")
    old = bearer(settings, "leaving.soon")
    assert (await anonymous.post("/graphql", json={"query": ME}, headers=old)).status_code == 200
    await accounts.disable(graph, "leaving.soon")
    refused = await anonymous.post("/graphql", json={"query": ME}, headers=old)
    assert refused.status_code == 401
    assert "停用" in refused.json()["errors"][0]["message"]
    assert (await _sign_in(anonymous, "leaving.soon")).status_code == 401
    signer = Signer(secret(settings.data_dir))
    issued = signer.issue("new.password", timedelta(hours=1), now=datetime.now(UTC) - timedelta(seconds=2))
    before = {"Authorization": f"Bearer {issued}"}
    await accounts.change_password(graph, "new.password", "Another-river-77")
    assert (await anonymous.post("/graphql", json={"query": ME}, headers=before)).status_code == 401
    await asyncio.sleep(1.1)  # a token's time has whole seconds: one issued the same second would be refused
    fresh = {"Authorization": f"Bearer {signer.issue('new.password', timedelta(hours=1))}"}
    assert (await anonymous.post("/graphql", json={"query": ME}, headers=fresh)).status_code == 200


async def test_failed_sign_ins_are_throttled_per_login_and_logged(
    settings: Settings, graph: Graph, caplog: pytest.LogCaptureFixture
) -> None:
    from server import create_app

    await ensure_account(graph, "throttled.one", "viewer")
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http,
    ):
        for i in range(5):
            assert (await _sign_in(http, "throttled.one", f"wrong-{i}-password")).status_code == 401
        waited = await _sign_in(http, "throttled.one")  # the right password, too soon
        assert waited.status_code == 429
        assert int(waited.headers["retry-after"]) > 0
        assert "秒后再试" in waited.json()["error"]["message"]
        assert (await _sign_in(http, SUITE_ADMIN)).status_code == 200  # other logins from here still may
        for i in range(14):  # 5 + 14 failures from this address: one more locks it
            await _sign_in(http, f"nobody{i}", "wrong-password")
        assert (await _sign_in(http, SUITE_ADMIN)).status_code == 200
        await _sign_in(http, "nobody-last", "wrong-password")
        assert (await _sign_in(http, SUITE_ADMIN)).status_code == 429
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "grassroots.access")
    assert "throttled.one" in logged
    assert "wrong-0-password" not in logged
    assert TEST_PASSWORD not in logged


def test_the_failure_window_slides_and_forgets() -> None:
    limits = FailedSignIns(per_login=2, per_address=3, window=10, remember=4)
    limits.failed("a", "1.1.1.1", now=0)
    limits.failed("a", "1.1.1.1", now=1)
    assert limits.wait("a", "2.2.2.2", now=2) == pytest.approx(8)
    assert limits.wait("b", "2.2.2.2", now=2) == 0
    assert limits.wait("a", "2.2.2.2", now=10.5) == 0  # the first failure left the window
    limits.succeeded("a")
    limits.failed("b", "1.1.1.1", now=3)
    assert limits.wait("c", "1.1.1.1", now=4) > 0  # three from that address
    for n in range(10):
        limits.failed(f"x{n}", f"9.9.9.{n}", now=5)
    assert len(limits._seen) <= 4  # bounded memory: the quietest are forgotten


async def test_the_first_start_makes_one_admin_for_the_city(graph: Graph, tmp_path: Path, small: Any) -> None:
    data = tmp_path / "data"
    await graph.write_rows("MATCH (u:_User) WHERE u.login <> $keep DETACH DELETE u", {"keep": SUITE_ADMIN})
    assert await accounts.first_admin(graph, data) is None  # the graph has an account already: left alone
    suite = (await graph.read_rows("MATCH (u:_User {login: $l}) RETURN properties(u) AS p", {"l": SUITE_ADMIN}))[0]
    await graph.write_rows("MATCH (u:_User) DETACH DELETE u")
    try:
        made = await accounts.first_admin(graph, data)
        assert made is not None
        account, password = made
        assert (account.login, account.role, account.scope) == ("admin", "admin", SUITE_CITY)
        kept = data / accounts.FIRST_ADMIN_FILE
        assert kept.read_text().strip() == password
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert (await accounts.sign_in(graph, "admin", password)).login == "admin"
        assert await accounts.first_admin(graph, data) is None
    finally:  # the suite's admin back as it was (a new one would refuse the suite's tokens issued before it)
        await graph.write_rows("MATCH (u:_User) DETACH DELETE u")
        await graph.write_rows("CREATE (u:_User) SET u = $p", {"p": suite["p"]})
