"""Exports are inert: no cell we write can become a formula in the spreadsheet that opens it.

Two rules, one per format:

- **xlsx**: a text value is stored as text. openpyxl (3.1) types a `str` starting with "=" as a formula
  (`data_type "f"`) and one spelling an error code ("#N/A", "#REF!" …) as an error (`"e"`); `text_cell` sets
  such a cell back to `"s"`, which openpyxl writes as an inline string (`t="inlineStr"`): Excel shows it as the
  text it is and evaluates nothing. Numbers, dates and booleans keep their types.
- **Both**: a character an xlsx file cannot hold (the C0 controls but tab, LF and CR; openpyxl raises
  `IllegalCharacterError` on them, which would stop a whole audit or error workbook for one bad name) is shown
  as U+FFFD (`visible`). The loader refuses such text on input (`loaders.cells`); this covers cells it writes
  back (the error workbook's rejected rows) and data stored before that rule.
- **CSV**: a file has no types, so a spreadsheet evaluates a field that starts with `= + - @`, a tab or a
  carriage return (OWASP, "CSV Injection"). `csv_field` prefixes such a *text* field with a single quote, which
  spreadsheets take as "this is text"; numbers are never touched (a negative number stays a number).
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell

#: The first characters that make a spreadsheet read a CSV field as a formula (OWASP CSV injection).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


#: What `visible` puts in place of a character an xlsx cell cannot hold.
REPLACEMENT = "\ufffd"


def visible(value: Any) -> Any:
    """The value with every character an xlsx cell cannot hold replaced by U+FFFD; other values as they are."""
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        return ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value)
    return value


def csv_field(value: Any) -> Any:
    """A CSV field that no spreadsheet evaluates: text starting with a formula lead gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def csv_row(values: list[Any] | tuple[Any, ...]) -> list[Any]:
    """Every field of a row through `csv_field`."""
    return [csv_field(v) for v in values]


def text_cell(cell: Cell) -> Cell:
    """The cell, with a text value typed as text (never a formula or an error code); returned for chaining."""
    if isinstance(cell.value, str) and cell.data_type != "s":
        cell.data_type = "s"
    return cell


def needs_text_type(value: Any) -> bool:
    """True when openpyxl would type this `str` as a formula or an error code (`Cell._bind_value`'s rule)."""
    return isinstance(value, str) and ((len(value) > 1 and value.startswith("=")) or value in ERROR_CODES)
