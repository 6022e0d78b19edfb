"""Abuse: a request naming another host (DNS rebinding: `Host: attacker.example`) is refused with 400 and reads
nothing, while normal requests beside it are answered 200 within 1 s (tests/abuse.py)."""

from __future__ import annotations

import asyncio

import httpx

from tests.abuse import while_abused

ME = {"query": "{ me { login } }"}


async def test_a_foreign_host_is_refused_while_siblings_are_served(
    live_server: str, suite_headers: dict[str, str]
) -> None:
    async def abuse() -> list[httpx.Response]:
        headers = {**suite_headers, "Host": "attacker.example"}
        async with httpx.AsyncClient(base_url=live_server, headers=headers, timeout=30) as http:
            answers = []
            for _ in range(20):
                answers.append(await http.post("/graphql", json=ME))
                answers.append(await http.get("/readyz"))
                await asyncio.sleep(0.02)
            return answers

    answers, siblings = await while_abused(live_server, suite_headers, abuse)
    assert len(answers) == 40
    assert {a.status_code for a in answers} == {400}
    assert not any("login" in a.text for a in answers)
    assert siblings.statuses
