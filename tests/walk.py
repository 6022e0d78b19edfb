"""Walking the GraphQL schema as one caller, and searching every answer for codes of areas it may not read.

The queries are built from introspection: for each root field, one selection that reads every (type, field)
reachable within `DEPTH` (a root field is at depth 1; an object reached at depth `DEPTH` has its scalar fields
read, so what it names is seen). An object type's relationships are followed at the first place the query
reaches it at its least depth, elsewhere only its scalars are read: every (type, field) within the depth is
still read, on a shortest path to the type, and the answers stay small (a community is not read again under
each of its own reports). Interfaces are read through an inline fragment on each possible type; a nested
field's required arguments are filled from their type (each enum value, both booleans); the root fields'
arguments come from the caller's own area, the areas above it and other areas (`pools`). A field added
tomorrow is walked the day it is added; one whose required arguments cannot be filled is listed in
`Walk.unfillable` (a test fails on it).

A code is foreign to a reader when it names, or contains, the 12-digit code of an area the reader may not
read: every own code carries its area's code (`DY-420602002001-000007`), so a foreign area code anywhere in
an answer — a string, a JSON scalar's keys and values, a number, a base64 global ID or cursor — is a leak.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    is_required_argument,
    parse,
    visit,
)
from graphql.language import FieldNode
from httpx import AsyncClient

from core.areas import AREA_LEVELS
from core.codes import own_code_area
from core.model import NODE_SHEETS

#: A root field is at depth 1; every field down to this depth is read (and the scalars of objects reached there).
DEPTH = 4

INTROSPECTION = get_introspection_query(descriptions=False)

Pair = tuple[str, str]  # (type name, field name)


def client_schema(introspection: dict[str, Any]) -> GraphQLSchema:
    """The schema an introspection answer (its `data`) describes."""
    return build_client_schema(introspection)  # type: ignore[arg-type]


# ---------------------------------------------------------------- what a walk must read


def expected_pairs(schema: GraphQLSchema, depth: int = DEPTH) -> set[Pair]:
    """Every (type, field) a walk to `depth` reads, found breadth first over the schema's types — not from the
    walk's documents, so the two can be compared. Fields with arguments count like any other."""
    query = schema.query_type
    assert query is not None
    pairs: set[Pair] = set()
    frontier: set[str] = set()
    for name, fld in query.fields.items():
        pairs.add((query.name, name))
        frontier.add(get_named_type(fld.type).name)
    for level in range(2, depth + 2):
        following: set[str] = set()
        for type_name in frontier:
            for concrete in _shapes(schema, schema.get_type(type_name)):  # type: ignore[arg-type]
                for name, fld in concrete.fields.items():  # type: ignore[union-attr]
                    target = get_named_type(fld.type)
                    if level > depth and not is_leaf_type(target):
                        continue  # below the walk: only scalars are read there
                    pairs.add((concrete.name, name))
                    if not is_leaf_type(target):
                        following.add(target.name)
        frontier = following
    return pairs


def _shapes(schema: GraphQLSchema, named: GraphQLNamedType) -> list[GraphQLNamedType]:
    """An object type itself; an interface or union and each of its possible types."""
    if is_abstract_type(named):
        return [named, *schema.get_possible_types(named)]  # type: ignore[arg-type]
    return [named] if is_object_type(named) else []


def document_pairs(schema: GraphQLSchema, document: str) -> set[Pair]:
    """Every (parent type, field) a query document selects, read back from its text with graphql-core."""
    info = TypeInfo(schema)
    found: set[Pair] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent = info.get_parent_type()
            if parent is not None and not node.name.value.startswith("__"):
                found.add((parent.name, node.name.value))

    visit(parse(document), TypeInfoVisitor(info, Collect()))
    return found


# ---------------------------------------------------------------- building the queries


@dataclass
class Walk:
    """The walk's queries over one schema: per root field, one named fragment on its type (`document`)."""

    schema: GraphQLSchema
    depth: int = DEPTH
    #: Fields left out because a required argument could not be filled: "Type.field(arg)".
    unfillable: set[str] = field(default_factory=set)

    @property
    def roots(self) -> dict[str, GraphQLField]:
        """The root Query fields."""
        assert self.schema.query_type is not None
        return dict(self.schema.query_type.fields)

    def shallowest(self, type_: Any) -> dict[str, int]:
        """Each object type reachable from a root field of `type_`, at the least depth it is reached."""
        depths: dict[str, int] = {}
        frontier = [get_named_type(type_)]
        for depth in range(1, self.depth + 1):
            following = []
            for named in frontier:
                for shape in _shapes(self.schema, named):
                    if shape.name in depths:
                        continue
                    depths[shape.name] = depth
                    following += [get_named_type(f.type) for f in shape.fields.values()]  # type: ignore[union-attr]
            frontier = following
        return depths

    def selection(self, type_: Any, depth: int, shallow: dict[str, int]) -> str:
        """The selection set of a value of `type_` returned by a field at `depth` ("" for a scalar); `shallow`:
        the least depth each type not yet followed is reached at in this query (`shallowest`)."""
        named = get_named_type(type_)
        if is_leaf_type(named):
            return ""
        parts = ["__typename", *self._fields(named, depth, shallow)]
        if is_abstract_type(named):
            for possible in self.schema.get_possible_types(named):  # type: ignore[arg-type]
                fields = self._fields(possible, depth, shallow, prefix=f"{possible.name}_")
                parts.append(f"... on {possible.name} {{ {' '.join(fields)} }}")
        return "{ " + " ".join(parts) + " }"

    def _fields(self, owner: Any, depth: int, shallow: dict[str, int], prefix: str = "") -> list[str]:
        """The selections of the fields of `owner`, a value at `depth`. Its fields that lead on are followed
        only within `self.depth`, and only at the first place `owner` is reached at its least depth in the
        query (`shallow`, whose entry is then spent); elsewhere only its scalars are read (the codes it shows).
        So every (type, field) within the depth is read once — on a shortest path to the type — and a
        community is not read again under each of its own reports.
        Inside an inline fragment every field is aliased `<Type>_<field>` (two possible types may give one
        field name different types)."""
        out = []
        onward = depth < self.depth and shallow.get(owner.name) == depth
        if onward:
            del shallow[owner.name]  # followed once: its first place at its least depth
        for name, fld in getattr(owner, "fields", {}).items():
            leaf = is_leaf_type(get_named_type(fld.type))
            if not leaf and not onward:
                continue
            below = "" if leaf else " " + self.selection(fld.type, depth + 1, shallow)
            for alias, args in self._argument_sets(owner.name, name, fld):
                key = f"{prefix}{alias or name}"
                out.append(f"{key + ': ' if key != name else ''}{name}{args}{below}")
        return out

    def _argument_sets(self, owner: str, name: str, fld: GraphQLField) -> list[tuple[str, str]]:
        """(alias, argument text) for each way of filling the field's required arguments (alias "" when
        there are none); optional arguments keep their defaults. No way at all: the field is `unfillable`."""
        required = {a: arg for a, arg in fld.args.items() if is_required_argument(arg)}
        combos: list[dict[str, str]] = [{}]
        for arg_name, arg in required.items():
            values = _fillers(arg)
            if not values:
                self.unfillable.add(f"{owner}.{name}({arg_name})")
                return []
            combos = [{**c, arg_name: v} for c in combos for v in values]
        if combos == [{}]:
            return [("", "")]
        out = []
        for combo in combos:
            alias = "_".join([name, *(re.sub(r"\W", "", v) for v in combo.values())])
            out.append((alias, "(" + ", ".join(f"{k}: {v}" for k, v in combo.items()) + ")"))
        return out

    def document(self, root: str, variables: Mapping[str, str], aliases: int = 0) -> str:
        """A query reading root field `root` with its arguments taken from `variables` (argument → GraphQL
        type of its variable); `aliases` > 0: that many copies, variables suffixed by the copy's number."""
        fld = self.roots[root]
        assert self.schema.query_type is not None
        type_name = get_named_type(fld.type).name
        body = self.selection(fld.type, 1, self.shallowest(fld.type))
        fragment = f"fragment Walked on {type_name} {body}" if body else ""
        spread = " { ...Walked }" if body else ""
        copies = range(aliases) if aliases else [None]
        definitions, calls = [], []
        for copy in copies:
            suffix = "" if copy is None else str(copy)
            args = ", ".join(f"{arg}: ${arg}{suffix}" for arg in variables)
            definitions += [f"${arg}{suffix}: {kind}" for arg, kind in variables.items()]
            alias = "" if copy is None else f"a{copy}: "
            calls.append(f"{alias}{root}{f'({args})' if args else ''}{spread}")
        header = f"query Walk_{root}" + (f"({', '.join(definitions)})" if definitions else "")
        return f"{header} {{ {' '.join(calls)} }} {fragment}"

    def variable_type(self, root: str, arg: str) -> str:
        """The GraphQL type a variable for `root`'s argument `arg` is declared with."""
        return str(self.roots[root].args[arg].type)


def _fillers(arg: GraphQLArgument) -> list[str]:
    """Literal values for a required argument of a nested field, from its type alone."""
    named = get_named_type(arg.type)
    if isinstance(named, GraphQLEnumType):
        return list(named.values)
    if named.name == "Boolean":
        return ["true", "false"]
    return []


# ---------------------------------------------------------------- a reader and what is foreign to it


@dataclass(frozen=True)
class Reader:
    """A signed-in caller: its login, its account's scope, and the area it reads entities in (`reads`, 12
    digits, with its level's `digits`: a grid's account reads its community's). Areas above `reads` (the
    street, district, city it lies in) may show their code and name."""

    login: str
    scope: str
    reads: str
    digits: int

    def inside(self, area: str) -> bool:
        """Whether the 12-digit `area` lies in the reader's area (or is it)."""
        return area[: self.digits] == self.reads[: self.digits]

    def above(self, area: str) -> bool:
        """Whether `area` is one of the areas the reader's area lies in."""
        significant = area.rstrip("0")
        return area != self.reads and self.reads.startswith(significant) and len(significant) < self.digits

    def over(self, areas: list[str]) -> frozenset[str]:
        """Of these area codes, the ones above the reader's area."""
        return frozenset(a for a in areas if self.above(a))

    def foreign(self, areas: list[str]) -> dict[str, str]:
        """Of these area codes, the ones the reader may not read at all, each → why."""
        return {a: f"area {a} lies outside {self.reads}" for a in areas if not self.inside(a) and not self.above(a)}


@dataclass(frozen=True)
class Found:
    """A foreign code in an answer: where (a JSON path), the value that holds it, and which code."""

    path: str
    value: str
    code: str

    def __str__(self) -> str:
        return f"{self.path} = {self.value!r} names {self.code}"


_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


def _readings(text: str) -> Iterator[str]:
    """The string itself, and what it says if it is base64 text (global IDs and cursors)."""
    yield text
    if _BASE64.fullmatch(text) and len(text) % 4 == 0:
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                yield decode(text.encode()).decode("utf-8")
            except (binascii.Error, ValueError, UnicodeDecodeError):
                continue


def find_foreign(value: Any, foreign: Mapping[str, str], path: str = "$") -> Iterator[Found]:
    """Every leaf of a JSON value (keys included) that holds one of the `foreign` codes, as a substring."""
    if not foreign:
        return
    pattern = re.compile("|".join(re.escape(code) for code in sorted(foreign)))
    yield from _find(value, pattern, path)


def _find(value: Any, pattern: re.Pattern[str], path: str) -> Iterator[Found]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _find(str(key), pattern, f"{path}.<key>")
            yield from _find(item, pattern, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _find(item, pattern, f"{path}[{i}]")
    elif value is not None and not isinstance(value, bool):
        text = str(value)
        for reading in _readings(text):
            match = pattern.search(reading)
            if match:
                yield Found(path, text if reading == text else f"{text} (base64 of {reading!r})", match[0])
                break


# ---------------------------------------------------------------- calling the root fields


@dataclass(frozen=True)
class Call:
    """One root field called with these arguments (variables' values; arguments left out keep defaults)."""

    root: str
    args: tuple[tuple[str, Any], ...]

    def __str__(self) -> str:
        return f"{self.root}({', '.join(f'{k}: {json.dumps(v, ensure_ascii=False)}' for k, v in self.args)})"


def calls(walk: Walk, pool: Callable[[str, str], list[Any]], fixed: Mapping[str, Any]) -> list[Call]:
    """The calls of every root field. An argument's values come from `pool`, else from its type (each value
    of an enum, or of a list of one, alone); arguments named in `fixed` take that value in every call (page
    sizes, budgets). The required arguments take their first value (a root with a required argument that
    has none is `unfillable`); then each argument is varied alone over its values, and each optional one
    beside the first value of every optional argument before it (a search by name inside a scope)."""
    out: list[Call] = []
    for root, fld in walk.roots.items():
        pools = {a: pool(root, a) or _enum_values(arg) for a, arg in fld.args.items() if a not in fixed}
        base: dict[str, Any] = {a: v for a, v in fixed.items() if a in fld.args}
        required = [a for a, arg in fld.args.items() if is_required_argument(arg)]
        missing = [a for a in required if a not in base and not pools.get(a)]
        if missing:
            walk.unfillable.update(f"Query.{root}({a})" for a in missing)
            continue
        base |= {a: pools[a][0] for a in required if a not in base}
        optional = [a for a in pools if a not in required and pools[a]]
        variants = [base]
        for a, values in pools.items():
            variants += [{**base, a: v} for v in values]
        for i, b in enumerate(optional):
            for a in optional[:i]:
                variants += [{**base, a: pools[a][0], b: v} for v in pools[b]]
        seen: set[str] = set()
        for args in variants:
            call = Call(root, tuple(sorted(args.items())))
            if str(call) not in seen:
                seen.add(str(call))
                out.append(call)
    return out


def _enum_values(arg: GraphQLArgument) -> list[Any]:
    """Each value of an enum argument, or of a list of enums as a list of one (else none)."""
    named = get_named_type(arg.type)
    if not isinstance(named, GraphQLEnumType):
        return []
    inner = arg.type.of_type if is_non_null_type(arg.type) else arg.type
    return [[v] if is_list_type(inner) else v for v in named.values]


@dataclass
class Answer:
    """What one call answered: its data (the root field's value) and its errors."""

    call: Call
    data: Any
    errors: list[dict[str, Any]]


async def run(
    http: AsyncClient, headers: dict[str, str], walk: Walk, every: list[Call], parallel: int = 4
) -> list[Answer]:
    """Every call, as the caller the headers sign in. Calls of a nullable root field go together, one alias
    each (an error nulls only its own alias); a non-null root field's calls go one request each. At most
    `parallel` requests at once."""
    groups: dict[tuple[str, tuple[str, ...]], list[Call]] = defaultdict(list)
    for call in every:
        groups[(call.root, tuple(a for a, _ in call.args))].append(call)
    gate = asyncio.Semaphore(parallel)

    async def post(document: str, variables: dict[str, Any]) -> dict[str, Any]:
        async with gate:
            response = await http.post("/graphql", json={"query": document, "variables": variables}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def together(root: str, names: tuple[str, ...], group: list[Call]) -> list[Answer]:
        types = {a: walk.variable_type(root, a) for a in names}
        body = await post(
            walk.document(root, types, aliases=len(group)),
            {f"{a}{i}": v for i, call in enumerate(group) for a, v in call.args},
        )
        data = body.get("data") or {}
        errors: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for error in body.get("errors", []):
            errors[str((error.get("path") or ["?"])[0])].append(error)
        unplaced = [e for key, es in errors.items() if not key.startswith("a") for e in es]
        return [Answer(call, data.get(f"a{i}"), errors[f"a{i}"] + unplaced) for i, call in enumerate(group)]

    async def alone(call: Call) -> Answer:
        document = walk.document(call.root, {a: walk.variable_type(call.root, a) for a, _ in call.args})
        body = await post(document, dict(call.args))
        return Answer(call, (body.get("data") or {}).get(call.root), body.get("errors", []))

    async def group_of(root: str, names: tuple[str, ...], group: list[Call]) -> list[Answer]:
        # the first call alone, then the rest: Neo4j plans each statement once, not once per concurrent call
        if is_non_null_type(walk.roots[root].type):
            first = [await alone(group[0])]
            return first + list(await asyncio.gather(*(alone(call) for call in group[1:])))
        first = await together(root, names, group[:1])
        return first + (await together(root, names, group[1:]) if group[1:] else [])

    out: list[Answer] = []
    for answers in await asyncio.gather(*(group_of(root, names, g) for (root, names), g in groups.items())):
        out += answers
    return out


def problems(
    answers: list[Answer],
    foreign: Mapping[str, str],
    above: frozenset[str] = frozenset(),
    entities: frozenset[str] = frozenset(),
) -> dict[str, list[str]]:
    """Per root field, what its answers showed that they should not: a foreign code in the data, or in an
    error message unless the call itself named it; an area `above` the reader's shown as an entity (one of
    `entities`) with more than its code and name; an internal error (it could hide any of these)."""
    out: dict[str, list[str]] = defaultdict(list)
    for answer in answers:
        call = answer.call
        found = [*find_foreign(answer.data, foreign, call.root), *overshown(answer.data, above, entities, call.root)]
        asked = {f.code for f in find_foreign([v for _, v in call.args], foreign)}
        told = {code: why for code, why in foreign.items() if code not in asked}
        for error in answer.errors:
            found += find_foreign(error.get("message", ""), told, f"{call.root} error")
            if (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR":
                out[call.root].append(f"{call} → internal error at {error.get('path')}: {error.get('message')}")
        out[call.root] += [f"{call} → {f}" for f in found]
    return {root: items for root, items in out.items() if items}


#: What an area above the reader's may show of itself: who it is, never what it holds.
IDENTITY = frozenset({"__typename", "id", "code", "type", "typeName", "label", "name"})


def overshown(value: Any, above: frozenset[str], entities: frozenset[str], path: str = "$") -> Iterator[Found]:
    """Entities (of a type in `entities`) whose code is in `above` and that show a value beyond `IDENTITY`
    (relationships are checked by `find_foreign`). A field aliased `<Type>_<field>` counts as `field`."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from overshown(item, above, entities, f"{path}[{i}]")
    elif isinstance(value, dict):
        fields = {(k.split("_", 1)[1] if k[:1].isupper() and "_" in k else k): v for k, v in value.items()}
        if fields.get("__typename") in entities and fields.get("code") in above:
            for name, item in fields.items():
                if name not in IDENTITY and item is not None and not isinstance(item, dict | list):
                    yield Found(f"{path}.{name}", str(item), f"{fields['code']} (an area above: code and name only)")
        for key, item in value.items():
            yield from overshown(item, above, entities, f"{path}.{key}")


# ---------------------------------------------------------------- argument values


@dataclass
class Places:
    """A generated city's entities by label: (code, the 12-digit area it lies in, None for city-wide ones)."""

    by_label: dict[str, list[tuple[str, str | None]]]
    names: list[str]  # names of areas and compounds (search terms)

    @classmethod
    def of(cls, rows: Mapping[str, list[dict[str, Any]]]) -> Places:
        """From the demo generator's rows (keyed by sheet, each row by English header)."""
        by_label: dict[str, list[tuple[str, str | None]]] = {}
        areas = {level.label for level in AREA_LEVELS}
        for sheet in NODE_SHEETS:
            key = next(c.en for c in sheet.columns if c.name == "code")
            codes = [r[key] for r in rows.get(sheet.key, [])]
            if sheet.label in areas:
                by_label[sheet.label] = [(c, c) for c in codes]
            elif "-" in (codes or ["-"])[0]:
                by_label[sheet.label] = [(c, own_code_area(c)) for c in codes]
            else:
                by_label[sheet.label] = [(c, None) for c in codes]
        names = [r["name"] for key in ("Street", "Community", "Compound") for r in rows.get(key, [])]
        return cls(by_label, names)

    @property
    def areas(self) -> list[str]:
        """Every area code (city, districts, streets, communities)."""
        return [code for level in AREA_LEVELS for code, _ in self.by_label.get(level.label, [])]

    def sample(self, reader: Reader, label: str, inside: int, outside: int, city_wide: int = 3) -> list[str]:
        """Codes of `label`: up to `inside` the reader may read (spread over them), the areas above it, and
        up to `outside` it may not (one per foreign community first); up to `city_wide` of a city-wide label."""
        entries = self.by_label.get(label, [])
        if entries and entries[0][1] is None:
            return [c for c, _ in entries][:city_wide]
        mine = [c for c, area in entries if reader.inside(area or "")]
        above = [c for c, area in entries if area is not None and reader.above(area)]
        theirs: dict[str, str] = {}
        for code, area in entries:
            if area is not None and not reader.inside(area) and not reader.above(area):
                theirs.setdefault(area, code)
        others = list(theirs.values()) + [c for c, area in entries if area in theirs and c not in theirs.values()]
        step = max(1, len(mine) // max(1, inside))
        return mine[::step][:inside] + above + others[:outside]

    def scopes(self, reader: Reader) -> list[str]:
        """Scope values: the reader's own first, an area and a grid inside, the areas above, and foreign ones."""
        grids = [c for c, _ in self.by_label.get("Grid", [])]
        inside = [a for a in self.areas if reader.inside(a) and a != reader.scope]
        foreign = [a for a in self.areas if not reader.inside(a) and not reader.above(a)]
        above = [a for a in self.areas if reader.above(a)]
        grid_in = [g for g in grids if reader.inside(own_code_area(g)) and g != reader.scope][:1]
        grid_out = [g for g in grids if not reader.inside(own_code_area(g))][:1]
        return [reader.scope, *inside[-1:], *grid_in, *above, *foreign, *grid_out]


def global_id(label: str, code: str) -> str:
    """A Relay global ID as the API makes them (base64 of "Label:code")."""
    return base64.b64encode(f"{label}:{code}".encode()).decode()


def pools(places: Places, reader: Reader, walk: Walk) -> Callable[[str, str], list[Any]]:
    """Argument values by name for `reader`'s calls: scopes, codes and global IDs inside and outside its
    area (a look-up's of its own label, others' of every label), code prefixes and names to search for."""
    labels = [s.label for s in NODE_SHEETS]
    mixed = [(label, code) for label in labels for code in places.sample(reader, label, 1, 1)]
    foreign = list(reader.foreign(places.areas))
    prefixes = [reader.scope, *foreign, *(f"{p}-{a}" for p in ("DY", "HU") for a in foreign[-1:]), "WG-", "42", "91"]
    names = ["社区", "党", "网格", "物业", *places.names[::6]]

    def pool(root: str, arg: str) -> list[Any]:
        own = get_named_type(walk.roots[root].type).name
        if arg == "scope":
            return places.scopes(reader)
        if arg in ("code", "root"):
            if own in labels:
                return places.sample(reader, own, 3, 3, city_wide=20)
            return [code for _, code in mixed]
        if arg == "id":
            return [global_id(label, code) for label, code in mixed]
        if arg == "ids":
            return [[global_id(label, code) for label, code in mixed]]
        if arg == "codePrefix":
            return prefixes
        if arg == "name":
            return names
        return []

    return pool
