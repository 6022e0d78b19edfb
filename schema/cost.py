"""The cost of a GraphQL request, from the model: about how many values its answer will hold in a city.

The rule (GraphQL Armor's cost-limit, with list sizes taken from the model instead of a flat factor): every
field costs 1 each time it is answered — a scalar, an object, a list item; a list field is answered once per
expected row, and everything selected under it is multiplied by that many rows, so nested lists multiply. A
named fragment costs what its fields cost where it is spread (and 1 for the spread itself), computed once per
request however often it is spread — the walk is linear in the document, never in its expansion.

Expected rows come from three places:

- **relationships of the model** (`Building.households`, `Community.compounds`, `GridBranch.roles`…): the
  number of the listed label in a city (`CITY`, the `city` demo profile: docs/model.md and the report's
  figures in the domain notes) divided by the number of the label that lists them, rounded up — 76 households
  per building, 12 buildings per compound, 5 grids per community;
- **page sizes given by the request**: `first` (`gaps`, `search`, `auditLog`, `accessLog`), `maxNodes`
  (`network`), the length of `nodes(ids:)`, of `metrics` and `kinds`;
- **the rest** (`ROWS`): a chain's four levels, a scope's child areas, the schema's own size for introspection.

Every list field of the schema must have an expected size: `CostModel` refuses to build otherwise, so a list
field added tomorrow is given one the day it is added (tests/test_limits.py builds it over the real schema).
The cost is an estimate made before execution, from the document, its variables and the argument defaults.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_input_object_type,
    is_list_type,
    value_from_ast_untyped,
)
from graphql.pyutils import Undefined
from graphql.type.introspection import TypeMetaFieldDef

from core.areas import level_of
from core.model import GAP_KINDS, NODE_SHEETS, ORG_LABELS, SHEETS_BY_KEY
from graph.history import MAX_POINTS, Every, series_days

#: How many of each label (and of each link sheet's rows) a city holds: the `city` demo profile (28 streets,
#: 515 communities, 2,486 grids, 2,260 compounds, 3,700 units, 609 red stations, 120,000 list entries, about
#: 2 million households; docs/model.md), the rest scaled from the generated city's per-community figures.
CITY: dict[str, int] = {
    "City": 1,
    "District": 5,
    "Street": 28,
    "StreetWorkingCommittee": 28,
    "Community": 515,
    "CommunityCommittee": 515,
    "ResidentsCommittee": 515,
    "ServiceCenter": 505,
    "Grid": 2_486,
    "Compound": 2_260,
    "PropertyCompany": 282,
    "PropertyService": 2_190,
    "OwnersCommittee": 1_980,
    "RedStation": 609,
    "Building": 26_400,
    "Household": 2_000_000,
    "Unit": 3_700,
    "UnitMembership": 3_700,
    "UnitReport": 3_520,
    "GridBranch": 2_387,
    "PartyMember": 227_000,
    "Role": 15_100,
    "BuildingGroup": 12_200,
    "CentralHousehold": 109_000,
    "MemberReport": 75_600,
    "Resource": 34_400,
    "Need": 45_000,
    "Service": 40_600,
}

#: Scope levels and how many communities each holds in a city (a grid's scope reads part of one community).
COMMUNITIES_IN = {"city": 515, "district": 103, "street": 19, "community": 1, "grid": 1}
#: A scope level's child areas in a city (coverage's `children`).
CHILDREN_OF = {"city": 5, "district": 6, "street": 19, "community": 5, "grid": 1}
#: Accounts an admin's scope is expected to hold.
ACCOUNTS = 100

Args = Mapping[str, Any]
#: Expected rows of a list field, from its own arguments and those of the fields above it (nearest first).
Rows = Callable[[Args, Args], int]


def per(listed: str, owner: str) -> int:
    """Expected `listed` rows under one `owner` in a city: their ratio, rounded up (at least 1)."""
    return max(1, math.ceil(CITY[listed] / CITY[owner]))


def _const(n: int) -> Rows:
    return lambda _own, _above: n


def _int(value: Any, default: int) -> int:
    """An argument's number (a page size), or `default` when it is missing or not a number (the request will
    fail coercion then)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _arg(name: str, default: int, *, own: bool = True) -> Rows:
    """Rows given by a number argument of the field itself (`own`) or of the field above it (a connection's
    `edges` take their parent's `first`)."""
    return lambda mine, above: _int((mine if own else above).get(name), default)


def _length(name: str, default: int) -> Rows:
    """Rows given by a list argument's length (`nodes(ids:)`, `metrics`, `kinds`), `default` when absent."""

    def rows(mine: Args, above: Args) -> int:
        value = mine.get(name, above.get(name))
        return len(value) if isinstance(value, list) else default

    return rows


def _scope_level(above: Args) -> str:
    """The level of the scope a request names (the widest, a city, when it names none or an invalid one)."""
    code = above.get("scope") or above.get("root")
    if isinstance(code, str):
        code = code.strip().upper()
        if code.startswith("WG-"):
            return "grid"
        try:
            return level_of(code).key
        except (ValueError, KeyError):
            return "city"
    return "city"


def _in_scope(per_community: int) -> Rows:
    """Rows proportional to the communities inside the request's scope."""
    return lambda _own, above: per_community * COMMUNITIES_IN[_scope_level(above)]


def _children(_own: Args, above: Args) -> int:
    return CHILDREN_OF[_scope_level(above)]


def _points(_own: Args, above: Args) -> int:
    """A coverage history's days, from its `from`, `to` and `every` (their defaults: a year by month); the most
    a series may have when they are not plain dates."""
    try:
        last = date.fromisoformat(above["to"]) if above.get("to") is not None else date.today()
        first = date.fromisoformat(above["from"]) if above.get("from") is not None else last - timedelta(days=365)
        return len(series_days(first, last, Every[str(above.get("every") or "MONTH")]))
    except (TypeError, ValueError, KeyError):
        return MAX_POINTS


def _model_rows() -> dict[tuple[str, str], Rows]:
    """Rows of the fields that are not relationships of the model: page sizes, chains, scopes, enums."""
    partner_links = per("UnitReport", "Community") + per("UnitMembership", "Community")
    metrics = 8  # CoverageMetric's values (the coverage rollup's metrics)
    return {
        ("Query", "cities"): _const(CITY["City"]),
        ("Query", "serverInfo"): _const(1),
        ("Query", "auditLog"): _arg("first", 50),
        ("Query", "accessLog"): _arg("first", 50),
        ("Query", "imports"): _arg("first", 50),
        ("ImportRecord", "counts"): _const(len(SHEETS_BY_KEY)),
        ("ImportRecord", "gaps"): _const(len(GAP_KINDS)),
        ("ImportRecord", "coverage"): _const(metrics),
        ("Query", "accounts"): _const(ACCOUNTS),
        ("Query", "nodes"): _length("ids", 1),
        ("ServerComponent", "versions"): _const(1),
        ("Coverage", "children"): _children,
        ("AreaCoverage", "figures"): _length("metrics", metrics),
        ("CoverageHistory", "points"): _points,
        ("ChangeConnection", "edges"): _arg("first", 50, own=False),
        ("CoveragePoint", "figures"): _length("metrics", metrics),
        ("GapConnection", "edges"): _arg("first", 50, own=False),
        ("GapConnection", "counts"): _length("kinds", len(GAP_KINDS)),
        ("EntityConnection", "edges"): _arg("first", 20, own=False),
        ("ResponsibilityChain", "links"): _const(len(ORG_LABELS)),
        ("ResponsibilityChain", "partnerUnits"): _const(per("UnitReport", "Community")),
        ("PartnerNetwork", "links"): _in_scope(partner_links),
        ("Network", "nodes"): _arg("maxNodes", 500, own=False),
        ("Network", "edges"): _arg("maxNodes", 500, own=False),
        ("NetworkNode", "gaps"): _const(1),
        ("NetworkNode", "hidden"): _const(3),  # a node's hidden neighbours: buildings, central households, units
        ("AccessEntry", "fields"): _const(sum(c.sensitive for s in NODE_SHEETS for c in s.columns)),
    }


def _introspection_rows(schema: GraphQLSchema) -> dict[tuple[str, str], Rows]:
    """Introspection lists at this schema's own sizes: how many types, and fields, arguments, values each has
    on average — the standard introspection query costs about what its answer holds, and nesting
    `fields { type { fields … } }` multiplies like any other list."""
    types = list(schema.type_map.values())

    def mean(counts: list[int]) -> int:
        return max(1, math.ceil(sum(counts) / len(counts))) if counts else 1

    outputs = [t for t in types if not is_input_object_type(t)]
    fields = [0 if is_input_object_type(t) else len(getattr(t, "fields", {}) or {}) for t in types]
    args = [len(f.args) for t in outputs for f in (getattr(t, "fields", {}) or {}).values()]
    abstract = [len(schema.get_possible_types(t)) if is_abstract_type(t) else 0 for t in types]
    return {
        ("__Schema", "types"): _const(len(types)),
        ("__Schema", "directives"): _const(len(schema.directives)),
        ("__Type", "fields"): _const(mean(fields)),
        ("__Type", "interfaces"): _const(mean([len(getattr(t, "interfaces", ()) or ()) for t in types])),
        ("__Type", "possibleTypes"): _const(mean(abstract)),
        ("__Type", "enumValues"): _const(mean([len(t.values) if isinstance(t, GraphQLEnumType) else 0 for t in types])),
        ("__Type", "inputFields"): _const(mean([len(t.fields) if is_input_object_type(t) else 0 for t in types])),
        ("__Field", "args"): _const(mean(args)),
        ("__Directive", "args"): _const(mean([len(d.args) for d in schema.directives])),
        ("__Directive", "locations"): _const(mean([len(d.locations) for d in schema.directives])),
    }


def _unwrap(type_: GraphQLType) -> GraphQLType:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


class Refused(Exception):
    """A request refused before execution: which limit, its value and the request's."""

    def __init__(self, limit: str, allowed: int, found: int, where: str = "") -> None:
        super().__init__(f"{limit}: {found} > {allowed} {where}".strip())
        self.limit, self.allowed, self.found, self.where = limit, allowed, found, where


@dataclass
class CostModel:
    """Expected rows of every list field of `schema`, and the walk that prices a document with them.

    `max_list_items` bounds every list an argument holds (literal or variable, inside input objects too): the
    walk raises `Refused("list", …)` at the first longer one.
    """

    schema: GraphQLSchema
    max_list_items: int = 100
    rows: dict[tuple[str, str], Rows] = field(init=False)

    def __post_init__(self) -> None:
        self.rows = {**_model_rows(), **_introspection_rows(self.schema)}
        labels = set(CITY)
        for type_ in self.schema.type_map.values():
            if not isinstance(type_, GraphQLObjectType):
                continue
            for name, fld in type_.fields.items():
                key = (type_.name, name)
                if key in self.rows or not is_list_type(_unwrap(fld.type)):
                    continue
                item = get_named_type(fld.type).name
                if type_.name in labels and item in labels:  # a relationship of the model
                    self.rows[key] = _const(per(item, type_.name))
                else:
                    raise LookupError(f"no expected size for the list field {type_.name}.{name} (schema/cost.py)")

    def cost(self, document: Any, operation: OperationDefinitionNode, variables: Mapping[str, Any] | None) -> int:
        """The operation's cost (rounded up); raises `Refused` for a list argument over the limit."""
        walk = _Walk(self, document, dict(variables or {}))
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        return math.ceil(walk.selections(operation.selection_set, root, {}))


class _Walk:
    """One pricing of one document; fragments priced once each (for the arguments above their spread)."""

    def __init__(self, model: CostModel, document: Any, variables: dict[str, Any]) -> None:
        self.model = model
        self.schema = model.schema
        self.variables = variables
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.priced: dict[tuple[str, str], float] = {}
        self.pricing: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None, owner: GraphQLNamedType, above: Args) -> float:
        """The cost of answering `selection_set` once, on an object of type `owner`."""
        if selection_set is None:
            return 0.0
        total = 0.0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                total += self.field(sel, owner, above)
            elif isinstance(sel, InlineFragmentNode):
                cond = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else owner
                total += self.selections(sel.selection_set, cond or owner, above)
            elif isinstance(sel, FragmentSpreadNode):
                total += 1 + self.fragment(sel.name.value, above)
        return total

    def fragment(self, name: str, above: Args) -> float:
        definition = self.fragments.get(name)
        if definition is None or name in self.pricing:  # unknown or cyclic: validation reports it
            return 0.0
        key = (name, repr(sorted(above.items(), key=lambda kv: kv[0])))
        if key not in self.priced:
            self.pricing.add(name)
            owner = self.schema.get_type(definition.type_condition.name.value)
            self.priced[key] = self.selections(definition.selection_set, owner, above) if owner else 0.0
            self.pricing.discard(name)
        return self.priced[key]

    def field(self, node: FieldNode, owner: GraphQLNamedType, above: Args) -> float:
        name = node.name.value
        if name == "__typename":
            return 1.0
        if name == "__schema":
            definition = self.schema.get_type("__Schema")
            return 1 + self.selections(node.selection_set, definition, above) if definition else 1.0
        fields = getattr(owner, "fields", None) or {}
        fdef = TypeMetaFieldDef if name == "__type" else fields.get(name)
        if fdef is None:  # not a field of this type: validation reports it
            return 1.0
        args = self.arguments(node, fdef, name)
        rows = 1
        if is_list_type(_unwrap(fdef.type)):
            rows = max(1, self.model.rows[(owner.name, name)](args, above))
        inherited = {**above, **args}
        return rows * (1 + self.selections(node.selection_set, get_named_type(fdef.type), inherited))

    def arguments(self, node: FieldNode, fdef: Any, name: str) -> dict[str, Any]:
        """The field's arguments as values (variables substituted, defaults filled); lists checked."""
        values: dict[str, Any] = {}
        for arg in node.arguments or ():
            values[arg.name.value] = self.value(arg.value, f"{name}({arg.name.value}:)")
        for arg_name, arg in fdef.args.items():
            if arg_name not in values and arg.default_value is not Undefined:
                values[arg_name] = arg.default_value
        return values

    def value(self, node: ValueNode, where: str) -> Any:
        if isinstance(node, VariableNode):
            value = self.variables.get(node.name.value)
        else:
            value = value_from_ast_untyped(node, self.variables)
        self.check_lists(value, where)
        return value

    def check_lists(self, value: Any, where: str) -> None:
        """Every list inside `value` holds at most `max_list_items` items."""
        limit = self.model.max_list_items
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                if len(item) > limit:
                    raise Refused("list", limit, len(item), where)
                stack.extend(item)
            elif isinstance(item, dict):
                stack.extend(item.values())


__all__ = ["CITY", "CostModel", "Refused", "per"]
