"""graphql-core's executor with shortcuts for plain scalar fields and prefetched relationships.

A nested look-up over a street returns ~900 fields, most of them plain attributes (`name`, `code`)
of entities the request's one Cypher query already read. graphql-core resolves each through the
full machinery (resolve info, resolver wrapper, completion dispatch): several microseconds a field,
more than the query itself. A field that strawberry resolves by plain attribute access (no resolver,
no arguments, no permissions, no extensions) to a scalar or enum is read and serialised here
directly, and a relationship whose rows the query already read is completed from them without the
resolver wrapper (argument conversion, extension chain). Anything unusual — a null in a non-null
field, a value the scalar refuses, arguments, middleware — takes graphql-core's own path, so errors
and results stay exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLField, GraphQLList, GraphQLNonNull, GraphQLObjectType, is_leaf_type
from graphql.execution.executor import to_nodes
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.entities import PREFETCHED

#: A plain field as read: (python attribute, serialise, nullable).
_Plain = tuple[str, Callable[[Any], Any], bool]


def _plain(field: GraphQLField) -> _Plain | None:
    """How to read a field that strawberry resolves by attribute access to a scalar or enum (else None)."""
    definition = (field.extensions or {}).get("strawberry-definition")
    if definition is None or not getattr(field.resolve, "_is_default", False) or field.args:
        return None
    field_type, nullable = field.type, True
    if isinstance(field_type, GraphQLNonNull):
        field_type, nullable = field_type.of_type, False
    if not is_leaf_type(field_type):
        return None
    return (definition.python_name, field_type.serialize, nullable)  # type: ignore[union-attr]


#: An object selection made only of plain scalar fields: (response key, the field, None for __typename).
_Plan = tuple[tuple[str, _Plain | None], ...]
#: What `_read` answers when graphql-core's own path must answer instead.
_SLOW = object()


def _read(plain: _Plain, source: Any) -> Any:
    """A plain field's serialised value; `_SLOW` for a null in a non-null field or a value the scalar refuses."""
    name, serialize, nullable = plain
    value = getattr(source, name, None)
    if value is None:
        return None if nullable else _SLOW
    try:
        return serialize(value)
    except Exception:  # graphql-core's own path reports it properly
        return _SLOW


class FastFieldsExecution(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context with shortcuts for plain scalar fields and prefetched relationships."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[GraphQLObjectType, int], _Plan | None] = {}
        # Per request, keyed by id(): the schema's fields outlive the request, so an id is never reused within it
        # (a module-wide cache by id could meet a new field at a freed field's address).
        self._plain_fields: dict[int, _Plain | None] = {}

    def _plain(self, field: GraphQLField) -> _Plain | None:
        key = id(field)
        if key not in self._plain_fields:
            self._plain_fields[key] = _plain(field)
        return self._plain_fields[key]

    def _no_middleware(self) -> bool:
        middleware = self.middleware_manager  # strawberry always passes one, usually with no middleware
        return middleware is None or not middleware.middlewares

    def _plan(self, return_type: GraphQLObjectType, field_details_list: Any) -> _Plan | None:
        """The object's selection as plain fields, or None (memoised like graphql-core's sub-field collection)."""
        key = (return_type, id(field_details_list))
        if key not in self._plans:
            self._plans[key] = self._make_plan(return_type, field_details_list)
        return self._plans[key]

    def _make_plan(self, return_type: GraphQLObjectType, field_details_list: Any) -> _Plan | None:
        grouped, new_defer_usages, _ = self.collect_subfields(return_type, field_details_list)
        if new_defer_usages or not self._no_middleware():
            return None
        plan: list[tuple[str, _Plain | None]] = []
        for response_key, details in grouped.items():
            node = details[0].node
            if node.name.value == "__typename":
                plan.append((response_key, None))
                continue
            field = return_type.fields.get(node.name.value)
            plain = self._plain(field) if field is not None and not node.arguments else None
            if plain is None:
                return None
            plan.append((response_key, plain))
        return tuple(plan) or None

    @staticmethod
    def _apply(plan: _Plan, type_name: str, result: Any) -> dict[str, Any] | None:
        """The object's map by its plain plan, or None when a value needs graphql-core's own path."""
        out: dict[str, Any] = {}
        for response_key, plain in plan:
            value = _read(plain, result) if plain is not None else type_name
            if value is _SLOW:
                return None
            out[response_key] = value
        return out

    def collect_and_execute_subfields(  # type: ignore[override]
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plan(return_type, field_details_list)
        if plan is not None:  # every field plain: the object's map in one loop
            out = self._apply(plan, return_type.name, result)
            if out is not None:
                return out
        return super().collect_and_execute_subfields(return_type, field_details_list, path, result, position_context)

    def _complete_prefetched(self, field: GraphQLField, field_details_list: Any, value: Any) -> list[Any] | None:
        """A `[T!]!` list of objects whose selection is all plain, built without per-item completion."""
        list_type = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        if not isinstance(value, list) or not isinstance(list_type, GraphQLList):
            return None
        item_type = list_type.of_type
        if not isinstance(item_type, GraphQLNonNull) or not isinstance(item_type.of_type, GraphQLObjectType):
            return None
        object_type = item_type.of_type
        plan = self._plan(object_type, field_details_list)
        if plan is None:
            return None
        out = []
        for item in value:  # items are made by make_entity as `object_type`: no is_type_of check needed
            row = self._apply(plan, object_type.name, item)
            if row is None:
                return None
            out.append(row)
        return out

    def execute_field(  # type: ignore[override]
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        field = parent_type.fields.get(node.name.value)
        if field is not None and not node.arguments and self._no_middleware():
            plain = self._plain(field)
            if plain is not None:
                value = _read(plain, source)
                if value is not _SLOW:
                    return value
            else:
                prefetched = getattr(source, "_prefetched", None)
                rows = prefetched.get(node.name.value) if prefetched is not None else None
                make = PREFETCHED.get((parent_type.name, node.name.value)) if rows is not None else None
                if make is not None:  # the rows the request's one query read: no resolver call
                    value = make(rows)
                    done = self._complete_prefetched(field, field_details_list, value)
                    if done is not None:
                        return done
                    info = self.build_resolve_info(field, to_nodes(field_details_list), parent_type, path)
                    try:
                        return self.complete_value(field.type, field_details_list, info, path, value, position_context)
                    except Exception:  # graphql-core's own path below reports it properly
                        pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
