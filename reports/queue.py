"""Audit workbook builds, server-wide: a few at a time, a few more waiting, the rest refused with Retry-After.

The rule: building a workbook reads a whole scope's coverage and gaps and writes every row (seconds of Neo4j and
CPU for a city), so however many downloads arrive at once, at most GRASSROOTS_AUDIT_BUILDS are built at the same
time. Up to GRASSROOTS_AUDIT_QUEUE more wait for a slot, each at most GRASSROOTS_AUDIT_WAIT seconds; a download
arriving to a full queue, or waiting longer, is answered `429 TOO_MANY_REQUESTS` with `Retry-After` (`Busy`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from graph.settings import Settings

log = logging.getLogger("grassroots.reports")

#: Seconds a refused download is told to wait before it asks again.
RETRY_AFTER = 5


class Busy(Exception):
    """No build slot now; the message says so in Chinese and English, `retry_after` in seconds."""

    def __init__(self, builds: int) -> None:
        super().__init__(
            f"审计报告生成繁忙(同时最多 {builds} 份),请 {RETRY_AFTER} 秒后重试 / Audit workbooks are busy (at most "
            f"{builds} built at once, GRASSROOTS_AUDIT_BUILDS): retry in {RETRY_AFTER} s."
        )
        self.retry_after = RETRY_AFTER


class BuildQueue:
    """At most `builds` builds at once; at most `waiting` more wait, each up to `wait` seconds."""

    def __init__(self, builds: int, waiting: int, wait: float) -> None:
        self.builds = builds
        self.max_waiting = waiting
        self.wait = wait
        self.waiting = 0
        self.running = 0
        self._slots = asyncio.Semaphore(builds)

    @classmethod
    def from_settings(cls, settings: Settings) -> BuildQueue:
        """The queue GRASSROOTS_AUDIT_BUILDS, GRASSROOTS_AUDIT_QUEUE and GRASSROOTS_AUDIT_WAIT describe."""
        return cls(settings.audit_builds, settings.audit_queue, settings.audit_wait)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a build slot for the block; `Busy` when the queue is full or the wait runs out."""
        if self._slots.locked() and self.waiting >= self.max_waiting:
            log.warning("audit_build_refused reason=queue_full builds=%d waiting=%d", self.builds, self.waiting)
            raise Busy(self.builds)
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait)
        except TimeoutError:
            log.warning("audit_build_refused reason=waited wait_s=%g builds=%d", self.wait, self.builds)
            raise Busy(self.builds) from None
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            self._slots.release()
