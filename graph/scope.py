"""Scopes: the area every read is confined to (city, district, street, community or grid).

A read never names an area in its Cypher text; it takes a `Scope` and filters area-bound nodes on
the scope's property (`streetCode`, ...) with the code as a parameter. Grid scopes filter on the
grid a node belongs to (see `graph.coverage`). Per-area access control narrows the scope a caller
may ask for; the queries themselves stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import LiteralString, cast

from core.areas import AREA_LEVELS, check_area_code, contains, level_of
from core.codes import check_own_code, own_code_area

#: Scope levels, widest first; each level's children are the next one: the area levels, then grids.
LEVELS: tuple[str, ...] = (*(level.key for level in AREA_LEVELS), "grid")
#: The property an area-bound node carries for each area level.
AREA_PROPERTY: dict[str, LiteralString] = {level.key: level.property for level in AREA_LEVELS}
LEVEL_LABEL: dict[str, LiteralString] = {**{level.key: level.label for level in AREA_LEVELS}, "grid": "Grid"}
LEVEL_ZH: dict[str, str] = {**{level.key: level.zh for level in AREA_LEVELS}, "grid": "网格"}


class AreaNotFound(LookupError):
    """The scope names no area in the graph."""


@cache
def area_query(level: str) -> LiteralString:
    """The scope's own node (its name), or nothing when the code names no such area."""
    return cast(LiteralString, f"MATCH (a:{LEVEL_LABEL[level]} {{code: $scope}}) RETURN a.code AS code, a.name AS name")


class ScopeError(ValueError):
    """A scope code that names no area; the message is bilingual."""


@dataclass(frozen=True)
class Scope:
    """An area: its level and code."""

    level: str
    code: str

    @classmethod
    def parse(cls, code: str) -> Scope:
        """The scope a code names: a 12-digit area code (level from its zeros) or a grid code `WG-...`."""
        code = code.strip().upper()
        if code.startswith("WG-") and check_own_code(code, "WG") is None:
            return cls("grid", code)
        if check_area_code(code) is not None:
            raise ScopeError(
                f"范围编码无效:{code!r} 应为12位统计用区划代码或网格编码 WG-… / "
                f"invalid scope {code!r}: give a 12-digit area code or a grid code WG-…"
            )
        return cls(level_of(code).key, code)

    @property
    def child_level(self) -> str | None:
        """The level of this scope's children (None for a grid)."""
        i = LEVELS.index(self.level)
        return LEVELS[i + 1] if i + 1 < len(LEVELS) else None

    def within(self, other: Scope) -> bool:
        """True when this scope lies inside `other` (or is it)."""
        if other.level == "grid":
            return self == other
        if self.level == "grid":
            return Scope("community", self.community).within(other)
        return LEVELS.index(self.level) >= LEVELS.index(other.level) and contains(other.code, other.level, self.code)

    @property
    def community(self) -> str:
        """The community code a grid scope lies in (its code's 12 digits); else the scope's own code."""
        return own_code_area(self.code) if self.level == "grid" else self.code


def area_in(code: str) -> str | None:
    """The 12-digit area code a code names (an area's own) or lies in (an own code `PREFIX-<area>-…`); None
    for a code of no area (a credit code: units and property companies are city-wide)."""
    if check_area_code(code) is None:
        return code
    parts = code.split("-", 2)
    if len(parts) == 3 and check_area_code(parts[1]) is None:
        return parts[1]
    return None


def shown(code: str, scope: Scope | None) -> bool:
    """Whether a reader of `scope` may be shown `code`: a code of no area, or one whose area lies inside the
    area the reader reads (a grid's: its community) or is one that area lies in (its street, district, city)."""
    area = area_in(code)
    if scope is None or area is None:
        return True
    reads = Scope("community", scope.community) if scope.level == "grid" else scope
    named = Scope(level_of(area).key, area)
    return named.within(reads) or reads.within(named)
