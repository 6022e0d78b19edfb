"""A chunk of converted rows as columns, packed into bytes: the one form rows travel and wait in.

Converting a chunk (`convert_chunks`) gathers each row's number, code, the codes it names and its values
into one list per column, and pickles the columns: `keys` (numbers, codes, named codes, the cells of rows
with a problem in them) apart from `values` (one list per column of the sheet). A chunk crosses from the
cell worker (`loaders.cellworker`) to validation in this form, is spilled to disk in it
(`loaders.rowstore`), and the writer reads its records straight from it — no object per row is made on
the way but where validation needs one.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterator
from typing import Any, NamedTuple

from core.model import Sheet
from loaders.cells import convert_cells
from loaders.problems import Problem
from loaders.read import RawSheet

#: What a link column holds for one row: no code (None), one code (the commonest, a plain string), or a list.
Named = str | list[str] | None


class KeyColumns(NamedTuple):
    """A chunk's rows without their values, one list per column."""

    numbers: list[int]  # row numbers as the user sees them
    codes: list[str]  # a node's code; a link sheet's "source>target"
    links: list[list[Named]]  # per link of the sheet (`Sheet.all_links` order), per row
    cells: dict[int, list[str]]  # position of a row with a problem in its cells -> its cells as read


#: A chunk's values, one list per column of its sheet (`Sheet.columns` order); None where a cell is empty.
ValueColumns = list[list[Any]]


class PackedChunk(NamedTuple):
    """A converted chunk: its `KeyColumns` and `ValueColumns` pickled, and the problems found in its cells."""

    keys: bytes
    values: bytes
    problems: list[Problem]


def named_codes(named: Named) -> list[str]:
    """The codes one `Named` holds."""
    return [] if named is None else [named] if isinstance(named, str) else named


def codes_of(column: list[Named]) -> list[list[str]]:
    """A link column's codes per row, as lists (`named_codes` of each, spelled out: it runs per row per link)."""
    return [[] if named is None else [named] if named.__class__ is str else named for named in column]  # type: ignore[list-item]


def value_dicts(sheet: Sheet, values: ValueColumns) -> list[dict[str, Any]]:
    """A chunk's values as each row's dict (empty cells left out, as `convert_cells` leaves them)."""
    names = [c.name for c in sheet.columns]
    return [{k: v for k, v in zip(names, row, strict=True) if v is not None} for row in zip(*values, strict=True)]


def unpickle_keys(data: bytes | bytearray) -> KeyColumns:
    """`PackedChunk.keys` as columns."""
    return KeyColumns._make(pickle.loads(data))


def unpickle_values(data: bytes | bytearray) -> ValueColumns:
    """`PackedChunk.values` as columns."""
    values: ValueColumns = pickle.loads(data)
    return values


def pickle_flat(columns: Any) -> bytes:
    """Columns of codes and values pickled without the memo (`Pickler.fast`), several times faster and read
    back as fast. `fast` must never meet a shared or recursive object: columns of plain values have none."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # documented as deprecated, still there
    pickler.dump(columns)
    return out.getvalue()


class _Gathered:
    """A chunk being gathered: each converted row's code, references and values appended to their columns."""

    def __init__(self, sheet: Sheet) -> None:
        self.ens = [lk.en for lk in sheet.all_links]
        self.names = [c.name for c in sheet.columns]
        self.keys = KeyColumns([], [], [[] for _ in self.ens], {})
        self.values: ValueColumns = [[] for _ in self.names]

    def __len__(self) -> int:
        return len(self.keys.numbers)

    def add(
        self, number: int, cells: list[str], code: str, props: dict[str, Any], refs: dict[str, list[str]], bad: bool
    ) -> None:
        """Append one row as `convert_cells` converted it."""
        keys = self.keys
        if bad:
            keys.cells[len(keys.numbers)] = cells
        keys.numbers.append(number)
        keys.codes.append(code)
        for en, column in zip(self.ens, keys.links, strict=True):
            found = refs[en]
            column.append(found[0] if len(found) == 1 else found or None)
        get = props.get
        for name, column in zip(self.names, self.values, strict=True):
            column.append(get(name))

    def packed(self, problems: list[Problem]) -> PackedChunk:
        return PackedChunk(pickle_flat(tuple(self.keys)), pickle_flat(self.values), problems[:])


def convert_chunks(raw: RawSheet, size: int, problems: list[Problem] | None = None) -> Iterator[PackedChunk]:
    """A sheet's rows converted (`loaders.cells`), `size` rows a chunk; the last may hold only problems.

    Each chunk carries the problems found since the one before in `problems` (its cells', and the file's
    when `raw.rows` reports into the same list)."""
    problems = [] if problems is None else problems
    gathered = _Gathered(raw.sheet)
    for converted in convert_cells(raw, problems):
        gathered.add(*converted)
        if len(gathered) >= size:
            yield gathered.packed(problems)
            gathered = _Gathered(raw.sheet)
            problems.clear()
    if len(gathered) or problems:
        yield gathered.packed(problems)
