"""The template's example rows: one valid row per sheet, made from the model, never typed by hand.

Each value follows from its column's kind and bounds (`core.model`): own codes carry the sheet's prefix, area
codes the sheet's level, credit codes and ID numbers their check characters (`core.codes`), an enum its first
choice, a yes/no column "是". The rows hang together — every node lies in one example community (or, above it,
in that community's street, district, city: an own code carries its parent's area) and every link names its
target sheet's example code — so the examples, their marker taken off, load as a small workbook of their own.
Dates keep the orders `loaders.cells` checks (`ORDERED`: a later column a year after its earlier one) and lie in
the past. A sheet's end column (`Sheet.ended_by`) stays empty: an example in force, as most rows are.
The first cell carries `EXAMPLE_MARKER`, so the loader passes the row over (`loaders.read.is_example`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from core import areas
from core.codes import id_check_char, uscc_check_char
from core.model import CODE, NAME, SHEET_BY_LABEL, SHEETS, Column, Kind, Link, Sheet
from loaders.cells import FALSE, ORDERED, TRUE
from loaders.read import EXAMPLE_MARKER

#: The community every example lies in (襄阳市襄城区古城街道檀溪社区, as in the tests' hand-made areas).
COMMUNITY = "420602001001"
#: The earliest example date; a column that must follow another (`ORDERED`) is a year later per step.
FIRST_DAY = date(2021, 7, 1)
#: The example members' birthday (inside their ID number).
BIRTHDAY = date(1980, 1, 1)
#: The yes/no words the template offers (its drop-down list), ones the loader reads as yes and no.
YES_NO = ("是", "否")
assert YES_NO[0] in TRUE
assert YES_NO[1] in FALSE


def example_code(sheet: Sheet) -> str:
    """The code of `sheet`'s example node: its level's area code, a credit code, or PREFIX-<its area>-01."""
    if sheet.code_kind is Kind.AREA_CODE:
        return example_area(sheet)
    if sheet.code_kind is Kind.USCC:  # 9 (registered by market regulation) 1 (enterprise), region, organization
        body = f"91{COMMUNITY[:6]}MA{SHEETS.index(sheet):07d}"
        return body + uscc_check_char(body)
    return f"{sheet.prefix}-{example_area(sheet)}-01"


def example_area(sheet: Sheet) -> str:
    """The area code `sheet`'s example lies in: its own level's, else its parent's (a street working committee's
    street, a household's community), else the example community."""
    if sheet.area_level:
        return areas.area_code(COMMUNITY, sheet.area_level)
    parent = sheet.parent
    return example_area(SHEET_BY_LABEL[parent.targets[0]]) if parent is not None else COMMUNITY


def example_id_number() -> str:
    """A valid ID number: registered in the example district, born on `BIRTHDAY`, its check character right."""
    body = f"{COMMUNITY[:6]}{BIRTHDAY:%Y%m%d}001"
    return body + id_check_char(body)


def _steps(name: str) -> int:
    """How many `ORDERED` rules put the date column `name` after another, followed back to the first."""
    earlier = [first for first, later, *_ in ORDERED if later == name]
    return max((1 + _steps(first) for first in earlier), default=0)


def _number(column: Column, value: float) -> float:
    low = column.minimum if column.minimum is not None else value
    high = column.maximum if column.maximum is not None else value
    return min(max(value, low), high)


def example_value(sheet: Sheet, item: Column | Link) -> Any:
    """The example cell of one column: text, a number or a date; None for the end column (left empty)."""
    if isinstance(item, Link):
        return example_code(SHEET_BY_LABEL[item.targets[0]])
    kind = item.kind
    if item.name == CODE.name:
        return example_code(sheet)
    if kind is Kind.DATE:
        if item.name == sheet.ended_by:
            return None
        return FIRST_DAY.replace(year=FIRST_DAY.year + _steps(item.name))
    if kind is Kind.INT:
        return int(_number(item, 5))
    if kind is Kind.FLOAT:
        return _number(item, 2.5)
    if kind is Kind.BOOL:
        return YES_NO[0]
    if kind is Kind.ENUM:
        return item.choices[0]
    if kind is Kind.ID_NUMBER:
        return example_id_number()
    if kind is Kind.AREA_CODE:
        return example_area(sheet)
    return f"示例{sheet.zh}" if item.name == NAME.name else f"示例{item.zh}"


def example_row(sheet: Sheet) -> list[Any]:
    """`sheet`'s example row in column order (`Sheet.items`), its first cell starting with `EXAMPLE_MARKER`."""
    row = [example_value(sheet, item) for item in sheet.items]
    row[0] = f"{EXAMPLE_MARKER}{row[0]}"
    return row
