"""The HTTP application: `/graphql` (GraphiQL for a browser), `/playground`, `/reports/audit.xlsx`, `/healthz`,
`/readyz`, `/static`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from graph.driver import Graph, GraphUnavailable
from graph.migrations import migrate
from graph.scope import AreaNotFound, ScopeError
from graph.scope import Scope as AreaScope
from graph.settings import PROJECT_ROOT, Settings, get_settings
from reports.audit import OutsideScope, build_audit, file_stem, sheets
from reports.files import XLSX_MEDIA, ZIP_MEDIA, TooManyRows, check_fits, write_csv_zip, write_xlsx
from schema import build_schema
from schema.api import Context
from schema.errors import BAD_USER_INPUT, NOT_FOUND, SERVICE_UNAVAILABLE

log = logging.getLogger("grassroots.server")

READY_TIMEOUT = 3.0
MIGRATION_RETRY = 2.0


class GraphQLApp(GraphQL[Context, None]):
    """strawberry's ASGI GraphQL app with our context."""

    def __init__(self, graph_ref: dict[str, Graph], **kwargs: Any) -> None:
        super().__init__(build_schema(), **kwargs)
        self._graph_ref = graph_ref

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(graph=self._graph_ref["graph"], request=request)

    def encode_json(self, data: object) -> str:
        """UTF-8 JSON: Chinese names as they are, not as \\u escapes (smaller, and readable raw)."""
        return json.dumps(data, ensure_ascii=False)


STATIC = PROJECT_ROOT / "web" / "static"
#: The IDE pages may talk to this origin only (and load nothing from anywhere else).
IDE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:"
)


def _page(name: str) -> Response:
    return FileResponse(
        STATIC / name, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": IDE_CSP}
    )


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


AUDIT_MEDIA = {"xlsx": XLSX_MEDIA, "zip": ZIP_MEDIA}


def caller_scope(request: Request) -> AreaScope | None:
    """The widest scope the caller may read (None: everything). Per-area access control plugs in here,
    by setting `request.state.allowed_scope` (a `graph.scope.Scope`) before the endpoint runs."""
    return getattr(request.state, "allowed_scope", None)


def _error(status: int, code: str, message: str) -> JSONResponse:
    """A bilingual JSON error with the GraphQL errors' codes."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def audit_report(request: Request) -> Response:
    """`/reports/audit.xlsx?scope=CODE[&asOf=YYYY-MM-DD]`: the audit workbook; `/reports/audit.zip`: the same as
    CSV files. Read over the async driver, written in a worker thread to a temporary file, then streamed."""
    suffix = request.path_params["suffix"]
    if suffix not in AUDIT_MEDIA:
        return _error(404, NOT_FOUND, f"没有这种报告格式 / no report audit.{suffix}: use audit.xlsx or audit.zip")
    code = request.query_params.get("scope", "").strip()
    if not code:
        return _error(400, BAD_USER_INPUT, "缺少参数 scope / missing parameter scope: ?scope=<area code or WG-…>")
    try:
        scope = AreaScope.parse(code)
        day = date.fromisoformat(request.query_params.get("asOf") or date.today().isoformat()).isoformat()
    except ScopeError as exc:
        return _error(400, BAD_USER_INPUT, str(exc))
    except ValueError:
        return _error(400, BAD_USER_INPUT, "日期无效,应为 YYYY-MM-DD / invalid asOf: use YYYY-MM-DD")
    try:
        report = await build_audit(request.app.state.graph, scope, day, allowed=caller_scope(request))
    except OutsideScope as exc:
        return _error(403, "FORBIDDEN", str(exc))
    except AreaNotFound:
        return _error(404, NOT_FOUND, f"找不到范围 {scope.code} / no area with code {scope.code}")
    except GraphUnavailable as exc:
        return _error(503, SERVICE_UNAVAILABLE, str(exc))
    tables = await asyncio.to_thread(sheets, report)
    if suffix == "xlsx":
        try:
            check_fits(tables)
        except TooManyRows as exc:
            return _error(400, BAD_USER_INPUT, str(exc))
    write = write_xlsx if suffix == "xlsx" else write_csv_zip
    fd, path = tempfile.mkstemp(prefix="grassroots-audit-", suffix=f".{suffix}")
    try:
        with os.fdopen(fd, "wb") as f:
            await asyncio.to_thread(write, tables, f)
    except BaseException:
        os.unlink(path)
        raise
    name, fallback = file_stem(report)
    disposition = f"attachment; filename=\"{fallback}.{suffix}\"; filename*=UTF-8''{quote(f'{name}.{suffix}', safe='')}"
    return FileResponse(
        path,
        media_type=AUDIT_MEDIA[suffix],
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
        background=BackgroundTask(os.unlink, path),
    )


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
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await graph.close()

    graphql = GraphQLApp(graph_ref, graphql_ide=None)
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/graphql", GraphQLEndpoint(graphql), methods=["GET", "POST"]),
        Route("/playground", playground, methods=["GET"]),
        Route("/reports/audit.{suffix:str}", audit_report, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
