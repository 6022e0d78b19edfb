"""Personal data (PIPL): which values are personal, and how they are masked wherever they leave.

The model marks personal columns (`Column.sensitive`: a member's ID number, phone and home address). Whatever
shows them — the API, audit workbooks, the audit log, error messages — shows `mask(column, value)`, never the value;
free text (names, notes, addresses, a refused cell, a log line) is passed through `redact`, which masks any
ID or phone number standing in it however it is written; a refused cell of a personal column is reported
as `HIDDEN`, never as typed. Logs: `RedactingFilter` on every handler redacts each record.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_left
from collections.abc import Mapping
from datetime import date
from itertools import accumulate
from typing import Any, overload
from urllib.parse import unquote

from core.areas import PROVINCES
from core.model import Column, Kind, Sheet

#: What an error message shows in place of a refused personal value.
HIDDEN = "(已隐藏 / hidden)"


def mask_id_number(value: str) -> str:
    """Region and check character only: 420602********123X style masking."""
    return value[:6] + "*" * 8 + value[14:] if len(value) == 18 else "*" * len(value)


def mask_phone(value: str) -> str:
    """The first 3 and last 4 characters only: 138****5678 style masking (all starred when 7 or shorter)."""
    return value[:3] + "*" * max(0, len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)


def mask_text(value: str) -> str:
    """Personal free text (a home address): its first third, at most 6 characters, and a `*` for each of the
    rest — 湖北省襄阳*********** style, the region shown and the street and door hidden."""
    keep = min(6, len(value) // 3)
    return value[:keep] + "*" * (len(value) - keep)


def mask(column: Column, value: str) -> str:
    """A personal column's value as it may be shown: an ID number by `mask_id_number`, a number typed as
    digits (a phone) by `mask_phone`, any other personal text (an address) by `mask_text`."""
    if column.kind is Kind.ID_NUMBER:
        return mask_id_number(value)
    return mask_phone(value) if column.digits else mask_text(value)


def masked_row(sheet: Sheet, row: Mapping[str, Any]) -> dict[str, Any]:
    """A row keyed by English header with every personal column's value masked (the audit log's form)."""
    personal = {c.en: c for c in sheet.columns if c.sensitive}
    out = dict(row)
    for key, column in personal.items():
        value = out.get(key)
        if value:
            out[key] = mask(column, str(value))
    return out


# ---------------------------------------------------------------- free text
#
# `redact` reads free text as words and *numbers*: a number is a run of digit groups joined by at most one
# separator each (one or two spaces, or a dash or dot with a space either side at most), optionally led by a
# country prefix (`+86`, `(+86)`, `（86）`); a group may end in X, and the next may follow an X directly.
# Within a number it looks, group by group from the left, for
# - an ID number: 18 characters, 17 digits and a digit or X, either in one group (any such group: masking a
#   stray 18-digit number is the safe mistake) or spread over several groups with a real birth date
#   (characters 7-14) and a province prefix, so that an area code and a serial number written side by side
#   ("420602001001-000001") do not read as one;
# - a mobile number: 1[3-9] and 9 more digits, whole or grouped 3-4-4, 4-3-4, 3-8, 4-7 or 7-4, optionally led
#   by 86 or 0086 (after a + or inside brackets, or bare);
# and masks it where it stands: separators and prefix stay, the hidden digits become `*` (an ID number keeps
# its first 6 and last 4 characters, a mobile number its first 3 and last 4 digits, as `mask` does). A
# landline (0 and a 2-3 digit area code, an optional dash, 7-8 digits) is masked whole by `mask_phone`.
# Never a number: the project's own codes (`HU-420602001001-0001`, skipped whole), credit codes (letters
# between the digits), area codes (12 digits), dates and counts (too short, or the wrong grouping).

_SPACE = r"[ \u00a0\u3000]"  # a space, a no-break space, an ideographic space
_DASH = r"[-.\u2010-\u2015\u2212\uff0d\uff0e]"  # hyphens and dashes, a dot, their full-width forms
_GAP = rf"(?:{_SPACE}{{1,2}}|{_SPACE}?{_DASH}{_SPACE}?)"  # between two digit groups
_LEAD = rf"(?:[(\uff08]{_SPACE}?[+\uff0b]?{_SPACE}?(?:00)?86{_SPACE}?[)\uff09]{_GAP}?|[+\uff0b]{_SPACE}?)"
_NUMBER = rf"(?<!\d)(?:{_LEAD})?\d+[Xx]?(?:(?:{_GAP}|(?<=[Xx]))\d+[Xx]?)*"  # after an X, no gap needed
_OWN_CODE = r"[A-Za-z]{2,4}-\d{12}(?!\d)(?:-[0-9A-Za-z]{1,12}){0,4}"
_LANDLINE = r"(?<![0-9A-Za-z])0\d{2,3}-?\d{7,8}(?![0-9A-Za-z])"
_FREE_TEXT = re.compile(f"(?P<code>{_OWN_CODE})|(?P<landline>{_LANDLINE})|(?P<number>{_NUMBER})")
_GROUP = re.compile(r"\d+[Xx]?")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_ID_CHARS = re.compile(r"\d{17}[\dXx]")
#: Where a mobile number may be split (digits before each separator): 3-4-4 or 4-3-4 and their halves.
_MOBILE_SPLITS = (frozenset({3, 7}), frozenset({4, 7}))
_PREFIXES = ("", "86", "0086")
#: Ten digits anywhere: fewer hold nothing to mask (the shortest landline has ten); most names stop here.
_TEN_DIGITS = re.compile(r"\d(?:\D*\d){9}")


@overload
def redact(text: str) -> str: ...
@overload
def redact(text: None) -> None: ...
@overload
def redact(text: str | None) -> str | None: ...
def redact(text: str | None) -> str | None:
    """Free text with every ID number and phone number in it masked, however it is written (see above)."""
    if not text or not _TEN_DIGITS.search(text):
        return text
    return _FREE_TEXT.sub(_redact_match, text)


def redact_value(value: Any) -> Any:
    """`redact` over a JSON-like value: strings redacted, lists and dicts walked, anything else unchanged."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    return value


def _redact_match(match: re.Match[str]) -> str:
    text = match.group()
    if match.lastgroup == "landline":
        return mask_phone(text)
    if match.lastgroup == "code" or sum(c.isdigit() for c in text) < 11:
        return text
    found = list(_GROUP.finditer(text))
    groups = [m.group() for m in found]
    before = list(accumulate(map(len, groups), initial=0))  # characters in the groups before each group
    chars = list(text)
    i = 0
    while i < len(groups):
        hit = _id_number(groups, before, i) or _mobile(groups, i)
        if hit is None:
            i += 1
            continue
        last, keep_head, hidden = hit
        _star(chars, found[i].start(), found[last].end(), keep_head, hidden)
        i = last + 1
    return "".join(chars)


def _id_number(groups: list[str], before: list[int], first: int) -> tuple[int, int, int] | None:
    """(last group, characters kept in front, characters hidden) of an ID number starting at `first`."""
    end = bisect_left(before, before[first] + 18)  # the groups first..end-1 hold 18 characters, if any do
    if end == len(before) or before[end] != before[first] + 18:
        return None
    value = "".join(groups[first:end])
    if not _ID_CHARS.fullmatch(value) or (end - first > 1 and not _born(value)):
        return None
    return end - 1, 6, 8


def _born(value: str) -> bool:
    """An ID number's province prefix exists and characters 7-14 are a birth date between 1900 and 2099."""
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return int(value[:2]) in PROVINCES and 1900 <= born.year <= 2099


def _mobile(groups: list[str], first: int) -> tuple[int, int, int] | None:
    """(last group, digits kept in front, digits hidden) of a mobile number starting at `first`."""
    digits, splits = "", []
    for last in range(first, min(len(groups), first + 5)):  # 86 138 1234 5678: five groups at most
        group = groups[last]
        if last > first:
            if groups[last - 1][-1] in "Xx":
                return None  # an X ends a number
            splits.append(len(digits))
        digits += group.rstrip("Xx")  # a mobile number followed by an X (13812345678x) is still one
        if len(digits) < 11:
            continue
        for prefix in _PREFIXES:
            national = digits[len(prefix) :]
            if not digits.startswith(prefix) or len(national) != 11 or not _MOBILE.fullmatch(national):
                continue
            inner = {at - len(prefix) for at in splits if at != len(prefix) or not prefix}
            if min(splits, default=len(prefix)) >= len(prefix) and any(inner <= ok for ok in _MOBILE_SPLITS):
                return last, len(prefix) + 3, 4
    return None


def _star(chars: list[str], start: int, end: int, keep_head: int, hidden: int) -> None:
    """Replace the characters of digits `keep_head` to `keep_head + hidden` (counted from `start`) by `*`."""
    seen = 0
    for at in range(start, end):
        if chars[at].isdigit():
            if keep_head <= seen < keep_head + hidden:
                chars[at] = "*"
            seen += 1


# ---------------------------------------------------------------- logs

_TRACEBACK = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Redacts a log record where it is handled: its message, its arguments, its traceback and stack.

    Installed on handlers (a logger's own filters do not see the records its children propagate). String
    arguments are redacted one by one, so a formatter that reads `record.args` (uvicorn's access log) still
    finds them; when the message formatted from them would still show a number (an int argument, or a
    number split between message and argument), the record carries the redacted message and no arguments.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact `record` in place; never drops it."""
        record.msg = _redact_arg(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: _redact_arg(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_redact_arg(value) for value in record.args)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: the handler reports it (with the redacted msg and args)
            message = None
        if message is not None and redact(message) != message:
            record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACK.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _redact_arg(value: Any) -> Any:
    """A string redacted (percent-decoded first when that shows a number: a request path in the access log);
    any other value unchanged unless its text shows a number (then its redacted text)."""
    if isinstance(value, str):
        if "%" in value:
            decoded = unquote(value)
            masked = redact(decoded)
            if masked != decoded:
                return masked
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value  # a formatter may need the number itself (%d); the whole message is checked after
    text = str(value)
    redacted = redact(text)
    return value if redacted == text else redacted


def redact_logs(*handlers: logging.Handler) -> None:
    """Put a `RedactingFilter` on each handler (default: the root logger's) that has none yet."""
    for handler in handlers or tuple(logging.getLogger().handlers):
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
