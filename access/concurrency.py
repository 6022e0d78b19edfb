"""Requests in flight per account: past GRASSROOTS_ACCOUNT_CONCURRENCY, 429 with Retry-After.

The rule: one account cannot occupy the service. Its requests are counted from the moment they are signed in
(`access.web.RequireSignIn` put the caller in the scope, so this middleware sits inside it) until their response
is sent, body included (an audit download streams); one more is refused at once — `429 TOO_MANY_REQUESTS`,
`Retry-After`, a bilingual message, GraphQL-shaped on /graphql — and runs nothing. Other accounts are not
affected. With each request running at most GRASSROOTS_REQUEST_CONCURRENCY transactions at once (`graph.bounds`),
one account holds at most the product of the two of the NEO4J_POOL_SIZE connections.

An account that has used its share of the database for the minute (`graph.fairness`) is refused here too, before
its request is read: `429 RATE_LIMITED` with `Retry-After` — on the paths that spend database time
(`DATABASE_PATHS`: the API and the reports) only. The page and the IDEs read nothing from the graph, so they are
still served: the page then shows the API's refusal in its own words instead of a bare JSON answer.

A refusal is answered after a pause (`REFUSAL_PAUSE`, at most the Retry-After it gives) while the account has
fewer than `PAUSING` times its `limit` refusals pausing; past that, at once. A client that ignores Retry-After
and asks again at once costs the service one refusal a second per connection instead of hundreds: the pause is a
sleeping coroutine, it holds no turn, slot, connection to Neo4j or count in flight. The refused answer is the same.

Both refusals need only the login, so `access.web.RequireSignIn` asks `AccountLimits.refusal` as soon as the token
is checked, before the account is read from the graph: a client looping on refusals costs the service a token
check, not a database round trip (nor a parse and a plan). A refusal never lets anything through, so refusing on
the token's login is no weaker than on the account's (the same login: the account is found by it); a revoked
token of an account at its limits is told 429 instead of 401, and takes none of the account's slots. The check
after the account is read (`AccountConcurrency`) stays the one that counts: nothing awaits between it and the
count going up.

Kept in memory: one process serves the API.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from core.errors import RATE_LIMITED, TOO_MANY_REQUESTS
from graph.fairness import OverShare

log = logging.getLogger("grassroots.access")

#: Seconds a refused client is told to wait (its own requests in flight are usually done by then).
RETRY_AFTER = 1
#: Seconds a refusal waits before it is sent (at most its Retry-After).
REFUSAL_PAUSE = 1.0
#: Refusals one account may have pausing at once, as a multiple of its requests in flight (`limit`).
PAUSING = 4
#: Where a signed-in request spends database time (path prefixes): only these are refused for the share.
DATABASE_PATHS = ("/graphql", "/reports/")


class AccountLimits:
    """What one account may have: at most `limit` requests in flight, and its share of the database
    (`over_share`, None: no share to check); the requests in flight, counted by `AccountConcurrency`."""

    def __init__(
        self, limit: int, over_share: Callable[[str], OverShare | None] | None = None, pause: float = REFUSAL_PAUSE
    ) -> None:
        self.limit = limit
        self.over_share = over_share
        self.pause = pause
        self.in_flight: Counter[str] = Counter()
        self.pausing: Counter[str] = Counter()

    def refusal(self, login: str, path: str) -> ASGIApp | None:
        """The 429 answer when `login` is over its share or has `limit` requests in flight (logged), else None."""
        over_share = self.over_share if path.startswith(DATABASE_PATHS) else None
        refused = over_share(login) if over_share is not None else None
        if refused is not None:
            log.warning("account_share_refused login=%s limit_s=%g path=%s", login, refused.limit, path)
            retry = refused.retry_after
            return self._paused(login, _refusal(path, RATE_LIMITED, str(refused), retry), retry)
        if self.in_flight[login] >= self.limit:
            log.warning("account_concurrency_refused login=%s limit=%d path=%s", login, self.limit, path)
            return self._paused(login, too_many(path, self.limit), RETRY_AFTER)
        return None

    def _paused(self, login: str, response: Response, retry_after: int) -> ASGIApp:
        """`response`, sent after `pause` seconds (at most its `retry_after`) while `login` has fewer than `PAUSING`
        times `limit` refusals pausing, else at once."""
        pause = min(self.pause, retry_after)
        if pause <= 0 or self.pausing[login] >= PAUSING * self.limit:
            return response
        pausing = self.pausing

        async def paused(scope: Scope, receive: Receive, send: Send) -> None:
            pausing[login] += 1
            try:
                await asyncio.sleep(pause)
            finally:
                pausing[login] -= 1
                if not pausing[login]:
                    del pausing[login]
            await response(scope, receive, send)

        return paused


class AccountConcurrency:
    """ASGI middleware: at most `limits.limit` requests in flight per signed-in account; requests without a caller
    (the open paths) pass uncounted."""

    def __init__(self, app: ASGIApp, limits: AccountLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = scope.get("state", {}).get("caller") if scope["type"] == "http" else None
        if caller is None:
            await self.app(scope, receive, send)
            return
        login = caller.login
        refused = self.limits.refusal(login, scope["path"])
        if refused is not None:
            await refused(scope, receive, send)
            return
        in_flight = self.limits.in_flight
        in_flight[login] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            in_flight[login] -= 1
            if not in_flight[login]:
                del in_flight[login]


def too_many(path: str, limit: int) -> JSONResponse:
    """The 429 answer to one request too many in flight."""
    message = (
        f"该账号同时进行的请求已达上限 {limit} 个,请稍后重试 / This account already has {limit} requests in flight "
        f"(GRASSROOTS_ACCOUNT_CONCURRENCY): retry in {RETRY_AFTER} s."
    )
    return _refusal(path, TOO_MANY_REQUESTS, message, RETRY_AFTER)


def _refusal(path: str, code: str, message: str, retry_after: int) -> JSONResponse:
    """A 429 answer: GraphQL-shaped on /graphql, the reports' shape elsewhere."""
    extensions: dict[str, object] = {"code": code} | ({"retryAfter": retry_after} if code == RATE_LIMITED else {})
    if path.startswith("/graphql"):
        body: dict[str, object] = {"errors": [{"message": message, "extensions": extensions}]}
    else:
        body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=429, headers={"Retry-After": str(retry_after)})
