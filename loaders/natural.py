"""Rows without a code: identified by their natural key (自然键), given a stable code; link cells naming them.

The rules (docs/import.md, 自然键 / natural keys):
- Only a row whose 编码 cell is blank takes this path. A row with a code is identified by it: its natural key is
  neither read nor indexed, so rows with codes cost one test of their code per chunk here, nothing more.
- A blank-code row's key: its natural-key parts (`Sheet.natural_key`) as text — the link part (first) as the code
  of the node it names, each column's value upper-cased — joined by "/". Within the input one row holds a key;
  another with the same key is a problem naming the first (personal parts masked), and both are rejected.
- Its code: the graph's node with that key keeps its code (`graph.natural`), whatever else changed — a member's
  household, a building's grid. Else a new one, `PREFIX-<the row's most specific area code>-N<number>`
  (`core.codes.assigned_code`), one past the highest allocated in that area in the graph or by this load, in
  row order: the same workbook loaded again into the same graph gets the same codes, and no code derives from
  personal data (a member's is a number counted within the community, not a digest of the ID number).
- A link cell naming a sheet with a natural key may hold the target's key instead of its code: its parts joined
  by "/", the link part as a code or, in turn, as a key (`XQ-420602001001-01/3栋/2/301`: room 301 of unit 2 of
  building 3栋 of that compound); a member's key is the ID number. A value with "/" (never in a code) is a key;
  so is, for a key of one column, a value not shaped like the sheet's code. It is found among the input's
  blank-code rows, then in the graph (a row with a code is named by its code); an unknown key is a problem (an
  ID number in it masked). A value without "/" that is no ID number falls through to the code look-up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from core.areas import AREA_PROPERTIES
from core.codes import assigned_code, assigned_stem, check_id_number
from core.model import SHEET_BY_LABEL, Column, Link, Sheet
from core.privacy import mask, redact
from loaders.cells import header
from loaders.codeindex import CodeIndex
from loaders.problems import Problem
from loaders.rowstore import Chunk, Row

#: Finds nodes by natural key in the graph: (label, keys as lists of parts) -> {key: (code, area path)}.
NaturalFind = Callable[[str, list[list[str]]], Awaitable[dict[tuple[str, ...], tuple[str, dict[str, str]]]]]
#: The highest number allocated after each stem in the graph: (label, stems) -> {stem: number}.
TopFind = Callable[[str, list[str]], Awaitable[dict[str, int]]]


class NaturalLookups(NamedTuple):
    """How validation asks the graph about natural keys (`graph.natural`)."""

    find: NaturalFind
    tops: TopFind


class Naturals:
    """Validation's memory of natural keys: the input's blank-code rows' keys, what the graph answered, the
    numbers allocated per area."""

    def __init__(self, lookups: NaturalLookups | None, problems: list[Problem]) -> None:
        self.lookups = lookups
        self.problems = problems
        self.keys: dict[str, dict[str, str]] = defaultdict(dict)  # label -> key -> code (the input's rows)
        self.found: dict[str, dict[str, str | None]] = defaultdict(dict)  # label -> key -> code in the graph
        self.tops: dict[str, int] = {}  # stem -> the highest number allocated or found

    async def assign(self, sheet: Sheet, chunk: Chunk, index: CodeIndex, rejected: set[int]) -> bool:
        """Give each blank-code row of a chunk its code (after its area path is known); True when any got one.

        A rejected row gets one too when its key is whole (it is never written): rows naming it by key then
        resolve, and are rejected for naming a rejected row, not reported as naming nothing."""
        if not sheet.natural_key:
            return False
        blank = [i for i, row in enumerate(chunk) if not row.code]
        if not blank:
            return False
        label = sheet.label
        keyed = self._keyed(sheet, chunk, blank, index, rejected)
        await self._look_up(label, {key for _, key in keyed}, index)
        found = self.found[label]
        for row, key in keyed:
            row.code = found.get(key) or ""
        await self._allocate(sheet, [row for row, _ in keyed if not row.code])
        for row, key in keyed:
            if row.code:
                self.keys[label][key] = row.code
        return True

    def _keyed(
        self, sheet: Sheet, chunk: Chunk, blank: list[int], index: CodeIndex, rejected: set[int]
    ) -> list[tuple[Row, str]]:
        """The blank-code rows with their keys; a second row with a key already held is a problem."""
        parts, label = sheet.natural_parts, sheet.label
        link = parts[0].en if isinstance(parts[0], Link) else None
        position = {c.name: i for i, c in enumerate(sheet.columns)}
        at = [position[p.name] for p in parts if isinstance(p, Column)]
        held, here = self.keys[label], {}
        out: list[tuple[Row, str]] = []
        for i, values in zip(blank, chunk.value_rows(blank), strict=True):
            row = chunk[i]
            texts = [str(values[j]).upper() if values[j] is not None else "" for j in at]
            if link is not None:
                targets = row.resolved.get(link)
                texts.insert(0, targets[0][1] if targets else "")  # none: rejected for its link already
            if not all(texts):
                continue  # its link part named nothing valid: the row is rejected for that already
            key = "/".join(texts)
            first = here.get(key) or (index.row_number(label, held[key]) if key in held else None)
            if first is None:
                here[key] = row.number
                out.append((row, key))
                continue
            self.problems.append(_duplicate(sheet, row, texts, first))
            row.bad = True
            rejected.add(first)
            if key in held:
                index.bad[label].add(held[key])
        return out

    async def _look_up(self, label: str, keys: set[str], index: CodeIndex) -> None:
        """Ask the graph for the keys it was not asked yet; what it holds goes to `found` and to the index."""
        known = self.found[label]
        new = sorted(k for k in keys if k not in known)
        if not new:
            return
        answers = await self.lookups.find(label, [k.split("/") for k in new]) if self.lookups else {}
        for key in new:
            code, area = answers.get(tuple(key.split("/")), (None, {}))
            known[key] = code
            if code is not None:
                index.existing[(label, code)] = area

    async def _allocate(self, sheet: Sheet, rows: list[Row]) -> None:
        """A new code for each row, in row order, one past the highest of its area's stem (graph or this load)."""
        areas: dict[int, str] = {}  # rows share their parent's area dict: each read once
        for row in rows:
            if id(row.area) not in areas:
                areas[id(row.area)] = _own_area(row)
        stems = [assigned_stem(sheet.prefix, area) if (area := areas[id(row.area)]) else "" for row in rows]
        new = sorted({s for s in stems if s and s not in self.tops})
        if new:
            tops = await self.lookups.tops(sheet.label, new) if self.lookups else {}
            self.tops.update({s: tops.get(s, 0) for s in new})
        for row, stem in zip(rows, stems, strict=True):
            if stem:  # a row without an area path names no valid parent: rejected for that already
                self.tops[stem] += 1
                row.code = assigned_code(stem, self.tops[stem])

    async def translate(self, waiting: list[tuple[Row, Link]], index: CodeIndex) -> bool:
        """Rewrite each natural key the rows' link cells name to the code it names (see the module's doc); an
        unknown key is a problem and leaves the row's cell. True when any value was rewritten."""
        asked: dict[str, set[str]] = defaultdict(set)
        for row, link in waiting:
            for ref in row.refs.get(link.en, ()):
                for target in link.targets:
                    if _is_key(ref, SHEET_BY_LABEL[target]):
                        asked[target].add(ref)
        if not asked:
            return False
        codes = {label: await self._codes(SHEET_BY_LABEL[label], refs, index) for label, refs in asked.items()}
        changed = False
        for row, link in waiting:
            refs, kept = row.refs.get(link.en, []), []
            for ref in refs:
                code = next((codes[t][ref] for t in link.targets if ref in codes.get(t, {})), None)
                if code is not None:
                    kept.append(code)
                    changed = True
                elif any(ref in asked.get(t, ()) for t in link.targets) and _no_code(ref, link):
                    self.problems.append(_unknown(row, link, ref))
                    row.bad = True
                else:
                    kept.append(ref)  # a code after all (a credit code where a member or unit is named)
            row.refs[link.en] = kept
        return changed

    async def _codes(self, sheet: Sheet, refs: set[str], index: CodeIndex) -> dict[str, str]:
        """The codes of the `sheet` nodes the `refs` name by key (refs not found are left out)."""
        parts, label = sheet.natural_parts, sheet.label
        first = parts[0] if isinstance(parts[0], Link) else None
        inner_sheet = SHEET_BY_LABEL[first.targets[0]] if first is not None else None
        split: dict[str, tuple[str, list[str]]] = {}  # ref -> (its link part as written, the rest)
        for ref in refs:
            pieces = ref.split("/")
            cut = len(pieces) - len(parts) + 1
            if len(pieces) == len(parts) or (cut > 1 and inner_sheet is not None and inner_sheet.natural_key):
                split[ref] = ("/".join(pieces[:cut]), pieces[cut:]) if first is not None else ("", pieces)
        inner = {head for head, _ in split.values() if "/" in head}
        inner_codes = await self._codes(inner_sheet, inner, index) if inner and inner_sheet else {}
        keys: dict[str, str] = {}
        for ref, (head, rest) in split.items():
            parent = inner_codes.get(head, "") if "/" in head else head
            if parent or first is None:
                keys[ref] = "/".join([parent, *rest] if first is not None else rest)
        held = self.keys[label]
        await self._look_up(label, {k for k in keys.values() if k not in held}, index)
        found = self.found[label]
        return {ref: code for ref, key in keys.items() if (code := held.get(key) or found.get(key))}


def _is_key(ref: str, sheet: Sheet) -> bool:
    """Whether a value in a link cell naming `sheet` is a natural key rather than a code (see the module's doc)."""
    if not sheet.natural_key:
        return False
    return "/" in ref or (len(sheet.natural_key) == 1 and not ref.startswith(f"{sheet.prefix}-"))


def _no_code(ref: str, link: Link) -> bool:
    """Whether a value read as a natural key and not found cannot be a code either: it holds "/", it is an ID
    number, or none of the link's targets could have it as a code. Its problem is then the key's (masked)."""
    if "/" in ref or check_id_number(ref) is None:
        return True
    return all(_is_key(ref, SHEET_BY_LABEL[t]) for t in link.targets)


def _own_area(row: Row) -> str:
    """The row's most specific area code (its community's, else its street's, ...); "" when it has none."""
    return next((row.area[k] for k in reversed(AREA_PROPERTIES) if row.area.get(k)), "")


def _shown(sheet: Sheet, texts: list[str]) -> str:
    """A key as an error message shows it: personal parts masked."""
    return "/".join(
        mask(p, t) if isinstance(p, Column) and p.sensitive else t
        for p, t in zip(sheet.natural_parts, texts, strict=True)
    )


def _duplicate(sheet: Sheet, row: Row, texts: list[str], first: int) -> Problem:
    """A second row with a key already held by row `first`: named by the key's last column and its value."""
    parts = sheet.natural_parts
    return Problem(
        row.source_name,
        row.number,
        header(sheet, parts[-1].name if isinstance(parts[-1], Column) else parts[-1].en, {}),
        _shown(sheet, texts),
        f"自然键重复({'+'.join(p.zh for p in parts)}):与第{first}行相同",
        f"duplicate natural key ({' + '.join(p.en for p in parts)}): row {first} has the same",
    )


def _unknown(row: Row, link: Link, ref: str) -> Problem:
    """A natural key naming nothing in the input or the graph (ID numbers in it masked)."""
    shown = redact(ref)
    want_zh = "或".join(SHEET_BY_LABEL[t].zh for t in link.targets)
    want_en = " or ".join(link.targets)
    return Problem(
        row.source_name,
        row.number,
        link.zh,
        shown,
        f"找不到自然键为 {shown} 的「{want_zh}」(工作簿中无编码的行和数据库中都没有;有编码的行请用编码引用)",
        f"no {want_en} has the natural key {shown}: neither a row without a code in this workbook nor the graph "
        "(name a row that has a code by its code)",
    )
