"""The HTTP application: `/graphql`, `/healthz`, `/readyz`, wired on starlette."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from graph.driver import Graph, GraphUnavailable
from graph.migrations import migrate
from graph.settings import Settings, get_settings
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
        return Context(graph=self._graph_ref["graph"], request=request)


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
        Route("/graphql", graphql, methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
