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

from access import oidc
from access.concurrency import AccountConcurrency
from access.tokens import Signer, secret
from access.web import Authenticator, FailedSignIns, RequireSignIn, SignIn
from graph.driver import Graph, GraphUnavailable
from graph.migrations import migrate
from graph.settings import PROJECT_ROOT, Settings, get_settings
from reports.http import audit_report
from schema import build_schema
from schema.api import Context

log = logging.getLogger("grassroots.server")

READY_TIMEOUT = 3.0
MIGRATION_RETRY = 2.0


class GraphQLApp(GraphQL[Context, None]):
    """strawberry's ASGI GraphQL app with our context."""

    def __init__(self, graph_ref: dict[str, Graph], **kwargs: Any) -> None:
        super().__init__(build_schema(), **kwargs)
        self._graph_ref = graph_ref

    async def get_context(self, request: Any, response: Any) -> Context:
        caller = request.state.caller  # set by RequireSignIn: no request reaches here without one
        return Context(graph=self._graph_ref["graph"], request=request, caller=caller, scope=caller.scope)

    def encode_json(self, data: object) -> str:
        """UTF-8 JSON: Chinese names as they are, not as \\u escapes (smaller, and readable raw)."""
        return json.dumps(data, ensure_ascii=False)


STATIC = PROJECT_ROOT / "web" / "static"
#: The IDE pages may talk to this origin only (and load nothing from anywhere else).
IDE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:"
)

#: The network page: the same origin only, and no eval (Cytoscape.js and the page's own modules need none).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
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


async def healthz(_: Request) -> Response:
    """The process is up (liveness); says nothing about Neo4j."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Neo4j answers and the schema is migrated; otherwise 503 with the reason."""
    state = request.app.state
    if not state.migrated.is_set():
        reason = state.migration_error or "schema migrations pending"
        return JSONResponse({"status": "unavailable", "reason": f"数据库结构迁移未完成 / {reason}"}, status_code=503)
    try:
        await state.graph.ping(within=READY_TIMEOUT)
    except GraphUnavailable as exc:
        return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
    return JSONResponse({"status": "ready", "neo4j": state.graph.uri, "database": state.graph.database})


async def _migrate_until_done(app: Starlette) -> None:
    """Apply migrations, retrying while Neo4j is away: the service starts either way."""
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
        return


def create_app(settings: Settings | None = None, uri: str | None = None) -> Starlette:
    """Build the app; `uri` overrides the settings' Neo4j URI (the embedded server's, in tests)."""
    settings = settings or get_settings()
    graph_ref: dict[str, Graph] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        graph = Graph(settings, uri=uri)
        graph_ref["graph"] = graph
        app.state.graph = graph
        app.state.migrated = asyncio.Event()
        app.state.migration_error = None
        task = asyncio.create_task(_migrate_until_done(app))
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
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await graph.close()

    graphql = GraphQLApp(graph_ref, graphql_ide=None)
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
    signed_in = [Middleware(RequireSignIn, authenticator), Middleware(AccountConcurrency, settings.account_concurrency)]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=signed_in)
    app.state.authenticator = authenticator
    return app
