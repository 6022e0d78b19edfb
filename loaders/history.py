"""Recording a load in the history (`graph.imports`): what was loaded, by whom, and what it changed.

The input's SHA-256 is of its bytes for a workbook; for a CSV folder, of each `.csv` file's name and bytes in
name order (a renamed sheet is another input). Who: the GRASSROOTS_LOAD_AS account when the load ran for one
(`actorKind` "account"), else the operating-system user running it ("os"). Counts are the summary's, per sheet
key and per link column key, zeros left out; the effect is `loaders.effect`'s figures.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from pathlib import Path
from typing import Any

from core.model import SHEETS
from graph import imports
from graph.driver import Graph
from loaders.effect import Effect, Figures, load_scope
from loaders.load import LoadResult

CHUNK = 1 << 20


def input_sha256(path: Path) -> str:
    """The SHA-256 of a workbook's bytes, or of a CSV folder's `.csv` files (name and bytes, in name order)."""
    digest = hashlib.sha256()
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.name.encode() + b"\0")
        with file.open("rb") as f:
            while block := f.read(CHUNK):
                digest.update(block)
    return digest.hexdigest()


def counts_of(result: LoadResult) -> dict[str, dict[str, dict[str, int]]]:
    """{"sheets": {sheet key: counts}, "links": {link column key: counts}}, zero counts left out."""
    summary, sheets = result.summary, {}
    for sheet in SHEETS:
        counts = summary.nodes.get(sheet.label) if sheet.is_node else summary.links.get(sheet.key)
        if counts and +counts:
            sheets[sheet.key] = dict(+counts)
    keys = {s.key for s in SHEETS}
    links = {k: dict(+c) for k, c in summary.links.items() if k not in keys and +c}
    return {"sheets": sheets, "links": links}


def _figures(figures: Figures) -> dict[str, Any]:
    return {"gaps": figures.gaps, "coverage": {k: list(v) for k, v in figures.coverage.items()}}


def effect_of(effect: Effect | None) -> dict[str, Any] | None:
    """The effect as stored: the gap counts and coverage (units, covered) before and after, and where the scope
    allows it (`loaders.effect.SPLIT_LEVELS`) how many gaps of each kind the load opened and closed."""
    if effect is None:
        return None
    stored: dict[str, Any] = {"before": _figures(effect.before), "after": _figures(effect.after)}
    kinds = set(effect.before.gaps) | set(effect.after.gaps)
    splits = {kind: split for kind in sorted(kinds) if (split := effect.split(kind)) is not None}
    if splits:
        stored["opened"] = {kind: split[0] for kind, split in splits.items()}
        stored["closed"] = {kind: split[1] for kind, split in splits.items()}
    return stored


async def record_load(graph: Graph, path: Path, result: LoadResult, account: str | None) -> tuple[str, str]:
    """Write the load's `_Load` entry; its id and time."""
    entry = {
        "file": Path(path).name,
        "sha256": input_sha256(Path(path)),
        "actor": account or getpass.getuser(),
        "actorKind": "account" if account else "os",
        "rows": result.summary.rows,
        "counts": json.dumps(counts_of(result), ensure_ascii=False),
        "effect": json.dumps(effect_of(result.effect), ensure_ascii=False),
    }
    scope = result.effect.scope if result.effect else load_scope(result.plan)
    return await imports.record(graph, entry, scope)
