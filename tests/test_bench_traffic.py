"""The traffic benchmark's users (bench/crowd.py) send what the page sends, and the live server answers all of it.

`python -m bench traffic` measures with these requests; if the page's documents or the API drift, this fails
here, in seconds, rather than in a benchmark run of minutes on the city profile.
"""

from __future__ import annotations

import random

import httpx

from bench.crowd import Crowd, Recorder, User


async def test_a_benchmark_user_does_each_action_and_every_request_is_answered_well(
    live_server: str, suite_headers: dict[str, str]
) -> None:
    recorder = Recorder()
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as client:
        people = Crowd(client, [], recorder, think=0.0)
        user = User("suite-admin", suite_headers, audits=True, rng=random.Random(7))
        await people.load_page(user)
        assert user.communities, "the area tree gave the user no community to open"
        for action in (people.open_scope, people.grids, people.search, people.details, people.expand):
            await action(user)
        for _ in range(3):
            await people.api(user)
        await people.audit(user)
    failed = [(s.name, s.outcome) for s in recorder.samples if not s.ok]
    assert failed == []
    names = {s.name for s in recorder.samples}
    assert {"page: area tree", "page: a community's grids", "page: search"} <= names
    assert any(n.startswith("page: coverage of a") for n in names)
    assert any(n.startswith("audit.xlsx of a") for n in names)
    assert any(n.startswith("api: ") for n in names)
    assert recorder.in_flight == 0
