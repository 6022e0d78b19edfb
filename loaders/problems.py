"""A problem found in the input: where (file/sheet, row, column), what value, and why, in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.privacy import redact


@dataclass(frozen=True, order=True)
class Problem:
    """One reason a row (or a sheet, or the file) cannot be loaded.

    The value and the reasons are redacted when the problem is made (`core.privacy.redact`): whatever shows
    a problem — the command line, the error workbook, an API error — never shows an ID or phone number typed
    into a cell. (A refused cell of a personal column is `HIDDEN` already.) `sheet` is kept as read: it is
    how the error workbook finds a problem's row.

    A `fatal` problem refuses the whole input, `--skip-invalid` or not (an input past the import limits,
    `loaders.bounds`): nothing is written.
    """

    sheet: str
    row: int  # 1-based as the user sees it; 0 for the sheet or file as a whole
    column: str  # "C 身份证号": the column's letter and header (`Plan` adds a letter); empty for the whole row
    value: str
    reason_zh: str
    reason_en: str
    fatal: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("value", "reason_zh", "reason_en"):
            text = getattr(self, name)
            if isinstance(text, str) and text:
                object.__setattr__(self, name, redact(text))

    @property
    def letter(self) -> str:
        """The column's letter ("C"), when the problem names one; else empty."""
        head = self.column.split(" ", 1)[0]
        return head if head.isascii() and head.isalpha() and head.isupper() and len(head) <= 3 else ""

    @property
    def header(self) -> str:
        """The column's header without its letter ("身份证号")."""
        return self.column[len(self.letter) :].strip()

    def __str__(self) -> str:
        where = self.sheet
        if self.row:
            where += f" 第{self.row}行 row {self.row}"
        if self.letter:
            where += f" {' '.join(filter(None, (self.letter + '列', self.header)))} / column {self.letter}"
        elif self.column:
            where += f" 列 column {self.column}"
        value = f" 值 value {self.value!r}" if self.value else ""
        return f"{where}{value}: {self.reason_zh} / {self.reason_en}"


class InvalidInput(Exception):
    """The input has problems; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        n = len(problems)
        noun = "problem" if n == 1 else "problems"
        super().__init__(f"{n:,} 个问题,未写入任何数据 / {n:,} {noun}: nothing was written")
        self.problems = problems
