"""Where rows live from conversion to the writer: the one module that knows how they are held.

- `Converter` turns each sheet's text cells into `Chunk`s of `Row`s — converted in a second process for a
  big CSV input (`loaders.cellworker`), else here, in the same packed columns either way (`loaders.columns`).
- Validation reads and marks the `Row`s of a chunk: what each names (`resolved`), its area path, whether it
  is `bad`. A node's values are never read by validation: they stay packed until the writer asks.
- `RowStore.add` keeps a validated chunk in memory while the load's `Budget` allows, else spills it to a
  temporary file as the packed columns it came in plus what validation added; so a province (28 million
  rows) validates in bounded memory.
- The writer reads a sheet as `Chunk`s of `Row`s (`RowStore.chunks`) or, for node sheets, as plain
  `Record`s (`RowStore.records`), which a spilled chunk gives without making a `Row` per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from types import TracebackType
from typing import Any, NamedTuple

from core.model import SHEETS, SHEETS_BY_KEY, Sheet
from loaders.cellworker import WORKER_MIN_BYTES, CellWorker
from loaders.columns import (
    KeyColumns,
    Named,
    PackedChunk,
    codes_of,
    convert_chunks,
    named_codes,
    pickle_flat,
    unpickle_keys,
    unpickle_values,
    value_dicts,
)
from loaders.problems import Problem
from loaders.read import Input, RawSheet
from loaders.spool import Budget, Spool

__all__ = [
    "PACKED",
    "RESOLVED",
    "WORKER_MIN_BYTES",
    "Chunk",
    "Converter",
    "Named",
    "Record",
    "Row",
    "RowStore",
    "named_codes",
]


class _ReadOnlyEmpty(dict[str, Any]):
    """An empty mapping that refuses every change (and, as `PACKED`, every read)."""

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise TypeError(self._why)

    _why = "只读 / read-only"
    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse  # type: ignore[assignment]


class _Resolved(_ReadOnlyEmpty):
    _why = "已校验行的引用不可修改 / a validated row's references are resolved: read `resolved`"


class _Packed(_ReadOnlyEmpty):
    _why = "行的值仍在打包中 / row values still packed: read rows through RowStore.chunks"
    __getitem__ = get = __contains__ = __iter__ = __len__ = items = keys = values = __eq__ = _ReadOnlyEmpty._refuse  # type: ignore[assignment]

    def __repr__(self) -> str:  # a row printed in a traceback says what it holds
        return "<值仍在打包中 / values still packed>"


#: A row's `refs` once validation resolved them: one shared empty mapping, not an empty dict per row.
RESOLVED: dict[str, list[str]] = _Resolved()
#: A node row's `props` while its values are still packed in its chunk: any use fails.
PACKED: dict[str, Any] = _Packed()


@dataclass(slots=True)
class Row:
    """One row of a sheet: a node sheet's `code` is its code, a link sheet's is "source>target"."""

    sheet: Sheet
    source_name: str  # the sheet or file it came from, as the user named it
    number: int  # as the user sees it (the header is row 1)
    cells: list[str]  # as read, kept only for rows with a problem
    code: str = ""
    props: dict[str, Any] = field(default_factory=dict)  # column name -> typed value (`PACKED` until read)
    refs: dict[str, list[str]] = field(default_factory=dict)  # link -> codes named, until `resolved`
    resolved: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # link -> (label, code) named
    area: dict[str, str] = field(default_factory=dict)  # area property -> code; shared with its parent's rows
    bad: bool = False


class Record(NamedTuple):
    """A valid node row as the writer reads it (`RowStore.records`)."""

    number: int
    code: str
    values: tuple[Any, ...]  # in `Sheet.columns` order, None where empty
    area: dict[str, str]
    named: tuple[Named, ...]  # per link asked for, what the row names: None, a code, or a list


class Chunk(list[Row]):
    """Rows of one sheet validated together, with the packed columns they were made from.

    A node sheet's rows hold `PACKED` for their values until `read_values` (validation never reads
    them); a link sheet's are read at once (its key holds its role).
    """

    __slots__ = ("_keys", "_values", "sheet", "source")

    def __init__(self, sheet: Sheet, source: str, rows: Sequence[Row] = ()) -> None:
        super().__init__(rows)
        self.sheet = sheet
        self.source = source
        self._keys: bytes | bytearray | None = None  # the packed `KeyColumns`, while it may be spilled
        self._values: bytes | bytearray | None = None  # the packed `ValueColumns`, until read

    @classmethod
    def unpack(cls, sheet: Sheet, source: str, packed: PackedChunk) -> Chunk:
        """The rows of a converted chunk; a row with a problem in its cells is `bad` and keeps them."""
        keys = unpickle_keys(packed.keys)
        cells = keys.cells
        chunk = cls(
            sheet,
            source,
            [
                Row(sheet, source, number, cells.get(i, []), code, PACKED, refs, {}, {}, i in cells)
                for i, (number, code, refs) in enumerate(zip(keys.numbers, keys.codes, _refs(sheet, keys), strict=True))
            ],
        )
        chunk._keys, chunk._values = packed.keys, packed.values
        if not sheet.is_node:
            chunk.read_values(keep=True)
        return chunk

    @property
    def packed(self) -> bool:
        """Whether the rows' values are still packed."""
        return bool(self) and self[0].props is PACKED

    def read_values(self, keep: bool = False) -> None:
        """Give each row its values (once); the packed values are let go unless `keep`."""
        if self.packed:
            assert self._values is not None
            for row, props in zip(self, value_dicts(self.sheet, unpickle_values(self._values)), strict=True):
                row.props = props
        if not keep:
            self._values = None

    def rekey(self) -> None:
        """Make the packed columns say what validation changed in the rows: codes given to rows without one, and
        links that named a row by its natural key now naming its code (`loaders.natural`). A spilled chunk and
        the writer's records are read from these columns; a rejected row's links are left as they were read."""
        if self._keys is not None:
            keys = unpickle_keys(self._keys)
            links = [
                [
                    old if row.bad or en not in row.resolved else _named(row.resolved[en])
                    for row, old in zip(self, column, strict=True)
                ]
                for en, column in zip((lk.en for lk in self.sheet.all_links), keys.links, strict=True)
            ]
            self._keys = pickle_flat((keys.numbers, [row.code for row in self], links, keys.cells))
        if self._values is not None and self.sheet.is_node:
            values = unpickle_values(self._values)
            values[0] = [row.code or None for row in self]  # a node sheet's first column is its code
            self._values = pickle_flat(values)

    def value_rows(self, keep: list[int] | None) -> list[tuple[Any, ...]]:
        """Each row's values in `Sheet.columns` order (of the rows at `keep`, else all), read as columns
        when still packed — never made into a dict per row."""
        if self.packed:
            assert self._values is not None
            values = list(zip(*unpickle_values(self._values), strict=True))
            return values if keep is None else [values[i] for i in keep]
        names = [c.name for c in self.sheet.columns]
        rows = self if keep is None else [self[i] for i in keep]
        return [tuple(map(r.props.get, names)) for r in rows]


def _refs(sheet: Sheet, keys: KeyColumns) -> list[dict[str, list[str]]]:
    """Each row's references: link -> codes, as `convert_cells` gave them."""
    if not sheet.all_links:
        return [{} for _ in keys.numbers]
    ens = [lk.en for lk in sheet.all_links]
    return [dict(zip(ens, named, strict=True)) for named in zip(*map(codes_of, keys.links), strict=True)]


class Converter:
    """Each sheet's text cells as `Chunk`s of `size` rows: converted by a `CellWorker` for a CSV input of
    `worker_min_bytes` or more, else in this process. Close it (or use it as a context manager) to stop the
    worker."""

    def __init__(self, data: Input, size: int, worker_min_bytes: int) -> None:
        self._size = size
        self._worker = CellWorker.start(data, size, worker_min_bytes)

    def chunks(self, raw: RawSheet, problems: list[Problem]) -> Iterator[Chunk]:
        """`raw`'s rows in chunks, in model order of sheets; the problems found in cells go to `problems`."""
        sheet, worker = raw.sheet, self._worker
        converted = worker.chunks(sheet.key) if worker and sheet.key in worker.keys else convert_chunks(raw, self._size)
        for packed in converted:
            problems.extend(packed.problems)
            chunk = Chunk.unpack(sheet, raw.source, packed)
            if chunk:
                yield chunk

    def close(self) -> None:
        """Stop the worker, if any (it may still be converting when validation stops early)."""
        if self._worker is not None:
            self._worker.close()

    def __enter__(self) -> Converter:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


class _Spilled(NamedTuple):
    """A chunk as the spool's file holds it: its packed columns, and what validation added."""

    key: str
    source: str
    keys: bytes | bytearray
    values: bytes | bytearray
    areas: list[dict[str, str]]  # per row; rows share their parent's dict, pickled once
    bad: dict[int, dict[str, list[tuple[str, str]]]]  # position of a rejected row -> what it named, as resolved
    several: dict[str, list[list[tuple[str, str]]]]  # a link naming several labels -> each row's resolved targets


def _spill(chunk: Chunk) -> _Spilled:
    """What a chunk needs on disk: a valid row's links to one label resolve to the codes it names, so only
    its area, and the rows that are bad or name several labels, are added to the columns it came in."""
    assert chunk._keys is not None
    assert chunk._values is not None
    return _Spilled(
        chunk.sheet.key,
        chunk.source,
        chunk._keys,
        chunk._values,
        [r.area for r in chunk],
        {i: r.resolved for i, r in enumerate(chunk) if r.bad},
        {lk.en: [r.resolved[lk.en] for r in chunk] for lk in chunk.sheet.all_links if len(lk.targets) > 1},
    )


def _unspill(spilled: _Spilled) -> Chunk:
    """A spilled chunk as rows, values read."""
    sheet, source = SHEETS_BY_KEY[spilled.key], spilled.source
    keys = unpickle_keys(spilled.keys)
    held: list[dict[str, list[tuple[str, str]]]] = [{} for _ in keys.numbers]
    for link, column in zip(sheet.all_links, keys.links, strict=True):
        if len(link.targets) == 1:
            en, label = link.en, link.targets[0]
            for resolved, named in zip(held, column, strict=True):
                if named is None:
                    resolved[en] = []
                elif isinstance(named, str):
                    resolved[en] = [(label, named)]
                else:
                    resolved[en] = [(label, c) for c in named]
    values, cells = value_dicts(sheet, unpickle_values(spilled.values)), keys.cells
    rows = [
        Row(sheet, source, number, cells.get(i, []), code, props, RESOLVED, resolved, area, False)
        for i, (number, code, props, resolved, area) in enumerate(
            zip(keys.numbers, keys.codes, values, held, spilled.areas, strict=True)
        )
    ]
    for en, targets in spilled.several.items():
        for row, resolved in zip(rows, targets, strict=True):
            row.resolved[en] = resolved
    for i, resolved in spilled.bad.items():
        rows[i].bad = True
        rows[i].resolved = resolved
    return Chunk(sheet, source, rows)


def _as_records(*columns: Any) -> list[Record]:
    """Records from their columns, zipped: no Python call per record."""
    return list(map(tuple.__new__, repeat(Record), zip(*columns, strict=True)))


def _spilled_records(spilled: _Spilled, links: tuple[str, ...], rejected: set[int]) -> list[Record]:
    """A spilled chunk's valid rows as records, its columns zipped: a valid row's links to one label name
    exactly the codes it came with, so those are passed on as they are."""
    sheet = SHEETS_BY_KEY[spilled.key]
    keys = unpickle_keys(spilled.keys)
    position = {lk.en: i for i, lk in enumerate(sheet.all_links)}
    rows = len(keys.numbers)
    named = zip(*(keys.links[position[en]] for en in links), strict=True) if links else repeat((), rows)
    values = zip(*unpickle_values(spilled.values), strict=True)
    records = _as_records(keys.numbers, keys.codes, values, spilled.areas, named)
    if spilled.bad or rejected:
        bad = spilled.bad
        return [r for i, r in enumerate(records) if i not in bad and r.number not in rejected]
    return records


def _named(targets: Sequence[tuple[str, str]]) -> Named:
    """A link's resolved targets as a record carries them: None, one code, or a list."""
    if len(targets) == 1:
        return targets[0][1]
    return [code for _, code in targets] or None


def _chunk_records(chunk: Chunk, links: tuple[str, ...], rejected: set[int]) -> list[Record]:
    """A chunk in memory's valid rows as records, column by column."""
    keep = [i for i, r in enumerate(chunk) if not r.bad and r.number not in rejected]
    good = chunk if len(keep) == len(chunk) else [chunk[i] for i in keep]
    values = chunk.value_rows(None if good is chunk else keep)
    columns = ([_named(r.resolved.get(en, ())) for r in good] for en in links)
    named = zip(*columns, strict=True) if links else repeat((), len(good))
    return _as_records([r.number for r in good], [r.code for r in good], values, [r.area for r in good], named)


def _ready(chunk: list[Row], rejected: set[int] | None) -> Chunk:
    """A stored chunk as a reader gets it: values read, rows rejected since it was stored flagged `bad`."""
    assert isinstance(chunk, Chunk)
    chunk.read_values()
    if rejected:
        for row in chunk:
            if row.number in rejected:
                row.bad = True
    return chunk


class RowStore:
    """Each sheet's validated chunks, in memory up to a `Budget` shared by the load's sheets, then on disk.

    Rows rejected after their chunk was stored (the first of two duplicates, a row naming a later sheet's
    bad row) are not changed in place: readers pass those rows' numbers (`rejected`) and get them as bad.
    """

    def __init__(self, budget: Budget | None = None) -> None:
        budget = budget or Budget()
        self._spools: dict[str, Spool[Row]] = {s.key: Spool(budget, _spill, _unspill) for s in SHEETS}

    def add(self, chunk: Chunk) -> None:
        """Store a validated chunk (the store owns it from now on)."""
        spool = self._spools[chunk.sheet.key]
        if spool.keeps(len(chunk)):  # stays in memory: its packed keys are not needed any more
            chunk._keys = None
            if not chunk.packed:
                chunk._values = None
        spool.add(chunk)

    def count(self, key: str) -> int:
        """How many rows the sheet `key` has, bad ones included."""
        return len(self._spools[key])

    def spilled(self, key: str) -> bool:
        """Whether some of the sheet's chunks are on disk."""
        return self._spools[key].spilled

    def chunks(self, key: str, rejected: set[int] | None = None) -> Iterator[Chunk]:
        """The sheet's chunks in input order, values read, rejected rows flagged `bad`."""
        for chunk in self._spools[key].chunks():
            yield _ready(chunk, rejected)

    def chunk(self, key: str, i: int, rejected: set[int] | None = None) -> Chunk:
        """The sheet's `i`-th chunk, values read, rejected rows flagged `bad`."""
        return _ready(self._spools[key].chunk(i), rejected)

    def records(
        self, key: str, links: tuple[str, ...] = (), rejected: set[int] | None = None
    ) -> Iterator[list[Record]]:
        """A node sheet's valid rows in chunks, as `Record`s carrying what each names through `links` (each a
        link naming one label: a record carries codes without labels)."""
        sheet = SHEETS_BY_KEY[key]
        one = {lk.en for lk in sheet.all_links if len(lk.targets) == 1}
        if not one.issuperset(links):
            raise ValueError(f"{key}: not a link naming one label: {sorted(set(links) - one)}")
        rejected = rejected or set()
        for stored in self._spools[key].stored():
            if isinstance(stored, _Spilled):
                out = _spilled_records(stored, links, rejected)
            else:
                assert isinstance(stored, Chunk)
                out = _chunk_records(stored, links, rejected)
            if out:
                yield out

    def close(self) -> None:
        """Free the rows (memory and temporary files)."""
        for spool in self._spools.values():
            spool.close()
