"""One request's view of the shared driver: a cap on its read transactions, and on its transactions at once.

The rule: one request may neither run without end nor take the whole connection pool. A GraphQL request reads
through `Context.graph`, which is a `RequestGraph` over the process's one `Graph` (same driver, same pool):

- every read transaction is counted; the one past GRASSROOTS_MAX_ROUND_TRIPS is refused before it reaches
  Neo4j (`TooManyRoundTrips`, the cap named), so a thousand aliases cost at most that many reads;
- at most GRASSROOTS_REQUEST_CONCURRENCY of its transactions run at once; the others wait their turn inside
  the request, so a request with many aliases holds a few pooled connections, never all NEO4J_POOL_SIZE.

- a request made for an account (`account`) also takes a server-wide turn per transaction, least-used account
  first, and is refused once the account has used its database seconds of the minute (`graph.fairness`).

Writes are never refused by the count (a mutation's commit, and the access record written after a response
that showed personal data, must not be lost to it) but take their turn like reads.
"""

from __future__ import annotations

import asyncio
import time

from graph.driver import Graph, P, QueryTimeout, T, Work


class TooManyRoundTrips(RuntimeError):
    """A request asked for more read transactions than its cap; the message names the cap."""

    def __init__(self, cap: int) -> None:
        super().__init__(
            f"请求所需的数据库查询超过上限 {cap} 次 / The request needs more than {cap} database round trips "
            "(GRASSROOTS_MAX_ROUND_TRIPS): ask for fewer root fields or aliases at once."
        )
        self.cap = cap


def for_request(graph: Graph, account: str | None = None) -> RequestGraph:
    """`graph` as one request made for `account` (None: the service's own) sees it (a request's view stays
    itself)."""
    return graph if isinstance(graph, RequestGraph) else RequestGraph(graph, account=account)


class RequestGraph(Graph):
    """The shared `Graph` as one request sees it: its driver and pool, this request's count and turns.

    `round_trips` is the request's own count; the shared graph counts every transaction too.
    """

    def __init__(
        self,
        shared: Graph,
        max_round_trips: int | None = None,
        concurrency: int | None = None,
        account: str | None = None,
    ) -> None:
        # No Graph.__init__: the driver (and everything it configured) is the shared one's.
        self.shared = shared
        self.settings = shared.settings
        self.uri = shared.uri
        self.database = shared.database
        self.query_timeout = shared.query_timeout
        self.driver = shared.driver
        self.max_round_trips = shared.max_round_trips if max_round_trips is None else max_round_trips
        self.request_concurrency = shared.request_concurrency if concurrency is None else concurrency
        self.db_time = shared.db_time
        self.turns = shared.turns
        self.account = account
        self.round_trips = 0
        self.reads = 0
        self._turns = asyncio.Semaphore(self.request_concurrency)

    async def _run(
        self,
        readonly: bool,
        work: Work[P, T],
        *args: P.args,
        retry_time: float | None = None,
        tx_timeout: float | None = None,
        **kwargs: P.kwargs,
    ) -> T:
        if readonly:
            if self.reads >= self.max_round_trips:
                raise TooManyRoundTrips(self.max_round_trips)
            self.reads += 1
        self.round_trips += 1
        async with self._turns:
            if self.account is None:
                return await self.shared._run(
                    readonly, work, *args, retry_time=retry_time, tx_timeout=tx_timeout, **kwargs
                )
            if readonly:
                self.db_time.check(self.account)
            await self.turns.acquire(self.account)
            start, running = time.monotonic(), self.turns.running
            if readonly:
                tx_timeout = self.db_time.timeout(self.account, tx_timeout or self.query_timeout, self.turns.wall)
            try:
                return await self.shared._run(
                    readonly, work, *args, retry_time=retry_time, tx_timeout=tx_timeout, **kwargs
                )
            except QueryTimeout:
                if readonly and tx_timeout is not None and tx_timeout < self.query_timeout:
                    raise self.db_time.refusal(self.account) from None  # stopped at the end of its share
                raise
            finally:
                self.db_time.charge(self.account, self.turns.cost(time.monotonic() - start, running))
                self.turns.release(self.account)

    async def close(self) -> None:
        """Nothing to close: the pool is the shared graph's."""
