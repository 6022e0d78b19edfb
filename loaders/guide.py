"""What the template tells people about each sheet and column, derived from `core.model` (no per-sheet text).

A sheet's code format follows its code kind (an own code's prefix, an area level, a credit code); the sheets to
fill before it are the targets of its links that come earlier in model order (a later target, such as a central
household's household, only has to be in the same workbook or the graph); a link column names its targets by
their sheets' Chinese names ("所属网格编码 → 网格"); a required column is one the reader refuses to miss.
"""

from __future__ import annotations

from core.areas import LEVEL
from core.model import CODE, SHEET_BY_LABEL, SHEETS, Column, Kind, Link, Sheet
from loaders.examples import example_code
from loaders.read import required_items

KIND_HINTS = {
    Kind.TEXT: "文本 / text",
    Kind.INT: "整数 / whole number",
    Kind.FLOAT: "数字 / number",
    Kind.BOOL: "是/否 (yes/no)",
    Kind.DATE: "日期 YYYY-MM-DD / date",
    Kind.AREA_CODE: "12位统计用区划代码 / 12-digit area code",
    Kind.USCC: "18位统一社会信用代码 / unified social credit code",
    Kind.ID_NUMBER: "18位身份证号 / ID number (sensitive)",
    Kind.CODE: "编码 PREFIX-<12位区划代码>-<序号> / own code",
    Kind.ENUM: "选项 / one of",
}
REQUIRED = "必填 / required"
OPTIONAL = "选填 / optional"


def code_format(sheet: Sheet) -> str:
    """How the sheet's rows are identified — its own-code pattern, its area level's code or a credit code, with
    its example's code — or (a link sheet) the pair of codes a row joins."""
    if not sheet.is_node:
        joined = " → ".join(target_names(end) for end in sheet.ends)
        return f"无编码,每行一条关系 / no code: one relationship a row ({joined})"
    if sheet.code_kind is Kind.AREA_CODE:
        level = sheet.area_level
        pattern = f"12位统计用区划代码({LEVEL[level].zh}级)/ 12-digit area code ({level} level)"
    elif sheet.code_kind is Kind.USCC:
        pattern = KIND_HINTS[Kind.USCC]
    else:
        pattern = f"{sheet.prefix}-<12位区划代码>-<序号> / {sheet.prefix}-<12-digit area code>-<local part>"
    return f"{pattern};例 / e.g. {example_code(sheet)}{natural_text(sheet)}"


def natural_text(sheet: Sheet) -> str:
    """For a sheet with a natural key: that a blank code is allowed, and what identifies the row then."""
    if not sheet.natural_key:
        return ""
    parts = sheet.natural_parts
    return (
        f";可空,空则按自然键({'+'.join(p.zh for p in parts)})识别并由导入分配编码 / may be blank: the row is then "
        f"identified by its natural key ({' + '.join(p.en for p in parts)}) and the load assigns its code"
    )


#: A natural key's part in its header note (`header_note`).
NATURAL_PART = "自然键之一:编码为空时必填 / part of the natural key: required when the code is blank"


def sheet_code(sheet: Sheet) -> Column | None:
    """A node sheet's code column (`CODE.name`); None for a link sheet."""
    return next((c for c in sheet.columns if c.name == CODE.name), None) if sheet.is_node else None


def target_names(link: Link) -> str:
    """The sheets a link column may name, by Chinese name ("党员或共建单位")."""
    return "或".join(SHEET_BY_LABEL[t].zh for t in link.targets)


def _named(sheet: Sheet) -> set[str]:
    """The keys of the sheets whose codes `sheet`'s links name."""
    return {SHEET_BY_LABEL[t].key for link in sheet.all_links for t in link.targets}


def fill_after(sheet: Sheet) -> tuple[Sheet, ...]:
    """The sheets whose codes `sheet` names and that come before it in model order, in model order."""
    named = _named(sheet)
    return tuple(s for s in SHEETS[: SHEETS.index(sheet)] if s.key in named)


def names_later(sheet: Sheet) -> tuple[Sheet, ...]:
    """The sheets whose codes `sheet` names and that come after it in model order."""
    named = _named(sheet)
    return tuple(s for s in SHEETS[SHEETS.index(sheet) + 1 :] if s.key in named)


def after_text(sheet: Sheet) -> str:
    """The 说明 cell naming the sheets to fill first (and, apart, the later sheets the sheet names)."""
    text = "、".join(s.zh for s in fill_after(sheet)) or "—"
    later = names_later(sheet)
    if later:
        text += f"(另引用后表 / also names later: {'、'.join(s.zh for s in later)})"
    return text


def required_text(sheet: Sheet) -> str:
    """The sheet's required columns, by their headers; with a natural key, then "编码或自然键(…)": the code, or
    else every part of the key; then, for a sheet placed by one of several links (`Sheet.places`: a member's
    household, branch or community), those of which one must be filled."""
    text = "、".join(item.zh for item in required_items(sheet))
    if sheet.natural_key:
        text += f"、编码或自然键({'+'.join(p.zh for p in sheet.natural_parts)})"
    if len(sheet.places) > 1:
        text += f";{'、'.join(lk.zh for lk in sheet.places)}至少填一项 / one of these"
    return text


def column_format(sheet: Sheet, item: Column | Link) -> str:
    """A column's format: the sheet's code format for its code column, a link column's target sheets, or the
    column's kind (with its choices and bounds)."""
    if item is sheet_code(sheet):
        return code_format(sheet)
    if isinstance(item, Link):
        several = " (可多个,用;分隔 / several, separated by ;)" if item.many else ""
        return f"{item.zh} → {target_names(item)}{several}"
    fmt = KIND_HINTS[item.kind]
    if item.choices:
        fmt += ": " + "、".join(item.choices)
    if item.minimum is not None or item.maximum is not None:
        low = "" if item.minimum is None else f"{item.minimum:g}"
        high = "" if item.maximum is None else f"{item.maximum:g}"
        fmt += f" [{low}–{high}]"
    return fmt


def header_note(sheet: Sheet, item: Column | Link) -> str:
    """The comment on a column's header: required or not, its format, its own note."""
    lines = [REQUIRED if item.required else OPTIONAL, column_format(sheet, item)]
    if item in sheet.natural_parts:
        lines.append(NATURAL_PART)
    if item.doc:
        lines.append(item.doc)
    return "\n".join(lines)
