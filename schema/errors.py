"""GraphQL errors with `extensions.code` and bilingual messages; never a stack trace to the client."""

from __future__ import annotations

import logging

from graphql.error import GraphQLError
from neo4j.exceptions import ClientError, Neo4jError, TransientError
from strawberry.extensions import MaskErrors

from core.errors import BAD_USER_INPUT, INTERNAL, SERVICE_UNAVAILABLE
from graph.driver import GraphUnavailable

log = logging.getLogger(__name__)


class UserError(GraphQLError):
    """An error the caller can act on; raised by resolvers with a code and a bilingual message."""

    def __init__(self, message: str, code: str = BAD_USER_INPUT) -> None:
        super().__init__(message, extensions={"code": code})


def _code(error: GraphQLError) -> str | None:
    return (error.extensions or {}).get("code")


class ErrorCodes(MaskErrors):
    """Gives every execution error a code; hides what the client should not see."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda e: e.original_error is not None and _code(e) is None)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, GraphQLError) and _code(original):
            return original
        if isinstance(original, GraphUnavailable):
            code, message = SERVICE_UNAVAILABLE, str(original)
        elif isinstance(original, TransientError):
            code = SERVICE_UNAVAILABLE
            message = "图数据库繁忙,请稍后重试 / The graph database is busy: try again shortly."
        elif isinstance(original, ClientError) and original.code and "Timeout" in original.code:
            code = SERVICE_UNAVAILABLE
            message = "查询超时 / The query timed out: narrow the scope or try again."
        else:
            code = INTERNAL
            message = "服务器内部错误,已记录 / Internal server error: it has been logged."
            if isinstance(original, Neo4jError):
                log.error("Neo4j error in %s: %s %s", error.path, original.code, original.message)
            else:
                log.error("unexpected error in %s", error.path, exc_info=original)
        if code == SERVICE_UNAVAILABLE:
            log.warning("%s: %s (%s)", error.path, message, original)
        return GraphQLError(
            message=message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": code},
        )
