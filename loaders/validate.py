"""The rules across rows: references, areas, duplicates — every problem found at once.

Each row's own cells were judged by `loaders.cells`; `Checks` judges each chunk against what came before
(a sheet's rows may name rows of earlier sheets, or nodes already in the graph) and, once every sheet is
read, the links that name later sheets (`later_links`). A row with a problem is `bad`; with
`--skip-invalid`, a row naming a bad row is bad too (`CASCADE_REASON`). Nothing here reads or writes
Neo4j but through the `CodeIndex`'s look-up.
"""

from __future__ import annotations

from collections import defaultdict

from core import areas
from core.areas import LEVEL
from core.model import SHEET_BY_LABEL, SHEETS, Link, Sheet, later_links
from loaders.cells import header
from loaders.codeindex import AREA_BITS, CodeIndex, Lookup
from loaders.natural import NaturalLookups, Naturals
from loaders.problems import Problem
from loaders.rowstore import RESOLVED, Chunk, Row, RowStore

#: Why a row without problems of its own was still rejected (with --skip-invalid).
CASCADE_REASON = ("所引用的行有错误,本行一并跳过", "a row it names was rejected, so this row is skipped too")


class Checks:
    """Validation's memory across a load's chunks, and the order its rules run in.

    `rejected` holds, per sheet, the numbers of rows found bad after their chunk was stored (readers of the
    store flag them); the index holds every code seen and the codes of bad rows.
    """

    def __init__(self, lookup: Lookup | None, problems: list[Problem], naturals: NaturalLookups | None = None) -> None:
        self.index = CodeIndex(lookup)
        self.problems = problems
        self.naturals = Naturals(naturals, problems)  # rows without a code, and link cells naming them by key
        self.rejected: dict[str, set[int]] = defaultdict(set)
        self._link_keys: dict[str, int] = {}  # a link sheet's "sheet|source>target|role" -> its first row
        #: sheet key -> per stored chunk, per later link: the (code, naming row's area code) pairs it names.
        self._later_names: dict[str, list[list[set[tuple[str, str]]]]] = defaultdict(list)

    async def check_chunk(self, sheet: Sheet, chunk: Chunk) -> None:
        """Resolve and check a chunk of `sheet` (sheets in model order): before it is stored."""
        later = later_links(sheet)
        earlier = tuple(lk for lk in sheet.all_links if lk not in later)
        index, rejected, naturals = self.index, self.rejected[sheet.key], self.naturals
        changed = await _resolve(chunk, earlier, index, naturals)
        if any(SHEET_BY_LABEL[lk.targets[0]].natural_key for lk in later):  # a key names a node in the graph only
            changed = await naturals.translate([(row, lk) for lk in later for row in chunk], index) or changed
        for link in later:  # checked once the target sheet is read; resolved to its one label now
            for row in chunk:
                row.resolved[link.en] = [(link.targets[0], c) for c in row.refs.get(link.en, ())]
        _area_paths(sheet, chunk, index, self.problems)
        changed = await naturals.assign(sheet, chunk, index, rejected) or changed
        if changed and not sheet.is_node:
            _link_codes(sheet, chunk)
        _same_area(chunk, earlier, index, self.problems)
        # after the area paths: a code is indexed with its row's area in one write (no sheet names its own label)
        _deduplicate(sheet, chunk, index, self._link_keys, rejected, self.problems)
        _finish(sheet, chunk, index, rejected)
        if changed:
            chunk.rekey()
        if later:
            self._later_names[sheet.key].append(_later_names(chunk, later))

    async def check_later_links(self, store: RowStore) -> None:
        """Every sheet's links to later sheets, now that those are read: unknown codes and other areas.

        Each stored chunk is checked by the distinct codes it names; only a chunk with a problem is read
        again (from disk, when it was spilled) to find the rows at fault.
        """
        for sheet in SHEETS:
            links = later_links(sheet)
            for i, per_link in enumerate(self._later_names.get(sheet.key, [])):
                pairs_of = list(zip(links, per_link, strict=True))
                await self.index.look_up({lk.targets[0]: {code for code, _ in pairs} for lk, pairs in pairs_of})
                if not all(_fits(lk, pairs, self.index) for lk, pairs in pairs_of):
                    self._reject_later(sheet, store.chunk(sheet.key, i, self.rejected[sheet.key]), links)

    def _reject_later(self, sheet: Sheet, chunk: Chunk, links: tuple[Link, ...]) -> None:
        index, rejected, found = self.index, self.rejected[sheet.key], []
        for link in links:
            label = link.targets[0]
            for row in chunk:
                for _, code in row.resolved.get(link.en, ()):
                    if not index.has(label, code):
                        _unknown(row, link, code, index)
                        rejected.add(row.number)
        _same_area(chunk, links, index, found)
        self.problems.extend(found)
        rejected.update(p.row for p in found)
        for row in chunk:
            if sheet.is_node and row.number in rejected:
                index.bad[sheet.label].add(row.code)

    def finish(self, store: RowStore) -> None:
        """Report codes named but found nowhere; reject rows naming rejected rows; sort the problems."""
        self.problems.extend(_unknown_problem(*u, self.index) for u in self.index.unknown)
        if self.problems:
            self._cascade(store)
        self.problems.sort(key=lambda p: (_sheet_order(p.sheet), p.row, p.column))

    def _cascade(self, store: RowStore) -> None:
        """With --skip-invalid, a row that names a rejected row is rejected too (until nothing changes)."""
        bad = self.index.bad
        changed = True
        while changed:
            changed = False
            for sheet in SHEETS:
                rejected = self.rejected[sheet.key]
                for chunk in store.chunks(sheet.key, rejected):
                    for row in chunk:
                        if row.bad or not _names_bad(row, bad):
                            continue
                        row.bad = True
                        rejected.add(row.number)
                        if sheet.is_node and row.code:
                            bad[sheet.label].add(row.code)
                        changed = True


def _deduplicate(
    sheet: Sheet,
    chunk: Chunk,
    index: CodeIndex,
    link_keys: dict[str, int],
    rejected: set[int],
    problems: list[Problem],
) -> None:
    """A second row with the same code (or, in a link sheet, the same relationship) is a problem; both are named.

    A node's code is indexed as it is first seen, packed with its row number and area path (`CodeIndex`)."""
    is_node = sheet.is_node
    seen = index.codes[sheet.label] if is_node else link_keys
    area_id = index.area_id
    for row in chunk:
        if not row.code:  # a node's code is its `code` value: none when that cell was empty or refused
            continue
        if is_node:
            key, mine = row.code, row.number << AREA_BITS | area_id(row.area)
        else:
            key, mine = f"{sheet.key}|{row.code}|{row.props.get('role', '')}", row.number
        first = seen.setdefault(key, mine)  # one look-up in a map of millions: the row's own when first
        if first == mine:  # another row's number never equals this row's
            continue
        number = first >> AREA_BITS if is_node else first
        what = ("编码", "code") if is_node else ("关系", "relationship")
        problems.append(
            Problem(
                row.source_name,
                row.number,
                header(sheet, "code", {}) if sheet.is_node else "",
                row.code,
                f"{what[0]}重复,与第{number}行相同",
                f"duplicate {what[1]}: row {number} has the same",
            )
        )
        row.bad = True
        rejected.add(number)
        if is_node:
            index.bad[sheet.label].add(row.code)


async def _resolve(chunk: Chunk, links: tuple[Link, ...], index: CodeIndex, naturals: Naturals) -> bool:
    """Each named code → (label, code); an unknown code, or one of the wrong kind, is a problem.

    Nearly every code names a row of the input: those resolve in one pass over the chunk. Rows naming a
    code the input does not hold (or a link with several possible labels) wait until the graph is asked —
    and only they can name a row by its natural key (`Naturals.translate`, first). True when one did.
    """
    waiting: list[tuple[Row, Link]] = []
    for link in links:
        en, first = link.en, link.targets[0]
        only = index.codes[first] if len(link.targets) == 1 else None
        for row in chunk:
            named = row.refs.get(en, ())
            if only is not None:
                resolved = []
                for code in named:
                    if code not in only:
                        break
                    resolved.append((first, code))
                else:
                    row.resolved[en] = resolved
                    continue
            waiting.append((row, link))
    if not waiting:
        return False
    changed = await naturals.translate(waiting, index)
    wanted: dict[str, set[str]] = defaultdict(set)
    for row, link in waiting:
        known = [index.codes[label] for label in link.targets]
        for code in row.refs.get(link.en, ()):
            if not any(code in k for k in known):
                for label in link.targets:
                    wanted[label].add(code)
    await index.look_up(wanted)
    for row, link in waiting:
        resolved = []
        for code in row.refs.get(link.en, ()):
            label = next((t for t in link.targets if index.has(t, code)), None)
            if label is None:
                _unknown(row, link, code, index)
            else:
                resolved.append((label, code))
        row.resolved[link.en] = resolved
    return changed


def _link_codes(sheet: Sheet, chunk: Chunk) -> None:
    """A link sheet's rows' "source>target" codes again, from what they name now (a key rewritten to a code); a
    rejected row keeps the code it was read with."""
    source, target = (end.en for end in sheet.ends)
    for row in chunk:
        if row.bad:
            continue
        ends = [(row.resolved.get(en) or [("", "")])[0][1] for en in (source, target)]
        row.code = ">".join(ends)


def _unknown(row: Row, link: Link, code: str, index: CodeIndex) -> None:
    """Reject the row; the problem is written once every sheet is read (the code may be another kind's)."""
    row.bad = True
    index.unknown.append((row.source_name, row.number, link, code))


def _unknown_problem(source: str, number: int, link: Link, code: str, index: CodeIndex) -> Problem:
    other = next((s.label for s in SHEETS if s.is_node and index.has(s.label, code)), None)
    want_zh = "或".join(SHEET_BY_LABEL[t].zh for t in link.targets)
    want_en = " or ".join(t for t in link.targets)
    if other is not None:
        zh = f"上级类型错误:{code} 是「{SHEET_BY_LABEL[other].zh}」,此列需要「{want_zh}」"
        en = f"wrong type: {code} is a {other}, this column needs a {want_en}"
    else:
        zh = f"找不到编码为 {code} 的「{want_zh}」(工作簿和数据库中都没有)"
        en = f"unknown {want_en} {code}: neither in this workbook nor in the graph"
    return Problem(source, number, link.zh, code, zh, en)


def _area_paths(sheet: Sheet, chunk: Chunk, index: CodeIndex, problems: list[Problem]) -> None:
    """Each node's area path: from its own area code, or its parent's (parents' sheets come first) — or, with the
    parent link empty, from the first of its other `places` the row fills (a member's branch, else its community).
    """
    if not sheet.is_node:
        return
    if not sheet.places:
        if sheet.area_level:
            for row in chunk:
                row.area = areas.path(row.code, sheet.area_level) if row.code else {}
        return
    first, *others = (lk.en for lk in sheet.places)  # a city's millions of rows have one place: read it first
    parent_level = _parent_level(sheet.area_level) if sheet.area_level else ""
    for row in chunk:
        if sheet.area_level:
            row.area = areas.path(row.code, sheet.area_level) if row.code else {}
        targets = row.resolved.get(first)
        if not targets and others:
            targets = next((found for en in others if (found := row.resolved.get(en))), None)
        if not targets:
            continue
        label, code = targets[0]
        if sheet.area_level:
            expected = areas.prefix(code, parent_level)
            if row.code and not row.code.startswith(expected):
                problems.append(
                    Problem(
                        row.source_name,
                        row.number,
                        header(sheet, "code", {}),
                        row.code,
                        f"区划代码应以上级代码 {expected} 开头",
                        f"the area code must start with its parent's digits {expected}",
                    )
                )
                row.bad = True
        else:
            row.area = index.area(label, code)  # shared, never changed: millions of rows share their parent's


def _parent_level(level: str) -> str:
    levels = list(LEVEL)
    return levels[levels.index(level) - 1]


def _same_area(chunk: Chunk, links: tuple[Link, ...], index: CodeIndex, problems: list[Problem]) -> None:
    """A link that must stay in the row's community (or street) names a node of another: a problem."""
    for link in links:
        if not link.same_area:
            continue
        key = LEVEL[link.same_area].property
        for row in chunk:
            mine = row.area.get(key)
            if not mine:
                continue
            for label, code in row.resolved.get(link.en, []):
                theirs = _other_area(index, label, code, key, mine)
                if theirs:
                    zh_level = LEVEL[link.same_area].zh
                    problems.append(
                        Problem(
                            row.source_name,
                            row.number,
                            link.zh,
                            code,
                            f"不在同一{zh_level}:{code} 属于{zh_level} {theirs},本行属于 {mine}",
                            f"in another {link.same_area}: {code} is in {theirs}, this row is in {mine}",
                        )
                    )
                    row.bad = True


def _other_area(index: CodeIndex, label: str, code: str, key: str, mine: str) -> str | None:
    """The area (at `key`'s level) of the node `code` names, when it is known and not the row's own `mine`."""
    theirs = index.area(label, code).get(key)
    return theirs if theirs and theirs != mine else None


def _finish(sheet: Sheet, chunk: Chunk, index: CodeIndex, rejected: set[int]) -> None:
    """Index the chunk's rejections; let go of what the writer does not need."""
    is_node = sheet.is_node
    bad = index.bad
    for row in chunk:
        if row.number in rejected:
            row.bad = True
        if not row.bad and bad and _names_bad(row, bad):
            row.bad = True  # --skip-invalid: a row naming a rejected row is rejected too
        if row.bad:
            if is_node and row.code:
                bad[sheet.label].add(row.code)
        else:
            row.cells = []  # only rejected rows go back out (to the error workbook) as they were read
        row.refs = RESOLVED


def _names_bad(row: Row, bad: dict[str, set[str]]) -> bool:
    return any(code in bad[label] for targets in row.resolved.values() for label, code in targets if label in bad)


def _later_names(chunk: Chunk, links: tuple[Link, ...]) -> list[set[tuple[str, str]]]:
    """Per later link, the distinct (code, the naming row's own area code at the link's level) pairs of a
    chunk: enough to check it once the target sheet is read, without reading the chunk again."""
    out = []
    for link in links:
        key = LEVEL[link.same_area].property if link.same_area else ""
        out.append({(code, row.area.get(key, "") if key else "") for row in chunk for _, code in row.resolved[link.en]})
    return out


def _fits(link: Link, pairs: set[tuple[str, str]], index: CodeIndex) -> bool:
    """Whether every code a chunk names is known and, where the link asks, in the naming row's area."""
    label, key = link.targets[0], LEVEL[link.same_area].property if link.same_area else ""
    for code, mine in pairs:
        if not index.has(label, code):
            return False
        if mine and _other_area(index, label, code, key, mine):
            return False
    return True


def _sheet_order(name: str) -> int:
    for i, sheet in enumerate(SHEETS):
        if name in (sheet.key, sheet.zh):
            return i
    return -1
