"""The traffic benchmark's abusive client: one account sending over-budget requests in a loop (issue 22's table).

It runs in its own process (`run_process`), so its own CPU (building and sending megabytes) does not stall the
users' event loop in the benchmark's process; it shares the machine with them, as an abuser would. Each kind of
abuse is a loop of its own, one request in flight at a time, all kinds at once, plus a flood of `FLOOD` loops of
legitimate-but-heavy requests from the same account:

- `aliases`: 100,000 `__typename` aliases (2.4 MB);
- `deep`: `compounds`/`community` nested 8 deep under a community, each time with a new alias (a new plan);
- `gaps`: 1,000 aliases of `gaps(first: 500)` over the whole city (89 KB);
- `ids`: `nodes(ids:)` with 10,000 ids (the drawing's ids, repeated);
- `body`: a 100 MB body, streamed (the client never holds it);
- `flood`: `FLOOD` loops at once of the page's drawing of a street and a city's first 500 gaps.

Each request's outcome is counted per kind (status and error code, or the exception's name) with its seconds;
the counts come back to the benchmark as a JSON-ready dict.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

import httpx

from bench.crowd import NETWORK, _code_of

ALIASES = 100_000
DEEP = 8
GAP_ALIASES = 1_000
IDS = 10_000
BODY_MB = 100
FLOOD = 8
#: Seconds each loop pauses after an answer (a refusal included) before it sends again.
PAUSE = 0.1
#: The summary's key for the abuser process's own CPU seconds.
CPU = "_cpu_s"
#: The abuser waits this long for an answer (the service's own transaction timeout is 60 s).
TIMEOUT = 90.0


@dataclass(frozen=True)
class Target:
    """What the abuser needs: the service, its own account's headers, the city, a street, a community, node ids."""

    base_url: str
    headers: dict[str, str]
    city: str
    street: str
    community: str
    ids: tuple[str, ...]


def alias_query() -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(ALIASES)) + " }"


def deep_query(community: str, n: int) -> str:
    """`compounds { community { compounds { … } } }` DEEP levels under a community; `n` makes the shape new."""
    inner = f"x{n}: name"
    for _ in range(DEEP):
        inner = f"compounds {{ community {{ {inner} }} }}"
    return f'{{ community(code: "{community}") {{ {inner} }} }}'


def gaps_query(city: str) -> str:
    field = f'gaps(scope: "{city}", first: 500) {{ edges {{ node {{ entity {{ code }} }} }} }}'
    return "{ " + " ".join(f"g{i}: {field}" for i in range(GAP_ALIASES)) + " }"


def ids_query(ids: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    many = [ids[i % len(ids)] for i in range(IDS)] if ids else [f"x{i}" for i in range(IDS)]
    return "query($ids: [ID!]!) { nodes(ids: $ids) { code } }", {"ids": many}


async def _huge_body() -> AsyncIterator[bytes]:
    """A JSON body that is valid all the way but BODY_MB long: `{"query": "{ __typename }", "pad": "xxx…"}`."""
    yield b'{"query": "{ __typename }", "pad": "'
    chunk = b"x" * 2**20
    for _ in range(BODY_MB):
        yield chunk
    yield b'"}'


def _outcome(response: httpx.Response) -> str:
    try:
        code = _code_of(response.json())
    except ValueError:
        code = ""
    return f"{response.status_code} {code}".rstrip()


class Abuser:
    """The loops; `counts[kind][outcome]` and `seconds[kind]` fill as answers come."""

    def __init__(self, target: Target) -> None:
        self.t = target
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.seconds: dict[str, list[float]] = defaultdict(list)

    async def _loop(self, kind: str, client: httpx.AsyncClient, send: Callable[[int], Any], stop: MpEvent) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            start = time.perf_counter()
            try:
                response = await send(n)
                outcome = _outcome(response)
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            except asyncio.CancelledError:
                self.counts[kind]["unanswered"] += 1
                raise
            self.counts[kind][outcome] += 1
            self.seconds[kind].append(time.perf_counter() - start)
            await asyncio.sleep(PAUSE)

    async def run(self, stop: MpEvent) -> None:
        t = self.t
        aliases, gaps = alias_query(), gaps_query(t.city)
        ids, id_vars = ids_query(t.ids)
        limits = httpx.Limits(max_connections=FLOOD + 8, max_keepalive_connections=FLOOD + 8)
        async with httpx.AsyncClient(base_url=t.base_url, headers=t.headers, timeout=TIMEOUT, limits=limits) as c:

            def post(query: str, variables: dict[str, Any] | None = None) -> Any:
                return c.post("/graphql", json={"query": query, "variables": variables or {}})

            def flood(n: int) -> Any:
                if n % 2:
                    variables = {"root": t.street, "depth": 5, "max": 2000, "households": False}
                    return post(NETWORK, variables)
                first = f'{{ gaps(scope: "{t.city}", first: 500) {{ totalCount edges {{ node {{ entity {{ code }} }} }} }} }}'
                return post(first)

            loops: dict[str, Callable[[int], Any]] = {
                "aliases": lambda n: post(aliases),
                "deep": lambda n: post(deep_query(t.community, n)),
                "gaps": lambda n: post(gaps),
                "ids": lambda n: post(ids, id_vars),
                "body": lambda n: c.post(
                    "/graphql", content=_huge_body(), headers={"content-type": "application/json"}
                ),
            }
            tasks = [asyncio.ensure_future(self._loop(k, c, f, stop)) for k, f in loops.items()]
            tasks += [asyncio.ensure_future(self._loop("flood", c, flood, stop)) for _ in range(FLOOD)]
            await asyncio.to_thread(stop.wait)
            # Answers still awaited when the phase ends are not waited for: counted as `unanswered`.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def summary(self) -> dict[str, Any]:
        return {
            kind: {"sent": sum(c.values()), "outcomes": dict(c), "median_s": _median(self.seconds[kind])}
            for kind, c in sorted(self.counts.items())
        }


def _median(values: list[float]) -> float | None:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else None


def _main(target: Target, stop: MpEvent, out: Any) -> None:
    abuser = Abuser(target)
    try:
        asyncio.run(abuser.run(stop))
    finally:
        # its own CPU: on one machine, the client's work is taken from the service and Neo4j too
        out.put({**abuser.summary(), CPU: time.process_time()})


class AbuserProcess:
    """The abuser in its own (spawned) process: `start()`, then `stop()` returns its counts."""

    def __init__(self, target: Target) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._stop = ctx.Event()
        self._out = ctx.Queue()
        self._proc = ctx.Process(target=_main, args=(target, self._stop, self._out), name="bench-abuser", daemon=True)

    def start(self) -> None:
        self._proc.start()

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        try:
            summary = self._out.get(timeout=30)
        except Exception:  # a dead abuser reports nothing
            summary = {}
        self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        return summary
