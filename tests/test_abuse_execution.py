"""The abuse suite, bounded execution (issue 22), on a real uvicorn: many parallel requests from one account,
parallel audit downloads, a wrong-typed variable holding an ID number — each refused as it should be while a
sibling (`tests.abuse.while_abused`, as the suite's admin) is answered 200 within 1 s."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from graph.settings import Settings
from tests.abuse import while_abused
from tests.helpers import bearer, ensure_account

ABUSER = "abuse-busy"
AUDITORS = ("abuse-audit-1", "abuse-audit-2", "abuse-audit-3")
CITY = "420600000000"
PERSONAL = re.compile(r"\d{17}[\dXx]|1[3-9]\d{9}")


@pytest.fixture(scope="module")
async def accounts(app: Any, small: dict[str, Any]) -> None:
    graph = app.state.graph
    await ensure_account(graph, ABUSER, "viewer")
    for login in AUDITORS:
        await ensure_account(graph, login, "auditor")


async def _held(base_url: str, headers: dict[str, str], release: asyncio.Event) -> int:
    """One request held open (its body unfinished) until `release`; its final status.

    Raw HTTP/1.1, so that a refusal is seen while the body is still open (an HTTP client sends the whole body
    before it reads an answer): refused before the release, it is sent again — a probe of the test's own may
    have taken the slot it raced for."""
    url = urlsplit(base_url)
    first, rest = b'{"query": "', b'{ me { login } }"}'
    head = ["POST /graphql HTTP/1.1", f"Host: {url.netloc}", "Content-Type: application/json",
            f"Content-Length: {len(first) + len(rest)}", "Connection: close",
            *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    while True:
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        try:
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + first)
            await writer.drain()
            answer = asyncio.ensure_future(reader.readuntil(b"\r\n\r\n"))
            released = asyncio.ensure_future(release.wait())
            await asyncio.wait({answer, released}, return_when=asyncio.FIRST_COMPLETED)
            if not answer.done():
                writer.write(rest)
                await writer.drain()
            released.cancel()
            status = int((await asyncio.wait_for(answer, timeout=30)).split()[1])
        finally:
            writer.close()
        if status != 429 or release.is_set():
            return status
        await asyncio.sleep(0.05)


async def test_many_parallel_requests_from_one_account(
    live_server: str, suite_headers: dict[str, str], settings: Settings, accounts: None
) -> None:
    headers = bearer(settings, ABUSER)
    limit = settings.account_concurrency

    async def abuse() -> list[int]:
        release = asyncio.Event()
        held = [asyncio.ensure_future(_held(live_server, headers, release)) for _ in range(limit)]
        async with httpx.AsyncClient(base_url=live_server, headers=headers, timeout=30) as http:
            for _ in range(100):  # until the held requests are all signed in and counted
                if (await http.post("/graphql", json={"query": "{ me { login } }"})).status_code == 429:
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail(f"the {limit} held requests were never all in flight at once")
            query = {"query": '{ gaps(scope: "%s", first: 500) { totalCount edges { cursor } } }' % CITY}
            burst = await asyncio.gather(*(http.post("/graphql", json=query) for _ in range(40)))
        release.set()
        for r in burst:
            assert r.headers.get("retry-after") == "1"
            assert r.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_REQUESTS"
        return [*await asyncio.gather(*held), *(r.status_code for r in burst)]

    statuses, siblings = await while_abused(live_server, suite_headers, abuse)
    assert statuses == [200] * limit + [429] * 40
    assert len(siblings.seconds) >= 2


async def test_parallel_audit_downloads(
    live_server: str, suite_headers: dict[str, str], settings: Settings, accounts: None
) -> None:
    async def download(login: str, suffix: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=live_server, headers=bearer(settings, login), timeout=60) as http:
            return await http.get(f"/reports/audit.{suffix}?scope={CITY}")

    async def abuse() -> list[httpx.Response]:
        calls = [download(login, suffix) for login in AUDITORS for suffix in ("xlsx", "zip", "xlsx", "zip")]
        return list(await asyncio.gather(*calls))

    responses, _ = await while_abused(live_server, suite_headers, abuse)
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429}, statuses
    assert statuses.count(200) >= settings.audit_builds
    for r in responses:
        if r.status_code == 429:
            assert r.headers["retry-after"] == "5"
            assert r.json()["error"]["code"] == "TOO_MANY_REQUESTS"
        else:
            assert r.content[:2] == b"PK"


async def test_a_wrong_typed_variable_with_an_id_number(
    live_server: str, suite_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    query = 'query($first: Int!) { gaps(scope: "%s", first: $first) { totalCount } }' % CITY

    async def abuse() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live_server, headers=suite_headers, timeout=30) as http:
            sent = [
                http.post("/graphql", json={"query": query, "variables": {"first": "420602199001011237 13812345678"}}),
                http.get("/graphql", params={"query": query, "variables": '{"first": "420602199001011237"}'}),
            ]
            return list(await asyncio.gather(*sent))

    responses, _ = await while_abused(live_server, suite_headers, abuse)
    for r in responses:
        assert r.status_code == 200
        assert r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "Traceback" not in r.text
        assert not PERSONAL.search(r.text)
    service = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]  # not the test's own client
    shown = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in service)
    assert not PERSONAL.search(shown), shown
    assert not any(r.exc_info for r in service)
    assert any("graphql_request_refused" in r.getMessage() for r in service)
