"""Converting a big CSV input's cells in a second process while validation checks across rows.

Validation has two halves: cells to typed values (`loaders.cells`, one row at a time) and the checks
across rows (`loaders.validate`). On a city's millions of rows each half takes about as long, and Neo4j
idles meanwhile; so a worker process converts the CSV files — sheet by sheet in model order, a chunk at
a time (`loaders.columns.convert_chunks`) — while this process checks the chunks already handed over. The
pipe between them holds about one chunk: the worker blocks once it is a chunk ahead, so memory stays
bounded. Workbooks (.xlsx) and small inputs are converted in the loading process (`loaders.rowstore`).
"""

from __future__ import annotations

import gc
import os
import pickle
import struct
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from core.model import SHEETS, SHEETS_BY_KEY
from loaders.bounds import ImportLimits
from loaders.columns import PackedChunk, convert_chunks
from loaders.problems import Problem
from loaders.read import CsvRows, Input, RawSheet

#: Inputs whose CSV files hold at least this many bytes are converted by the worker (a city's hold 230 MB).
WORKER_MIN_BYTES = 16 * 1024 * 1024
_ROOT = Path(__file__).resolve().parents[1]


class CellWorkerError(RuntimeError):
    """The worker failed; the message says why (its traceback, or how it ended)."""


class CellWorker:
    """A worker process converting CSV sheets; `chunks(key)` hands each sheet's chunks over in order.

    The worker is `python -m loaders.cellworker`, fed its jobs on stdin and answering with pickled messages
    on stdout, each framed by its length (`send`, `receive`). A plain subprocess rather than
    `multiprocessing`, which would re-import the caller's main module.
    """

    def __init__(self, raws: list[RawSheet], chunk: int) -> None:
        self.keys = {raw.sheet.key for raw in raws}
        jobs = [(raw.sheet.key, raw.source, raw.columns, str(_file(raw)), _limits(raw)) for raw in raws]
        path = os.pathsep.join(p for p in (str(_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "loaders.cellworker"],
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
    def start(cls, data: Input, chunk: int, min_bytes: int = WORKER_MIN_BYTES) -> CellWorker | None:
        """A worker for the input's CSV sheets, or None when they are too small to be worth one."""
        order = {s.key: i for i, s in enumerate(SHEETS)}  # validation's order, not the files'
        raws = sorted((raw for raw in data.sheets if isinstance(raw.rows, CsvRows)), key=lambda r: order[r.sheet.key])
        if not raws or sum(_file(raw).stat().st_size for raw in raws) < min_bytes:
            return None
        return cls(raws, chunk)

    def chunks(self, key: str) -> Iterator[PackedChunk]:
        """The sheet `key`'s chunks as converted (sheets come in the order they were given)."""
        while True:
            message = self._next()
            if message[0] == "end":
                if message[1] != key:
                    raise CellWorkerError(f"expected sheet {key}, the worker finished {message[1]}")
                return
            yield PackedChunk(*message[1:])

    def _next(self) -> tuple[Any, ...]:
        data = receive(self._out)
        if data is None:
            code = self._process.wait()
            raise CellWorkerError(f"单元格转换进程意外退出 / the cell-conversion process exited (code {code})")
        message: tuple[Any, ...] = pickle.loads(data)
        if message[0] == "error":
            raise CellWorkerError(f"单元格转换失败 / cell conversion failed:\n{message[1]}")
        return message

    def close(self) -> None:
        """Stop the worker (it may still be converting when validation stops early)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._out.close()


#: A frame's header: the length of the pickled message that follows.
_HEADER = struct.Struct("<Q")


def send(fd: int, data: bytes) -> None:
    """Write one framed message to a pipe, all of it.

    Straight to the descriptor, looping over short writes: a buffered writer (`sys.stdout.buffer`) can drop
    bytes of a large write when its process is stopped and continued (Ctrl-Z, then `fg`), and the reader
    then fails on a corrupt pickle.
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


def _limits(raw: RawSheet) -> ImportLimits:
    """The import limits the file is read under (the worker reads it under the same)."""
    assert isinstance(raw.rows, CsvRows)
    return raw.rows.limits


def _work(jobs: list[tuple[str, str, dict[str, int], str, ImportLimits]], chunk: int, out: int) -> None:
    """The worker: convert each sheet, a chunk at a time, then say it ended; `out` is a descriptor."""
    gc.disable()  # converted rows hold no cycles; each chunk is freed once sent

    def send_(message: tuple[Any, ...]) -> None:
        send(out, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    try:
        for key, source, columns, file, limits in jobs:
            problems: list[Problem] = []  # cell problems, and a file that turns out not to be UTF-8
            raw = RawSheet(SHEETS_BY_KEY[key], source, columns, CsvRows(Path(file), problems, limits))
            for packed in convert_chunks(raw, chunk, problems):
                send_(("rows", *packed))
            send_(("end", key))
    except BrokenPipeError:
        pass  # validation stopped early: nobody is listening
    except BaseException:  # reported to the parent, which raises it
        send_(("error", traceback.format_exc()))


if __name__ == "__main__":
    _jobs, _chunk = pickle.loads(receive(sys.stdin.buffer) or b"")
    _work(_jobs, _chunk, sys.stdout.fileno())
