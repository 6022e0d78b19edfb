"""Request limits before execution: what one request may ask of the service, checked before it runs.

In the order a request meets them (each refusal bilingual, naming the limit and the value):

1. **body and query string** (`BodyLimit`, an ASGI middleware in front of every route): a body whose declared
   `Content-Length` is over the limit is answered 413 before a byte of it is read; a body sent without one
   (chunked) is read only until it passes the limit, then answered 413; a query string over its limit is
   answered 414. `/graphql` answers GraphQL-shaped (`errors[0].extensions.code` `BAD_USER_INPUT`), the other
   routes `{"error": {"code", "message"}}`. Any answer (these, or a refusal further in: 401, 429) sent while
   more than `UNREAD_BODY` bytes (4 MiB, or the body limit when larger) of its request's body may still come
   says `Connection: close`: the connection is closed a moment (`LINGER`) after it, and what the client still
   sends is never read — otherwise the server reads, parses and drops the rest of the body (≈ 50 ms of CPU per
   100 MB), however early it answered.
2. **tokens**: the parser stops at `max_tokens` (strawberry's `MaxTokensLimiter`, graphql-core's `max_tokens`),
   so parsing is bounded whatever the document's size.
3. **list arguments and cost** (`schema.cost`), before validation: a list argument over `max_list_items`
   (`BAD_USER_INPUT`), or a cost over `max_cost` (`QUERY_TOO_COMPLEX`). The cost walk is linear in the
   document (fragments priced once), and a document within the budget expands to a bounded number of fields —
   which is what keeps the validation rules below (they walk fragments where they are spread) bounded too.
4. **validation**, cached: the GraphQL rules, strawberry's `MaxAliasesLimiter` and `QueryDepthLimiter`
   (`QUERY_TOO_COMPLEX`).
5. **the account's budget per minute** (`Budget`: the `limits` package's sliding-window counter, in memory,
   keyed by login): a request whose cost would take the account's spending in the last minute over
   `cost_per_minute` is refused `RATE_LIMITED`, with `extensions.retryAfter` in seconds. A sliding window
   counter rather than `limits`' moving window: the moving window keeps one entry per unit spent (millions
   per account per minute here), the counter two numbers.

A client sending `X-Grassroots-Cost: 1` gets `extensions.cost` in the answer: the request's cost, the
per-request budget and, for an account, its budget per minute and what remains of it.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from core.errors import BAD_USER_INPUT, QUERY_TOO_COMPLEX, RATE_LIMITED
from graph.settings import Settings
from schema.cost import CostModel, Refused

#: The request header asking for `extensions.cost` in the answer.
COST_HEADER = "x-grassroots-cost"


@dataclass(frozen=True)
class Limits:
    """The limits' values (graph/settings.py, section "Request limits"; README lists each with its default)."""

    graphql_body: int = 256 * 1024
    form_body: int = 16 * 1024
    query_string: int = 16 * 1024
    tokens: int = 2000
    aliases: int = 15
    depth: int = 6
    list_items: int = 100
    cost: int = 150_000
    cost_per_minute: int = 2_000_000

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            graphql_body=settings.max_graphql_body,
            form_body=settings.max_form_body,
            query_string=settings.max_query_string,
            tokens=settings.max_tokens,
            aliases=settings.max_aliases,
            depth=settings.max_depth,
            list_items=settings.max_list_items,
            cost=settings.max_cost,
            cost_per_minute=settings.cost_per_minute,
        )


# ---------------------------------------------------------------- bilingual refusals


def _error(message: str, code: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


def too_many_tokens(limit: int) -> GraphQLError:
    return _error(
        f"查询过长:超过 {limit} 个词法单元 / The query is too long: more than {limit} tokens (GRASSROOTS_MAX_TOKENS).",
        BAD_USER_INPUT,
        limit=limit,
    )


def too_many_aliases(found: int, limit: int) -> GraphQLError:
    return _error(
        f"查询别名过多:{found} 个,上限 {limit} 个 / The query uses too many aliases: {found}, at most {limit} "
        "(GRASSROOTS_MAX_ALIASES).",
        QUERY_TOO_COMPLEX,
        limit=limit,
        found=found,
    )


def too_deep(limit: int) -> GraphQLError:
    return _error(
        f"查询嵌套过深:超过 {limit} 层 / The query nests too deep: more than {limit} levels (GRASSROOTS_MAX_DEPTH).",
        QUERY_TOO_COMPLEX,
        limit=limit,
    )


def too_long_list(found: int, limit: int, where: str) -> GraphQLError:
    return _error(
        f"列表参数过长:{where} 有 {found} 项,上限 {limit} 项 / A list argument is too long: {where} holds {found} "
        f"items, at most {limit} (GRASSROOTS_MAX_LIST_ITEMS).",
        BAD_USER_INPUT,
        limit=limit,
        found=found,
    )


def too_costly(cost: int, limit: int) -> GraphQLError:
    return _error(
        f"查询过于复杂:预计成本 {cost:,},单次上限 {limit:,}(请缩小范围、减少嵌套或每页条数) / The query is too "
        f"complex: its expected cost is {cost:,}, the budget per request {limit:,} (GRASSROOTS_MAX_COST): narrow "
        "the scope, nest less or ask for smaller pages.",
        QUERY_TOO_COMPLEX,
        cost=cost,
        budget=limit,
    )


def rate_limited(cost: int, limit: int, retry_after: int) -> GraphQLError:
    return _error(
        f"请求过于频繁:本账号每分钟查询成本上限 {limit:,},本次 {cost:,},请 {retry_after} 秒后重试 / Too many "
        f"requests: this account may spend {limit:,} per minute (GRASSROOTS_COST_PER_MINUTE), this request costs "
        f"{cost:,}: retry in {retry_after} s.",
        RATE_LIMITED,
        cost=cost,
        budget=limit,
        retryAfter=retry_after,
    )


#: strawberry's and graphql-core's own messages for the limits they enforce, and ours in their place.
_EXPLAINED: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], GraphQLError]], ...] = (
    (re.compile(r"Document contains more than (\d+) tokens"), lambda m: too_many_tokens(int(m[1]))),
    (re.compile(r"^(\d+) aliases found\. Allowed: (\d+)$"), lambda m: too_many_aliases(int(m[1]), int(m[2]))),
    (re.compile(r"exceeds maximum operation depth of (\d+)$"), lambda m: too_deep(int(m[1]))),
)


def explain(error: GraphQLError) -> GraphQLError:
    """A library's limit error as ours (bilingual, with a code); any other error as it is."""
    if (error.extensions or {}).get("code"):
        return error
    for pattern, make in _EXPLAINED:
        match = pattern.search(error.message)
        if match:
            ours = make(match)
            return GraphQLError(ours.message, error.nodes, error.source, error.positions, extensions=ours.extensions)
    return error


# ---------------------------------------------------------------- the account's budget per minute


class Budget:
    """What each account may spend per minute: `limits`' sliding-window counter in this process's memory."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.item = RateLimitItemPerMinute(max(per_minute, 1))
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    def spend(self, login: str, cost: int) -> int | None:
        """Spend `cost` from `login`'s budget: None when it fits, else the seconds to wait before retrying."""
        if self.per_minute <= 0 or self.limiter.hit(self.item, login, cost=max(cost, 1)):
            return None
        reset, _remaining = self.limiter.get_window_stats(self.item, login)
        return min(60, max(1, math.ceil(reset - time.time())))

    def remaining(self, login: str) -> int:
        return self.limiter.get_window_stats(self.item, login)[1]


# ---------------------------------------------------------------- the schema extensions


class Pricing:
    """The cost model, made once the schema exists (`attach`), shared by every request to that schema."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.budget = Budget(limits.cost_per_minute)
        self.model: CostModel | None = None

    def attach(self, schema: Any) -> None:
        self.model = CostModel(schema, max_list_items=self.limits.list_items)


class LimitedParserCache(ParserCache):
    """strawberry's `ParserCache`, with the parser's token limit refused in our terms (a parse error is raised
    from this hook, outside the operation's error handling: it has to be ours already)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        except GraphQLError as error:
            raise explain(error) from None
        yield


class RequestLimits(ValidationCache):
    """Prices the request before validation, validates (cached), charges the account; names refusals in its
    terms (tokens, aliases, depth) and answers `extensions.cost` when asked (`X-Grassroots-Cost: 1`)."""

    def __init__(self, pricing: Pricing, cache_size: int) -> None:
        super().__init__(maxsize=cache_size)
        self.pricing = pricing
        self.cost: int | None = None

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [explain(e) for e in result.errors]

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        refusal = self._price()
        if refusal is None:
            errors = self.cached_validate_document(
                context.schema._schema, context.graphql_document, context.validation_rules
            )
            if not errors:
                refusal = self._charge()
            context.pre_execution_errors = [refusal] if refusal else errors
        else:
            context.pre_execution_errors = [refusal]
        yield

    def _price(self) -> GraphQLError | None:
        context = self.execution_context
        model, limits = self.pricing.model, self.pricing.limits
        document = context.graphql_document
        operation = _operation(document, context.operation_name)
        if model is None or operation is None:
            return None  # no single operation to run: execution says so
        try:
            self.cost = model.cost(document, operation, context.variables)
        except Refused as refused:
            return too_long_list(refused.found, refused.allowed, refused.where)
        if self.cost > limits.cost:
            return too_costly(self.cost, limits.cost)
        return None

    def _login(self) -> str | None:
        caller = getattr(self.execution_context.context, "caller", None)
        return getattr(caller, "login", None)

    def _charge(self) -> GraphQLError | None:
        login, budget = self._login(), self.pricing.budget
        if login is None or self.cost is None:
            return None
        wait = budget.spend(login, self.cost)
        return None if wait is None else rate_limited(self.cost, budget.per_minute, wait)

    def get_results(self) -> dict[str, Any]:
        request = getattr(self.execution_context.context, "request", None)
        headers = getattr(request, "headers", None)
        if self.cost is None or headers is None or headers.get(COST_HEADER, "") in ("", "0", "false"):
            return {}
        limits, login = self.pricing.limits, self._login()
        answer: dict[str, Any] = {"requested": self.cost, "budget": limits.cost}
        if login is not None and limits.cost_per_minute > 0:
            answer["perMinute"] = {"budget": limits.cost_per_minute, "remaining": self.pricing.budget.remaining(login)}
        return {"cost": answer}


def _operation(document: Any, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


def extensions(limits: Limits, cache_size: int) -> tuple[list[Any], Pricing]:
    """The schema extensions enforcing `limits` (in place of strawberry's `ParserCache` and `ValidationCache`,
    with the same bounded caches), and the pricing to `attach` to the schema once it is made. The alias and
    depth rules are made once, so the validation cache (keyed by the rules) keeps hitting across requests."""
    pricing = Pricing(limits)
    rules = [alias_rule(limits.aliases), depth_rule(limits.depth, None)]
    made = [
        lambda: MaxTokensLimiter(limits.tokens),
        lambda: LimitedParserCache(maxsize=cache_size),
        lambda: AddValidationRules(rules),
        lambda: RequestLimits(pricing, cache_size),
    ]
    return made, pricing


# ---------------------------------------------------------------- HTTP: body and query string


#: Bytes of a request's body that may still be coming when it is answered and the connection kept (or the route's
#: body limit, when larger): past them (or a chunked body, its length unknown, not read to its end) the answer
#: closes the connection (`BodyLimit`). Never below a body limit, so a body the service could accept is never the
#: cause; up to it the server reads and drops the rest, for about what a small request costs (≈ 2 ms of CPU for
#: 4 MiB), and keeps the connection. Past it, a client that reads its answer only after sending its whole body
#: (httpx) may find the connection reset instead: the server closes with the rest unread (as Go's net/http does
#: past 256 KB). A client sending megabytes past every limit gets a refusal it can read while sending, not the
#: service's CPU for every byte.
UNREAD_BODY = 4 << 20
#: Seconds such an answer, sent whole (its Content-Length says where it ends), is held open before the connection
#: is closed, nothing more read meanwhile: closing with data unread resets the connection, and a reset arriving
#: before the client has read the answer would take it away (Go's net/http waits 500 ms for the same reason).
LINGER = 1.0
CLOSE = (b"connection", b"close")


class _TooLarge(Exception):
    """The body went past its limit while it was read."""


class BodyLimit:
    """ASGI middleware: refuse a body over its limit before reading past it, and a query string over its own.

    `/graphql` bodies may hold `limits.graphql_body` bytes, every other route's `limits.form_body`. An answer sent
    while more than `UNREAD_BODY` bytes of the body may still come (a refusal before the body was read, from here
    or further in) closes the connection (`Connection: close`, `LINGER` seconds after), so the server never reads
    the rest."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        graphql = scope["path"].startswith("/graphql")
        limit = self.limits.graphql_body if graphql else self.limits.form_body
        declared, chunked = _body_framing(scope)
        keep = max(UNREAD_BODY, limit)  # bytes that may still come when answered, the connection kept
        query_string = scope.get("query_string", b"")
        if len(query_string) > self.limits.query_string:
            close = _unread(declared, chunked, 0, keep)
            message = _url_message(len(query_string), self.limits.query_string)
            await self._refuse(scope, receive, send, 414, message, close)
            return
        if declared is not None and declared > limit:
            close = _unread(declared, chunked, 0, keep)
            await self._refuse(scope, receive, send, 413, _body_message(declared, limit), close)
            return
        seen = 0
        started = over = ended = False
        answer = send

        async def counted() -> Message:
            nonlocal seen, over, ended
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                ended = not message.get("more_body", False)
                if seen > limit:
                    over = True
                    raise _TooLarge
            else:
                ended = True  # disconnected: nothing more comes
            return message

        async def watched(message: Message) -> None:
            nonlocal started, answer
            if over and not started:
                return  # whatever the application made of the cut body (it may catch the error): ours instead
            if message["type"] == "http.response.start" and not started:
                started = True
                if not ended and _unread(declared, chunked, seen, keep):
                    answer = _closing(send)
            await answer(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
        if over and not started:
            await self._refuse(scope, receive, send, 413, _body_message(seen, limit, read=True), True)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str, close: bool) -> None:
        request = Request(scope)
        if request.url.path.startswith("/graphql"):
            body: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": BAD_USER_INPUT}}]}
        else:
            body = {"error": {"code": BAD_USER_INPUT, "message": message}}
        # The application never reads the rest of the body. Past `UNREAD_BODY` the answer closes the connection
        # (the server would otherwise read and drop all the rest); below, the server drops the little that comes.
        await JSONResponse(body, status_code=status)(scope, receive, _closing(send) if close else send)


def _closing(send: Send) -> Send:
    """`send` for an answer that closes its connection, its request's body unread: `Connection: close` on its head,
    its body sent at once, its end `LINGER` seconds later (the server reads nothing more while an answer is not
    ended, and closes the connection once it is)."""

    async def closing(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), CLOSE]}
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            if message.get("body"):
                await send({**message, "more_body": True})
            await asyncio.sleep(LINGER)
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return closing


def _body_framing(scope: Scope) -> tuple[int | None, bool]:
    """The body's declared `Content-Length` (None: none, or not a number) and whether it is chunked."""
    declared, chunked = None, False
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                declared = None
        elif name == b"transfer-encoding":
            chunked = True
    return declared, chunked


def _unread(declared: int | None, chunked: bool, seen: int, keep: int) -> bool:
    """Whether more than `keep` bytes of a body of which `seen` were read may still come (a chunked body, its
    length unknown, always may)."""
    if chunked:
        return True
    return declared is not None and declared - seen > keep


def _body_message(size: int, limit: int, *, read: bool = False) -> str:
    zh, en = (f"超过 {size:,}", f"more than {size:,}") if read else (f"{size:,}", f"{size:,}")
    return (
        f"请求体过大:{zh} 字节,上限 {limit:,} 字节 / The request body is too large: {en} bytes, at most {limit:,} "
        "(GRASSROOTS_MAX_GRAPHQL_BODY on /graphql, GRASSROOTS_MAX_FORM_BODY elsewhere)."
    )


def _url_message(size: int, limit: int) -> str:
    return (
        f"查询字符串过长:{size:,} 字节,上限 {limit:,} 字节 / The query string is too long: {size:,} bytes, at "
        f"most {limit:,} (GRASSROOTS_MAX_QUERY_STRING); send the query in a POST body."
    )


__all__ = ["COST_HEADER", "BodyLimit", "Limits", "RequestLimits", "explain", "extensions"]
