"""The abuse suite's one measure: while an abusive request runs against the live server, a normal request sent
beside it is still answered, and quickly (issue 22: "one request must never stall the service").

Each abuse test (tests/test_abuse_*.py) sends its abuse through `while_abused` and asserts the refusal it
expects; `while_abused` asserts the siblings' answers themselves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

#: A sibling request must be answered within this many seconds while the abuse runs.
SIBLING_LIMIT = 1.0
#: A normal request beside the abuse: the signed-in caller's own account, read from the graph.
SIBLING_QUERY = "{ me { login } }"

T = TypeVar("T")


@dataclass
class Siblings:
    """The normal requests sent while the abuse ran: each one's seconds and status."""

    seconds: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    @property
    def slowest(self) -> float:
        return max(self.seconds, default=0.0)


async def _sibling(base_url: str, headers: dict[str, str], path: str) -> tuple[float, int]:
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:
        start = time.perf_counter()
        if path == "/graphql":
            response = await http.post(path, json={"query": SIBLING_QUERY})
        else:
            response = await http.get(path)
        return time.perf_counter() - start, response.status_code


async def while_abused(
    base_url: str,
    headers: dict[str, str],
    abuse: Callable[[], Awaitable[T]],
    *,
    paths: tuple[str, ...] = ("/healthz", "/graphql"),
    every: float = 0.2,
    limit: float = SIBLING_LIMIT,
) -> tuple[T, Siblings]:
    """Run `abuse()` and, beside it, a normal request to each of `paths` every `every` seconds until it ends.

    Returns the abuse's own result and the siblings; asserts that at least one sibling of each path was
    sent, that every one was answered 200, and that none took longer than `limit` seconds."""
    siblings = Siblings()
    task = asyncio.ensure_future(abuse())
    await asyncio.sleep(0.05)  # let the abuse reach the server first
    while True:
        for path in paths:
            seconds, status = await _sibling(base_url, headers, path)
            siblings.seconds.append(seconds)
            siblings.statuses.append(status)
        if task.done():
            break
        await asyncio.sleep(every)
    result = await task
    assert siblings.seconds, "no sibling request was sent"
    assert all(s == 200 for s in siblings.statuses), f"sibling statuses {siblings.statuses}"
    assert siblings.slowest <= limit, f"a sibling took {siblings.slowest:.2f} s (limit {limit} s): {siblings.seconds}"
    return result, siblings
