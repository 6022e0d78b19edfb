"""The GraphQL schema: the root Query and the context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types import Info

from graph.driver import Graph
from schema.errors import ErrorCodes


@dataclass
class Context:
    """Per-request context: the shared graph and the HTTP request."""

    graph: Graph
    request: Any = None


@strawberry.type(description="数据库组件 / A component of the graph database server (CALL dbms.components()).")
class ServerComponent:
    name: str = strawberry.field(description="组件名称 / Component name, e.g. Neo4j Kernel.")
    versions: list[str] = strawberry.field(description="版本 / Versions.")
    edition: str = strawberry.field(description="版本类型 / Edition: community or enterprise.")


@strawberry.type(description="查询入口 / The root of every query.")
class Query:
    @strawberry.field(description="图数据库服务器信息 / The graph database server behind this service.")
    async def server_info(self, info: Info[Context, None]) -> list[ServerComponent]:
        components = await info.context.graph.server_info()
        return [ServerComponent(name=c.name, versions=c.versions, edition=c.edition) for c in components]


def build_schema() -> strawberry.Schema:
    """The service's schema with its extensions."""
    return strawberry.Schema(query=Query, extensions=[ErrorCodes])
