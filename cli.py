"""`grassroots`: the project's command line (serve, neo4j, migrate, info)."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading

import typer
import uvicorn

from graph.driver import Graph
from graph.local import LocalNeo4j, LocalNeo4jError, database_uri
from graph.migrations import migrate
from graph.settings import get_settings

app = typer.Typer(
    help="基层党建组织网络图谱服务 / Grassroots party-organization network graph service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _logging() -> None:
    level = get_settings().log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"错误 / Error: {message}", err=True)
    return typer.Exit(code=1)


@app.command()
def serve() -> None:
    """启动服务 / Serve GraphQL on GRASSROOTS_HOST:GRASSROOTS_PORT (starts the local Neo4j when NEO4J_URI is unset)."""
    from server import create_app

    _logging()
    settings = get_settings()
    try:
        with database_uri(settings) as uri:
            typer.echo(f"Neo4j: {uri}  GraphQL: http://{settings.host}:{settings.port}/graphql")
            uvicorn.run(
                create_app(settings, uri=uri),
                host=settings.host,
                port=settings.port,
                log_level=settings.log_level,
            )
    except LocalNeo4jError as exc:
        raise _fail(str(exc)) from None


@app.command("neo4j")
def run_neo4j() -> None:
    """只启动本地 Neo4j / Run only the embedded local Neo4j, in the foreground, until Ctrl-C."""
    _logging()
    settings = get_settings()
    local = LocalNeo4j.from_settings(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        local.start()
    except LocalNeo4jError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"本地 Neo4j 就绪 / local Neo4j ready: {local.uri} (user {settings.neo4j_user}); Ctrl-C to stop")
    while not stop.wait(1.0):
        if local.pid is None:
            raise _fail("本地 Neo4j 意外退出 / the local Neo4j exited unexpectedly")
    local.stop()


@app.command("migrate")
def run_migrate() -> None:
    """应用数据库结构迁移 / Apply schema migrations (constraints and indexes)."""
    _logging()
    settings = get_settings()

    async def go(uri: str) -> list[int]:
        graph = Graph(settings, uri=uri)
        try:
            return await migrate(graph)
        finally:
            await graph.close()

    try:
        with database_uri(settings) as uri:
            applied = asyncio.run(go(uri))
    except LocalNeo4jError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"已应用 / applied: {applied}" if applied else "无待应用迁移 / nothing to apply")


@app.command()
def info() -> None:
    """数据库信息 / Print the Neo4j server's components (CALL dbms.components())."""
    _logging()
    settings = get_settings()

    async def go(uri: str) -> None:
        graph = Graph(settings, uri=uri)
        try:
            for c in await graph.server_info():
                typer.echo(f"{c.name} {','.join(c.versions)} {c.edition}")
        finally:
            await graph.close()

    try:
        with database_uri(settings) as uri:
            asyncio.run(go(uri))
    except LocalNeo4jError as exc:
        raise _fail(str(exc)) from None


if __name__ == "__main__":
    app()
