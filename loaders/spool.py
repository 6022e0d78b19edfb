"""Chunks kept in memory up to a shared budget, then pickled to a temporary file (`loaders.rowstore`'s store).

A city's rows fit in memory; a province's (ten cities, 28 million rows) do not. The first `Budget.rows`
rows of a load stay in memory as they are; the rest are pickled chunk by chunk to an anonymous temporary
file (deleted when closed) and read back one chunk at a time — so the loader's memory stays bounded
whatever the input's size.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any, Generic, TypeVar

T = TypeVar("T")

#: Rows a load keeps in memory before it spills to disk (`GRASSROOTS_SPOOL_ROWS`); ~1 KB each.
DEFAULT_ROWS = int(os.environ.get("GRASSROOTS_SPOOL_ROWS", "4000000"))


class Budget:
    """How many more rows may stay in memory, shared by every spool of one load."""

    def __init__(self, rows: int = DEFAULT_ROWS) -> None:
        self.rows = rows


class Spool(Generic[T]):
    """A sheet's rows as a sequence of chunks, appended once and read any number of times."""

    def __init__(
        self,
        budget: Budget,
        pack: Callable[[list[T]], Any] | None = None,
        unpack: Callable[[Any], list[T]] | None = None,
    ) -> None:
        """`pack` turns a chunk into plain data for pickling (and `unpack` back): faster than pickling objects."""
        self._budget = budget
        self._pack = pack or (lambda chunk: chunk)
        self._unpack = unpack or (lambda data: data)
        self._chunks: list[list[T] | tuple[int, int]] = []  # a chunk in memory, or (offset, size) on disk
        self._file: IO[bytes] | None = None
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def spilled(self) -> bool:
        """Whether some chunks live on disk."""
        return self._file is not None

    def keeps(self, rows: int) -> bool:
        """Whether a chunk of `rows` rows added now would stay in memory."""
        return self._budget.rows >= rows

    def add(self, chunk: list[T]) -> None:
        """Append a chunk (the spool owns it from now on)."""
        if not chunk:
            return
        self._count += len(chunk)
        if self.keeps(len(chunk)):
            self._budget.rows -= len(chunk)
            self._chunks.append(chunk)
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="grassroots-spool-")  # noqa: SIM115 - closed by close()
        data = pickle.dumps(self._pack(chunk), protocol=pickle.HIGHEST_PROTOCOL)
        offset = self._file.seek(0, os.SEEK_END)
        self._file.write(data)
        self._chunks.append((offset, len(data)))

    def chunks(self) -> Iterator[list[T]]:
        """Every chunk in the order added; spilled ones are read back one at a time."""
        for i in range(len(self._chunks)):
            yield self.chunk(i)

    def stored(self) -> Iterator[list[T] | Any]:
        """Every chunk as stored, in order: one in memory as it is, a spilled one read back but not
        unpacked (what `pack` made of it) — for a reader that takes the packed form apart faster itself."""
        for i in range(len(self._chunks)):
            chunk = self._chunks[i]
            if isinstance(chunk, list):
                yield chunk
            else:
                yield self._load(chunk)

    def chunk(self, i: int) -> list[T]:
        """The `i`-th chunk (read back from disk when spilled)."""
        chunk = self._chunks[i]
        if isinstance(chunk, list):
            return chunk
        return self._unpack(self._load(chunk))

    def _load(self, where: tuple[int, int]) -> Any:
        assert self._file is not None
        offset, size = where
        self._file.seek(offset)
        return pickle.loads(self._file.read(size))

    def __iter__(self) -> Iterator[T]:
        for chunk in self.chunks():
            yield from chunk

    def close(self) -> None:
        """Free the memory and delete the file."""
        self._budget.rows += sum(len(c) for c in self._chunks if isinstance(c, list))
        self._chunks = []
        if self._file is not None:
            self._file.close()
            self._file = None
