"""Issue 22's abusive requests against a real server (uvicorn), each refused before it runs, while a normal
request beside it is answered within a second (`tests.abuse.while_abused`).

Oversized bodies are sent over a raw socket: the head declares the whole length, the body follows in pieces,
and the answer must come back before the body is sent (the server never reads it).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from core.errors import BAD_USER_INPUT, QUERY_TOO_COMPLEX
from schema.limits import Limits
from tests.abuse import while_abused

LIMITS = Limits()
COMMUNITY = "420602001001"
CITY = "420600000000"


def aliases(count: int, field: str = "__typename") -> str:
    return "{ " + " ".join(f"a{i}: {field}" for i in range(count)) + " }"


async def _raw_post(base_url: str, headers: dict[str, str], body: bytes, declared: int | None) -> tuple[int, Any, int]:
    """POST `body` (declaring `declared` bytes; None: chunked, no length) piece by piece, stopping once an answer
    arrives: the status, the answer's JSON and how many body bytes were sent."""
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    framing = f"Content-Length: {declared}" if declared is not None else "Transfer-Encoding: chunked"
    head = ["POST /graphql HTTP/1.1", f"Host: {url.netloc}", "Content-Type: application/json", framing,
            *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    sent = 0
    answer = asyncio.ensure_future(reader.readuntil(b"\r\n\r\n"))  # the answer's head
    try:
        while sent < len(body) and not answer.done():
            piece = body[sent : sent + 65536]
            writer.write(piece if declared is not None else b"%x\r\n%s\r\n" % (len(piece), piece))
            try:
                await writer.drain()
            except ConnectionError:
                break
            sent += len(piece)
            await asyncio.sleep(0.01)
        head_bytes = await asyncio.wait_for(answer, timeout=10)
        fields = dict(line.split(": ", 1) for line in head_bytes.decode("latin-1").split("\r\n")[1:] if ": " in line)
        length = int({k.lower(): v for k, v in fields.items()}["content-length"])
        payload = await asyncio.wait_for(reader.readexactly(length), timeout=10)
    finally:
        writer.close()
    return int(head_bytes.split()[1]), json.loads(payload), sent


def _code(body: dict[str, Any]) -> str:
    (error,) = body["errors"]
    assert " / " in error["message"], error["message"]
    return error["extensions"]["code"]


async def test_100000_typename_aliases_are_refused_unread(live_server: str, suite_headers: dict[str, str]) -> None:
    """2.4 MB of `__typename` aliases: 413 before the body is read; at a size the body limit lets through, the
    parser stops at the token limit."""
    query = "{ " + " ".join(f"alias{i:06d}: __typename" for i in range(100_000)) + " }"
    body = json.dumps({"query": query}).encode()
    assert len(body) > 2_400_000

    async def abuse() -> tuple[int, Any, int]:
        return await _raw_post(live_server, suite_headers, body, len(body))

    (status, answer, sent), _ = await while_abused(live_server, suite_headers, abuse)
    assert status == 413
    assert _code(answer) == BAD_USER_INPUT
    assert sent < len(body) / 2

    async def within_the_body_limit() -> httpx.Response:
        async with httpx.AsyncClient(headers=suite_headers, timeout=30) as http:
            return await http.post(f"{live_server}/graphql", json={"query": aliases(10_000)})

    response, _ = await while_abused(live_server, suite_headers, within_the_body_limit)
    assert response.status_code == 200
    assert _code(response.json()) == BAD_USER_INPUT
    assert "GRASSROOTS_MAX_TOKENS" in response.json()["errors"][0]["message"]


async def test_a_14_mb_and_a_100_mb_body_are_answered_before_they_are_sent(
    live_server: str, suite_headers: dict[str, str]
) -> None:
    for size in (13_900_000, 100_000_000):
        head = b'{"query": "' + aliases(100).encode() + b' ", "x": "'
        body = head + b"a" * (4 << 20)  # what is sent at most: the server must answer long before

        async def abuse(size: int = size, body: bytes = body) -> tuple[int, Any, int]:
            return await _raw_post(live_server, suite_headers, body, size)

        (status, answer, sent), _ = await while_abused(live_server, suite_headers, abuse)
        assert status == 413, answer
        assert _code(answer) == BAD_USER_INPUT
        assert sent < 1 << 20, sent  # answered before even a megabyte of the declared size was sent


async def test_a_body_without_a_length_is_cut_at_the_limit(live_server: str, suite_headers: dict[str, str]) -> None:
    body = b'{"query": "{ __typename }", "x": "' + b"a" * (4 << 20)

    async def abuse() -> tuple[int, Any, int]:
        return await _raw_post(live_server, suite_headers, body, None)

    (status, answer, sent), _ = await while_abused(live_server, suite_headers, abuse)
    assert status == 413
    assert _code(answer) == BAD_USER_INPUT
    assert LIMITS.graphql_body < sent < 2 * LIMITS.graphql_body + (1 << 20), sent  # read just past the limit


async def test_1000_aliases_of_a_big_gaps_page_are_refused(live_server: str, suite_headers: dict[str, str]) -> None:
    """1,000 aliases of `gaps(first: 500)` (89 KB): past the token limit. The most aliases allowed, each a
    500-row page of a wide selection: past the cost budget. Neither reaches Neo4j."""
    page = 'gaps(scope: "%s", first: 500) { edges { node { entity { code name } community { name } rule } } }' % CITY
    thousand = aliases(1000, page)
    assert 80_000 < len(thousand) < LIMITS.graphql_body
    fifteen = aliases(
        LIMITS.aliases,
        page.replace(
            "rule",
            "kind rule source responsible { code name } grid { code name } street { code name } compound { code name }",
        ),
    )

    async def abuse() -> list[httpx.Response]:
        async with httpx.AsyncClient(headers=suite_headers, timeout=30) as http:
            return [await http.post(f"{live_server}/graphql", json={"query": q}) for q in (thousand, fifteen)]

    (tokens, costly), _ = await while_abused(live_server, suite_headers, abuse)
    assert _code(tokens.json()) == BAD_USER_INPUT
    error = costly.json()["errors"][0]
    assert error["extensions"]["code"] == QUERY_TOO_COMPLEX
    assert error["extensions"]["cost"] > LIMITS.cost


async def test_compounds_and_community_nested_7_and_8_deep_are_refused(
    live_server: str, suite_headers: dict[str, str]
) -> None:
    def nested(levels: int) -> str:
        inner = "code name"
        for level in reversed(range(levels - 1)):
            inner = ("compounds { %s }" if level % 2 == 0 else "community { %s }") % inner
        return '{ community(code: "%s") { %s } }' % (COMMUNITY, inner)

    async def abuse() -> list[httpx.Response]:
        async with httpx.AsyncClient(headers=suite_headers, timeout=30) as http:
            return [await http.post(f"{live_server}/graphql", json={"query": nested(n)}) for n in (7, 8)]

    answers, _ = await while_abused(live_server, suite_headers, abuse)
    for response in answers:
        assert len(response.request.content) < 400
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == QUERY_TOO_COMPLEX
        assert "GRASSROOTS_MAX_DEPTH" in error["message"]


async def test_nodes_with_10000_ids_is_refused_by_its_length(live_server: str, suite_headers: dict[str, str]) -> None:
    ids = [f"id{i}" for i in range(10_000)]  # short ids: the body stays under its limit

    async def abuse() -> httpx.Response:
        async with httpx.AsyncClient(headers=suite_headers, timeout=30) as http:
            query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
            return await http.post(f"{live_server}/graphql", json={"query": query, "variables": {"ids": ids}})

    response, _ = await while_abused(live_server, suite_headers, abuse)
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == BAD_USER_INPUT
    assert error["extensions"]["found"] == 10_000
    assert "nodes(ids:)" in error["message"]
