"""Validation before any write: typed values, codes and check digits, duplicates, references, areas.

`build_plan` turns what `loaders.read` read into a `Plan`: typed rows ready for the writer, each
reference resolved to the label it names (in the workbook or already in the graph), the area path
(city/district/street/community codes) of every node, and every problem found — all at once.
Each row's own cells are judged by `loaders.cells`; this module checks across rows.
"""

from __future__ import annotations

import pickle
from array import array
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, NamedTuple

from core import areas
from core.areas import AREA_PROPERTIES, LEVEL
from core.model import SHEET_BY_LABEL, SHEETS, Link, Sheet
from loaders.ahead import AHEAD_BYTES, Ahead, Handed, Named, Spine, value_dicts
from loaders.cells import Row, convert_sheet, header
from loaders.problems import Problem
from loaders.read import Input
from loaders.spool import Budget, Spool

AREA_KEYS = AREA_PROPERTIES
SHEET_BY_KEY = {s.key: s for s in SHEETS}


#: A spilled chunk, column by column: (sheet key, source names, numbers, codes, bad positions, cells by
#: position, prop keys, whether every row has every key, prop columns, links: (key, targets per row,
#: labels, codes), area per row).
Packed = tuple[
    str,
    list[str],
    list[int],
    list[str],
    list[int],
    dict[int, list[str]],
    list[str],
    bool,
    list[list[Any]],
    list[tuple[str, list[int], list[str], list[str]]],
    list[dict[str, str]],
]
_MISSING = ...  # a prop the row does not have (no value is ...)


class _Spent(dict[str, list[str]]):
    """A validated row's references, let go once resolved (`Row.resolved` holds them): one shared empty
    mapping that refuses changes, instead of an empty dict per row (a city's 2.8 million cost 0.2 GiB)."""

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise TypeError("已校验行的引用不可修改 / a validated row's references are spent")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse  # type: ignore[assignment]


_SPENT = _Spent()


class _HandedSpill(NamedTuple):
    """A spilled chunk the worker handed over: its rows' bytes as they came, and what validation added."""

    key: str
    source: str
    raw: bytes  # the worker's pickled `ahead.Spine`
    props: bytes  # and its values (`ahead.Values`), pickled beside it
    areas: list[dict[str, str]]  # per row; rows share their parent's dict, pickled once
    bad: dict[int, dict[str, list[tuple[str, str]]]]  # position of a rejected row -> its links as resolved
    several: dict[str, list[list[tuple[str, str]]]]  # a link naming several labels -> each row's resolved targets


def _pack(chunk: list[Row]) -> Packed | _HandedSpill:
    """A chunk of one sheet's rows for the spool's temporary file.

    One the worker handed over is written as the bytes it came in, with the area paths and rejections
    validation added: what a link names resolves to its one label again when read back (`_unpack`).
    Pickling it anew, as the flat columns below, was a fifth of a province's validation time.
    """
    if isinstance(chunk, Handed) and chunk.raw is not None and chunk.props is not None:
        sheet = chunk[0].sheet
        return _HandedSpill(
            sheet.key,
            chunk[0].source_name,
            chunk.raw,
            chunk.props,
            [r.area for r in chunk],
            {i: r.resolved for i, r in enumerate(chunk) if r.bad},
            {lk.en: [r.resolved[lk.en] for r in chunk] for lk in sheet.all_links if len(lk.targets) > 1},
        )
    return _columns(chunk)


def _columns(chunk: list[Row]) -> Packed:
    """A chunk of one sheet's rows as flat columns.

    Pickling a province's 26 million spilled rows as one tuple of dicts each cost the checks a quarter of
    their time; flat lists of strings and numbers pickle in about 60 % of it, and take a fifth less disk. Shared objects
    (a sheet's labels, a building's area dict) are pickled once per chunk and stay shared when read back.
    """
    sources = [r.source_name for r in chunk]
    if len(set(sources)) == 1:
        sources = sources[:1]
    keys = list(dict.fromkeys(k for r in chunk for k in r.props))
    links: list[tuple[str, list[int], list[str], list[str]]] = []
    for en in dict.fromkeys(en for r in chunk for en in r.resolved):
        counts, labels, codes_ = [], [], []
        for r in chunk:
            targets = r.resolved.get(en)
            if targets is None:
                counts.append(-1)
                continue
            counts.append(len(targets))
            for label, code in targets:
                labels.append(label)
                codes_.append(code)
        links.append((en, counts, labels, codes_))
    return (
        chunk[0].sheet.key,
        sources,
        [r.number for r in chunk],
        [r.code for r in chunk],
        [i for i, r in enumerate(chunk) if r.bad],
        {i: r.cells for i, r in enumerate(chunk) if r.cells},
        keys,
        all(len(r.props) == len(keys) for r in chunk),
        [[r.props.get(k, _MISSING) for r in chunk] for k in keys],
        links,
        [r.area for r in chunk],
    )


def _unpack(packed: Packed | _HandedSpill) -> list[Row]:
    if isinstance(packed, _HandedSpill):
        return _unpack_handed(packed)
    key, sources, numbers, codes_, bad, cells, keys, complete, columns, links, areas = packed
    sheet = SHEET_BY_KEY[key]
    if not keys:
        props: list[dict[str, Any]] = [{} for _ in numbers]
    elif complete:
        props = [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]
    else:
        props = [
            {k: v for k, v in zip(keys, values, strict=True) if v is not _MISSING}
            for values in zip(*columns, strict=True)
        ]
    resolved: list[dict[str, list[tuple[str, str]]]] = [{} for _ in numbers]
    for en, counts, labels, targets in links:
        pairs = list(zip(labels, targets, strict=True))
        at = 0
        for held, n in zip(resolved, counts, strict=True):
            if n >= 0:
                held[en] = pairs[at : at + n]
                at += n
    if len(sources) == 1:  # one source for the whole chunk, packed once
        sources = sources * len(numbers)
    rows = [
        Row(sheet, source, number, cells.get(i, []), code, prop, _SPENT, res, area, False)
        for i, (source, number, code, prop, res, area) in enumerate(
            zip(sources, numbers, codes_, props, resolved, areas, strict=True)
        )
    ]
    for i in bad:
        rows[i].bad = True
    return rows


def _unpack_handed(packed: _HandedSpill) -> list[Row]:
    sheet, source = SHEET_BY_KEY[packed.key], packed.source
    spine: Spine = Spine._make(pickle.loads(packed.raw))
    held: list[dict[str, list[tuple[str, str]]]] = [{} for _ in spine.numbers]
    for link, column in zip(sheet.all_links, spine.links, strict=True):
        if len(link.targets) == 1:  # a valid row's codes all resolved to the link's one label
            en, label = link.en, link.targets[0]
            for resolved, named in zip(held, column, strict=True):
                if named is None:
                    resolved[en] = []
                elif isinstance(named, str):
                    resolved[en] = [(label, named)]
                else:
                    resolved[en] = [(label, c) for c in named]
    values, cells = value_dicts(sheet, pickle.loads(packed.props)), spine.cells
    rows = [
        Row(sheet, source, number, cells.get(i, []), code, props, _SPENT, resolved, area, False)
        for i, (number, code, props, resolved, area) in enumerate(
            zip(spine.numbers, spine.codes, values, held, packed.areas, strict=True)
        )
    ]
    for en, targets in packed.several.items():
        for row, resolved in zip(rows, targets, strict=True):
            row.resolved[en] = resolved
    for i, resolved in packed.bad.items():
        rows[i].bad = True
        rows[i].resolved = resolved
    return rows


#: A valid row as the writer reads it (`Plan.records`): (row number, code, values in `Sheet.columns` order —
#: None where empty —, area path, per asked link what it names: None, one code, or a list, as `ahead.Named`).
#: A tuple, not a `Row`: millions are made and dropped while a province loads.
Record = tuple[int, str, tuple[Any, ...], dict[str, str], tuple[Named, ...]]


def _handed_records(packed: _HandedSpill, links: tuple[str, ...], late: set[int]) -> list[Record]:
    """A spilled chunk the worker handed over, as records of its valid rows (`Plan.records`): its columns
    zipped, no object made per row but the record itself.

    The worker's references are the codes as written, one label per link asked: a valid row's
    resolve to exactly those, so they are passed on as they are."""
    sheet = SHEET_BY_KEY[packed.key]
    spine: Spine = Spine._make(pickle.loads(packed.raw))
    position = {lk.en: i for i, lk in enumerate(sheet.all_links)}
    rows = len(spine.numbers)
    named = zip(*(spine.links[position[en]] for en in links), strict=True) if links else repeat((), rows)
    values = zip(*pickle.loads(packed.props), strict=True)
    records = zip(spine.numbers, spine.codes, values, packed.areas, named, strict=True)
    if packed.bad or late:
        bad = packed.bad
        return [r for i, r in enumerate(records) if i not in bad and r[0] not in late]
    return list(records)


def _named(targets: Sequence[tuple[str, str]]) -> Named:
    """A link's resolved targets as a record carries them (`ahead.Named`): None, one code, or a list."""
    if len(targets) == 1:
        return targets[0][1]
    return [code for _, code in targets] or None


def _row_records(rows: list[Row], names: list[str], links: tuple[str, ...], late: set[int]) -> list[Record]:
    """Records of a chunk of rows kept in memory (`Plan.records`), column by column. A chunk the worker handed
    over still holds its values pickled, as columns: they are read as such, never made into each row's dict."""
    keep = [i for i, r in enumerate(rows) if not r.bad and r.number not in late]
    good = rows if len(keep) == len(rows) else [rows[i] for i in keep]
    if isinstance(rows, Handed) and rows.pending:
        assert rows.props is not None
        values = list(zip(*pickle.loads(rows.props), strict=True))
        if good is not rows:
            values = [values[i] for i in keep]
    else:
        values = [tuple(map(r.props.get, names)) for r in good]
    columns = ([_named(r.resolved.get(en, ())) for r in good] for en in links)
    named = zip(*columns, strict=True) if links else repeat((), len(good))
    numbers, codes_, areas = [r.number for r in good], [r.code for r in good], [r.area for r in good]
    return list(zip(numbers, codes_, values, areas, named, strict=True))


@dataclass
class Plan:
    """What a load will write (each sheet's rows, spooled), and the problems that stop it.

    Rows found bad after they were spooled (the first of two duplicates, a row naming a later
    sheet's bad row) are listed in `rejected`; reading a sheet applies it.
    """

    rows: dict[str, Spool[Row]]  # sheet key -> rows, in model order
    problems: list[Problem]
    existing: dict[tuple[str, str], dict[str, str]]  # (label, code) of referenced graph nodes -> area path
    rejected: dict[str, set[int]] = field(default_factory=dict)  # sheet key -> row numbers
    reread: Callable[[str], dict[int, list[str]]] | None = None  # sheet key -> cells by row number, as read
    #: label -> code -> validation's packing of its row: row number and area path (`_Index.codes`).
    codes: dict[str, dict[str, int]] = field(default_factory=dict)
    #: label -> node id by row number (-1: not written by this load): the writer names nodes this load wrote
    #: by id. An array filled in row order rather than a map of millions of codes, or those codes' entries
    #: rewritten: a dict write per node cost a province's loader a microsecond or two at random in memory.
    ids: dict[str, array[int]] = field(default_factory=dict)

    def record_ids(self, label: str, numbers: Iterable[int], ids: Iterable[int]) -> None:
        """Remember the node ids a written batch's rows (by row number) got."""
        table = self.ids.setdefault(label, array("q"))
        for number, node in zip(numbers, ids, strict=True):
            if number >= len(table):  # rows come in order: grow by half, not a row at a time
                table.extend(repeat(-1, max(number + 1, len(table) * 3 // 2) - len(table)))
            table[number] = node

    def refs(self, label: str) -> Callable[[str], int | str]:
        """How a statement names a `label` node: by its id when this load wrote it, else by its code."""
        table, written = self.codes.get(label, {}), self.ids.setdefault(label, array("q"))
        last: tuple[str | None, int] = (None, -1)  # the last code named by id: rows come by building, and name it again

        def ref(code: str) -> int | str:
            nonlocal last
            if code == last[0]:
                return last[1]
            packed = table.get(code)
            if packed is None:
                return code
            number = packed // _AREA_SLOTS
            node = written[number] if number < len(written) else -1
            if node < 0:
                return code
            last = (code, node)  # one assignment: a reader in another thread sees an old pair or the new one
            return node

        return ref

    def chunks(self, key: str) -> Iterator[list[Row]]:
        """A sheet's rows in chunks, in input order, bad ones flagged."""
        spool = self.rows.get(key)
        if spool is None:
            return
        for chunk in spool.chunks():
            yield self._ready(key, chunk)

    def chunk(self, key: str, i: int) -> list[Row]:
        """A sheet's `i`-th chunk, bad rows flagged."""
        return self._ready(key, self.rows[key].chunk(i))

    def _ready(self, key: str, chunk: list[Row]) -> list[Row]:
        """A chunk as the writer reads it: values unpickled (`Handed.fill`), late rejections flagged."""
        if isinstance(chunk, Handed):
            chunk.fill()
        late = self.rejected.get(key)
        if late:
            for row in chunk:
                if row.number in late:
                    row.bad = True
        return chunk

    def valid_chunks(self, key: str) -> Iterator[list[Row]]:
        """Rows of a sheet with no problem, in chunks (all of them when the plan is clean)."""
        for chunk in self.chunks(key):
            good = [r for r in chunk if not r.bad]
            if good:
                yield good

    def records(self, key: str, links: tuple[str, ...] = ()) -> Iterator[list[Record]]:
        """A sheet's valid rows in chunks, in input order, as the writer reads them: plain `Record` tuples
        carrying, per link in `links` (each naming one label), what the row names through it.

        A chunk the worker handed over and validation spilled is taken apart straight into records,
        never into `Row`s (`_handed_records`), and one kept in memory has its values read as the columns
        they came in (`_row_records`): the city's households cost the writer's dealing thread 2 µs each
        instead of 7, reading spilled chunks back included."""
        sheet = SHEET_BY_KEY[key]
        one = {lk.en for lk in sheet.all_links if len(lk.targets) == 1}
        if not one.issuperset(links):  # what a record carries is codes, without their labels
            raise ValueError(f"{key}: not a link naming one label: {sorted(set(links) - one)}")
        spool = self.rows.get(key)
        if spool is None:
            return
        late = self.rejected.get(key) or set()
        names = [c.name for c in sheet.columns]
        for stored in spool.stored():  # a chunk in memory (rows), else as spilled
            if isinstance(stored, _HandedSpill):
                out = _handed_records(stored, links, late)
            else:
                out = _row_records(stored if isinstance(stored, list) else _unpack(stored), names, links, late)
            if out:
                yield out

    def valid_rows(self, key: str) -> list[Row]:
        """Rows of a sheet with no problem, as one list (for small plans: edits, tests)."""
        return [r for chunk in self.valid_chunks(key) for r in chunk]

    def valid_count(self, key: str) -> int:
        """How many rows of a sheet will be written."""
        spool = self.rows.get(key)
        if spool is None:
            return 0
        if not self.problems:
            return len(spool)
        return sum(len(c) for c in self.valid_chunks(key))

    def bad_rows(self, key: str) -> list[Row]:
        """Rejected rows of a sheet with their cells as read."""
        bad = [r for chunk in self.chunks(key) for r in chunk if r.bad]
        if any(not r.cells for r in bad) and self.reread is not None:
            cells = self.reread(key)
            for r in bad:
                r.cells = r.cells or cells.get(r.number, [])
        return bad

    @property
    def row_count(self) -> int:
        """Data rows in the input."""
        return sum(len(v) for v in self.rows.values())

    def close(self) -> None:
        """Free spooled rows (memory and temporary files)."""
        for spool in self.rows.values():
            spool.close()


#: Looks up codes already in the graph: label -> codes → {code: area path}.
Lookup = Callable[[str, list[str]], Awaitable[dict[str, dict[str, str]]]]

#: Rows validated together (reference look-ups in the graph go a chunk at a time).
CHUNK = 20_000
#: Index values pack a row number with the id of its area path (`_Index.areas`).
_AREA_SLOTS = 1 << 20


class _Index:
    """What validation remembers of every row once its chunk is spooled: compact, for millions of rows.

    Per label, code → row number and area path id packed in one int; the distinct area paths; codes of
    rejected rows; graph nodes that rows name but the input does not hold.
    """

    def __init__(self, lookup: Lookup | None) -> None:
        self.codes: dict[str, dict[str, int]] = defaultdict(dict)
        self.areas: list[dict[str, str]] = [{}]
        self._ids: dict[int, int] = {id(self.areas[0]): 0}
        self.bad: dict[str, set[str]] = defaultdict(set)
        self.existing: dict[tuple[str, str], dict[str, str]] = {}
        self.unknown: list[tuple[str, int, Link, str]] = []  # (sheet, row, link, code) named but not found
        self._looked_up: dict[str, set[str]] = defaultdict(set)
        self._lookup = lookup

    def has(self, label: str, code: str) -> bool:
        return code in self.codes[label] or (label, code) in self.existing

    def area(self, label: str, code: str) -> dict[str, str]:
        packed = self.codes[label].get(code)
        if packed is not None:
            return self.areas[packed % _AREA_SLOTS]
        return self.existing.get((label, code), {})

    def area_id(self, area: dict[str, str]) -> int:
        """The id of an area path: rows share their parent's dict, so most are found by identity; none is 0."""
        if not area:
            return 0
        aid = self._ids.get(id(area))
        if aid is None:
            if len(self.areas) >= _AREA_SLOTS - 1:
                raise ValueError("too many distinct area paths")
            aid = self._ids[id(area)] = len(self.areas)
            self.areas.append(area)  # kept alive here, so its id() stays unique
        return aid

    async def look_up(self, wanted: dict[str, set[str]]) -> None:
        """Find codes the input does not hold in the graph; unknown ones in every other label too."""
        if self._lookup is None:
            return
        asked: set[str] = set()
        for label, codes_ in wanted.items():
            known, asked_before = self.codes[label], self._looked_up[label]
            new = {c for c in codes_ if c not in known and c not in asked_before}  # O(chunk), not O(index)
            if not new:
                continue
            self._looked_up[label] |= new
            asked |= new
            for code, area in (await self._lookup(label, sorted(new))).items():
                self.existing[(label, code)] = area
        unresolved = {c for c in asked if not any((label, c) in self.existing for label in wanted)}
        if unresolved:  # a code of another kind of node? (a parent of the wrong type)
            for sheet in SHEETS:
                if sheet.is_node and sheet.label not in wanted:
                    todo = unresolved - self._looked_up[sheet.label]
                    if not todo:
                        continue
                    self._looked_up[sheet.label] |= todo
                    for code, area in (await self._lookup(sheet.label, sorted(todo))).items():
                        self.existing[(sheet.label, code)] = area


def _forward(sheet: Sheet) -> tuple[Link, ...]:
    """Links naming a sheet that comes later in the model (checked once that sheet is read)."""
    later = {s.label for s in SHEETS[SHEETS.index(sheet) :] if s.is_node}
    return tuple(lk for lk in sheet.all_links if any(t in later for t in lk.targets))


for _sheet in SHEETS:  # a forward link is resolved before its target is read: it must name one label
    assert all(len(lk.targets) == 1 for lk in _forward(_sheet)), _sheet.key


async def build_plan(
    data: Input, lookup: Lookup | None, budget: Budget | None = None, ahead_bytes: int = AHEAD_BYTES
) -> Plan:
    """Validate everything, one sheet at a time in model order (parents first), a chunk at a time.

    References not in the input are looked up in the graph via `lookup`. Validated chunks go to a
    spool; what later rows need of earlier ones (codes, area paths, rejections) stays in a compact index.
    CSV inputs of `ahead_bytes` or more have their cells converted in a second process meanwhile
    (`loaders.ahead`).
    """
    ahead = Ahead.start(data, CHUNK, ahead_bytes)
    try:
        return await _build_plan(data, lookup, budget, ahead)
    finally:
        if ahead is not None:
            ahead.close()


async def _build_plan(data: Input, lookup: Lookup | None, budget: Budget | None, ahead: Ahead | None) -> Plan:
    problems = list(data.problems)
    read_problems = len(data.problems)  # reading streams: a file can still turn out unreadable
    budget = budget or Budget()
    index = _Index(lookup)
    raws = {raw.sheet.key: raw for raw in data.sheets}
    spools: dict[str, Spool[Row]] = {s.key: Spool(budget, _pack, _unpack) for s in SHEETS}
    rejected: dict[str, set[int]] = defaultdict(set)
    link_keys: dict[str, int] = {}
    named_by_chunk: dict[str, list[list[set[tuple[str, str]]]]] = defaultdict(list)  # per chunk, per forward link
    for sheet in SHEETS:
        raw = raws.get(sheet.key)
        if raw is None:
            continue
        forward = _forward(sheet)
        backward = tuple(lk for lk in sheet.all_links if lk not in forward)
        if ahead is not None and sheet.key in ahead.keys:
            chunks = ahead.chunks(sheet.key, problems)
        else:
            chunks = _chunked(convert_sheet(raw, problems), CHUNK)
        for chunk in chunks:
            await _resolve(chunk, backward, index)
            for link in forward:  # checked after the target sheet is read; resolved to its one label now
                for row in chunk:
                    row.resolved[link.en] = [(link.targets[0], c) for c in row.refs.get(link.en, ())]
            _area_paths(sheet, chunk, index, problems)
            _same_area(chunk, backward, index, problems)
            # after the area paths: a code is indexed with its row's area in one write (no sheet names its own label)
            _deduplicate(sheet, chunk, index, link_keys, rejected[sheet.key], problems)
            _finish(sheet, chunk, index, rejected[sheet.key])
            if forward:
                named_by_chunk[sheet.key].append(_forward_names(chunk, forward))
            if isinstance(chunk, Handed) and spools[sheet.key].keeps(len(chunk)):
                chunk.kept()
            spools[sheet.key].add(chunk)
    problems.extend(data.problems[read_problems:])
    plan = Plan(spools, problems, index.existing, rejected, _rereader(data), index.codes)
    for sheet in SHEETS:
        forward = _forward(sheet)
        if forward and sheet.key in raws:
            await _check_forward(plan, sheet, forward, index, named_by_chunk[sheet.key])
    problems.extend(_unknown_problem(*u, index) for u in index.unknown)
    if problems:
        _cascade(plan, index)
    problems.sort(key=lambda p: (_sheet_order(p.sheet), p.row, p.column))
    return plan


def _chunked(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _rereader(data: Input) -> Callable[[str], dict[int, list[str]]]:
    """Cells of a sheet's rows as read (for rejected rows whose cells were already let go)."""
    raws = {raw.sheet.key: raw for raw in data.sheets}

    def reread(key: str) -> dict[int, list[str]]:
        raw = raws.get(key)
        return {number: cells for number, cells in raw.rows} if raw is not None else {}

    return reread


# ---------------------------------------------------------------- cross-row checks
def _deduplicate(
    sheet: Sheet,
    chunk: list[Row],
    index: _Index,
    link_keys: dict[str, int],
    rejected: set[int],
    problems: list[Problem],
) -> None:
    """A second row with the same code (or, in a link sheet, the same relationship) is a problem; both are named.

    A node's code is indexed as it is first seen, packed with its row number and area path (`_Index.codes`)."""
    is_node = sheet.is_node
    seen = index.codes[sheet.label] if is_node else link_keys
    area_id = index.area_id
    for row in chunk:
        if not row.code:  # a node's code is its `code` value: none when that cell was empty or refused
            continue
        if is_node:
            key, mine = row.code, row.number * _AREA_SLOTS + area_id(row.area)
        else:
            key, mine = f"{sheet.key}|{row.code}|{row.props.get('role', '')}", row.number
        first = seen.setdefault(key, mine)  # one look-up in a map of millions: the row's own when first
        if first == mine:  # another row's number never equals this row's
            continue
        number = first // _AREA_SLOTS if is_node else first
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


async def _resolve(chunk: list[Row], links: tuple[Link, ...], index: _Index) -> None:
    """Each named code → (label, code); an unknown code, or one of the wrong kind, is a problem.

    Nearly every code names a row of the input: those resolve in one pass over the chunk. Rows naming a
    code the input does not hold (or a link with several possible labels) wait until the graph is asked.
    """
    pending: list[tuple[Row, Link]] = []
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
            pending.append((row, link))
    if not pending:
        return
    wanted: dict[str, set[str]] = defaultdict(set)
    for row, link in pending:
        known = [index.codes[label] for label in link.targets]
        for code in row.refs.get(link.en, ()):
            if not any(code in k for k in known):
                for label in link.targets:
                    wanted[label].add(code)
    await index.look_up(wanted)
    for row, link in pending:
        resolved = []
        for code in row.refs.get(link.en, ()):
            label = next((t for t in link.targets if index.has(t, code)), None)
            if label is None:
                _unknown(row, link, code, index)
            else:
                resolved.append((label, code))
        row.resolved[link.en] = resolved


def _unknown(row: Row, link: Link, code: str, index: _Index) -> None:
    """Reject the row; the problem is written once every sheet is read (the code may be another kind's)."""
    row.bad = True
    index.unknown.append((row.source_name, row.number, link, code))


def _unknown_problem(source: str, number: int, link: Link, code: str, index: _Index) -> Problem:
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


def _area_paths(sheet: Sheet, chunk: list[Row], index: _Index, problems: list[Problem]) -> None:
    """Each node's area codes: from its own area code, or its parent's (parents' sheets come first)."""
    if not sheet.is_node:
        return
    parent = sheet.parent
    for row in chunk:
        if sheet.area_level:
            row.area = areas.path(row.code, sheet.area_level) if row.code else {}
        if parent is None:
            continue
        targets = row.resolved.get(parent.en) or []
        if not targets:
            continue
        label, code = targets[0]
        if sheet.area_level:
            expected = areas.prefix(code, _parent_level(sheet.area_level))
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
            row.area = index.area(label, code)  # shared, never mutated: millions of rows share their parent's


def _parent_level(level: str) -> str:
    levels = list(LEVEL)
    return levels[levels.index(level) - 1]


def _same_area(chunk: list[Row], links: tuple[Link, ...], index: _Index, problems: list[Problem]) -> None:
    for link in links:
        if not link.same_area:
            continue
        key = f"{link.same_area}Code"
        for row in chunk:
            mine = row.area.get(key)
            if not mine:
                continue
            for label, code in row.resolved.get(link.en, []):
                theirs = _other_area(index, label, code, key, mine)
                if theirs:
                    zh_level = "社区" if link.same_area == "community" else "街道"
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


def _other_area(index: _Index, label: str, code: str, key: str, mine: str) -> str | None:
    """The area (at `key`'s level) of the node `code` names, when it is known and not the row's own `mine`."""
    theirs = index.area(label, code).get(key)
    return theirs if theirs and theirs != mine else None


def _finish(sheet: Sheet, chunk: list[Row], index: _Index, rejected: set[int]) -> None:
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
        row.refs = _SPENT


def _names_bad(row: Row, bad: dict[str, set[str]]) -> bool:
    return any(code in bad[label] for targets in row.resolved.values() for label, code in targets if label in bad)


def _forward_names(chunk: list[Row], links: tuple[Link, ...]) -> list[set[tuple[str, str]]]:
    """Per forward link, the distinct (code, the naming row's own area code at the link's level) pairs
    of a chunk: enough to check it once the target sheet is read, without reading the chunk again."""
    out = []
    for link in links:
        key = f"{link.same_area}Code" if link.same_area else ""
        out.append({(code, row.area.get(key, "") if key else "") for row in chunk for _, code in row.resolved[link.en]})
    return out


def _fits(link: Link, pairs: set[tuple[str, str]], index: _Index) -> bool:
    """Whether every code a chunk names is known and, where the link asks, in the naming row's area."""
    label, key = link.targets[0], f"{link.same_area}Code"
    for code, mine in pairs:
        if not index.has(label, code):
            return False
        if mine and _other_area(index, label, code, key, mine):
            return False
    return True


async def _check_forward(
    plan: Plan, sheet: Sheet, links: tuple[Link, ...], index: _Index, named: list[list[set[tuple[str, str]]]]
) -> None:
    """A sheet's links to later sheets, now that those are read: unknown codes and other areas.

    Each chunk is checked by the distinct codes it names (`_forward_names`); only a chunk with a
    problem is read again (from disk, for a spilled sheet) to find the rows at fault.
    """
    rejected = plan.rejected.setdefault(sheet.key, set())
    is_node = sheet.is_node
    for i, per_link in enumerate(named):
        pairs_of = list(zip(links, per_link, strict=True))
        await index.look_up({lk.targets[0]: {code for code, _ in pairs} for lk, pairs in pairs_of})
        if all(_fits(lk, pairs, index) for lk, pairs in pairs_of):
            continue
        chunk = plan.chunk(sheet.key, i)
        found: list[Problem] = []
        for link in links:
            label = link.targets[0]
            for row in chunk:
                for _, code in row.resolved.get(link.en, ()):
                    if not index.has(label, code):
                        _unknown(row, link, code, index)
                        rejected.add(row.number)
        _same_area(chunk, links, index, found)
        plan.problems.extend(found)
        rejected.update(p.row for p in found)
        for row in chunk:
            if is_node and row.number in rejected:
                index.bad[sheet.label].add(row.code)


def _cascade(plan: Plan, index: _Index) -> None:
    """With --skip-invalid, a row that names a rejected row is rejected too (until nothing changes)."""
    changed = True
    while changed:
        changed = False
        for sheet in SHEETS:
            rejected = plan.rejected.setdefault(sheet.key, set())
            for chunk in plan.chunks(sheet.key):
                for row in chunk:
                    if row.bad or not _names_bad(row, index.bad):
                        continue
                    row.bad = True
                    rejected.add(row.number)
                    if sheet.is_node and row.code:
                        index.bad[sheet.label].add(row.code)
                    changed = True


# ---------------------------------------------------------------- helpers
def _sheet_order(name: str) -> int:
    for i, sheet in enumerate(SHEETS):
        if name in (sheet.key, sheet.zh):
            return i
    return -1


#: Why a row without problems of its own was still rejected (with --skip-invalid).
CASCADE_REASON = ("所引用的行有错误,本行一并跳过", "a row it names was rejected, so this row is skipped too")
