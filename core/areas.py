"""Area levels and their 12-digit codes (统计用区划代码): the one table every layer reads.

A code is 6 county digits (GB/T 2260) + 3 street digits + 3 community digits; an area's level is read
from its trailing zeros, and an area contains every code that starts with its own leading `digits`.
Every area-bound node carries the codes of its areas in the level's `property` (`streetCode`, ...), which
is how reads are scoped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import LiteralString

Reason = tuple[str, str]


@dataclass(frozen=True)
class AreaLevel:
    """One level of the area hierarchy."""

    key: str  # "city", "district", "street", "community"
    digits: int  # the leading digits of a code that name an area of this level
    label: LiteralString  # the graph label of its nodes
    property: LiteralString  # the property an area-bound node keeps this level's code in
    zh: str  # its Chinese name, as users read it


CITY = AreaLevel("city", 4, "City", "cityCode", "市")
DISTRICT = AreaLevel("district", 6, "District", "districtCode", "区")
STREET = AreaLevel("street", 9, "Street", "streetCode", "街道")
COMMUNITY = AreaLevel("community", 12, "Community", "communityCode", "社区")

#: Widest first; each level's areas lie in one area of the level before it.
AREA_LEVELS: tuple[AreaLevel, ...] = (CITY, DISTRICT, STREET, COMMUNITY)
LEVEL: dict[str, AreaLevel] = {level.key: level for level in AREA_LEVELS}
#: The area properties of an area-bound node, widest first (the loader writes them in this order).
AREA_PROPERTIES: tuple[LiteralString, ...] = tuple(level.property for level in AREA_LEVELS)

#: GB/T 2260 province prefixes.
PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54}
    | {61, 62, 63, 64, 65, 71, 81, 82}
)
_AREA = re.compile(r"\d{12}")


def level_of(code: str) -> AreaLevel:
    """The level a well-formed 12-digit area code names, from its trailing zeros."""
    if code[4:] == "00000000":
        return CITY
    if code[6:] == "000000":
        return DISTRICT
    if code[9:] == "000":
        return STREET
    return COMMUNITY


@cache  # a city's millions of own codes share a few thousand area codes
def check_area_code(code: str, level: str | None = None) -> Reason | None:
    """None for a valid 12-digit area code (at `level`, when given), else why not (Chinese, English)."""
    if not _AREA.fullmatch(code):
        return ("统计用区划代码应为12位数字", "an area code (统计用区划代码) must be 12 digits")
    if int(code[:2]) not in PROVINCES:
        return (f"省级代码 {code[:2]} 不存在", f"province prefix {code[:2]} does not exist (GB/T 2260)")
    if code[2:4] == "00" and code[4:] != "00000000":
        return ("地市级代码不能为00", "the prefecture digits (3-4) cannot be 00 below province level")
    actual = level_of(code)
    if level is not None and actual.key != level:
        return (
            f"应为{LEVEL[level].zh}级代码,实为{actual.zh}级",
            f"expected a {level}-level code, this one is {actual.key}-level",
        )
    return None


def prefix(code: str, level: str) -> str:
    """The leading digits every area inside the `level` area `code` shares with it."""
    return code[: LEVEL[level].digits]


def area_code(code: str, level: str) -> str:
    """The code of the `level` area that the area `code` lies in (or is)."""
    return code[: LEVEL[level].digits].ljust(12, "0")


def path(code: str, level: str) -> dict[str, str]:
    """The codes of the areas a `level` area lies in, itself last, by property: {"cityCode": ..., ...}."""
    out = {}
    for each in AREA_LEVELS:
        out[each.property] = area_code(code, each.key)
        if each.key == level:
            break
    return out


def contains(outer: str, outer_level: str, code: str) -> bool:
    """Whether the area `code` lies in the `outer_level` area `outer` (or is it)."""
    digits = LEVEL[outer_level].digits
    return code[:digits] == outer[:digits]
