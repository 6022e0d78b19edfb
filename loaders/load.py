"""Loading a workbook or CSV folder: read, validate everything, then write (or write nothing)."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from core.model import SHEETS
from graph import rollups, statistics
from graph.driver import Graph
from graph.loading import find_codes
from graph.natural import find_natural, top_sequences
from graph.scope import Scope
from loaders.batches import BATCH
from loaders.bounds import ImportLimits
from loaders.codeindex import Lookup
from loaders.confine import outside
from loaders.effect import Effect, Figures, load_scope, measure
from loaders.natural import NaturalLookups
from loaders.plan import Plan, build_plan
from loaders.problems import InvalidInput, Problem
from loaders.prune import prune
from loaders.read import read_input
from loaders.unknowns import load_warnings
from loaders.write import write_plan
from loaders.written import Summary


@dataclass
class LoadResult:
    """The outcome of a load."""

    plan: Plan
    summary: Summary
    seconds: float
    skipped: int
    warnings: list[Problem] = field(default_factory=list)  # loaded, but left unknown (`loaders.unknowns`)
    effect: Effect | None = None  # coverage and gaps of the loaded scope before → after (`measure_effect`)


def graph_lookup(graph: Graph) -> Lookup:
    """Validation's look-up of codes in the graph (`graph.loading.find_codes`)."""
    return partial(find_codes, graph)


def graph_naturals(graph: Graph) -> NaturalLookups:
    """Validation's look-ups of natural keys and allocated codes in the graph (`graph.natural`)."""
    return NaturalLookups(partial(find_natural, graph), partial(top_sequences, graph))


async def validate_file(path: Path, graph: Graph | None, limits: ImportLimits | None = None) -> Plan:
    """Read and validate; nothing is written. An input refused by its reading (`Problem.fatal`: past the import
    limits, `loaders.bounds`) is not validated further: its problems are the plan's."""
    with _no_cycle_collection():
        data = read_input(Path(path), limits)
        if any(p.fatal for p in data.problems):
            data.sheets = []
        if graph is None:
            return await build_plan(data, None)
        return await build_plan(data, graph_lookup(graph), naturals=graph_naturals(graph))


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of long-lived row objects are made.

    Its passes would walk every one of them again and again, and rows hold no reference cycles (they are
    freed by reference counting all the same). On the way out, what was made meanwhile is frozen
    (`gc.freeze`) rather than walked once more when the collector resumes. Nested pauses leave it to the
    outermost one.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


async def load_file(
    path: Path,
    graph: Graph,
    *,
    skip_invalid: bool = False,
    show_progress: bool = False,
    prune_missing: bool = False,
    batch_size: int = BATCH,
    before_writes: Callable[[], Awaitable[None]] | None = None,
    load_as: tuple[str, Scope] | None = None,
    limits: ImportLimits | None = None,
    measure_effect: bool = False,
) -> LoadResult:
    """Validate everything first; with problems, raise InvalidInput (nothing written) unless `skip_invalid`.

    `load_as` (an account's login and scope): any row outside that scope is refused, whatever `skip_invalid`
    says — nothing is written (`loaders.confine`).

    With `prune_missing`, what the workbook's sheets no longer list is deleted, inside its own area only.
    `before_writes` is awaited between validation and the first write (the CLI's migrations finishing).
    `limits`: the import's bounds (default: the settings'); an input past them is refused whole.
    `measure_effect`: count the loaded scope's gaps and coverage before the first write and after the rollups
    (`loaders.effect`), in the result's `effect`.
    """
    with _no_cycle_collection():  # one pause from reading to the rollups: the plan lives through all of it
        return await _load(
            path, graph, skip_invalid, show_progress, prune_missing, batch_size, before_writes, load_as, limits,
            measure_effect,
        )  # fmt: skip


def _refuse(path: Path, plan: Plan, skip_invalid: bool, load_as: tuple[str, Scope] | None) -> None:
    """Raise `InvalidInput` for a plan that must not be written: a problem past an import bound (refused whole,
    `--skip-invalid` or not), a row outside the `load_as` account's scope, any problem without `skip_invalid`,
    or no rows at all. Nothing has been written when it raises."""
    if any(p.fatal for p in plan.problems):
        plan.close()
        raise InvalidInput(plan.problems)
    if load_as is not None:
        refused = outside(plan, load_as[1], load_as[0])
        if refused:
            plan.close()
            raise InvalidInput(refused)
    if plan.problems and not skip_invalid:
        raise InvalidInput(plan.problems)
    if not plan.row_count and not plan.problems:
        raise InvalidInput([Problem(Path(path).name, 0, "", "", "没有可导入的数据行", "no data rows to load")])


async def _write(graph: Graph, plan: Plan, total: int, show_progress: bool, batch_size: int) -> Summary:
    """The plan's valid rows written, with a progress bar of `total` rows when asked."""
    if not show_progress:
        return await write_plan(graph, plan, batch_size=batch_size)
    columns = (
        TextColumn("导入 / loading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} 行/秒 rows/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns) as bar:
        task = bar.add_task("load", total=total, rate="-")
        t0 = time.perf_counter()

        def tick(n: int) -> None:
            bar.advance(task, n)
            done = bar.tasks[0].completed
            bar.update(task, rate=f"{done / max(time.perf_counter() - t0, 1e-6):,.0f}")

        return await write_plan(graph, plan, tick, batch_size)


async def _load(
    path: Path,
    graph: Graph,
    skip_invalid: bool,
    show_progress: bool,
    prune_missing: bool,
    batch_size: int,
    before_writes: Callable[[], Awaitable[None]] | None,
    load_as: tuple[str, Scope] | None,
    limits: ImportLimits | None,
    measure_effect: bool,
) -> LoadResult:
    started = time.perf_counter()
    plan = await validate_file(path, graph, limits)
    _refuse(path, plan, skip_invalid, load_as)
    validated = time.perf_counter() - started
    skipped = plan.row_count - sum(plan.valid_count(s.key) for s in SHEETS)  # no re-reading the input
    if before_writes is not None:
        await before_writes()
    scope = load_scope(plan) if measure_effect else None
    t0 = time.perf_counter()
    effect = Effect(scope, await measure(graph, scope), Figures()) if scope else None
    measuring = time.perf_counter() - t0
    summary = await _write(graph, plan, plan.row_count - skipped, show_progress, batch_size)
    summary.seconds["read and validate"] = validated
    if prune_missing:
        t0 = time.perf_counter()
        await prune(graph, plan, summary)
        summary.seconds["prune"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    await statistics.refresh(graph)  # the rollups and the first reads plan with what was just written
    summary.seconds["index statistics"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    await rollups.refresh(graph, [])  # every community: a load can touch any
    await statistics.refresh(graph)  # the rollups' own index, when they were new
    summary.seconds["coverage rollups"] = time.perf_counter() - t0
    warnings = await load_warnings(graph, plan)
    if effect is not None:
        t0 = time.perf_counter()
        effect.after = await measure(graph, effect.scope)
        summary.seconds["coverage and gaps before and after"] = measuring + time.perf_counter() - t0
    return LoadResult(plan, summary, time.perf_counter() - started, skipped, warnings, effect)
