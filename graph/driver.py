"""The one async Neo4j driver of the process, and managed-transaction helpers around it.

Reads go through `execute_read` (routed to followers on a cluster), writes through
`execute_write`; both retry transient errors for at most NEO4J_MAX_RETRY_TIME seconds, so a
request fails fast with `GraphUnavailable` while the database is away, and the pool reconnects
by itself when it is back. A transaction running past NEO4J_QUERY_TIMEOUT is ended by Neo4j and raised as
`QueryTimeout`, naming the limit. One request's view of the driver, with its own limits, is `graph.bounds`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Concatenate, LiteralString, ParamSpec, TypeVar

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction, unit_of_work
from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from graph.fairness import DatabaseTime, FairTurns
from graph.password import neo4j_password
from graph.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")

Work = Callable[Concatenate[AsyncManagedTransaction, P], Awaitable[T]]

COMPONENTS: LiteralString = "CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition"
PING: LiteralString = "RETURN 1 AS ok"
#: Seconds a loader batch retries transient errors (deadlocks between partitions) before the load fails.
BATCH_RETRY_TIME = 60.0


class Rows(list[Any]):
    """A batch of rows as one statement parameter (`UNWIND $rows`): a list whose repr is its length.

    The driver formats every RUN's parameters for its debug log before the logger is asked whether debug
    is on (neo4j 6.4.1, `" ".join(map(repr, fields))`): a batch's full repr costs about as much as packing
    it. As a parameter it is packed as a plain list.
    """

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


#: Neo4j's codes for a transaction it ended because it ran past its time-out.
TIMED_OUT = frozenset(
    {
        "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
        "Neo.ClientError.Transaction.TransactionTimedOut",
    }
)


class QueryTimeout(RuntimeError):
    """A transaction ran past NEO4J_QUERY_TIMEOUT and Neo4j ended it; the message names the limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"查询超过 {seconds:g} 秒的时限,已终止 / The query ran past its {seconds:g} s limit (NEO4J_QUERY_TIMEOUT) "
            "and was stopped: narrow the scope or ask for less."
        )
        self.seconds = seconds


class GraphUnavailable(RuntimeError):
    """Neo4j cannot be reached now; the message says so in Chinese and English."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"图数据库暂不可用 / The graph database is unavailable: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class ServerInfo:
    """What `CALL dbms.components()` says about the server."""

    name: str
    versions: list[str]
    edition: str


class Graph:
    """Owns the driver; every query path of the service runs through `read` or `write`."""

    def __init__(self, settings: Settings, uri: str | None = None) -> None:
        self.settings = settings
        self.uri = uri or settings.effective_uri
        self.database = settings.neo4j_database
        self.query_timeout = settings.neo4j_query_timeout
        self.driver: AsyncDriver = AsyncGraphDatabase.driver(
            self.uri,
            auth=(settings.neo4j_user, neo4j_password(settings)),
            connection_timeout=settings.neo4j_connection_timeout,
            connection_acquisition_timeout=max(5.0, 2 * settings.neo4j_connection_timeout),
            max_transaction_retry_time=settings.neo4j_retry_time,
            max_connection_pool_size=settings.neo4j_pool_size,
            liveness_check_timeout=30.0,
            keep_alive=True,
            user_agent="grassroots-graph/0.1",
            notifications_min_severity="OFF",  # no server notifications: nothing to log per query
        )
        #: Transactions run so far: the N+1 tests count round trips with it.
        self.round_trips = 0
        #: One request's limits (`graph.bounds.RequestGraph`): read transactions, and transactions at once.
        self.max_round_trips = settings.max_round_trips
        self.request_concurrency = settings.request_concurrency
        #: Each account's database seconds, and the server-wide turns of requests' transactions (`graph.fairness`).
        self.db_time = DatabaseTime(settings.account_db_seconds, busy_per_minute=settings.account_db_seconds_busy)
        self.turns = FairTurns(settings.db_concurrency, self.db_time, settings.account_db_concurrency)
        #: True while the local Neo4j is known to be down (its supervisor says so): fail at once, don't connect.
        self.known_down: Callable[[], bool] = lambda: False

    async def read(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `work(tx, ...)` in a managed read transaction."""
        return await self._run(True, work, *args, **kwargs)

    async def write(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `work(tx, ...)` in a managed write transaction (one commit, retried as a whole)."""
        return await self._run(False, work, *args, **kwargs)

    async def write_batch(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A loader's batch: like `write`, but transient errors (a deadlock between two of a load's partitions)
        are retried for up to BATCH_RETRY_TIME seconds instead of failing the load."""
        return await self._run(False, work, *args, retry_time=BATCH_RETRY_TIME, **kwargs)

    async def read_rows(self, cypher: LiteralString, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """One named read query, its rows as dicts."""
        return await self.read(_rows, cypher, dict(params or {}))

    async def write_rows(self, cypher: LiteralString, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """One named write query, its rows as dicts."""
        return await self.write(_rows, cypher, dict(params or {}))

    async def _run(
        self,
        readonly: bool,
        work: Work[P, T],
        *args: P.args,
        retry_time: float | None = None,
        tx_timeout: float | None = None,
        **kwargs: P.kwargs,
    ) -> T:
        if self.known_down():
            raise GraphUnavailable("本地 Neo4j 正在重启 / the local Neo4j is restarting")
        timeout = self.query_timeout if tx_timeout is None else tx_timeout
        timed = unit_of_work(timeout=timeout)(work)
        self.round_trips += 1
        config: dict[str, Any] = {} if retry_time is None else {"max_transaction_retry_time": retry_time}
        try:
            async with self.driver.session(database=self.database, **config) as session:
                if readonly:
                    return await session.execute_read(timed, *args, **kwargs)
                return await session.execute_write(timed, *args, **kwargs)
        except (ServiceUnavailable, SessionExpired) as exc:
            raise GraphUnavailable(str(exc) or type(exc).__name__) from exc
        except Neo4jError as exc:
            if exc.code in TIMED_OUT:
                raise QueryTimeout(timeout) from exc
            raise
        except (DriverError, OSError) as exc:
            raise GraphUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def ping(self, within: float = 3.0) -> None:
        """Raise `GraphUnavailable` unless a query answers within `within` seconds."""
        try:
            await asyncio.wait_for(self.read_rows(PING), timeout=within)
        except TimeoutError as exc:
            raise GraphUnavailable(f"no answer within {within:.0f} s") from exc

    async def server_info(self) -> list[ServerInfo]:
        """The server's components (name, versions, edition)."""
        rows = await self.read_rows(COMPONENTS)
        return [ServerInfo(r["name"], list(r["versions"]), r["edition"]) for r in rows]

    async def close(self) -> None:
        """Close the pool."""
        await self.driver.close()


async def _rows(tx: AsyncManagedTransaction, cypher: LiteralString, params: dict[str, Any]) -> list[dict[str, Any]]:
    result = await tx.run(cypher, params)
    return [record.data() async for record in result]
