"""Validation before any write: typed values, codes and check digits, duplicates, references, areas.

`build_plan` turns what `loaders.read` read into a `Plan`: typed rows ready for the writer, each
reference resolved to the label it names (in the workbook or already in the graph), the area path
(city/district/street/community codes) of every node, and every problem found — all at once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from graph.model import AREA_LEVELS, SHEET_BY_LABEL, SHEETS, Column, Kind, Link, Sheet
from loaders import codes
from loaders.problems import Problem
from loaders.read import Input, RawSheet, col_letter

AREA_KEYS = ("cityCode", "districtCode", "streetCode", "communityCode")

ENUM_ALIASES = {
    "full": "正式党员",
    "probationary": "预备党员",
    "正式": "正式党员",
    "预备": "预备党员",
    "agency": "机关",
    "enterprise": "企事业单位",
    "institution": "企事业单位",
    "new_organization": "两新组织",
    "secretary": "书记",
    "deputy_secretary": "副书记",
    "committee_member": "委员",
    "group_leader": "组长",
    "building_head": "楼栋长",
    "unit_head": "单元长",
}
TRUE = {"是", "y", "yes", "true", "1", "t", "√"}
FALSE = {"否", "n", "no", "false", "0", "f", "×", ""}
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_SPLIT = re.compile(r"[;,;,、\s]+")


@dataclass(slots=True)
class Row:
    """One valid-looking row: for node sheets `code`, for link sheets `source` and `target`."""

    sheet: Sheet
    source_name: str
    number: int
    cells: list[str]
    code: str = ""
    props: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, list[str]] = field(default_factory=dict)  # link.en -> codes
    resolved: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # link.en -> (label, code)
    area: dict[str, str] = field(default_factory=dict)
    bad: bool = False


@dataclass
class Plan:
    """What a load will write, and the problems that stop it."""

    rows: dict[str, list[Row]]  # sheet key -> rows, in model order
    problems: list[Problem]
    existing: dict[tuple[str, str], dict[str, str]]  # (label, code) of referenced graph nodes -> area path

    def valid_rows(self, key: str) -> list[Row]:
        """Rows of a sheet with no problem (all of them when the plan is clean)."""
        return [r for r in self.rows.get(key, []) if not r.bad]

    @property
    def row_count(self) -> int:
        """Data rows in the input."""
        return sum(len(v) for v in self.rows.values())


#: Looks up codes already in the graph: label -> codes → {code: area path}.
Lookup = Callable[[str, list[str]], Awaitable[dict[str, dict[str, str]]]]


async def build_plan(data: Input, lookup: Lookup | None) -> Plan:
    """Validate everything; references not in the input are looked up in the graph via `lookup`."""
    problems = list(data.problems)
    by_sheet: dict[str, list[Row]] = {s.key: [] for s in SHEETS}
    for raw in data.sheets:
        by_sheet[raw.sheet.key] = list(_convert_sheet(raw, problems))

    index = _index(by_sheet, problems)
    existing = await _lookup_missing(by_sheet, index, lookup)
    _resolve(by_sheet, index, existing, problems)
    _area_paths(by_sheet, index, existing, problems)
    _same_area(by_sheet, index, existing, problems)
    _cascade(by_sheet, index)
    for rows in by_sheet.values():  # only rejected rows go back out (to the error workbook) as they were read
        for row in rows:
            if not row.bad:
                row.cells = []
    problems.sort(key=lambda p: (_sheet_order(p.sheet), p.row, p.column))
    return Plan(by_sheet, problems, existing)


# ---------------------------------------------------------------- cells
def _convert_sheet(raw: RawSheet, problems: list[Problem]) -> Iterable[Row]:
    """Typed rows from text cells: a tight loop over precomputed column specs (city files have millions)."""
    sheet = raw.sheet
    letters = {key: _letter(pos) for key, pos in raw.columns.items()}
    columns = [(c, raw.columns.get(c.name, -1)) for c in sheet.columns]
    links = [(lk, raw.columns.get(lk.en, -1)) for lk in sheet.all_links]
    is_node = sheet.is_node
    source_name = raw.source
    split = _SPLIT.split
    for number, cells in raw.rows:
        width = len(cells)
        row = Row(sheet, source_name, number, cells)
        props = row.props
        for column, pos in columns:
            text = cells[pos].strip() if 0 <= pos < width else ""
            if not text:
                if column.required:
                    _fail(problems, row, sheet, letters, column.name, "", *_required(column))
                continue
            value, reason = convert(column, text, sheet)
            if reason:
                _fail(problems, row, sheet, letters, column.name, HIDDEN if column.sensitive else text, *reason)
            elif value is not None:
                props[column.name] = value
        refs = row.refs
        for link, pos in links:
            text = cells[pos].strip() if 0 <= pos < width else ""
            if not text:
                if link.required:
                    _fail(problems, row, sheet, letters, link.en, "", *_required(link))
                refs[link.en] = []
                continue
            if link.many:
                found = [c.upper() for c in split(text) if c]
                if len(set(found)) != len(found):
                    _fail(
                        problems,
                        row,
                        sheet,
                        letters,
                        link.en,
                        text,
                        "同一编码重复填写",
                        "the same code is listed twice",
                    )
            else:
                found = [text.upper()]
            refs[link.en] = found
        if is_node:
            row.code = str(props.get("code", ""))
        else:
            row.code = f"{(refs.get(links[0][0].en) or [''])[0]}>{(refs.get(links[1][0].en) or [''])[0]}"
        yield row


HIDDEN = "(已隐藏 / hidden)"


def _required(item: Column | Link) -> tuple[str, str]:
    return f"必填项「{item.zh}」为空", f"required value '{item.en}' is empty"


def _fail(
    problems: list[Problem], row: Row, sheet: Sheet, letters: dict[str, str], key: str, value: str, zh: str, en: str
) -> None:
    problems.append(Problem(row.source_name, row.number, _header(sheet, key, letters), value, zh, en))
    row.bad = True


def convert(column: Column, text: str, sheet: Sheet) -> tuple[Any, tuple[str, str] | None]:
    """A cell's typed value, or the reason it is invalid."""
    kind = column.kind
    if kind is Kind.TEXT:
        if len(text) > 500:
            return None, ("内容过长(超过500字)", "text longer than 500 characters")
        return text, None
    if kind in (Kind.INT, Kind.FLOAT):
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            return None, ("应为数字", "not a number")
        if kind is Kind.INT:
            if not number.is_integer():
                return None, ("应为整数", "not a whole number")
            number = int(number)
        if number != number or (column.minimum is not None and number < column.minimum):
            return None, (f"数值不能小于 {column.minimum:g}", f"impossible value: below {column.minimum:g}")
        if column.maximum is not None and number > column.maximum:
            return None, (f"数值不能大于 {column.maximum:g}", f"impossible value: above {column.maximum:g}")
        return number, None
    if kind is Kind.BOOL:
        low = text.lower()
        if low in TRUE:
            return True, None
        if low in FALSE:
            return False, None
        return None, ("应填「是」或「否」", "expected 是/否 (yes/no)")
    if kind is Kind.DATE:
        m = _DATE.fullmatch(text.split("T")[0].split(" ")[0])
        if m is None:
            return None, ("日期格式应为 YYYY-MM-DD", "a date must look like YYYY-MM-DD")
        try:
            value = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None, ("日期不存在", "no such date")
        if value.year < 1921 or value.year > 2100:
            return None, ("日期超出合理范围(1921–2100)", "date outside 1921-2100")
        if column.past and value > date.today():
            return None, ("日期不能晚于今天", "this date cannot be in the future")
        return value, None
    if kind is Kind.ENUM:
        value = ENUM_ALIASES.get(text.lower(), text)
        if value not in column.choices:
            return None, (f"应为以下之一:{'、'.join(column.choices)}", f"expected one of {', '.join(column.choices)}")
        return value, None
    if kind is Kind.AREA_CODE:
        return text, codes.check_area_code(text, sheet.area_level or None)
    if kind is Kind.USCC:
        text = text.upper()
        return text, codes.check_uscc(text)
    if kind is Kind.ID_NUMBER:
        text = text.upper()
        return text, codes.check_id_number(text)
    if kind is Kind.CODE:
        text = text.upper()
        return text, codes.check_own_code(text, sheet.prefix)
    raise AssertionError(kind)


# ---------------------------------------------------------------- cross-row checks
def _index(by_sheet: dict[str, list[Row]], problems: list[Problem]) -> dict[str, dict[str, Row]]:
    """label -> code -> row; a second row with the same code is a problem (both are named)."""
    index: dict[str, dict[str, Row]] = defaultdict(dict)
    for sheet in SHEETS:
        seen = index[sheet.label] if sheet.is_node else {}
        for row in by_sheet[sheet.key]:
            if not row.code or (sheet.is_node and "code" not in row.props):
                continue
            key = row.code + ("|" + str(row.props.get("role", "")) if not sheet.is_node else "")
            first = seen.get(key)
            if first is not None:
                what = ("编码", "code") if sheet.is_node else ("关系", "relationship")
                problems.append(
                    Problem(
                        row.source_name,
                        row.number,
                        _header(sheet, "code", {}) if sheet.is_node else "",
                        row.code,
                        f"{what[0]}重复,与第{first.number}行相同",
                        f"duplicate {what[1]}: row {first.number} has the same",
                    )
                )
                row.bad = True
                first.bad = True
                continue
            seen[key] = row
    return index


async def _lookup_missing(
    by_sheet: dict[str, list[Row]], index: dict[str, dict[str, Row]], lookup: Lookup | None
) -> dict[tuple[str, str], dict[str, str]]:
    wanted: dict[str, set[str]] = defaultdict(set)
    for sheet in SHEETS:
        for link in sheet.all_links:
            named = {code for row in by_sheet[sheet.key] for code in row.refs.get(link.en, ())}
            for label in link.targets:
                named.difference_update(index[label].keys())
            for label in link.targets:
                wanted[label] |= named
    existing: dict[tuple[str, str], dict[str, str]] = {}
    if lookup is None:
        return existing
    for label, codes_ in wanted.items():
        found = await lookup(label, sorted(codes_))
        for code, area in found.items():
            existing[(label, code)] = area
    # unknown codes: are they another kind of node? (a parent of the wrong type)
    unresolved = {c for label, cs in wanted.items() for c in cs if (label, c) not in existing}
    if unresolved:
        for sheet in SHEETS:
            if sheet.is_node and sheet.label not in wanted:
                for code, area in (await lookup(sheet.label, sorted(unresolved))).items():
                    existing[(sheet.label, code)] = area
    return existing


def _resolve(
    by_sheet: dict[str, list[Row]],
    index: dict[str, dict[str, Row]],
    existing: dict[tuple[str, str], dict[str, str]],
    problems: list[Problem],
) -> None:
    for sheet in SHEETS:
        for link in sheet.all_links:
            only = index[link.targets[0]] if len(link.targets) == 1 else None
            first = link.targets[0]
            for row in by_sheet[sheet.key]:
                resolved = []
                for code in row.refs.get(link.en, []):
                    if only is not None and code in only:  # the common case, without the search below
                        resolved.append((first, code))
                        continue
                    label = next(
                        (t for t in link.targets if code in index[t] or (t, code) in existing),
                        None,
                    )
                    if label is not None:
                        resolved.append((label, code))
                        continue
                    other = next(
                        (
                            s.label
                            for s in SHEETS
                            if s.is_node and (code in index[s.label] or (s.label, code) in existing)
                        ),
                        None,
                    )
                    want_zh = "或".join(SHEET_BY_LABEL[t].zh for t in link.targets)
                    want_en = " or ".join(t for t in link.targets)
                    if other is not None:
                        zh = f"上级类型错误:{code} 是「{SHEET_BY_LABEL[other].zh}」,此列需要「{want_zh}」"
                        en = f"wrong type: {code} is a {other}, this column needs a {want_en}"
                    else:
                        zh = f"找不到编码为 {code} 的「{want_zh}」(工作簿和数据库中都没有)"
                        en = f"unknown {want_en} {code}: neither in this workbook nor in the graph"
                    problems.append(Problem(row.source_name, row.number, link.zh, code, zh, en))
                    row.bad = True
                row.resolved[link.en] = resolved


def _area_paths(
    by_sheet: dict[str, list[Row]],
    index: dict[str, dict[str, Row]],
    existing: dict[tuple[str, str], dict[str, str]],
    problems: list[Problem],
) -> None:
    """Each node's area codes: from its own area code, or inherited from its parent (sheets are in parent order)."""
    for sheet in SHEETS:
        if not sheet.is_node:
            continue
        parent = sheet.parent
        for row in by_sheet[sheet.key]:
            if sheet.area_level:
                row.area = _area_of_code(row.code, sheet.area_level) if row.code else {}
            if parent is None:
                continue
            targets = row.resolved.get(parent.en) or []
            if not targets:
                continue
            label, code = targets[0]
            parent_area = _area_for(label, code, index, existing)
            if sheet.area_level:
                level = AREA_LEVELS[AREA_LEVELS.index(sheet.area_level) - 1]
                expected = codes.area_parent_prefix(code, level)
                if row.code and not row.code.startswith(expected):
                    problems.append(
                        Problem(
                            row.source_name,
                            row.number,
                            _header(sheet, "code", {}),
                            row.code,
                            f"区划代码应以上级代码 {expected} 开头",
                            f"the area code must start with its parent's digits {expected}",
                        )
                    )
                    row.bad = True
            else:
                row.area = parent_area  # shared, never mutated: millions of rows share their parent's


def _area_for(
    label: str, code: str, index: dict[str, dict[str, Row]], existing: dict[tuple[str, str], dict[str, str]]
) -> dict[str, str]:
    row = index[label].get(code)
    if row is not None:
        return row.area
    return existing.get((label, code), {})


def _area_of_code(code: str, level: str) -> dict[str, str]:
    out = {}
    for lvl, key, digits in zip(AREA_LEVELS, AREA_KEYS, (4, 6, 9, 12), strict=True):
        out[key] = code[:digits].ljust(12, "0")
        if lvl == level:
            break
    return out


def _same_area(
    by_sheet: dict[str, list[Row]],
    index: dict[str, dict[str, Row]],
    existing: dict[tuple[str, str], dict[str, str]],
    problems: list[Problem],
) -> None:
    for sheet in SHEETS:
        for link in sheet.all_links:
            if not link.same_area:
                continue
            key = f"{link.same_area}Code"
            for row in by_sheet[sheet.key]:
                mine = row.area.get(key)
                if not mine:
                    continue
                for label, code in row.resolved.get(link.en, []):
                    theirs = _area_for(label, code, index, existing).get(key)
                    if theirs and theirs != mine:
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


def _cascade(by_sheet: dict[str, list[Row]], index: dict[str, dict[str, Row]]) -> None:
    """With --skip-invalid, a row that names a rejected row is rejected too (until nothing changes)."""
    changed = any(row.bad for rows in by_sheet.values() for row in rows)  # nothing rejected: nothing cascades
    while changed:
        changed = False
        for sheet in SHEETS:
            for row in by_sheet[sheet.key]:
                if row.bad:
                    continue
                for targets in row.resolved.values():
                    if any(index[label].get(code) is not None and index[label][code].bad for label, code in targets):
                        row.bad = True
                        changed = True
                        break


# ---------------------------------------------------------------- helpers
def _letter(pos: int) -> str:
    return col_letter(pos + 1)


def _header(sheet: Sheet, key: str, letters: dict[str, str]) -> str:
    for column in sheet.columns:
        if column.name == key:
            return f"{letters.get(key, '')} {column.zh}".strip()
    for link in sheet.all_links:
        if link.en == key:
            return f"{letters.get(key, '')} {link.zh}".strip()
    return key


def _sheet_order(name: str) -> int:
    for i, sheet in enumerate(SHEETS):
        if name in (sheet.key, sheet.zh):
            return i
    return -1


#: Why a row without problems of its own was still rejected (with --skip-invalid).
CASCADE_REASON = ("所引用的行有错误,本行一并跳过", "a row it names was rejected, so this row is skipped too")
