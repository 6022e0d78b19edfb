"""Writing a sheet's rows a batch at a time, in partitions written concurrently.

Neo4j commits one transaction per batch; one writer at a time leaves one of two cores idle. So a first
load splits a sheet's rows into `PARTITIONS` by community: a community's rows share their parents
(buildings, central households...), so transactions of different partitions never wait on each other's
locks. Each partition's batches are written one after another; the partitions at once.

Thread ownership, the rule every `BatchWriter` keeps:
- `prepare` (building a batch's payload) runs in a thread of its own, one batch ahead of the writes, so a
  partition's next batch is ready when its last one commits. It may read what was complete before
  `write_batches` started (the plan, earlier sheets' node ids) and the batch it is given — never what
  `send` records during the run.
- `send` (writing a prepared batch) runs in the event loop, one at a time per partition; all state that
  changes during the run is `send`'s.
"""

from __future__ import annotations

import asyncio
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

#: Rows per transaction (`grassroots load --batch-size`).
BATCH = 10_000
#: Partitions a first load writes at once (one per core of a two-core machine).
PARTITIONS = 2

R = TypeVar("R")  # a row as the writer reads it: a `Row`, or a node sheet's `Record`
P = TypeVar("P")  # a prepared batch


class BatchWriter(ABC, Generic[R, P]):
    """Prepares and sends a sheet's batches; `prepare` and `send` keep the module's thread ownership rule."""

    @abstractmethod
    def prepare(self, batch: list[R]) -> P:
        """A batch's payload. Runs in the preparing thread: reads only what was complete before the run."""

    @abstractmethod
    async def send(self, prepared: P) -> None:
        """Write a prepared batch. Runs in the event loop: owns the state that changes during the run."""


def partition(rows: Iterable[R], size: int, count: int, key: Callable[[R], str]) -> Iterator[tuple[int, list[R]]]:
    """Rows split into `count` partitions by `key` (a community, else a code): (partition, batch of `size`)
    as each batch fills. Deterministic (CRC-32, not `hash`): a re-run splits the same way."""
    buffers: list[list[R]] = [[] for _ in range(count)]
    part_of: dict[str, int] = {}  # a city's two million households share 515 communities
    for row in rows:
        name = key(row)
        part = part_of.get(name)
        if part is None:
            part = part_of[name] = zlib.crc32(name.encode()) % count
        buffer = buffers[part]
        buffer.append(row)
        if len(buffer) >= size:
            yield part, buffer
            buffers[part] = []
    for part, buffer in enumerate(buffers):
        if buffer:
            yield part, buffer


def partitions(rows: Iterable[R], size: int, count: int, key: Callable[[R], str]) -> list[list[list[R]]]:
    """Every partition's batches, as `partition` hands them out (partitions with no rows left out)."""
    out: list[list[list[R]]] = [[] for _ in range(count)]
    for part, batch in partition(rows, size, count, key):
        out[part].append(batch)
    return [batches for batches in out if batches]


async def write_batches(
    rows: Iterable[R], writer: BatchWriter[R, Any], *, size: int, count: int, key: Callable[[R], str]
) -> None:
    """`writer.send` every batch as `writer.prepare` made it: `count` partitions at once, each in order.

    Rows are split as they stream in (a spilled sheet is read back a chunk at a time). Splitting and
    preparing run in one thread: done in the event loop they held it for tens of milliseconds a batch,
    and a partition whose batch committed meanwhile left its Neo4j worker idle. A failing batch cancels
    the rest. More than one partition is for a first load (nodes created, links added): rewriting nodes
    that exist takes `count=1`, since replacing their links from two partitions can wait on each other's
    locks through shared parents (a unit, a company) until the transaction times out.
    """
    queues: list[asyncio.Queue[Any]] = [asyncio.Queue(maxsize=2) for _ in range(count)]
    done = object()

    async def write(queue: asyncio.Queue[Any]) -> None:
        while (batch := await queue.get()) is not done:
            await writer.send(batch)

    batches = partition(rows, size, count, key)

    def step() -> tuple[int, Any] | None:
        for part, batch in batches:
            return part, writer.prepare(batch)
        return None

    loop = asyncio.get_running_loop()
    # leaving the `with` waits for a step still running after a failure: the plan is not closed under it
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="grassroots-prepare") as preparing:

        async def feed() -> None:
            while (item := await loop.run_in_executor(preparing, step)) is not None:
                await queues[item[0]].put(item[1])
            for queue in queues:
                await queue.put(done)

        tasks = [asyncio.ensure_future(feed()), *(asyncio.ensure_future(write(q)) for q in queues)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise


def release(*payloads: list[Any]) -> None:
    """Empty written batches' payloads. The driver's finished transaction keeps its parameters in a
    reference cycle, which only the cyclic collector frees — and a load pauses it: without this, every
    batch's rows would stay in memory to the end."""
    for payload in payloads:
        payload.clear()
