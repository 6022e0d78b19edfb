"""Cells that look right to a person but arrived wrong, each with a problem that says how to fix it.

- **Digits stored as a number.** Excel stores digits typed into a cell as a number unless the column is text,
  and keeps 15 significant digits: an 18-digit ID number loses its last ones (and its X), and shows as
  1.10105E+17. The rule, for a column whose digits must be text (`Column.as_text`): a cell that arrived as a
  number (`loaders.read.NumberCell`) is refused with "format the column as text" when it is an ID number (its
  digits cannot be trusted, valid or not), has more than 15 digits, or fails its column's check; a text cell
  in scientific notation ("1.10105E+17": a CSV saved from such a sheet) is refused the same way. A code naming
  another row (a link column) is refused when it arrived as a number of more than 15 digits. A number that is
  still right (a 12-digit area code, an 11-digit mobile) is accepted.
- **A masked value sent back.** An error workbook shows personal values masked (`loaders.workbooks`); a
  personal cell still holding the mask ("4206**********1237") is refused with "retype it from your source".

The value is never shown: a personal column's is `HIDDEN`, like any refused personal cell.
"""

from __future__ import annotations

import re

from core.model import Column, Kind, Link
from loaders.read import NumberCell

#: Excel's precision: digits past the 15th of a number are stored as zeros.
EXCEL_DIGITS = 15
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE]\+?\d+")


def arrived_as_number(cell: str) -> bool:
    """True when the cell as read was a number: a workbook's numeric cell, or text in scientific notation."""
    return type(cell) is NumberCell or (
        ("E" in cell or "e" in cell) and _SCIENTIFIC.fullmatch(cell.strip()) is not None
    )


def number_refused(column: Column, text: str, invalid: object) -> bool:
    """Whether a `column` cell that arrived as a number is refused (`invalid`: why it fails the column's check,
    None when it passes)."""
    return column.kind is Kind.ID_NUMBER or invalid is not None or _too_long(text)


def code_refused(text: str) -> bool:
    """Whether a link cell that arrived as a number (`arrived_as_number`, tested inline on the hot path) is
    refused: past Excel's 15 digits, or in scientific notation, its code is not the one typed."""
    return _too_long(text)


def _too_long(text: str) -> bool:
    return sum(c.isdigit() for c in text) > EXCEL_DIGITS or _SCIENTIFIC.fullmatch(text) is not None


def stored_as_number(item: Column | Link) -> tuple[str, str]:
    """Why a cell of digits that arrived as a number is refused, and how to fix it (Chinese, English)."""
    return (
        f"{item.zh}被 Excel 存成了数字(超过15位的数字末位会丢失):请将该列设为文本格式后重新输入",
        f"the {item.en} was stored as a number (Excel keeps 15 digits: the last ones may be lost): "
        "format the column as text and type it again",
    )


def still_masked(column: Column, text: str) -> bool:
    """True when a personal cell holds a masked value (an error workbook's `*`s) instead of the value."""
    return column.sensitive and "*" in text


def masked_reason(column: Column) -> tuple[str, str]:
    """Why a personal cell still holding its mask is refused (Chinese, English)."""
    return (
        f"{column.zh}仍是遮盖后的值:请从原始资料重新输入",
        f"the {column.en} is still the masked value: type it again from your source",
    )
