"""Personal data (PIPL): which values are personal, and how they are masked wherever they leave.

The model marks personal columns (`Column.sensitive`: a member's ID number and phone). Whatever shows them
— the API, audit workbooks, the audit log, error messages — shows `mask(column, value)`, never the value;
free text is passed through `redact`, which masks any ID or phone number standing in it; a refused cell of a
personal column is reported as `HIDDEN`, never as typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.model import Column, Kind, Sheet

#: What an error message shows in place of a refused personal value.
HIDDEN = "(已隐藏 / hidden)"


def mask_id_number(value: str) -> str:
    """Region and check character only: 420602********123X style masking."""
    return value[:6] + "*" * 8 + value[14:] if len(value) == 18 else "*" * len(value)


def mask_phone(value: str) -> str:
    """The first 3 and last 4 characters only: 138****5678 style masking (all starred when 7 or shorter)."""
    return value[:3] + "*" * max(0, len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)


def mask(column: Column, value: str) -> str:
    """A personal column's value as it may be shown: an ID number by `mask_id_number`, any other personal
    value (a phone) by `mask_phone`."""
    return mask_id_number(value) if column.kind is Kind.ID_NUMBER else mask_phone(value)


def masked_row(sheet: Sheet, row: Mapping[str, Any]) -> dict[str, Any]:
    """A row keyed by English header with every personal column's value masked (the audit log's form)."""
    personal = {c.en: c for c in sheet.columns if c.sensitive}
    out = dict(row)
    for key, column in personal.items():
        value = out.get(key)
        if value:
            out[key] = mask(column, str(value))
    return out


# An 18-character ID number (GB 11643) or a phone number standing alone in free text.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?![0-9A-Za-z])")


def redact(text: str | None) -> str | None:
    """Free text with any ID number or phone number in it masked as `mask` masks them."""
    if not text:
        return text
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text)
    return _PHONE.sub(lambda m: mask_phone(m.group()), text)
