"""Shared GraphQL types and helpers: places, organization and person references, scopes, dates.

A name is free text: `Place`, `EntityRef` and `PersonRef` redact theirs when they are made, however they are
made (`core.privacy.redact`: ID and phone numbers typed into a name are masked).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

import strawberry
from strawberry.relay import PageInfo
from strawberry.types import Info

from access.accounts import Caller
from core.access import Grants, Role, grants
from core.errors import BAD_USER_INPUT, FORBIDDEN, NOT_FOUND
from core.model import GAP_KINDS, SHEET_BY_LABEL
from core.privacy import redact
from graph.bounds import for_request
from graph.driver import Graph
from graph.gaps import RULES
from graph.scope import Scope, ScopeError
from schema.errors import UserError

_GAP_DOC = {r.kind: f"{r.zh} / {r.en}" for r in RULES}

GapKind = strawberry.enum(
    Enum("GapKind", {k: strawberry.enum_value(k, description=_GAP_DOC[k]) for k in GAP_KINDS}),  # type: ignore[misc]
    description="空白点类型(与演示数据清单 manifest 同名) / Gap kinds, named as in the demo generator's manifest.",
)


#: What a context without a caller may do: everything (the service's own tools and tests, never HTTP).
TRUSTED = grants(Role.ADMIN)


@dataclass
class Context:
    """Per-request context: the shared graph, the HTTP request, the signed-in caller and its scope.

    `scope` is the widest area the caller may read (None: everything); every resolver narrows the scope it is
    asked for to it, inside its Cypher. Over HTTP there is always a `caller` (`access.web.RequireSignIn`) and
    `scope` is its account's; a context without a caller is the service's own (tests, benchmarks). `graph` is
    the request's own view of the shared driver (`graph.bounds`): its reads are counted and capped, and it runs
    a few transactions at a time.
    """

    graph: Graph
    request: Any = None
    scope: Scope | None = None
    caller: Caller | None = None
    today: date = field(default_factory=date.today)
    loaders: dict[Any, Any] = field(default_factory=dict)  # the request's DataLoaders (schema.entities)
    #: Personal values shown unmasked in this response: (label, code, field), for the access log.
    revealed: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.graph = for_request(self.graph, self.caller.login if self.caller is not None else None)

    @property
    def grants(self) -> Grants:
        """What the caller may do inside its scope."""
        return self.caller.grants if self.caller is not None else TRUSTED

    @property
    def actor(self) -> str:
        """Who the audit log names: the caller's login (the service's own tools: "system")."""
        return self.caller.login if self.caller is not None else "system"


def require(info: Info[Context, None], allowed: bool, zh: str, en: str) -> None:
    """FORBIDDEN unless `allowed`: the message names the right (`zh`, `en`) and the caller's role."""
    caller = info.context.caller
    if not allowed and caller is not None:
        role = caller.role
        raise UserError(f"无权{zh}(角色:{role.zh})/ the role {role.value} may not {en}", FORBIDDEN)


def scope_of(info: Info[Context, None], code: str) -> Scope:
    """The scope a `scope:` argument names, checked against the caller's (BAD_USER_INPUT when invalid)."""
    try:
        scope = Scope.parse(code)
    except ScopeError as exc:
        raise UserError(str(exc), BAD_USER_INPUT) from None
    allowed = info.context.scope
    if allowed is not None and not scope.within(allowed):
        raise UserError(f"无权查看该范围 / {code} is outside the area you may read ({allowed.code})", FORBIDDEN)
    return scope


def area_not_found(code: str) -> UserError:
    """NOT_FOUND for a scope code that names no area in the graph."""
    return UserError(f"找不到范围 {code} / no area with code {code}", NOT_FOUND)


def as_of(info: Info[Context, None], value: date | None) -> str:
    """The date rules are judged on: the argument, else today."""
    return (value or info.context.today).isoformat()


def to_date(value: Any) -> date | None:
    """A Neo4j date (or None) as a Python date."""
    return value.to_native() if value is not None and hasattr(value, "to_native") else value


@strawberry.type(description="区域或场所 / An area or place: its code and name.")
class Place:
    code: str | None = strawberry.field(description="编码 / Code (null: no such area, e.g. no grid).")
    name: str | None = strawberry.field(description="名称 / Name.")

    def __post_init__(self) -> None:
        self.name = redact(self.name)

    @classmethod
    def of(cls, row: dict[str, Any] | None) -> Place | None:
        """From a `{code, name}` map, None stays None."""
        return None if row is None else cls(code=row.get("code"), name=row.get("name"))


@strawberry.type(description="实体引用 / A reference to an entity: type, code, name.")
class EntityRef:
    type: str = strawberry.field(description="实体类型(英文标签) / Entity type (the graph label), e.g. Compound.")
    type_name: str = strawberry.field(description="实体类型中文名 / Entity type in Chinese, e.g. 小区.")
    code: str = strawberry.field(description="编码 / Stable code.")
    name: str | None = strawberry.field(description="名称 / Name (households have none).")

    def __post_init__(self) -> None:
        self.name = redact(self.name)

    @classmethod
    def of(cls, row: dict[str, Any] | None, label: str | None = None) -> EntityRef | None:
        """From a `{code, name, label}` map."""
        if row is None:
            return None
        lbl = label or row.get("label") or ""
        return cls(type=lbl, type_name=SHEET_BY_LABEL[lbl].zh if lbl in SHEET_BY_LABEL else lbl,
                   code=row["code"], name=row.get("name"))  # fmt: skip


@strawberry.type(description="党员引用 / A party member holding a role (contact details are not exposed here).")
class PersonRef:
    code: str = strawberry.field(description="党员编码 / Member code.")
    name: str | None = strawberry.field(description="姓名 / Name.")
    role: str | None = strawberry.field(description="职务 / Role, e.g. 书记, 组长.")

    def __post_init__(self) -> None:
        self.name, self.role = redact(self.name), redact(self.role)

    @classmethod
    def of(cls, row: dict[str, Any] | None) -> PersonRef | None:
        """From a `{code, name, role}` map."""
        return None if row is None else cls(code=row["code"], name=row.get("name"), role=row.get("role"))


def encode_cursor(*parts: object) -> str:
    """An opaque cursor."""
    return base64.urlsafe_b64encode(":".join(str(p) for p in parts).encode()).decode()


def decode_cursor(cursor: str, parts: int) -> list[str]:
    """The parts of a cursor made by `encode_cursor` (BAD_USER_INPUT when it is not one)."""
    try:
        values = base64.urlsafe_b64decode(cursor.encode()).decode().split(":", parts - 1)
    except (ValueError, UnicodeDecodeError):
        values = []
    if len(values) != parts:
        raise UserError(f"无效的游标 / invalid cursor {cursor!r}: pass an endCursor from a previous page")
    return values


def part_cursor(after: str | None, parts: int) -> tuple[int, str] | None:
    """The (part index, key) of a cursor of a listing over `parts` ordered parts (`graph.paging.page_across`), None
    for no cursor; BAD_USER_INPUT when it is not one of that listing's."""
    if after is None:
        return None
    index, key = decode_cursor(after, 2)
    if not index.isdigit() or int(index) >= parts:
        raise UserError(f"无效的游标 / invalid cursor {after!r}")
    return int(index), key


def selects(info: Info[Context, None], *names: str) -> bool:
    """True when the current field's selection (fragments included) asks for any of `names`."""

    def walk(selections: list[Any]) -> bool:
        for sel in selections:
            if getattr(sel, "name", None) in names:
                return True
            if walk(getattr(sel, "selections", None) or []):
                return True
        return False

    return any(walk(f.selections) for f in info.selected_fields)


def page_info(cursors: list[str], has_next: bool, after: str | None) -> PageInfo:
    """Relay PageInfo for a page whose edges have these cursors."""
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
