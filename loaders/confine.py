"""A load run as an account (`GRASSROOTS_LOAD_AS`): every row of the workbook must lie inside its scope.

A row's area is its place in the hierarchy as validation resolved it (`Row.area`); a relationship row (a
link sheet's) lies where its ends do, read from their own codes (`PREFIX-<area code>-…`). A row with no area
at all — a partner unit or a property company, shared by the whole city — may be loaded only by an account
whose scope is a whole city. A grid's account loads nothing: rows are filed by community, not by grid.
"""

from __future__ import annotations

from core.areas import AREA_LEVELS, level_of
from core.codes import own_code_area
from core.model import SHEETS
from graph.scope import Scope
from loaders.plan import Plan
from loaders.problems import Problem
from loaders.rowstore import Row

#: The most problems reported (the first ones, in sheet and row order): enough to see what is wrong.
MAX_PROBLEMS = 200


def _row_area(row: Row) -> Scope | None:
    """The narrowest area a row names: its own area path, else its ends' (None: a city-wide row)."""
    for level in reversed(AREA_LEVELS):
        code = row.area.get(level.property)
        if code:
            return Scope(level.key, code)
    for part in row.code.split(">") if row.sheet.is_link else []:
        if part.count("-") >= 2 and len(own_code_area(part)) == 12 and own_code_area(part).isdigit():
            area = own_code_area(part)
            return Scope(level_of(area).key, area)
    return None


def outside(plan: Plan, allowed: Scope, login: str) -> list[Problem]:
    """The valid rows of `plan` that lie outside `allowed` (the first `MAX_PROBLEMS`), as problems."""
    problems: list[Problem] = []
    for sheet in SHEETS:
        for chunk in plan.valid_chunks(sheet.key):
            for row in chunk:
                area = _row_area(row)
                if area is None and allowed.level == "city":
                    continue
                if area is not None and area.within(allowed):
                    continue
                where = area.code if area is not None else "全市共用 / city-wide"
                zh = f"位于 {where},不在账号 {login} 的范围 {allowed.code} 内"
                en = f"lies in {where}, outside the scope {allowed.code} of account {login}"
                problems.append(Problem(row.source_name, row.number, "", row.code, zh, en))
                if len(problems) >= MAX_PROBLEMS:
                    return problems
    return problems
