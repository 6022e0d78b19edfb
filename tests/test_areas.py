"""The area table: levels, digits, paths and containment of 12-digit area codes; and the masking rules."""

from __future__ import annotations

import pytest

from core.areas import AREA_LEVELS, AREA_PROPERTIES, LEVEL, area_code, check_area_code, contains, level_of, path, prefix
from core.codes import own_code_area
from core.model import SHEET_BY_LABEL
from core.privacy import HIDDEN, mask, masked_row, redact
from graph.scope import Scope, area_in, shown

STREET, COMMUNITY = "420602001000", "420602001001"


def test_each_level_is_one_row_of_the_table_and_matches_its_sheet() -> None:
    assert [level.key for level in AREA_LEVELS] == ["city", "district", "street", "community"]
    assert [level.digits for level in AREA_LEVELS] == [4, 6, 9, 12]
    assert AREA_PROPERTIES == ("cityCode", "districtCode", "streetCode", "communityCode")
    for level in AREA_LEVELS:
        sheet = SHEET_BY_LABEL[level.label]
        assert sheet.area_level == level.key
        assert sheet.zh == level.zh  # the level's Chinese name is its sheet's


def test_a_codes_path_prefix_and_containment() -> None:
    assert path(COMMUNITY, "community") == {
        "cityCode": "420600000000",
        "districtCode": "420602000000",
        "streetCode": "420602001000",
        "communityCode": COMMUNITY,
    }
    assert path(STREET, "street") == {"cityCode": "420600000000", "districtCode": "420602000000", "streetCode": STREET}
    assert prefix(STREET, "street") == "420602001"
    assert contains(STREET, "street", COMMUNITY)
    assert not contains(STREET, "street", "420602002001")
    assert contains("420600000000", "city", COMMUNITY)
    assert level_of(STREET) is LEVEL["street"]


@pytest.mark.parametrize(
    ("code", "level", "zh"),
    [(STREET, "community", "应为社区级代码,实为街道级"), (COMMUNITY, "district", "应为区级代码,实为社区级")],
)
def test_a_code_of_the_wrong_level_names_both_levels(code: str, level: str, zh: str) -> None:
    reason = check_area_code(code, level)
    assert reason is not None
    assert reason[0] == zh


def test_personal_columns_are_masked_in_rows_and_free_text() -> None:
    member = SHEET_BY_LABEL["PartyMember"]
    id_number, phone, address = (c for c in member.columns if c.sensitive)
    assert mask(id_number, "11010519491231002X") == "110105********002X"
    assert mask(phone, "13812345678") == "138****5678"
    assert mask(address, "湖北省襄阳市樊城区人民路12号") == "湖北省襄阳" + "*" * 10
    assert mask(address, "人民路12号") == "人民****"
    row = {"code": "DY-420602001001-000001", "id_number": "11010519491231002X", "phone": "13812345678", "name": "张三"}
    assert masked_row(member, row) == {**row, "id_number": "110105********002X", "phone": "138****5678"}
    assert masked_row(member, {**row, "phone": None})["phone"] is None
    assert redact("张三 11010519491231002X") == "张三 110105********002X"
    assert "hidden" in HIDDEN


def test_the_area_an_area_or_an_own_code_lies_in() -> None:
    assert area_code(COMMUNITY, "city") == "420600000000"
    assert area_code(COMMUNITY, "street") == STREET
    assert area_code(STREET, "street") == STREET
    assert own_code_area("WG-420602001001-03") == COMMUNITY
    assert own_code_area("HU-420602001001-0001-10101") == COMMUNITY


def test_which_codes_a_reader_of_a_scope_is_shown() -> None:
    grid, community, street = (Scope.parse(c) for c in ("WG-420602001002-01", "420602001002", STREET))
    inside, sibling, other = "DY-420602001002-000001", "DY-420602001001-000001", "DZB-420602002001-01"
    assert [area_in(c) for c in (inside, STREET, "91420600X61CQ1T81G")] == [community.code, STREET, None]
    assert area_in("2026-01-05") is None
    assert all(shown(c, community) for c in (inside, STREET, "420600000000", "DGW-420602001000-01", "91420600X"))
    assert not any(shown(c, community) for c in (sibling, other, "420602002000"))
    assert shown(inside, grid)
    assert shown("WG-420602001002-02", grid)
    assert not shown(sibling, grid)
    assert shown(sibling, street)
    assert not shown(other, street)
    assert shown(other, None)
