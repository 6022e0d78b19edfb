"""A load's summary in its readers' words, Chinese first, English beside: what it changed, not how it ran.

Every name comes from the model (`core.model`): an entity is its sheet's Chinese name; a link column's
relationships read as `link_phrase` says, in the model's direction ("网格覆盖小区", never "Compound-COVERS->Grid");
a link sheet's as its sheet's name. Only what the load touched is listed; a pruned node or row is "结束 / ended"
(its `until` set, `loaders.prune`): nothing is deleted. Counts are the summary's own (`loaders.written.Summary`).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from core.model import LINK_SHEETS, NODE_SHEETS, label_words, link_phrase
from graph.gaps import RULES
from graph.metrics import METRIC_BY_KEY
from loaders.effect import Effect
from loaders.written import Summary, link_key

#: What a count means, in the order shown: (summary key, Chinese, English).
COUNTS: tuple[tuple[str, str, str], ...] = (
    ("created", "新增", "created"),
    ("updated", "更新", "updated"),
    ("unchanged", "未变", "unchanged"),
    ("ended", "结束", "ended"),
)
GAP_ZH: dict[str, str] = {}
for _rule in RULES:
    GAP_ZH.setdefault(_rule.kind, _rule.zh)


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 problem', '2 problems' (`many`: an irregular plural)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def problems_phrase(count: int) -> str:
    """The count of problems in words: 1 个问题 / 1 problem, 2 个问题 / 2 problems."""
    return f"{count:,} 个问题 / {plural(count, 'problem')}"


def _counts(counts: Counter[str], unit: str = "") -> str:
    shown = [(zh, en, counts[key]) for key, zh, en in COUNTS if counts[key]]
    return ", ".join(f"{zh} {n:,}{unit}" for zh, _, n in shown) + " / " + ", ".join(f"{en} {n:,}" for _, en, n in shown)


def _column_links() -> list[tuple[str, str, str]]:
    """Every link column's summary key with its phrase (Chinese, English), in model order."""
    out = []
    for sheet in NODE_SHEETS:
        for link in sheet.links:
            for target in link.targets:
                out.append((link_key(sheet.label, link, target), *link_phrase(sheet.label, link, target)))
    return out


def entity_lines(summary: Summary) -> list[str]:
    """Per entity its sheet's name and counts, then per relationship its phrase and counts; untouched ones left out."""
    lines = []
    for sheet in NODE_SHEETS:
        counts = summary.nodes.get(sheet.label)
        if counts and any(counts.values()):
            lines.append(f"{sheet.zh} / {label_words(sheet.label)}: {_counts(counts)}")
    for sheet in LINK_SHEETS:
        counts = summary.links.get(sheet.key)
        if counts and any(counts.values()):
            lines.append(f"{sheet.zh} / {label_words(sheet.key)}: {_counts(counts, ' 条')}")
    for key, zh, en in _column_links():
        counts = summary.links.get(key)
        if counts and any(counts.values()):
            lines.append(f"{zh} / {en}: {_counts(counts, ' 条')}")
    return lines


def effect_lines(effect: Effect) -> list[str]:
    """The loaded scope's gaps per kind and coverage rates, before → after; only what is not zero on both sides."""
    before, after = effect.before, effect.after
    lines = [f"范围 {effect.scope.code} / scope {effect.scope.level} {effect.scope.code}"]
    total = (sum(before.gaps.values()), sum(after.gaps.values()))
    both = effect.split_total()
    zh, en = (
        ("", "")
        if both is None
        else (f": 新增 {both[0]:,}, 消除 {both[1]:,}", f": {both[0]:,} opened, {both[1]:,} closed")
    )
    lines.append(f"空白点 {total[0]:,} → {total[1]:,}{zh} / gaps {total[0]:,} → {total[1]:,}{en}")
    for kind, name in GAP_ZH.items():
        was, now = before.gaps.get(kind, 0), after.gaps.get(kind, 0)
        split = effect.split(kind)
        if was or now:
            change = f"{now - was:+,}" if split is None else f"{now - was:+,}; 新增 {split[0]:,}, 消除 {split[1]:,}"
            lines.append(f"  {name} {was:,} → {now:,} ({change}) / {kind}")
    for key, (units, covered) in after.coverage.items():
        was_units, was_covered = before.coverage.get(key, (0, 0))
        if units or was_units:
            metric = METRIC_BY_KEY[key]
            change = f"{_rate(was_covered, was_units)} → {_rate(covered, units)}"
            lines.append(f"  覆盖率 {metric.zh} {change} / {metric.en}")
    return lines


def _rate(covered: int, units: int) -> str:
    return f"{covered / units:.0%} ({covered:,}/{units:,})" if units else "—"


def summary_lines(summary: Summary, seconds: float, effect: Effect | None, verbose: bool = False) -> list[str]:
    """The whole summary: rows and time, what changed per entity and relationship, the scope's figures, and the
    phases' timings only when `verbose`."""
    rows = summary.rows
    lines = [f"导入完成:{rows:,} 行,用时 {seconds:.1f} 秒 / loaded {plural(rows, 'row')} in {seconds:.1f} s"]
    lines += entity_lines(summary)
    if effect is not None:
        lines += effect_lines(effect)
    if verbose:
        lines.append("阶段 / phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in summary.seconds.items()))
    return lines


#: The history's columns (`grassroots loads`), Chinese and English.
LOAD_COLUMNS: tuple[str, ...] = (
    "时间 when",
    "文件 file",
    "SHA-256",
    "操作人 who",
    "范围 scope",
    "行数 rows",
    "变化 changes",
    "空白点 gaps",
)


def load_row(entry: dict[str, Any]) -> list[str]:
    """One `_Load` (`graph.imports`) as the history's cells: changes summed over its sheets, gaps before → after
    (with how many opened and closed, when the load's scope was a community or a street)."""
    counts: Counter[str] = Counter()
    for sheet in json.loads(entry["counts"])["sheets"].values():
        counts.update(sheet)
    changes = ", ".join(f"{zh} {counts[key]:,}" for key, zh, _ in COUNTS if counts[key] and key != "unchanged")
    effect = json.loads(entry["effect"]) if entry.get("effect") else None
    gaps = "—"
    if effect:
        gaps = f"{sum(effect['before']['gaps'].values()):,} → {sum(effect['after']['gaps'].values()):,}"
        if "opened" in effect:
            gaps += f" (新增 {sum(effect['opened'].values()):,}, 消除 {sum(effect['closed'].values()):,})"
    who = entry["actor"] if entry["actorKind"] == "account" else f"{entry['actor']} (系统用户 / OS user)"
    return [
        entry["at"][:19].replace("T", " "),
        entry["file"],
        entry["sha256"][:12],
        who,
        entry["scope"] or "—",
        f"{entry['rows']:,}",
        changes or "无变化 / none",
        gaps,
    ]
