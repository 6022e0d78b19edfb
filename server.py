"""The HTTP application: `/` (the network page), `/graphql` (GraphiQL for a browser), `/playground`,
`/reports/audit.xlsx|zip`, `/login`, `/logout`, `/token`, `/healthz`, `/readyz`, `/static`.

Every path but the open ones (`access.web.OPEN`) needs a signed-in caller (`access.web.RequireSignIn`); the
caller's scope and grants reach the resolvers through `schema.common.Context`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from access import hygiene, oidc
from access.concurrency import AccountConcurrency, AccountLimits
from access.tokens import Signer, secret
from access.web import Authenticator, FailedSignIns, RequireSignIn, SignIn
from graph import rollups, warmup
from graph.driver import Graph, GraphUnavailable
from graph.local import Supervisor
from graph.migrations import migrate
from graph.settings import PROJECT_ROOT, Settings, get_settings
from reports.http import audit_report
from schema import build_schema
from schema.api import Context
from schema.limits import BodyLimit, Limits

log = logging.getLogger("grassroots.server")

READY_TIMEOUT = 3.0
MIGRATION_RETRY = 2.0


class GraphQLApp(GraphQL[Context, None]):
    """strawberry's ASGI GraphQL app with our context."""

    def __init__(
        self, graph_ref: dict[str, Graph], introspection: bool = True, limits: Limits | None = None, **kwargs: Any
    ) -> None:
        super().__init__(build_schema(introspection=introspection, limits=limits), **kwargs)
        self._graph_ref = graph_ref

    async def get_context(self, request: Any, response: Any) -> Context:
        caller = request.state.caller  # set by RequireSignIn: no request reaches here without one
        return Context(graph=self._graph_ref["graph"], request=request, caller=caller, scope=caller.scope)

    def encode_json(self, data: object) -> str:
        """UTF-8 JSON: Chinese names as they are, not as \\u escapes (smaller, and readable raw)."""
        return json.dumps(data, ensure_ascii=False)


STATIC = PROJECT_ROOT / "web" / "static"
#: The IDE pages may talk to this origin only (and load nothing from anywhere else); no one may frame them.
IDE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'"
)

#: The network page: the same origin only, and no eval (Cytoscape.js and the page's own modules need none).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


def _page(name: str, csp: str = IDE_CSP) -> Response:
    return FileResponse(STATIC / name, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": csp})


async def index(_: Request) -> Response:
    """The network page (web/static/index.html): area tree, drawing, coverage; it uses the public GraphQL API only."""
    return _page("index.html", PAGE_CSP)


async def login_page(_: Request) -> Response:
    """The sign-in form (web/static/login.html): it posts to `/login` and comes back to `?next=`."""
    return _page("login.html", PAGE_CSP)


async def playground(_: Request) -> Response:
    """GraphQL Playground, from assets vendored in web/static/vendor (works with no internet)."""
    return _page("playground.html")


GRAPHQL_RESPONSE = "application/graphql-response+json"


class GraphQLEndpoint:
    """`/graphql`: GraphiQL for a browser (Accept: text/html), GraphQL over HTTP for everything else.

    A client accepting `application/graphql-response+json` gets that media type, and a request that
    fails before execution (unparsable document, invalid document, bad variables) gets 400 with no
    `data` entry, as the GraphQL-over-HTTP spec asks; `application/json` clients keep 200.
    """

    def __init__(self, app: GraphQLApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        accept = request.headers.get("accept", "")
        if request.method == "GET" and "text/html" in accept:
            await _page("graphiql.html")(scope, receive, send)
            return
        if GRAPHQL_RESPONSE not in accept:
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        body = bytearray()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body"):
                    await _send_graphql_response(send, start, bytes(body))

        await self.app(scope, receive, capture)


async def _send_graphql_response(send: Send, start: dict[str, Any], body: bytes) -> None:
    status = start.get("status", 200)
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-type", b"content-length")]
    media = b"application/json"
    try:
        result = json.loads(body)
    except ValueError:
        result = None
    if isinstance(result, dict) and ("data" in result or "errors" in result):
        media = GRAPHQL_RESPONSE.encode()
        errors = result.get("errors") or []
        if result.get("data") is None and errors and not any(e.get("path") for e in errors):
            status = 400 if status < 400 else status  # a request error: nothing was executed
            result.pop("data", None)
            body = json.dumps(result, ensure_ascii=False).encode()
    headers += [(b"content-type", media + b"; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def healthz(request: Request) -> Response:
    """The process is up and can still heal itself (liveness): 503 only when the supervisor of the local Neo4j
    has given up restarting it; says nothing else about Neo4j (that is `/readyz`)."""
    supervisor: Supervisor | None = request.app.state.supervisor
    if supervisor is not None and supervisor.gave_up:
        reason = "本地 Neo4j 多次崩溃,已停止重启 / the local Neo4j kept crashing: no more restarts"
        return JSONResponse({"status": "failed", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ok"})


#: What `/readyz` says when the database is away: no address, user or version (the log has the details).
NOT_READY = "图数据库暂不可用 / The graph database is unavailable"


async def readyz(request: Request) -> Response:
    """Neo4j answers and the schema is migrated; otherwise 503 with the reason — never an address or version."""
    state = request.app.state
    if not state.migrated.is_set():
        reason = "数据库结构迁移未完成 / schema migrations pending"
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    supervisor: Supervisor | None = state.supervisor
    if supervisor is not None and not supervisor.running:  # a dead JVM: say so at once, not after a timeout
        return JSONResponse({"status": "unavailable", "reason": f"{NOT_READY} (restarting)"}, status_code=503)
    try:
        await state.graph.ping(within=READY_TIMEOUT)
    except GraphUnavailable as exc:
        log.info("未就绪 / not ready: %s", exc.reason)
        return JSONResponse({"status": "unavailable", "reason": NOT_READY}, status_code=503)
    return JSONResponse({"status": "ready"})


async def _migrate_until_done(app: Starlette) -> None:
    """Apply migrations, retrying while Neo4j is away: the service starts either way; then make the coverage
    rollups a community lacks (graph/rollups.py `keep_current`) until the service stops."""
    while True:
        try:
            applied = await migrate(app.state.graph)
        except GraphUnavailable as exc:
            app.state.migration_error = str(exc)
            log.warning("迁移等待数据库 / migrations wait for the database: %s", exc)
            await asyncio.sleep(MIGRATION_RETRY)
            continue
        if applied:
            log.info("已应用迁移 / applied migrations %s", applied)
        app.state.migration_error = None
        app.state.migrated.set()
        if app.state.graph.settings.rollup_check > 0:  # rollups are made by writers such as this, never by reads
            await rollups.keep_current(app.state.graph, every=app.state.graph.settings.rollup_check)
        return


async def _warm_when_migrated(app: Starlette, supervisor: Supervisor | None) -> None:
    """Once the schema is migrated, read the stored graph into Neo4j's page cache, and again after each restart
    of the local Neo4j (graph/warmup.py): requests are answered meanwhile."""
    await app.state.migrated.wait()
    await warmup.warm_after_starts(app.state.graph, (lambda: supervisor.restarts) if supervisor else None)


def create_app(
    settings: Settings | None = None, uri: str | None = None, supervisor: Supervisor | None = None
) -> Starlette:
    """Build the app; `uri` overrides the settings' Neo4j URI (the embedded server's, in tests); `supervisor`
    watches the local Neo4j the service started (its state is `/healthz`'s and `/readyz`'s)."""
    settings = settings or get_settings()
    graph_ref: dict[str, Graph] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        graph = Graph(settings, uri=uri)
        if supervisor is not None:
            graph.known_down = supervisor.restarting
        graph_ref["graph"] = graph
        app.state.graph = graph
        app.state.migrated = asyncio.Event()
        app.state.migration_error = None
        task = asyncio.create_task(_migrate_until_done(app))
        warming = asyncio.create_task(_warm_when_migrated(app, supervisor)) if settings.warm_up else None
        try:
            # Give start-up a moment to finish migrations, so a fresh service is ready at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(app.state.migrated.wait()), timeout=120)
            # Everything made so far (schema, modules) lives as long as the process: move it out of the
            # cyclic collector's sight, so collections during requests walk only what requests allocate.
            gc.collect()
            gc.freeze()
            yield
        finally:
            for running in (task, warming):
                if running is not None:
                    running.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await running
            await graph.close()

    limits = Limits.of(settings)  # request limits before execution (schema/limits.py)
    graphql = GraphQLApp(graph_ref, introspection=settings.introspection, limits=limits, graphql_ide=None)
    authenticator = Authenticator(
        lambda: graph_ref["graph"],
        Signer(secret(settings.data_dir)),
        external=oidc.from_settings(settings),  # an identity provider's tokens (None unless GRASSROOTS_OIDC_* set)
    )
    sign_in = SignIn(authenticator, lambda: graph_ref["graph"], FailedSignIns())
    routes = [
        Route("/", index, methods=["GET"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", sign_in.login, methods=["POST"]),
        Route("/logout", sign_in.logout, methods=["POST"]),
        Route("/token", sign_in.token, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/graphql", GraphQLEndpoint(graphql), methods=["GET", "POST"]),
        Route("/playground", playground, methods=["GET"]),
        Route("/reports/audit.{suffix:str}", audit_report, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    # one account's requests in flight, and its share of the database (refused before the body is read, and before
    # the account is read: on the token's login, `access.concurrency`)
    account_limits = AccountLimits(settings.account_concurrency, lambda who: graph_ref["graph"].db_time.over(who))
    signed_in = [
        Middleware(RequireSignIn, authenticator, account_limits.refusal),
        Middleware(AccountConcurrency, account_limits),
    ]
    limited = [Middleware(BodyLimit, limits)]  # a body over its limit is refused before it is read (schema/limits.py)
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[*hygiene.middleware(settings.trusted_hosts), *limited, *signed_in],
    )
    app.state.authenticator = authenticator
    app.state.supervisor = supervisor
    return app
