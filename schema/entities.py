"""Entity types, generated from `core.model`: one GraphQL type per label, relationships both ways.

Each type has the label's columns as fields (personal data masked), its link columns as fields
(`building`, `grids`...), the reverse of every link that points at it (`households` of a building,
`gridBranches` of a grid...), and the dated relationships of the link sheets (`roles`,
`unitReports`...). Every relationship field is resolved through a per-request DataLoader, so a
nested query costs one Cypher query per relationship level (`graph.entities`), never one per row.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import Annotated, Any, LiteralString

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from core.model import LINK_SHEETS, NODE_SHEETS, SHEET_BY_LABEL, Column, Kind, Link, Sheet
from core.privacy import mask, redact
from graph import entities as ent
from schema.common import Context

# ---------------------------------------------------------------- Relay global IDs


def global_id(label: str, code: str) -> str:
    """The Relay global ID of an entity: base64 of "Label:code"."""
    return base64.b64encode(f"{label}:{code}".encode()).decode()


def parse_global_id(value: str) -> tuple[str, str] | None:
    """(label, code) of a global ID, or None when it is not one of ours."""
    try:
        label, code = base64.b64decode(value.encode(), validate=True).decode().split(":", 1)
    except (ValueError, UnicodeDecodeError):
        return None
    return (label, code) if label in SHEET_BY_LABEL else None


# ---------------------------------------------------------------- interfaces


@strawberry.interface(description="Relay 节点 / A Relay node: any entity, fetched again by `node(id:)`.")
class Node:
    @strawberry.field(description="全局ID / Global ID (Relay): stable as long as the entity's code is.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(global_id(self.LABEL, self.code))  # type: ignore[attr-defined]


@strawberry.interface(description="实体 / Any entity of the model: its type, code and display name.")
class Entity(Node):
    code: str = strawberry.field(description="编码 / Stable code (区划代码, 统一社会信用代码 or own code).")

    @strawberry.field(description="实体类型(英文标签) / Entity type, the graph label (e.g. Compound).")
    def type(self) -> str:
        return self.LABEL  # type: ignore[attr-defined]

    @strawberry.field(description="实体类型中文名 / Entity type in Chinese (e.g. 小区).")
    def type_name(self) -> str:
        return SHEET_BY_LABEL[self.LABEL].zh  # type: ignore[attr-defined]

    @strawberry.field(description="显示名称 / Display name: the name, else the room, else the code.")
    def label(self) -> str:
        return str(getattr(self, "name", None) or getattr(self, "room", None) or self.code)


EntityType = strawberry.enum(
    Enum("EntityType", {s.label: strawberry.enum_value(s.label, description=s.doc) for s in NODE_SHEETS}),  # type: ignore[misc]
    description="实体类型 / Entity types (graph labels).",
)

# ---------------------------------------------------------------- per-request loaders


class SharedLoader(DataLoader[Any, Any]):
    """A DataLoader whose loads are shielded: many resolvers await one batch's future, and graphql-core cancels
    a resolver whose sibling failed in a non-null position (null propagation). Cancelling one waiter must not
    cancel the shared future, or every other field awaiting it fails with a CancelledError that escapes the
    request as a server error."""

    def load(self, key: Any) -> Any:  # type: ignore[override]
        return asyncio.shield(super().load(key))


def loader(info: Info[Context, None], key: Any, make: Callable[[], DataLoader[Any, Any]]) -> DataLoader[Any, Any]:
    """The request's DataLoader for `key`, made on first use (one batch per relationship and level)."""
    loaders = info.context.loaders
    if key not in loaders:
        loaders[key] = make()
    return loaders[key]


def _hop_loader(info: Info[Context, None], hop: ent.Hop) -> DataLoader[str, list[tuple[dict, dict | None]]]:
    context = info.context

    async def load(codes: list[str]) -> list[list[tuple[dict, dict | None]]]:
        found = await ent.follow(context.graph, hop, list(codes), context.scope)
        return [found.get(c, []) for c in codes]

    return loader(info, ("hop", hop), lambda: SharedLoader(load))


def code_loader(info: Info[Context, None], label: str) -> DataLoader[str, dict[str, Any] | None]:
    """Entities of `label` by code (inside the caller's scope)."""
    context = info.context

    async def load(codes: list[str]) -> list[dict[str, Any] | None]:
        found = await ent.nodes_by_code(context.graph, label, list(codes), context.scope)
        return [found.get(c) for c in codes]

    return loader(info, ("code", label), lambda: SharedLoader(load))


# ---------------------------------------------------------------- building the types

TYPES: dict[str, type] = {}
EDGE_TYPES: dict[str, type] = {}
_PY = {Kind.INT: int, Kind.FLOAT: float, Kind.BOOL: bool, Kind.DATE: date}


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p.title() for p in rest)


def _lower_first(name: str) -> str:
    return name[0].lower() + name[1:]


def _plural(label: str) -> str:
    word = _lower_first(label)
    if word.endswith("y") and not word.endswith("ey"):
        return word[:-1] + "ies"
    if word.endswith(("s", "h")):
        return word + "es"
    return word + "s"


def _link_field(link: Link) -> str:
    """`building_code` → building; `grid_codes` → grids."""
    if link.en.endswith("_codes"):
        return _plural(_camel(link.en.removesuffix("_codes")))
    return _camel(link.en.removesuffix("_code"))


#: Reverse-field names where the plain plural would be ambiguous.
REVERSE_NAMES = {("CentralHousehold", "AT", "Household"): "centralHouseholdsHere"}


def make_entity(row: dict[str, Any], label: str | None = None) -> Any:
    """A GraphQL entity object from a node map (properties plus `_label`, unless `label` is given).

    A prefetched row holds only the columns its selection reads (see `plan_prefetch`). Personal values are
    kept aside (`_personal`): their fields show them masked, or unmasked to a caller granted personal data.
    """
    label = label or row["_label"]
    cls = TYPES[label]
    values = {"code": row.get("code", "")}
    personal = {}
    for column in SHEET_BY_LABEL[label].columns:
        if column.name == "code":
            continue
        value = row.get(column.name)
        if value is not None and column.kind is Kind.DATE and hasattr(value, "to_native"):
            value = value.to_native()
        if column.sensitive:
            if value is not None:
                personal[column.name] = str(value)
            continue
        if column.kind is Kind.TEXT and isinstance(value, str):
            value = redact(value)  # a name or note with a number typed into it (core.privacy)
        values[column.name] = value
    entity = cls(**values)
    if personal:
        entity._personal = personal
    prefetched = row.get("_prefetched")
    if prefetched is not None:
        entity._prefetched = prefetched  # relationship rows read by the request's one query (see prefetch)
    return entity


def _personal_field(label: str, column: Column) -> Any:
    """A personal column's field: masked, unless the caller is granted personal data — then the value, and
    the response is noted for the access log (`Context.revealed`)."""

    def resolve(root: Any, info: Info[Context, None]) -> str | None:
        value = getattr(root, "_personal", {}).get(column.name)
        if value is None:
            return None
        context = info.context
        if not context.grants.personal_data:
            return mask(column, value)
        context.revealed.append((label, root.code, column.name))
        return value

    resolve.__annotations__ = {"root": Any, "info": Info[Context, None], "return": str | None}
    doc = (
        f"{column.zh} / {column.en} (个人信息:有权限者可见原值并留痕,否则脱敏 / personal data: unmasked only "
        "for accounts granted it, and every unmasked answer is written to the access log)"
    )
    return strawberry.field(resolver=resolve, description=doc)


def _column_field(column: Column) -> tuple[Any, Any]:
    py = _PY.get(column.kind, str)
    doc = f"{column.zh} / {column.en}"
    if column.sensitive:
        doc += " (个人信息,已脱敏 / personal data, masked)"
    if column.doc:
        doc += f" — {column.doc}"
    if column.name == "code":
        return str, strawberry.field(description=doc)
    return py | None, strawberry.field(default=None, description=doc)


#: label → GraphQL field name → (hop, many): the relationship fields a prefetch can follow.
RELATIONS: dict[str, dict[str, tuple[ent.Hop, bool]]] = {}
#: (type name, field name) → the field's value from its prefetched rows (used by schema.execution).
PREFETCHED: dict[tuple[str, str], Callable[[list[dict[str, Any]]], Any]] = {}


def _hop_field(hop: ent.Hop, many: bool, target: str, doc: str, name: str) -> Any:
    """A relationship field: a list (many) or a single entity, of `target` type ("Entity" when several).

    Rows prefetched by the request's one query are used as they are; otherwise a DataLoader batches.
    """
    if len(hop.targets) == 1:
        RELATIONS.setdefault(hop.label, {})[name] = (hop, many)

    def shape(objects: list[Any]) -> Any:
        return objects if many else (objects[0] if objects else None)

    async def load(root: Any, info: Info[Context, None]) -> Any:
        items = await _hop_loader(info, hop).load(root.code)
        return shape([make_entity(node) for node, _ in items])

    def from_rows(rows: list[dict[str, Any]]) -> Any:
        return shape([make_entity(node, target) for node in rows])

    def resolve(root: Any, info: Info[Context, None]) -> Any:
        prefetched = getattr(root, "_prefetched", None)
        if prefetched is not None and name in prefetched:
            return from_rows(prefetched[name])
        return load(root, info)

    if len(hop.targets) == 1:
        PREFETCHED[(hop.label, name)] = from_rows

    resolve.__annotations__ = {
        "root": Any,
        "info": Info[Context, None],
        "return": f"list[{target}]" if many else f"{target} | None",
    }
    return strawberry.field(resolver=resolve, description=doc)


def _edge_field(hop: ent.Hop, edge: str, doc: str, source_side: bool) -> Any:
    """A link sheet's dated relationships seen from one side, as edge objects with both ends."""

    async def resolve(root: Any, info: Info[Context, None]) -> Any:
        items = await _hop_loader(info, hop).load(root.code)
        cls = EDGE_TYPES[edge]
        out = []
        for node, props in items:
            other = make_entity(node)
            me = root
            source, target = (me, other) if source_side else (other, me)
            sheet = SHEET_BY_LABEL_OR_LINK[edge]
            values = {c.name: _shown(c, (props or {}).get(c.name)) for c in sheet.columns}
            assert sheet.source is not None
            assert sheet.target is not None
            values[_link_field(sheet.source)] = source
            values[_link_field(sheet.target)] = target
            out.append(cls(**values))
        return out

    resolve.__annotations__ = {"root": Any, "info": Info[Context, None], "return": f"list[{edge}]"}
    return strawberry.field(resolver=resolve, description=doc)


def _shown(column: Column, value: Any) -> Any:
    """A dated relationship's property as shown: dates native, free text redacted, personal values masked."""
    if value is not None and hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, str) and column.sensitive:
        return mask(column, value)
    return redact(value) if isinstance(value, str) and column.kind is Kind.TEXT else value


SHEET_BY_LABEL_OR_LINK: dict[str, Sheet] = {s.key: s for s in LINK_SHEETS}


def _type_name(labels: tuple[str, ...]) -> str:
    return labels[0] if len(labels) == 1 else "Entity"


def _build() -> None:
    namespaces: dict[str, dict[str, Any]] = {}
    for sheet in NODE_SHEETS:
        ns: dict[str, Any] = {"__annotations__": {}, "LABEL": sheet.label, "__module__": __name__}
        for column in sheet.columns:
            if column.sensitive:
                ns[column.name] = _personal_field(sheet.label, column)
                continue
            annotation, spec = _column_field(column)
            ns["__annotations__"][column.name] = annotation
            ns[column.name] = spec
        namespaces[sheet.label] = ns
    # forward and reverse relationship fields of node sheets
    for sheet in NODE_SHEETS:
        for link in sheet.links:
            forward, backward = ent.node_hops(sheet, link)
            many = link.many
            english = re.sub(r"_codes?$", "", link.en).replace("_", " ")
            doc = f"{link.zh.removesuffix('编码')} / {english}"
            if link.doc:
                doc += f" — {link.doc}"
            field_name = _link_field(link)
            namespaces[sheet.label][field_name] = _hop_field(forward, many, _type_name(link.targets), doc, field_name)
            for hop in backward:
                name = REVERSE_NAMES.get((sheet.label, link.rel, hop.label), _plural(sheet.label))
                ns = namespaces[hop.label]
                if name in ns:
                    name = f"{name}{link.rel.title().replace('_', '')}"
                ns[name] = _hop_field(
                    hop,
                    True,
                    sheet.label,
                    f"{sheet.zh}({link.zh.removesuffix('编码')}) / {sheet.label} by {link.rel}",
                    name,
                )
    # link sheets: an edge type each, listed from both ends
    for sheet in LINK_SHEETS:
        assert sheet.source is not None
        assert sheet.target is not None
        edge_ns: dict[str, Any] = {"__annotations__": {}, "__module__": __name__}
        for end in (sheet.source, sheet.target):
            name = _link_field(end)
            edge_ns["__annotations__"][name] = _type_name(end.targets)
            edge_ns[name] = strawberry.field(description=f"{end.zh} / {name}")
        for column in sheet.columns:
            annotation, spec = _column_field(column)
            edge_ns["__annotations__"][column.name] = annotation
            edge_ns[column.name] = spec
        edge_cls = type(sheet.key, (), edge_ns)
        EDGE_TYPES[sheet.key] = strawberry.type(edge_cls, description=f"{sheet.zh} / {sheet.doc}")
        globals()[sheet.key] = EDGE_TYPES[sheet.key]
        outgoing, incoming = ent.link_sheet_hops(sheet)
        field_name = _plural(sheet.key)
        for hop in outgoing:
            namespaces[hop.label][field_name] = _edge_field(hop, sheet.key, f"{sheet.zh} / {sheet.doc}", True)
        for hop in incoming:
            namespaces[hop.label][field_name] = _edge_field(hop, sheet.key, f"{sheet.zh} / {sheet.doc}", False)
    for sheet in NODE_SHEETS:
        cls = type(sheet.label, (Entity,), namespaces[sheet.label])
        TYPES[sheet.label] = strawberry.type(cls, description=f"{sheet.zh} / {sheet.doc}")
        globals()[sheet.label] = TYPES[sheet.label]


_build()


def lookup_field(label: str) -> Any:
    """A root field fetching one `label` entity by code (null when absent or outside the caller's scope)."""
    sheet = SHEET_BY_LABEL[label]

    async def resolve(info: Info[Context, None], code: str) -> Any:
        code = code.strip().upper()
        level = plan_prefetch(label, info.selected_fields[0].selections)
        if level is not None:  # nested relationships: the whole selection in one Cypher query
            row = await ent.prefetch(info.context.graph, label, code, level, info.context.scope)
            return make_entity({"code": code, **row}, label) if row else None
        row = await code_loader(info, label).load(code)
        return make_entity(row) if row else None

    resolve.__annotations__ = {
        "info": Info[Context, None],
        "code": Annotated[str, strawberry.argument(description=f"{sheet.zh}编码 / The {label}'s code.")],
        "return": f"{label} | None",
    }
    return strawberry.field(resolver=resolve, description=f"按编码查{sheet.zh} / A {label} by its code.")


async def entity_by_code(info: Info[Context, None], code: str, labels: tuple[str, ...]) -> Any:
    """The first entity with this code among `labels` (inside the caller's scope), or None."""
    for label in labels:
        row = await code_loader(info, label).load(code)
        if row:
            return make_entity(row)
    return None


#: Every generated type, for `strawberry.Schema(types=...)` (types reached only through interfaces).
ALL_TYPES: tuple[type, ...] = (*TYPES.values(), *EDGE_TYPES.values())


CITIES: LiteralString = (
    "MATCH (m:City) WHERE " + ent.IN_SCOPE + " RETURN " + ent.node_map("m") + " AS node ORDER BY m.code"
)


async def resolve_cities(info: Info[Context, None]) -> list[Any]:
    """The cities visible from the caller's scope: all, or its own (a district's or street's reader sees its
    city's code and name, and below it only its own area). A selection that follows relationships (the page's
    area tree: districts, streets, communities) is read for each city in one query, as `lookup_field` does,
    not one DataLoader round trip per level."""
    scope = info.context.scope
    rows = await info.context.graph.read_rows(CITIES, ent.scope_params(scope))
    level = plan_prefetch("City", info.selected_fields[0].selections)
    if level is None:
        return [make_entity(r["node"]) for r in rows]
    cities = []
    for r in rows:
        code = r["node"]["code"]
        row = await ent.prefetch(info.context.graph, "City", code, level, scope)
        if row:
            cities.append(make_entity({"code": code, **row}, "City"))
    return cities


def plan_prefetch(label: str, selections: list[Any]) -> ent.Level | None:
    """What a selection reads under a `label` entity, for `ent.prefetch`; None when it follows no relationship."""
    level = _reads(label, selections)
    return level if level.below else None


def _reads(label: str, selections: list[Any]) -> ent.Level:
    """The columns a selection reads of a `label` entity, and the relationships it follows below it.

    Only the columns selected are read. A field that works from the entity's identity (its global id,
    display name, type, a relationship left to a DataLoader) adds the code and the display columns.
    Fields of fragments that apply to the label are merged; relationships to several labels and dated
    relationships are left to their DataLoaders (which then read what they need).
    """
    columns = {c.name for c in SHEET_BY_LABEL[label].columns}
    wanted: set[str] = set()
    below: dict[str, tuple[ent.Hop, ent.Level]] = {}
    relations = RELATIONS.get(label, {})

    def walk(items: list[Any]) -> None:
        for sel in items:
            if not hasattr(sel, "arguments"):  # an inline fragment or a fragment spread
                if getattr(sel, "type_condition", None) in (None, label, "Entity", "Node"):
                    walk(sel.selections)
            elif sel.name in columns:
                wanted.add(sel.name)
            elif sel.name in relations:  # the same relationship twice (aliases): one read of both selections
                hop, _many = relations[sel.name]
                level = _reads(hop.targets[0], sel.selections)
                below[sel.name] = (hop, _merge(below[sel.name][1], level) if sel.name in below else level)
            elif sel.name != "__typename":
                wanted.update(_display(label))

    walk(selections)
    return ent.Level(tuple(sorted(wanted)), tuple((name, hop, lvl) for name, (hop, lvl) in sorted(below.items())))


def _merge(a: ent.Level, b: ent.Level) -> ent.Level:
    below = {name: (hop, level) for name, hop, level in a.below}
    for name, hop, level in b.below:
        below[name] = (hop, _merge(below[name][1], level)) if name in below else (hop, level)
    columns = tuple(sorted({*a.columns, *b.columns}))
    return ent.Level(columns, tuple((name, hop, level) for name, (hop, level) in sorted(below.items())))


def _display(label: str) -> tuple[str, ...]:
    columns = {c.name for c in SHEET_BY_LABEL[label].columns}
    return tuple(sorted({"code", *({"name", "room"} & columns)}))
