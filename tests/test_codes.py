"""Identifier checks against published examples and deliberate corruptions."""

from __future__ import annotations

import pytest

from loaders.codes import (
    area_level,
    check_area_code,
    check_id_number,
    check_own_code,
    check_uscc,
    id_check_char,
    mask_id_number,
    uscc_check_char,
)


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
    assert area_level("420600000000") == "city"
    assert area_level("420602000000") == "district"
    assert area_level("420602001000") == "street"
    assert area_level("420602001001") == "community"
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
