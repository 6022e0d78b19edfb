"""Converting a big CSV input's cells in a second process, ahead of the checks across rows.

Validation has two halves: cells to typed values (`loaders.cells`, one row at a time) and the
checks across rows (`loaders.validate`: duplicates, references, areas). On a city's millions of
rows each half takes about as long, and Neo4j idles meanwhile. So a worker process reads and
converts the CSV files — sheet by sheet in model order, a chunk at a time — while this process
checks the chunks already handed over; the pipe between them keeps the worker about a chunk ahead.
Workbooks (.xlsx) and small inputs are converted in this process, as before.
"""

from __future__ import annotations

import gc
import io
import os
import pickle
import struct
import subprocess
import sys
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from core.model import SHEETS, Sheet
from loaders.cells import Row, convert_cells
from loaders.problems import Problem
from loaders.read import CsvRows, Input, RawSheet

#: Inputs whose CSV files hold at least this many bytes are converted ahead (a city's hold 230 MB).
AHEAD_BYTES = 16 * 1024 * 1024
_SHEET_BY_KEY = {s.key: s for s in SHEETS}
_ROOT = Path(__file__).resolve().parents[1]

#: What a link column holds for one row as it crosses between the processes: no code (None), one code (the
#: commonest, a plain string), or a list of several.
Named = str | list[str] | None


class Spine(NamedTuple):
    """A chunk's rows without their values, column by column, as they cross between the processes.

    Columns rather than a tuple and a dict of references per row: a household is three objects to unpickle
    instead of ten, and a spilled chunk is taken apart straight into what the writer sends
    (`validate._handed_records`).
    The rows' values cross beside it, one list per column of the sheet (`Values`)."""

    numbers: list[int]
    codes: list[str]
    links: list[list[Named]]  # per link of the sheet (`Sheet.all_links` order), per row
    cells: dict[int, list[str]]  # position of a row with a problem in its cells -> its cells as read

    def refs(self, sheet: Sheet) -> list[dict[str, list[str]]]:
        """Each row's references: link → codes, as `convert_cells` gave them."""
        if not sheet.all_links:
            return [{} for _ in self.numbers]
        ens = [lk.en for lk in sheet.all_links]
        return [dict(zip(ens, named, strict=True)) for named in zip(*map(codes_of, self.links), strict=True)]


#: A chunk's values, one list per column of its sheet (`Sheet.columns` order); None where a cell is empty.
Values = list[list[Any]]


def named_codes(named: Named) -> list[str]:
    """The codes one `Named` holds."""
    return [] if named is None else [named] if isinstance(named, str) else named


def codes_of(column: list[Named]) -> list[list[str]]:
    """A link column's codes per row, as lists (`named_codes` of each, spelled out: a hot loop)."""
    return [[] if named is None else [named] if named.__class__ is str else named for named in column]  # type: ignore[list-item]


def value_dicts(sheet: Sheet, values: Values) -> list[dict[str, Any]]:
    """A chunk's values as each row's dict (empty cells left out, as `convert_cells` leaves them)."""
    names = [c.name for c in sheet.columns]
    return [{k: v for k, v in zip(names, row, strict=True) if v is not None} for row in zip(*values, strict=True)]


class Pending(dict[str, Any]):
    """A row's values while they are still pickled in their chunk (`Handed.props`): any use is a bug, and fails."""

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise RuntimeError("行的值尚未解开 / row values still pickled: read rows through Plan.chunks")

    __getitem__ = get = __contains__ = __iter__ = __len__ = items = keys = values = __eq__ = _refuse  # type: ignore[assignment]

    def __repr__(self) -> str:  # a row printed in a traceback says what it holds
        return "<值尚未解开 / values still pickled>"


#: The one placeholder every row of a node sheet's handed chunk holds until `Handed.fill`.
PENDING = Pending()


class AheadError(RuntimeError):
    """The worker failed; the message says why (its traceback, or how it ended)."""


class Handed(list[Row]):
    """A chunk of rows as the worker handed them over, with the pickled bytes they came in: `raw`, the
    rows without their values, and `props`, the values.

    Validation reads a row's code and the codes it names, never a node's values: those stay pickled
    until the writer reads the chunk (`fill`, from `Plan.chunks`) — a third to a half of what unpickling
    a chunk cost the checking process (a city's validation peaked at 3.4 GiB instead of 4.2). A chunk that validation
    spills to disk is written as those bytes and what validation added (`loaders.validate._pack`), not
    taken apart and pickled a second time.
    """

    __slots__ = ("props", "raw", "sheet")

    def __init__(self, sheet: Sheet, rows: Iterable[Row] = ()) -> None:
        super().__init__(rows)
        self.sheet = sheet
        self.raw: bytes | None = None  # a pickled `Spine`
        self.props: bytes | None = None  # pickled `Values`

    @property
    def pending(self) -> bool:
        """Whether the rows still hold `PENDING` for their values."""
        return bool(self) and self[0].props is PENDING

    def fill(self, keep: bool = False) -> None:
        """Give each row its values (once); the bytes they came in are let go unless `keep`."""
        if self.pending:
            assert self.props is not None
            for row, props in zip(self, value_dicts(self.sheet, pickle.loads(self.props)), strict=True):
                row.props = props
        if not keep:
            self.props = None

    def kept(self) -> None:
        """The chunk stays in memory as rows: let go of the bytes that will not be needed."""
        self.raw = None
        if not self.pending:
            self.props = None


class Ahead:
    """A worker process converting CSV sheets; `chunks(key)` hands each sheet's rows over in order.

    The worker is `python -m loaders.ahead`, fed its jobs on stdin and answering with pickled chunks
    on stdout (a pipe: it blocks once it is a chunk ahead, so memory stays bounded), each framed by
    its length (`send`, `receive`). A plain subprocess rather than `multiprocessing`, which would
    re-import the caller's main module.
    """

    def __init__(self, raws: list[RawSheet], chunk: int) -> None:
        self.keys = {raw.sheet.key for raw in raws}
        self._sources = {raw.sheet.key: raw.source for raw in raws}
        jobs = [(raw.sheet.key, raw.source, raw.columns, str(_file(raw))) for raw in raws]
        path = os.pathsep.join(p for p in (str(_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "loaders.ahead"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._out: IO[bytes] = self._process.stdout
        send(self._process.stdin.fileno(), pickle.dumps((jobs, chunk)))
        self._process.stdin.close()

    @classmethod
    def start(cls, data: Input, chunk: int, min_bytes: int = AHEAD_BYTES) -> Ahead | None:
        """A worker for the input's CSV sheets, or None when they are too small to be worth one."""
        order = {s.key: i for i, s in enumerate(SHEETS)}  # validation's order, not the files'
        raws = sorted((raw for raw in data.sheets if isinstance(raw.rows, CsvRows)), key=lambda r: order[r.sheet.key])
        if not raws or sum(_file(raw).stat().st_size for raw in raws) < min_bytes:
            return None
        return cls(raws, chunk)

    def chunks(self, key: str, problems: list[Problem]) -> Iterator[Handed]:
        """The sheet `key`'s rows, chunk by chunk (sheets come in the order they were given); the
        problems found in their cells are added to `problems`."""
        sheet, source = _SHEET_BY_KEY[key], self._sources[key]
        while True:
            message = self._next()
            if message[0] == "end":
                if message[1] != key:
                    raise AheadError(f"expected sheet {key}, the worker finished {message[1]}")
                return
            _, raw, props, found = message
            problems.extend(found)
            spine: Spine = Spine._make(pickle.loads(raw))
            if spine.numbers:
                cells = spine.cells
                chunk = Handed(
                    sheet,
                    [
                        Row(sheet, source, number, cells.get(i, []), code, PENDING, refs, {}, {}, i in cells)
                        for i, (number, code, refs) in enumerate(
                            zip(spine.numbers, spine.codes, spine.refs(sheet), strict=True)
                        )
                    ],
                )
                chunk.raw, chunk.props = raw, props
                if not sheet.is_node:  # a link sheet's key holds its role: values wanted now (its sheets are small)
                    chunk.fill(keep=True)
                yield chunk

    def _next(self) -> tuple[Any, ...]:
        data = receive(self._out)
        if data is None:
            code = self._process.wait()
            raise AheadError(f"单元格转换进程意外退出 / the cell-conversion process exited (code {code})")
        message: tuple[Any, ...] = pickle.loads(data)
        if message[0] == "error":
            raise AheadError(f"单元格转换失败 / cell conversion failed:\n{message[1]}")
        return message

    def close(self) -> None:
        """Stop the worker (it may still be reading when validation stops early)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._out.close()


#: A frame's header: the length of the pickled message that follows.
_HEADER = struct.Struct("<Q")


def send(fd: int, data: bytes) -> None:
    """Write one framed message to a pipe, all of it.

    Straight to the descriptor, looping over short writes: a buffered writer (`sys.stdout.buffer`)
    was measured to drop bytes from a large write when its process was stopped and continued
    (Ctrl-Z, then `fg`), and the reader then failed on a corrupt pickle.
    """
    for part in (_HEADER.pack(len(data)), data):
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view) :]


def receive(stream: IO[bytes]) -> bytearray | None:
    """Read one framed message; None when the stream ended first."""
    header = _read_exactly(stream, _HEADER.size)
    return None if header is None else _read_exactly(stream, _HEADER.unpack(header)[0])


def _read_exactly(stream: IO[bytes], size: int) -> bytearray | None:
    out = bytearray(size)
    view, got = memoryview(out), 0
    while got < size:
        n = stream.readinto(view[got:])  # type: ignore[attr-defined]
        if not n:
            return None
        got += n
    return out


def _file(raw: RawSheet) -> Path:
    assert isinstance(raw.rows, CsvRows)
    return raw.rows.file


def _dumps(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def _dumps_flat(columns: Any) -> bytes:
    """Columns of codes and values pickled without the memo (`Pickler.fast`): a fifth of the time, read back
    as fast. Nothing in them is shared or recursive."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # documented as deprecated, still there; it must never meet a cycle, and columns have none
    pickler.dump(columns)
    return out.getvalue()


class _Columns:
    """A chunk being gathered in the worker: each converted row's code, references and values appended to
    their columns (`Spine`, `Values`)."""

    def __init__(self, sheet: Sheet) -> None:
        self.ens = [lk.en for lk in sheet.all_links]
        self.names = [c.name for c in sheet.columns]
        self.spine = Spine([], [], [[] for _ in self.ens], {})
        self.values: Values = [[] for _ in self.names]

    def __len__(self) -> int:
        return len(self.spine.numbers)

    def add(
        self, number: int, cells: list[str], code: str, props: dict[str, Any], refs: dict[str, list[str]], bad: bool
    ) -> None:
        """Append one row as `convert_cells` converted it."""
        spine = self.spine
        if bad:
            spine.cells[len(spine.numbers)] = cells
        spine.numbers.append(number)
        spine.codes.append(code)
        for en, column in zip(self.ens, spine.links, strict=True):
            found = refs[en]
            column.append(found[0] if len(found) == 1 else found or None)
        get = props.get
        for name, column in zip(self.names, self.values, strict=True):
            column.append(get(name))

    def message(self, problems: list[Problem]) -> tuple[Any, ...]:
        """The chunk as the worker sends it, with the problems found in its cells."""
        return ("rows", _dumps_flat(tuple(self.spine)), _dumps_flat(self.values), problems[:])


def _work(jobs: list[tuple[str, str, dict[str, int], str]], chunk: int, out: int) -> None:
    """The worker: convert each sheet, a chunk at a time, then say it ended; `out` is a descriptor."""
    gc.disable()  # rows hold no cycles; each chunk is freed once sent

    def send_(message: tuple[Any, ...]) -> None:
        send(out, _dumps(message))

    try:
        for key, source, columns, file in jobs:
            problems: list[Problem] = []  # cell problems, and a file that turns out not to be UTF-8
            sheet = _SHEET_BY_KEY[key]
            raw = RawSheet(sheet, source, columns, CsvRows(Path(file), problems))
            gathered = _Columns(sheet)
            for converted in convert_cells(raw, problems):
                gathered.add(*converted)
                if len(gathered) >= chunk:
                    send_(gathered.message(problems))
                    gathered = _Columns(sheet)
                    problems.clear()
            if len(gathered) or problems:
                send_(gathered.message(problems))
            send_(("end", key))
    except BrokenPipeError:
        pass  # validation stopped early: nobody is listening
    except BaseException:  # reported to the parent, which raises it
        send_(("error", traceback.format_exc()))


if __name__ == "__main__":
    _jobs, _chunk = pickle.loads(receive(sys.stdin.buffer) or b"")
    _work(_jobs, _chunk, sys.stdout.fileno())
