"""Keyset paging over several ordered parts (gap rules, searched labels), each part ordered by code.

A cursor is (part index, last code). A page reads each part after the cursor, asking every part for
one row more than the page still needs, so the extra row tells whether a next page exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

#: (part index, code to start after, how many rows at most) → the part's rows, in code order.
Fetch = Callable[[int, str, int], Awaitable[list[T]]]


async def page_across(
    parts: Iterable[int], first: int, after: tuple[int, str] | None, fetch: Fetch[T]
) -> tuple[list[T], bool]:
    """Up to `first` rows after the cursor, over `parts` in order; and whether more follow."""
    found: list[T] = []
    for index in parts:
        if after is not None and index < after[0]:
            continue
        start = after[1] if after is not None and index == after[0] else ""
        for row in await fetch(index, start, first - len(found) + 1):
            if len(found) == first:
                return found, True
            found.append(row)
    return found, False
