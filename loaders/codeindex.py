"""What validation remembers of every row once its chunk is stored: compact, for millions of rows.

Per label, each code seen maps to one int packing its row number and the id of its area path
(`number << AREA_BITS | area id`): a province's 28 million codes fit in a few gigabytes that way, where a
tuple per code would not. Rows share their parent's area dict, so the distinct area paths are few and are
kept once each. Codes the input names but does not hold are looked up in the graph (`Lookup`), once each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable

from core.model import SHEETS, Link

#: Looks up codes already in the graph: (label, codes) -> {code: its area path}.
Lookup = Callable[[str, list[str]], Awaitable[dict[str, dict[str, str]]]]

#: Bits of a packed index entry that hold the area path's id; the row number is above them.
AREA_BITS = 20
_AREA_MASK = (1 << AREA_BITS) - 1


class CodeIndex:
    """Every code of the input (its row and area path), rejected codes, and graph nodes rows name."""

    def __init__(self, lookup: Lookup | None) -> None:
        #: label -> code -> `number << AREA_BITS | area id`, for the first row with the code.
        self.codes: dict[str, dict[str, int]] = defaultdict(dict)
        self.areas: list[dict[str, str]] = [{}]  # area id -> area path; 0 is "none"
        self._ids: dict[int, int] = {id(self.areas[0]): 0}
        self.bad: dict[str, set[str]] = defaultdict(set)  # label -> codes of rejected rows
        self.existing: dict[tuple[str, str], dict[str, str]] = {}  # (label, code) found in the graph -> area path
        self.unknown: list[tuple[str, int, Link, str]] = []  # (source, row, link, code) named but not found
        self._looked_up: dict[str, set[str]] = defaultdict(set)
        self._lookup = lookup

    def has(self, label: str, code: str) -> bool:
        """Whether a `label` node with this code is in the input or the graph."""
        return code in self.codes[label] or (label, code) in self.existing

    def area(self, label: str, code: str) -> dict[str, str]:
        """The area path of the `label` node with this code (empty when unknown)."""
        packed = self.codes[label].get(code)
        if packed is not None:
            return self.areas[packed & _AREA_MASK]
        return self.existing.get((label, code), {})

    def row_number(self, label: str, code: str) -> int | None:
        """The input row that holds the `label` node with this code (None when the input holds none)."""
        packed = self.codes[label].get(code)
        return None if packed is None else packed >> AREA_BITS

    def area_id(self, area: dict[str, str]) -> int:
        """The id of an area path: rows share their parent's dict, so most are found by identity; none is 0."""
        if not area:
            return 0
        aid = self._ids.get(id(area))
        if aid is None:
            if len(self.areas) > _AREA_MASK:
                raise ValueError("too many distinct area paths")
            aid = self._ids[id(area)] = len(self.areas)
            self.areas.append(area)  # kept alive here, so its id() stays unique
        return aid

    async def look_up(self, wanted: dict[str, set[str]]) -> None:
        """Find codes the input does not hold in the graph; unknown ones in every other label too (a code of
        the wrong kind is then reported as such)."""
        if self._lookup is None:
            return
        asked: set[str] = set()
        for label, codes in wanted.items():
            known, asked_before = self.codes[label], self._looked_up[label]
            new = {c for c in codes if c not in known and c not in asked_before}  # O(chunk), not O(index)
            if not new:
                continue
            self._looked_up[label] |= new
            asked |= new
            for code, area in (await self._lookup(label, sorted(new))).items():
                self.existing[(label, code)] = area
        unresolved = {c for c in asked if not any((label, c) in self.existing for label in wanted)}
        if unresolved:
            for sheet in SHEETS:
                if sheet.is_node and sheet.label not in wanted:
                    todo = unresolved - self._looked_up[sheet.label]
                    if not todo:
                        continue
                    self._looked_up[sheet.label] |= todo
                    for code, area in (await self._lookup(sheet.label, sorted(todo))).items():
                        self.existing[(sheet.label, code)] = area
