"""The traffic benchmark's users (bench/crowd.py) send what the page sends, and the live server answers all of it
(the small city loaded).

`python -m bench traffic` measures with these requests; if the page's documents or the API drift, this fails
here, in seconds, rather than in a benchmark run of minutes on the city profile.
"""

from __future__ import annotations

import random
from typing import Any

import httpx

from bench.crowd import Crowd, Recorder, User


async def test_a_benchmark_user_does_each_action_and_every_request_is_answered_well(
    small: dict[str, Any], live_server: str, suite_headers: dict[str, str]
) -> None:
    recorder = Recorder()
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as client:
        people = Crowd(client, [], recorder, think=0.0)
        user = User("suite-admin", suite_headers, audits=True, rng=random.Random(7))
        await people.load_page(user)
        assert user.communities, f"no community to open: {[(s.name, s.outcome) for s in recorder.samples]}"
        await people.open_scope(user, community=True)  # a street's drawing costs seconds on a busy host
        for action in (people.grids, people.search, people.details, people.expand):
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
