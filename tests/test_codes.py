"""Identifier checks against published examples and deliberate corruptions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.areas import check_area_code, level_of
from core.codes import check_id_number, check_own_code, check_uscc, id_check_char, uscc_check_char
from core.model import SHEET_BY_LABEL, Column, Kind
from core.privacy import mask_id_number
from loaders.cells import convert


def test_uscc_published_example_and_every_wrong_check_character() -> None:
    good = "91350100M000100Y43"  # the example printed in GB 32100-2015 material
    assert check_uscc(good) is None
    assert uscc_check_char(good[:17]) == "3"
    for wrong in "0123456789ABCDEFGHJKLMNPQRTUWXY".replace("3", ""):
        reason = check_uscc(good[:17] + wrong)
        assert reason is not None
        assert "expected 3" in reason[1]


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100I43", "not allowed"),
        ("91350100m000100Y43".upper().replace("M", "O"), "not allowed"),
    ],
)
def test_uscc_rejections_say_why(code: str, fragment: str) -> None:
    reason = check_uscc(code)
    assert reason is not None
    assert fragment in reason[1]


def test_id_number_example_check_and_dates() -> None:
    assert check_id_number("11010519491231002X") is None
    assert id_check_char("11010519491231002") == "X"
    assert "check character" in check_id_number("110105194912310021")[1]
    assert "birth date" in check_id_number("110105194902300027")[1]  # 30 February
    assert "17 digits" in check_id_number("1101051949123100")[1]
    assert "region" in check_id_number("99010519491231002X")[1]


def test_id_number_reasons_never_echo_the_value() -> None:
    value = "110105194912310021"
    assert all(value not in part for part in check_id_number(value))
    assert mask_id_number("11010519491231002X") == "110105********002X"


def test_area_codes_levels_and_rejections() -> None:
    assert level_of("420600000000").key == "city"
    assert level_of("420602000000").key == "district"
    assert level_of("420602001000").key == "street"
    assert level_of("420602001001").key == "community"
    assert check_area_code("420602001001", "community") is None
    assert "12 digits" in check_area_code("42060200100", None)[1]
    assert "province" in check_area_code("990602001001", None)[1]
    assert "street-level" in check_area_code("420602001000", "community")[1]


def test_own_codes() -> None:
    assert check_own_code("WG-420602001001-01", "WG") is None
    assert check_own_code("HU-420602001001-0001-10101", "HU") is None
    assert "prefix must be WG" in check_own_code("XQ-420602001001-01", "WG")[1]
    assert "area code inside" in check_own_code("WG-990602001001-01", "WG")[1]
    assert "expected WG-" in check_own_code("grid 1", "WG")[1]


FLOORS = Column("floors", "层数", "floors", Kind.INT, minimum=1, maximum=200)
JOINED = Column("joinedAt", "入党日期", "joined_at", Kind.DATE, past=True)
AREA = Column("area", "面积", "area", Kind.FLOAT, minimum=0)


@pytest.mark.parametrize(
    ("column", "text", "value", "reason"),
    [
        (FLOORS, "12", 12, None),
        (FLOORS, "1,200", None, "above 200"),
        (FLOORS, "201", None, "above 200"),
        (FLOORS, "0", None, "below 1"),
        (FLOORS, "-3", None, "below 1"),
        (FLOORS, "3.0", 3, None),
        (FLOORS, "3.5", None, "not a whole number"),
        (FLOORS, "１２", 12, None),  # full-width digits, as some workbooks hold them
        (FLOORS, "²", None, "not a number"),
        (AREA, "1,234.5", 1234.5, None),
        (AREA, "nan", None, "below 0"),
        (JOINED, "2021-07-01", date(2021, 7, 1), None),
        (JOINED, "2021/7/1", date(2021, 7, 1), None),
        (JOINED, "2021年7月1日", date(2021, 7, 1), None),
        (JOINED, "2021-07-01T08:00:00", date(2021, 7, 1), None),
        (JOINED, "2021-02-30", None, "no such date"),
        (JOINED, "2021-13-01", None, "no such date"),
        (JOINED, "2021-0a-01", None, "must look like"),
        (JOINED, "20210701", None, "must look like"),
        (JOINED, "1900-01-01", None, "outside 1921-2100"),
        (JOINED, (date.today() + timedelta(days=1)).isoformat(), None, "future"),
    ],
)
def test_cells_convert_to_values_or_say_why(column: Column, text: str, value: object, reason: str | None) -> None:
    got, why = convert(column, text, SHEET_BY_LABEL["Building"])
    assert got == value
    assert (why is None) if reason is None else (why is not None and reason in why[1]), why
