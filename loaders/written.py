"""What a load has written so far: the counts it reports, and what later sheets' writes read back.

Sheets are written in model order, so a sheet's writer reads only what earlier sheets recorded here — the
ids of the nodes they wrote, which codes existed before, which labels were empty — while it records its
own (see the thread ownership rule in `loaders.batches`).
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import repeat

from core.model import Link
from graph.driver import Graph
from loaders.codeindex import CodeIndex
from loaders.plan import Plan


@dataclass
class Summary:
    """What a load did, per entity: created, updated, unchanged, ended (pruned); relationships created and ended
    (a link column no longer naming them, or a link sheet's rows pruned)."""

    nodes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    links: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    rows: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # phase -> wall time


def link_key(label: str, link: Link, target: str) -> str:
    """How the summary names a link column's relationships: "Building-IN->Grid"."""
    return f"{label}-{link.rel}->{target}"


class WrittenNodes:
    """The ids of the nodes this load wrote, by label and input row: how a later statement names a node.

    A node this load wrote is named by its id (a seek by id, cheaper than the code index's); any other by
    its code. Ids are kept in an array per label indexed by row number (-1: not written), not in a map of
    millions of codes. `record` is called as batches commit; `namer` is made for a label whose sheet is
    written, and used while later sheets are prepared.
    """

    def __init__(self, index: CodeIndex) -> None:
        self._index = index
        self._ids: dict[str, array[int]] = {}

    def record(self, label: str, numbers: Iterable[int], ids: Iterable[int]) -> None:
        """Remember the node ids a written batch's rows (by row number) got."""
        table = self._ids.setdefault(label, array("q"))
        for number, node in zip(numbers, ids, strict=True):
            if number >= len(table):  # rows come in order: grow by half, not a row at a time
                table.extend(repeat(-1, max(number + 1, len(table) * 3 // 2) - len(table)))
            table[number] = node

    def namer(self, label: str) -> Callable[[str], int | str]:
        """How a statement names a `label` node: by its id when this load wrote it, else by its code."""
        row_number, written = self._index.row_number, self._ids.setdefault(label, array("q"))
        last: tuple[str | None, int] = (None, -1)  # the last code named by id: rows come by building, and name it again

        def name(code: str) -> int | str:
            nonlocal last
            if code == last[0]:
                return last[1]
            number = row_number(label, code)
            node = written[number] if number is not None and number < len(written) else -1
            if node < 0:
                return code
            last = (code, node)  # one assignment: a reader in another thread sees the old pair or the new one
            return node

        return name


@dataclass
class Written:
    """A load's writes so far, shared by its sheets' writers."""

    nodes: WrittenNodes
    summary: Summary = field(default_factory=Summary)
    #: label -> codes of the nodes that existed before this load (their links may need replacing)
    existed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: labels this load created from empty: their writes may run in partitions
    created: set[str] = field(default_factory=set)
    #: (sheet key, link) whose relationships were written with the nodes they name
    with_named: set[tuple[str, str]] = field(default_factory=set)
    #: (sheet key, link) -> the code a row names -> the ids of the nodes naming it, until that label is written
    naming: dict[tuple[str, str], dict[str, list[int]]] = field(default_factory=dict)


@dataclass
class WriteRun:
    """One write of a plan: where to, what, in batches of what size, and what it has written so far."""

    graph: Graph
    plan: Plan
    batch_size: int
    tick: Callable[[int], None]  # told how many rows each written batch held
    written: Written
    #: The day the load dates its link changes by (graph/loading.py `load_days`): fixed when it starts.
    today: date = field(default_factory=date.today)
