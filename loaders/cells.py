"""Cells to typed values: one row of text cells → its values, the codes it names, and its problems.

Everything here looks at one row at a time (formats, check digits, required values, numbers, dates,
choices); what needs other rows — duplicates, references, areas — is `loaders.validate`'s job. Being
row-local, it can run in a second process (`loaders.cellworker`) while that one validates across rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from functools import partial
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from core import codes
from core.areas import check_area_code
from core.inert import visible
from core.model import Column, Kind, Link, Sheet, label_words
from core.privacy import HIDDEN
from loaders import hints
from loaders.problems import Problem
from loaders.read import NumberCell, RawSheet, col_letter

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


#: A converted row: (number, cells as read, code, typed values by column name, link -> codes named, bad).
Converted = tuple[int, list[str], str, dict[str, Any], dict[str, list[str]], bool]


def convert_cells(raw: RawSheet, problems: list[Problem]) -> Iterator[Converted]:
    """Typed values from text cells: a tight loop over precomputed column specs (city files have millions
    of rows; the commonest kinds, plain text and single codes, are converted inline)."""
    sheet = raw.sheet
    letters = {key: letter(pos) for key, pos in raw.columns.items()}
    width = max(raw.columns.values(), default=-1) + 1  # shorter rows are padded: no bounds test per cell
    columns = [
        (c.name, raw.columns.get(c.name, -1), c.kind is Kind.TEXT, _converter(c, sheet), c, c.as_text or c.sensitive)
        for c in sheet.columns
    ]  # the last: judged by how it arrived too (`loaders.hints`)
    links = [(lk.en, raw.columns.get(lk.en, -1), lk.many, lk) for lk in sheet.all_links]
    places = [raw.columns.get(lk.en, -1) for lk in sheet.places] if len(sheet.places) > 1 else []
    is_node = sheet.is_node
    natural, code_at = sheet.natural_parts, raw.columns.get("code", -1)
    source_name = raw.source

    def fail(number: int, key: str, value: str, zh: str, en: str) -> None:
        problems.append(Problem(source_name, number, header(sheet, key, letters), value, zh, en))

    for number, cells in raw.rows:
        if len(cells) < width:
            cells = [*cells, *[""] * (width - len(cells))]
        bad = False
        props: dict[str, Any] = {}
        for name, pos, is_text, convert_, column, hinted in columns:
            text = cells[pos].strip() if pos >= 0 else ""
            if not text:
                if column.required:
                    fail(number, name, "", *_required(column))
                    bad = True
                continue
            if hinted:
                reason = _arrived_wrong(column, cells[pos], text, convert_)
                if reason is not None:
                    fail(number, name, HIDDEN if column.sensitive else visible(text), *reason)
                    bad = True
                    continue
            if is_text and len(text) <= 500 and (text.isprintable() or not CONTROL.search(text)):
                props[name] = text
                continue
            value, reason = convert_(text)
            if reason:
                fail(number, name, HIDDEN if column.sensitive else visible(text), *reason)
                bad = True
            elif value is not None:
                props[name] = value
        bad = _dates_wrong(sheet, number, props, fail) or bad
        refs, bad_refs = _refs(links, number, cells, fail)
        bad = bad_refs or bad
        if places and not any(cells[pos].strip() for pos in places if pos >= 0):
            fail(number, sheet.places[-1].en, "", *_unplaced(sheet))
            bad = True
        if is_node:
            code = str(props.get("code", ""))
            if not code and natural and not bad and (code_at < 0 or not cells[code_at].strip()):
                bad = _keyless(natural, number, props, refs, fail)
        else:
            code = f"{(refs.get(links[0][0]) or [''])[0]}>{(refs.get(links[1][0]) or [''])[0]}"
        yield number, cells, code, props, refs, bad


def _keyless(
    parts: tuple[Column | Link, ...],
    number: int,
    props: dict[str, Any],
    refs: dict[str, list[str]],
    fail: Callable[..., None],
) -> bool:
    """Whether a row without a code lacks part of its natural key (`natural_missing`), said on its code column."""
    reason = natural_missing(parts, props, refs)
    if reason is not None:
        fail(number, "code", "", *reason)
    return reason is not None


def natural_missing(
    parts: tuple[Column | Link, ...], props: dict[str, Any], refs: dict[str, list[str]]
) -> tuple[str, str] | None:
    """Why a row without a code cannot be identified by its natural key (`Sheet.natural_parts`: a part is empty,
    or a text part holds "/", which separates the parts of a key named in a link cell: `loaders.natural`)."""
    texts = [props.get(p.name) for p in parts if isinstance(p, Column)]
    if all(texts) and all(refs.get(p.en) for p in parts if isinstance(p, Link)):
        slash = "/" in "".join(map(str, texts))
        return ("自然键各项不能含有「/」", "a natural key's values cannot hold '/'") if slash else None
    empty = [p for p in parts if not (refs.get(p.en) if isinstance(p, Link) else props.get(p.name))]
    if empty:
        return (
            f"编码为空时须填写自然键:{'、'.join(p.zh for p in parts)}(缺 {'、'.join(p.zh for p in empty)})",
            f"without a code, fill the natural key: {', '.join(p.en for p in parts)} "
            f"(missing {', '.join(p.en for p in empty)})",
        )
    return None


def _refs(
    links: list[tuple[str, int, bool, Link]], number: int, cells: list[str], fail: Callable[..., None]
) -> tuple[dict[str, list[str]], bool]:
    """The codes a row's link columns name (upper case; several split on ; or ,), and whether any is wrong."""
    bad = False
    refs: dict[str, list[str]] = {}
    for en, pos, many, link in links:
        text = cells[pos].strip() if pos >= 0 else ""
        if not text:
            if link.required:
                fail(number, en, "", *_required(link))
                bad = True
            refs[en] = []
        elif (type(cells[pos]) is NumberCell or "E+" in text) and hints.code_refused(text):
            fail(number, en, text, *hints.stored_as_number(link))
            bad = True
            refs[en] = []
        elif not many:
            refs[en] = [text.upper()]
        else:
            found = [c.upper() for c in _SPLIT.split(text) if c]
            if len(set(found)) != len(found):
                fail(number, en, text, "同一编码重复填写", "the same code is listed twice")
                bad = True
            refs[en] = found
    return refs, bad


def _arrived_wrong(
    column: Column, cell: str, text: str, convert_: Callable[[str], CellValue]
) -> tuple[str, str] | None:
    """Why a cell of digits or personal data is refused for how it arrived (`loaders.hints`), else None.
    (`convert_`'s reason, when the number still converts, decides: a valid 12-digit area code stays.)"""
    if hints.still_masked(column, text):
        return hints.masked_reason(column)
    refused = column.as_text and hints.arrived_as_number(cell)
    return hints.stored_as_number(column) if refused and hints.number_refused(column, text, convert_(text)[1]) else None


def _dates_wrong(sheet: Sheet, number: int, props: dict[str, Any], fail: Callable[..., None]) -> bool:
    """True (and each problem told to `fail`) when a row's dates contradict each other: an end before a start
    (`_ends_early`), or dates out of their order (`_out_of_order`)."""
    early = _ends_early(sheet, number, props, fail)
    return _out_of_order(number, props, fail) or early


def _ends_early(sheet: Sheet, number: int, props: dict[str, Any], fail: Callable[..., None]) -> bool:
    """True (and the problem told to `fail`) when a row's end date lies before one of its start dates."""
    ended_by = sheet.ended_by
    if ended_by is None or props.get(ended_by) is None:
        return False
    started = [props[name] for name in sheet.starts if props.get(name) is not None]
    if not started or props[ended_by] >= max(started):
        return False
    fail(number, ended_by, props[ended_by].isoformat(), *_ends_before(sheet, sheet.starts))
    return True


#: Dates of one row that must come in order: (earlier, later, the column whose cell is named, may they be the same
#: day, why — zh, en).
ORDERED: tuple[tuple[str, str, str, bool, str, str], ...] = (
    ("previousTermStart", "termStart", "previousTermStart", False, "上届起始日期应早于本届起始日期",
     "the previous term must begin before the current one"),
    ("joinedAt", "fullSince", "fullSince", True, "转正日期不能早于入党日期",
     "a member cannot be confirmed before joining"),
)  # fmt: skip


def _out_of_order(number: int, props: dict[str, Any], fail: Callable[..., None]) -> bool:
    """True (and each problem told to `fail`) when a row's dates break an `ORDERED` rule."""
    bad = False
    for earlier, later, named, same_day, zh, en in ORDERED:
        first, then = props.get(earlier), props.get(later)
        if first is None or then is None or first < then or (same_day and first == then):
            continue
        fail(number, named, props[named].isoformat(), zh, en)
        bad = True
    return bad


def _ends_before(sheet: Sheet, starts: tuple[str, ...]) -> tuple[str, str]:
    """Why an `until` before the row's start is refused, naming the start columns."""
    named = {c.name: c for c in sheet.columns}
    zh = "、".join(named[n].zh for n in starts)
    en = ", ".join(named[n].en for n in starts)
    return f"终止日期早于{zh}", f"the end date lies before {en}"


def _required(item: Column | Link) -> tuple[str, str]:
    return f"必填项「{item.zh}」为空", f"required value '{item.en}' is empty"


def _unplaced(sheet: Sheet) -> tuple[str, str]:
    """Why a row filling none of its sheet's `places` is refused: it would lie in no area (per-area access needs
    one), naming the columns of which one must be filled, in the order that decides."""
    zh = "、".join(f"「{lk.zh}」" for lk in sheet.places)
    en = ", ".join(f"'{lk.en}'" for lk in sheet.places)
    return (
        f"{zh}至少填一项:每条{sheet.zh}记录须归属一个社区(住在本地区以外的填支部或社区编码)",
        f"fill one of {en}: every {label_words(sheet.label)} must belong to a community (one living outside "
        "the loaded area gives its branch or its community)",
    )


_TOO_LONG = ("内容过长(超过500字)", "text longer than 500 characters")
#: Control characters no spreadsheet cell holds (tab, LF and CR are kept: a cell may wrap): text pasted from
#: another system sometimes carries them, and stored they would stop every workbook written from the graph.
CONTROL = ILLEGAL_CHARACTERS_RE
_CONTROL_REASON = (
    "含不可见的控制字符(常见于从其他系统复制粘贴),请删除后重新输入(错误工作簿中显示为 \ufffd)",
    "contains control characters (often pasted from another system): delete them and retype (shown as \ufffd "
    "in the error workbook)",
)


def _text(text: str) -> tuple[Any, tuple[str, str] | None]:
    if len(text) > 500:
        return None, _TOO_LONG
    if not text.isprintable() and CONTROL.search(text):
        return None, _CONTROL_REASON
    return text, None


def _own_code(text: str, prefix: str) -> tuple[Any, tuple[str, str] | None]:
    text = text.upper()
    return text, codes.check_own_code(text, prefix)


#: A cell's typed value, or None and the reason it is invalid (Chinese, English).
CellValue = tuple[Any, tuple[str, str] | None]


def _number(column: Column, text: str, sheet: Sheet) -> CellValue:
    if column.kind is Kind.INT and text.isascii() and text.isdigit():  # plain digits: no float round trip
        number: float = int(text)
    else:
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            return None, ("应为数字", "not a number")
        if column.kind is Kind.INT:
            if not number.is_integer():
                return None, ("应为整数", "not a whole number")
            number = int(number)
    if number != number or (column.minimum is not None and number < column.minimum):
        return None, (f"数值不能小于 {column.minimum:g}", f"impossible value: below {column.minimum:g}")
    if column.maximum is not None and number > column.maximum:
        return None, (f"数值不能大于 {column.maximum:g}", f"impossible value: above {column.maximum:g}")
    return number, None


def _bool(column: Column, text: str, sheet: Sheet) -> CellValue:
    low = text.lower()
    if low in TRUE:
        return True, None
    if low in FALSE:
        return False, None
    return None, ("应填「是」或「否」", "expected 是/否 (yes/no)")


def _date(column: Column, text: str, sheet: Sheet) -> CellValue:
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii():
        try:  # YYYY-MM-DD, the commonest spelling: parsed in C
            value = date.fromisoformat(text)
        except ValueError:
            return None, ("日期不存在", "no such date") if _DATE.fullmatch(text) else _DATE_FORMAT
    else:
        m = _DATE.fullmatch(text.split("T")[0].split(" ")[0])
        if m is None:
            return None, _DATE_FORMAT
        try:
            value = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None, ("日期不存在", "no such date")
    if value.year < 1921 or value.year > 2100:
        return None, ("日期超出合理范围(1921–2100)", "date outside 1921-2100")
    if column.past and value > codes.today():
        return None, ("日期不能晚于今天", "this date cannot be in the future")
    return value, None


_DATE_FORMAT = ("日期格式应为 YYYY-MM-DD", "a date must look like YYYY-MM-DD")


def _enum(column: Column, text: str, sheet: Sheet) -> CellValue:
    value = ENUM_ALIASES.get(text.lower(), text)
    if value not in column.choices:
        return None, (f"应为以下之一:{'、'.join(column.choices)}", f"expected one of {', '.join(column.choices)}")
    return value, None


def _checked(check: Callable[[str], tuple[str, str] | None], column: Column, text: str, sheet: Sheet) -> CellValue:
    text = text.upper()
    return text, check(text)


#: How each kind of cell is converted: (column, text, sheet) -> (value, reason it is invalid).
CONVERTERS: dict[Kind, Callable[[Column, str, Sheet], CellValue]] = {
    Kind.TEXT: lambda column, text, sheet: _text(text),
    Kind.INT: _number,
    Kind.FLOAT: _number,
    Kind.BOOL: _bool,
    Kind.DATE: _date,
    Kind.ENUM: _enum,
    Kind.AREA_CODE: lambda column, text, sheet: (text, check_area_code(text, sheet.area_level or None)),
    Kind.USCC: partial(_checked, codes.check_uscc),
    Kind.ID_NUMBER: partial(_checked, codes.check_id_number),
    Kind.CODE: lambda column, text, sheet: _own_code(text, sheet.prefix),
}


def _converter(column: Column, sheet: Sheet) -> Callable[[str], CellValue]:
    """`convert` for one column, its kind's function chosen once."""
    if column.kind is Kind.TEXT:
        return _text
    if column.kind is Kind.CODE:
        return partial(_own_code, prefix=sheet.prefix)
    return partial(CONVERTERS[column.kind], column, sheet=sheet)


def convert(column: Column, text: str, sheet: Sheet) -> CellValue:
    """A cell's typed value, or the reason it is invalid."""
    return CONVERTERS[column.kind](column, text, sheet)


def letter(pos: int) -> str:
    return col_letter(pos + 1)


def header(sheet: Sheet, key: str, letters: dict[str, str]) -> str:
    for column in sheet.columns:
        if column.name == key:
            return f"{letters.get(key, '')} {column.zh}".strip()
    for link in sheet.all_links:
        if link.en == key:
            return f"{letters.get(key, '')} {link.zh}".strip()
    return key
