"""GraphQL errors with `extensions.code` and bilingual messages; never a stack trace to the client.

What a client sent wrong is `BAD_USER_INPUT`, never `INTERNAL_SERVER_ERROR`: that includes a variable whose value
does not fit its type (`$first: Int!` given a string), which is reported by the variable's name and type only —
the value is neither echoed nor logged (it may be an ID number). A request past its limits is QUERY_TOO_COMPLEX
(its read cap, `graph.bounds`) or QUERY_TIMEOUT (NEO4J_QUERY_TIMEOUT), each naming the limit. Log lines are one
event each, `key=value`, with codes and paths, never variable values.
"""

from __future__ import annotations

import logging

from graphql import VariableDefinitionNode, print_ast
from graphql.error import GraphQLError
from neo4j.exceptions import ClientError, Neo4jError, TransientError
from strawberry.extensions import MaskErrors

from core.errors import (
    BAD_USER_INPUT,
    INTERNAL,
    QUERY_TIMEOUT,
    QUERY_TOO_COMPLEX,
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
)
from graph.bounds import TooManyRoundTrips
from graph.driver import GraphUnavailable, QueryTimeout
from graph.fairness import OverShare

log = logging.getLogger(__name__)


class UserError(GraphQLError):
    """An error the caller can act on; raised by resolvers with a code and a bilingual message."""

    def __init__(self, message: str, code: str = BAD_USER_INPUT) -> None:
        super().__init__(message, extensions={"code": code})


def _code(error: GraphQLError) -> str | None:
    return (error.extensions or {}).get("code")


def is_variable_error(error: GraphQLError) -> bool:
    """An error coercing the request's variables (before execution): graphql-core reports it on the variable's
    definition, or as a message about variable values."""
    if error.path is not None:
        return False
    nodes = error.nodes or []
    return bool(nodes and isinstance(nodes[0], VariableDefinitionNode)) or error.message.startswith("Variable ")


def variable_message(error: GraphQLError) -> str:
    """What a variable error says to the client: the variable's name and type, never the value it was given."""
    nodes = error.nodes or []
    if not nodes or not isinstance(nodes[0], VariableDefinitionNode):
        return "变量的值无效 / The variables' values are invalid (nested too deeply, or too many errors)."
    definition = nodes[0]
    name, type_ = definition.variable.name.value, print_ast(definition.type)
    if "was not provided" in error.message:
        return f"缺少变量 ${name}(类型 {type_})/ Variable ${name} of type {type_} was not provided."
    if "must not be null" in error.message:
        return f"变量 ${name} 不能为空(类型 {type_})/ Variable ${name} of type {type_} must not be null."
    if "is never used" in error.message:  # the document's fault (validation), whatever the values
        return f"变量 ${name} 未被使用 / Variable ${name} is declared but never used."
    if "used in position expecting" in error.message:
        return (
            f"变量 ${name}(类型 {type_})用在了不同类型的位置 / Variable ${name} of type {type_} is used where "
            "another type is expected."
        )
    return f"变量 ${name} 的值与类型 {type_} 不符 / Variable ${name} has a value that is not a valid {type_}."


class ErrorCodes(MaskErrors):
    """Gives every execution error and every variable error a code; hides what the client should not see.

    One instance per request: a cause shared by many fields (a read cap, a time-out) is logged once."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=self._needs_code)
        self._logged: set[str] = set()

    @staticmethod
    def _needs_code(error: GraphQLError) -> bool:
        return _code(error) is None and (error.original_error is not None or is_variable_error(error))

    def _once(self, level: int, code: str, path: object, detail: str) -> None:
        if code not in self._logged:
            self._logged.add(code)
            log.log(level, "graphql_error code=%s path=%s %s", code, path, detail)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, GraphQLError) and _code(original):
            return original
        path = list(error.path) if error.path else None
        if is_variable_error(error):
            code, message = BAD_USER_INPUT, variable_message(error)
        elif error.path is None:  # a literal the schema refuses while validating: the client's document
            code, message = BAD_USER_INPUT, error.message
        elif isinstance(original, TooManyRoundTrips):
            code, message = QUERY_TOO_COMPLEX, str(original)
            self._once(logging.WARNING, code, path, f"cap={original.cap}")
        elif isinstance(original, OverShare):
            code, message = RATE_LIMITED, str(original)
            self._once(logging.WARNING, code, path, f"limit_s={original.limit:g}")
            return GraphQLError(message, error.nodes, error.source, error.positions, error.path,
                                extensions={"code": code, "retryAfter": original.retry_after})  # fmt: skip
        elif isinstance(original, QueryTimeout):
            code, message = QUERY_TIMEOUT, str(original)
            self._once(logging.WARNING, code, path, f"limit_s={original.seconds:g}")
        elif isinstance(original, GraphUnavailable):
            code, message = SERVICE_UNAVAILABLE, str(original)
            self._once(logging.WARNING, code, path, f"reason={original.reason!r}")
        elif isinstance(original, TransientError):
            code = SERVICE_UNAVAILABLE
            message = "图数据库繁忙,请稍后重试 / The graph database is busy: try again shortly."
            self._once(logging.WARNING, code, path, f"neo4j_code={original.code}")
        elif isinstance(original, ClientError) and original.code and "Timeout" in original.code:
            code = SERVICE_UNAVAILABLE
            message = "查询超时 / The query timed out: narrow the scope or try again."
            self._once(logging.WARNING, code, path, f"neo4j_code={original.code}")
        else:
            code = INTERNAL
            message = "服务器内部错误,已记录 / Internal server error: it has been logged."
            if isinstance(original, Neo4jError):
                log.error("graphql_error code=%s path=%s neo4j_code=%s", code, path, original.code)
            else:
                log.error("graphql_error code=%s path=%s error=%s", code, path, type(original).__name__,
                          exc_info=original)  # fmt: skip
        return GraphQLError(
            message=message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": code},
        )
