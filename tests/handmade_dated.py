"""A hand-made street with DATED records (issue 23, coverage through time), counted by hand at three dates.

庞公街道 (420602002000) has two communities. The areas (city, district, street, communities, grids) are
undated; so are the partner units and the property companies (they are no unit of any metric: a unit counts
for `unit_never_reported` only through a dated membership). Every other record carries a `since` (a member a
`since` and a `joined_at`, a report its `date`, a need its `raised_at`, a service its `date`), all later than
D1, so on D1 only the areas, the units and the companies are in force. Members' `joined_at` are mostly before
D1 on purpose: on D1 it is their `since` that keeps them out.

The dates: D1 2015-01-01 (before anything), D2 2021-06-30 (in the middle), D3 2026-11-27 (today, handmade.AS_OF).

闸口社区 A (420602002001), grids A1 (WG-A-01), A2 (WG-A-02):
  compounds  XQ-A-01 (grid A1, central city, since 2016-01-01)
             XQ-A-02 (grid A2, central city, since 2016-01-01)
             XQ-A-03 (grid A2, not central, since 2023-09-01: built after D2)
  buildings  LD-A-0001, LD-A-0002 (A1, XQ-A-01, since 2016-01-01), LD-A-0003 (A2, XQ-A-02, since 2016-01-01),
             LD-A-0004 (A2, XQ-A-03, since 2023-09-01: built after D2)
  households two a building (rooms 101, 102): since 2016-03-01, but LD-A-0004's since 2023-10-01;
             HU-A-0002-102 until 2024-05-31 (ended before D3)
  committee  SQDW-A-01 since 2016-01-01, term_start 2022-01-01 (not started at D2), 5 years (to 2027-01-01)
  branches   DZB-A-01 covers grid A1, since 2017-07-01, term 2017-07-01 + 5 = 2022-07-01 (expired at D3)
             DZB-A-02 covers grid A2, 2018-01-01..2023-12-31 (dissolved before D3), term 2018-01-01 + 5
             DZB-A-03 covers compound XQ-A-03 directly (no grid), since 2024-03-01 (founded after D2),
                      term 2024-03-01 + 3 = 2027-03-01
  groups     DXZ-A-0101 (DZB-A-01) covers LD-A-0001, LD-A-0002, since 2017-08-01
             DXZ-A-0201 (DZB-A-02) covers LD-A-0003, 2018-03-01..2023-12-31 (ends with its branch)
             DXZ-A-0301 (DZB-A-03) covers LD-A-0004, since 2024-06-01 (designated after D2); its branch covers
                      no grid, so the group counts in community A's "no grid" child
  central    ZXH-A-0101001 (DXZ-A-0101) at HU-A-0001-101, since 2017-09-01; contacts HU-A-0001-102, HU-A-0002-102
  households ZXH-A-0301001 (DXZ-A-0301) at HU-A-0004-101, since 2024-09-01 (after D2); contacts HU-A-0004-102
  members    DY-A-000001 DZB-A-01, home HU-A-0001-101, full, in service, joined 2010, since 2017-07-01
             DY-A-000002 DZB-A-01, home HU-A-0001-102, full, joined 2005, since 2017-07-01
             DY-A-000003 DZB-A-01, home HU-A-0002-101, full, in service, joined 2012, 2017-07-01..2023-06-30
                         (transferred out before D3)
             DY-A-000004 DZB-A-02, home HU-A-0003-101, full, joined 2000, since 2018-02-01
  center     DQZX-A-01 since 2018-01-01
  need       XU-A-000001 raised 2020-05-01; served by FW-A-000001 dated 2022-03-01 (only after D2)

鱼梁社区 B (420602002002), grid B1 (WG-B-01):
  compounds  XQ-B-01 (grid B1, not central), XQ-B-02 (no grid, central city), both since 2016-01-01
  buildings  LD-B-0001 (B1, XQ-B-01), LD-B-0002 (B1, XQ-B-02), since 2016-01-01
  households two a building, since 2016-03-01
  committee  SQDW-B-01 since 2016-01-01, term_start 2016-06-01, no term_years (5: ends 2021-06-01, before D2)
  branch     DZB-B-01 covers compound XQ-B-02 directly (not grid B1), since 2016-09-01, no term_start, no committee
  group      DXZ-B-0101 (DZB-B-01) covers LD-B-0002, since 2016-10-01 ("no grid": its branch covers none)
  central    ZXH-B-0101001 (DXZ-B-0101) at HU-B-0002-101, 2019-01-01..2022-12-31 (ended before D3);
  household  contacts HU-B-0002-102
  members    DY-B-000001 home HU-B-0001-101, in service          } all DZB-B-01, full, since 2017-01-01,
             DY-B-000002 home HU-B-0002-101, in service          } joined before D1 unless said
             DY-B-000003..6 homes B-0001-102, B-0002-102, B-0001-101, B-0001-102
             DY-B-000007 home HU-B-0002-102, in service, joined 2022-07-01 (after D2)
             DY-B-000008 home HU-B-0002-101, 预备党员 (probationary), joined and since 2026-03-01
  center     DQZX-B-01 since 2022-10-01 (after D2)
  needs      XU-B-000001 raised 2025-04-01, never served; XU-B-000002 raised 2019-01-01, until 2020-12-31

Link sheets:
  UnitMembership UNIT_1 -> SQDW-A-01 since 2018-01-01; UNIT_2 -> DGW since 2018-01-01;
                 UNIT_3 -> SQDW-B-01 2016-06-01..2020-12-31
  UnitReport     UNIT_1 -> A 2019-03-01 until 2024-12-31 (ended before D3); UNIT_2 -> B 2022-05-01 (after D2)
  MemberReport   DY-A-000001 -> A 2019-05-01; DY-A-000003 -> A 2018-04-01 (no until: it outlives the member);
                 DY-B-000001 -> B 2023-03-01 (after D2); DY-B-000002 -> B 2018-06-01 until 2022-12-31
  PropertyService COMPANY_1 manages XQ-A-01 2016-06-01..2023-03-31 (ended before D3), XQ-A-02 since 2024-01-01
                 (started after D2); COMPANY_2 manages XQ-B-02 since 2017-01-01

Where the specification left a choice, the counts below follow it literally and say so:
- community_size_out_of_range: a community with 0 households in force (D1) is out of 3000..5000: a gap.
- a member's `status` is not dated: it is taken as recorded at every date.
- a grid has "no grid" siblings only where some unit in force on the date lies in no grid: community A has a
  "no grid" child on D3 only (DXZ-A-0301), community B on D2 and D3 (XQ-B-02, DXZ-B-0101); on D1 neither.
- a branch's term is judged whether or not it `has_committee` (as the undated rule does); no term_start: never.
"""

from __future__ import annotations

from datetime import date

from core.codes import uscc_check_char
from loaders.demo import Dataset

D1 = date(2015, 1, 1)  # before anything: only the areas (and the undated units and companies) are in force
D2 = date(2021, 6, 30)  # in the middle
D3 = date(2026, 11, 27)  # today (handmade.AS_OF)
DATES = (D1, D2, D3)

CITY, DISTRICT, S = "420600000000", "420602000000", "420602002000"
A, B = "420602002001", "420602002002"
DGW = f"DGW-{S}-01"


def _uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


UNIT_1 = _uscc("91420602MA0000101")  # member of SQDW-A-01 since 2018; reported to A 2019-03-01..2024-12-31
UNIT_2 = _uscc("91420602MA0000102")  # member of the street's DGW since 2018; reported to B on 2022-05-01
UNIT_3 = _uscc("91420602MA0000103")  # member of SQDW-B-01 2016-06-01..2020-12-31; never reported
COMPANY_1 = _uscc("91420602MA0000109")  # XQ-A-01 2016-06-01..2023-03-31; XQ-A-02 since 2024-01-01
COMPANY_2 = _uscc("91420602MA0000108")  # XQ-B-02 since 2017-01-01


def dataset() -> Dataset:
    """The dated hand-made street as generator rows (written to a workbook by the tests)."""
    ds = Dataset("handmade_dated", 0, D3)
    add = ds.add
    # ---------------------------------------------------------------- areas: undated
    add("City", code=CITY, name="襄阳市")
    add("District", code=DISTRICT, name="襄城区", city_code=CITY)
    add("Street", code=S, name="庞公街道", district_code=DISTRICT)
    add("Community", code=A, name="闸口社区", central_city="是", street_code=S)
    add("Community", code=B, name="鱼梁社区", central_city="是", street_code=S)
    for grid, community in ((f"WG-{A}-01", A), (f"WG-{A}-02", A), (f"WG-{B}-01", B)):
        add("Grid", code=grid, name=grid[-2:] + "网格", community_code=community)
    # ---------------------------------------------------------------- places
    for code, community, central, grids, since in (
        (f"XQ-{A}-01", A, "是", f"WG-{A}-01", date(2016, 1, 1)),
        (f"XQ-{A}-02", A, "是", f"WG-{A}-02", date(2016, 1, 1)),
        (f"XQ-{A}-03", A, "否", f"WG-{A}-02", date(2023, 9, 1)),
        (f"XQ-{B}-01", B, "否", f"WG-{B}-01", date(2016, 1, 1)),
        (f"XQ-{B}-02", B, "是", "", date(2016, 1, 1)),
    ):
        add("Compound", code=code, name="小区" + code[-5:], address="", central_city=central, since=since, until="",
            community_code=community, grid_codes=grids)  # fmt: skip
    for code, grid, compound, since in (
        (f"LD-{A}-0001", f"WG-{A}-01", f"XQ-{A}-01", date(2016, 1, 1)),
        (f"LD-{A}-0002", f"WG-{A}-01", f"XQ-{A}-01", date(2016, 1, 1)),
        (f"LD-{A}-0003", f"WG-{A}-02", f"XQ-{A}-02", date(2016, 1, 1)),
        (f"LD-{A}-0004", f"WG-{A}-02", f"XQ-{A}-03", date(2023, 9, 1)),
        (f"LD-{B}-0001", f"WG-{B}-01", f"XQ-{B}-01", date(2016, 1, 1)),
        (f"LD-{B}-0002", f"WG-{B}-01", f"XQ-{B}-02", date(2016, 1, 1)),
    ):
        add("Building", code=code, name=code[-4:] + "栋", floors=6, units=1, since=since, until="", grid_code=grid,
            compound_code=compound)  # fmt: skip
    # ---------------------------------------------------------------- organizations
    add("StreetWorkingCommittee", code=DGW, name="庞公街道大工委", since=date(2016, 1, 1), until="", street_code=S)
    add("CommunityCommittee", code=f"SQDW-{A}-01", name="闸口社区党委", widened="是", term_start=date(2022, 1, 1),
        term_years=5, since=date(2016, 1, 1), until="", community_code=A, working_committee_code=DGW)  # fmt: skip
    add("CommunityCommittee", code=f"SQDW-{B}-01", name="鱼梁社区党委", widened="是", term_start=date(2016, 6, 1),
        term_years="", since=date(2016, 1, 1), until="", community_code=B, working_committee_code=DGW)  # fmt: skip
    for code, name, committee, grids, compounds, term_start, term_years, since, until in (
        (f"DZB-{A}-01", "闸口第1网格党支部", f"SQDW-{A}-01", f"WG-{A}-01", "", date(2017, 7, 1), 5, date(2017, 7, 1),
         ""),
        (f"DZB-{A}-02", "闸口第2网格党支部", f"SQDW-{A}-01", f"WG-{A}-02", "", date(2018, 1, 1), 5, date(2018, 1, 1),
         date(2023, 12, 31)),
        (f"DZB-{A}-03", "闸口新区党支部", f"SQDW-{A}-01", "", f"XQ-{A}-03", date(2024, 3, 1), 3, date(2024, 3, 1),
         ""),
        (f"DZB-{B}-01", "鱼梁小区党支部", f"SQDW-{B}-01", "", f"XQ-{B}-02", "", "", date(2016, 9, 1), ""),
    ):  # fmt: skip
        add("GridBranch", code=code, name=name, dual_report="是", has_committee="否", term_start=term_start,
            term_years=term_years, since=since, until=until, committee_code=committee, grid_codes=grids,
            compound_codes=compounds)  # fmt: skip
    for code, branch, buildings, since, until in (
        (f"DXZ-{A}-0101", f"DZB-{A}-01", f"LD-{A}-0001;LD-{A}-0002", date(2017, 8, 1), ""),
        (f"DXZ-{A}-0201", f"DZB-{A}-02", f"LD-{A}-0003", date(2018, 3, 1), date(2023, 12, 31)),
        (f"DXZ-{A}-0301", f"DZB-{A}-03", f"LD-{A}-0004", date(2024, 6, 1), ""),
        (f"DXZ-{B}-0101", f"DZB-{B}-01", f"LD-{B}-0002", date(2016, 10, 1), ""),
    ):
        add("BuildingGroup", code=code, name="第" + code[-2:] + "党小组", since=since, until=until, branch_code=branch,
            building_codes=buildings)  # fmt: skip
    for code, group, home, since, until in (
        (f"ZXH-{A}-0101001", f"DXZ-{A}-0101", f"HU-{A}-0001-101", date(2017, 9, 1), ""),
        (f"ZXH-{A}-0301001", f"DXZ-{A}-0301", f"HU-{A}-0004-101", date(2024, 9, 1), ""),
        (f"ZXH-{B}-0101001", f"DXZ-{B}-0101", f"HU-{B}-0002-101", date(2019, 1, 1), date(2022, 12, 31)),
    ):
        add("CentralHousehold", code=code, name=home[-8:] + "党员中心户", since=since, until=until, group_code=group,
            household_code=home)  # fmt: skip
    # ---------------------------------------------------------------- households
    old, new = date(2016, 3, 1), date(2023, 10, 1)
    for code, since, until, central in (
        (f"HU-{A}-0001-101", old, "", ""),  # home of ZXH-A-0101001 (AT)
        (f"HU-{A}-0001-102", old, "", f"ZXH-{A}-0101001"),
        (f"HU-{A}-0002-101", old, "", ""),
        (f"HU-{A}-0002-102", old, date(2024, 5, 31), f"ZXH-{A}-0101001"),
        (f"HU-{A}-0003-101", old, "", ""),
        (f"HU-{A}-0003-102", old, "", ""),
        (f"HU-{A}-0004-101", new, "", ""),  # home of ZXH-A-0301001 (AT)
        (f"HU-{A}-0004-102", new, "", f"ZXH-{A}-0301001"),
        (f"HU-{B}-0001-101", old, "", ""),
        (f"HU-{B}-0001-102", old, "", ""),
        (f"HU-{B}-0002-101", old, "", ""),  # home of ZXH-B-0101001 (AT)
        (f"HU-{B}-0002-102", old, "", f"ZXH-{B}-0101001"),
    ):
        building = "LD-" + code[3:-4]
        add("Household", code=code, unit="1", room=code[-3:], size=3, since=since, until=until, building_code=building,
            central_household_code=central)  # fmt: skip
    # ---------------------------------------------------------------- partners and people
    add("Unit", credit_code=UNIT_1, name="襄城区财政局", kind="机关", address="")
    add("Unit", credit_code=UNIT_2, name="庞公供水所", kind="企事业单位", address="")
    add("Unit", credit_code=UNIT_3, name="鱼梁商会", kind="两新组织", address="")
    full, probationary = "正式党员", "预备党员"
    for code, branch, home, status, in_service, joined, since, until, unit in (
        (f"DY-{A}-000001", f"DZB-{A}-01", f"HU-{A}-0001-101", full, "是", date(2010, 7, 1), date(2017, 7, 1), "",
         UNIT_1),
        (f"DY-{A}-000002", f"DZB-{A}-01", f"HU-{A}-0001-102", full, "否", date(2005, 7, 1), date(2017, 7, 1), "", ""),
        (f"DY-{A}-000003", f"DZB-{A}-01", f"HU-{A}-0002-101", full, "是", date(2012, 7, 1), date(2017, 7, 1),
         date(2023, 6, 30), UNIT_2),
        (f"DY-{A}-000004", f"DZB-{A}-02", f"HU-{A}-0003-101", full, "否", date(2000, 7, 1), date(2018, 2, 1), "", ""),
        (f"DY-{B}-000001", f"DZB-{B}-01", f"HU-{B}-0001-101", full, "是", date(2008, 7, 1), date(2017, 1, 1), "",
         UNIT_2),
        (f"DY-{B}-000002", f"DZB-{B}-01", f"HU-{B}-0002-101", full, "是", date(2009, 7, 1), date(2017, 1, 1), "",
         UNIT_1),
        (f"DY-{B}-000003", f"DZB-{B}-01", f"HU-{B}-0001-102", full, "否", date(2001, 7, 1), date(2017, 1, 1), "", ""),
        (f"DY-{B}-000004", f"DZB-{B}-01", f"HU-{B}-0002-102", full, "否", date(2001, 7, 1), date(2017, 1, 1), "", ""),
        (f"DY-{B}-000005", f"DZB-{B}-01", f"HU-{B}-0001-101", full, "否", date(2001, 7, 1), date(2017, 1, 1), "", ""),
        (f"DY-{B}-000006", f"DZB-{B}-01", f"HU-{B}-0001-102", full, "否", date(2001, 7, 1), date(2017, 1, 1), "", ""),
        (f"DY-{B}-000007", f"DZB-{B}-01", f"HU-{B}-0002-102", full, "是", date(2022, 7, 1), date(2017, 1, 1), "",
         UNIT_3),
        (f"DY-{B}-000008", f"DZB-{B}-01", f"HU-{B}-0002-101", probationary, "否", date(2026, 3, 1), date(2026, 3, 1),
         "", ""),
    ):  # fmt: skip
        add("PartyMember", code=code, name="党员" + code[-2:], id_number="", status=status, in_service=in_service,
            joined_at=joined, since=since, until=until, phone="", branch_code=branch, household_code=home,
            unit_code=unit)  # fmt: skip
    add("PropertyCompany", credit_code=COMPANY_1, name="庞公物业")
    add("PropertyCompany", credit_code=COMPANY_2, name="鱼梁物业")
    add("ServiceCenter", code=f"DQZX-{A}-01", name="闸口党群服务中心", area_m2=300, since=date(2018, 1, 1), until="",
        community_code=A)  # fmt: skip
    add("ServiceCenter", code=f"DQZX-{B}-01", name="鱼梁党群服务中心", area_m2=200, since=date(2022, 10, 1), until="",
        community_code=B)  # fmt: skip
    # ---------------------------------------------------------------- the three lists
    add("Need", code=f"XU-{A}-000001", title="路灯维修", category="民生", raised_at=date(2020, 5, 1), since="",
        until="", community_code=A, claimed_by_code=UNIT_1)  # fmt: skip
    add("Need", code=f"XU-{B}-000001", title="助老", category="民生", raised_at=date(2025, 4, 1), since="", until="",
        community_code=B, claimed_by_code="")  # fmt: skip
    add("Need", code=f"XU-{B}-000002", title="楼道清理", category="环境", raised_at=date(2019, 1, 1), since="",
        until=date(2020, 12, 31), community_code=B, claimed_by_code="")  # fmt: skip
    add("Service", code=f"FW-{A}-000001", title="路灯维修服务", date=date(2022, 3, 1), hours=2, since="", until="",
        community_code=A, provider_code=UNIT_1, need_code=f"XU-{A}-000001")  # fmt: skip
    # ---------------------------------------------------------------- dated relationships
    add("UnitMembership", unit_code=UNIT_1, committee_code=f"SQDW-{A}-01", since=date(2018, 1, 1), until="")
    add("UnitMembership", unit_code=UNIT_2, committee_code=DGW, since=date(2018, 1, 1), until="")
    add("UnitMembership", unit_code=UNIT_3, committee_code=f"SQDW-{B}-01", since=date(2016, 6, 1),
        until=date(2020, 12, 31))  # fmt: skip
    add("UnitReport", unit_code=UNIT_1, community_code=A, date=date(2019, 3, 1), until=date(2024, 12, 31),
        receipt_returned="是")  # fmt: skip
    add("UnitReport", unit_code=UNIT_2, community_code=B, date=date(2022, 5, 1), until="", receipt_returned="是")
    add("MemberReport", member_code=f"DY-{A}-000001", community_code=A, date=date(2019, 5, 1), until="",
        receipt_returned="是")  # fmt: skip
    add("MemberReport", member_code=f"DY-{A}-000003", community_code=A, date=date(2018, 4, 1), until="",
        receipt_returned="是")  # fmt: skip
    add("MemberReport", member_code=f"DY-{B}-000001", community_code=B, date=date(2023, 3, 1), until="",
        receipt_returned="是")  # fmt: skip
    add("MemberReport", member_code=f"DY-{B}-000002", community_code=B, date=date(2018, 6, 1),
        until=date(2022, 12, 31), receipt_returned="是")  # fmt: skip
    add("PropertyService", company_code=COMPANY_1, compound_code=f"XQ-{A}-01", since=date(2016, 6, 1),
        until=date(2023, 3, 31))  # fmt: skip
    add("PropertyService", company_code=COMPANY_1, compound_code=f"XQ-{A}-02", since=date(2024, 1, 1), until="")
    add("PropertyService", company_code=COMPANY_2, compound_code=f"XQ-{B}-02", since=date(2017, 1, 1), until="")
    return ds


# ==================================================================== the hand count
# (units, covered) per metric. "y" = covered, "n" = not; a record not in force on the date is left out.

#: Coverage per community on each date, counted by hand.
COVERAGE: dict[date, dict[str, dict[str, tuple[int, int]]]] = {
    D1: {
        A: {
            "compounds": (0, 0),  # XQ-A-01/02 since 2016-01-01, XQ-A-03 since 2023-09-01: none yet
            "buildings": (0, 0),  # LD-A-0001..0003 since 2016-01-01, LD-A-0004 since 2023-09-01
            "groups": (0, 0),  # DXZ-A-0101 since 2017-08-01, -0201 since 2018-03-01, -0301 since 2024-06-01
            "households": (0, 0),  # since 2016-03-01 or 2023-10-01
            "propertyManaged": (0, 0),  # no compound yet
            "serviceCenters": (1, 0),  # A is an area (undated); DQZX-A-01 only since 2018-01-01
            "partnerReported": (1, 0),  # A; UNIT_1's report dated 2019-03-01
            "membersReported": (0, 0),  # DY-A-000001/3 since 2017-07-01
        },
        B: {
            "compounds": (0, 0),  # XQ-B-01/02 since 2016-01-01
            "buildings": (0, 0),  # LD-B-0001/2 since 2016-01-01
            "groups": (0, 0),  # DXZ-B-0101 since 2016-10-01
            "households": (0, 0),  # since 2016-03-01
            "propertyManaged": (0, 0),  # no compound yet
            "serviceCenters": (1, 0),  # B; DQZX-B-01 only since 2022-10-01
            "partnerReported": (1, 0),  # B; UNIT_2's report dated 2022-05-01
            "membersReported": (0, 0),  # DY-B-000001/2/7 since 2017-01-01
        },
    },
    D2: {
        A: {
            "compounds": (2, 2),  # XQ-A-01 y (grid A1 <- DZB-A-01), XQ-A-02 y (grid A2 <- DZB-A-02); -03 not yet
            "buildings": (3, 3),  # LD-A-0001 y, -0002 y (DXZ-A-0101), -0003 y (DXZ-A-0201); -0004 not yet
            "groups": (2, 1),  # DXZ-A-0101 y (ZXH-A-0101001), DXZ-A-0201 n (no central household); -0301 not yet
            "households": (6, 3),  # 0001-101 y (AT), 0001-102 y, 0002-102 y (contacted), 0002-101 n, 0003-101/102 n
            "propertyManaged": (2, 1),  # XQ-A-01 y (COMPANY_1 2016-06-01..2023-03-31), XQ-A-02 n (only from 2024)
            "serviceCenters": (1, 1),  # DQZX-A-01 since 2018-01-01
            "partnerReported": (1, 1),  # UNIT_1's report 2019-03-01..2024-12-31
            "membersReported": (2, 2),  # DY-A-000001 y (2019-05-01), DY-A-000003 y (2018-04-01)
        },
        B: {
            "compounds": (2, 1),  # XQ-B-02 y (DZB-B-01 directly), XQ-B-01 n (no branch covers grid B1)
            "buildings": (2, 1),  # LD-B-0002 y (DXZ-B-0101), LD-B-0001 n
            "groups": (1, 1),  # DXZ-B-0101 y: ZXH-B-0101001 in force 2019-01-01..2022-12-31
            "households": (4, 2),  # 0002-101 y (AT ZXH-B-0101001), 0002-102 y (contacted), 0001-101/102 n
            "propertyManaged": (1, 1),  # XQ-B-02 y (COMPANY_2 since 2017); XQ-B-01 not central
            "serviceCenters": (1, 0),  # DQZX-B-01 only since 2022-10-01
            "partnerReported": (1, 0),  # UNIT_2's report only 2022-05-01
            "membersReported": (2, 1),  # DY-B-000002 y (2018-06-01..2022-12-31), DY-B-000001 n (2023); -7 joins 2022
        },
    },
    D3: {
        A: {
            "compounds": (3, 2),  # XQ-A-01 y (DZB-A-01), XQ-A-03 y (DZB-A-03 directly), XQ-A-02 n (DZB-A-02 gone)
            "buildings": (4, 3),  # LD-A-0001 y, -0002 y (DXZ-A-0101), -0004 y (DXZ-A-0301), -0003 n (DXZ-A-0201 gone)
            "groups": (2, 2),  # DXZ-A-0101 y (ZXH-A-0101001), DXZ-A-0301 y (ZXH-A-0301001 since 2024-09-01)
            "households": (7, 4),  # 0001-101 y, 0001-102 y, 0004-101 y (AT), 0004-102 y; 0002-101, 0003-101/102 n;
            #                        0002-102 ended 2024-05-31
            "propertyManaged": (2, 1),  # XQ-A-02 y (since 2024-01-01), XQ-A-01 n (ended 2023-03-31); -03 not central
            "serviceCenters": (1, 1),  # DQZX-A-01
            "partnerReported": (1, 0),  # UNIT_1's report ended 2024-12-31
            "membersReported": (1, 1),  # DY-A-000001 y; DY-A-000003 transferred out 2023-06-30
        },
        B: {
            "compounds": (2, 1),  # XQ-B-02 y, XQ-B-01 n
            "buildings": (2, 1),  # LD-B-0002 y, LD-B-0001 n
            "groups": (1, 0),  # DXZ-B-0101 n: ZXH-B-0101001 ended 2022-12-31
            "households": (4, 0),  # none: B's only central household ended
            "propertyManaged": (1, 1),  # XQ-B-02 y
            "serviceCenters": (1, 1),  # DQZX-B-01 since 2022-10-01
            "partnerReported": (1, 1),  # UNIT_2's report 2022-05-01
            "membersReported": (3, 1),  # DY-B-000001 y (2023-03-01); -000002 n (report ended), -000007 n (none)
        },
    },
}

#: Coverage per grid of each community on each date (units, covered); None is the "no grid" child.
GRID_COVERAGE: dict[date, dict[str, dict[str | None, dict[str, tuple[int, int]]]]] = {
    D1: {  # nothing but the areas: every grid 0 of 0, and no "no grid" child (no unit lies in none)
        A: {
            f"WG-{A}-01": {"compounds": (0, 0), "buildings": (0, 0), "groups": (0, 0), "households": (0, 0),
                           "propertyManaged": (0, 0), "membersReported": (0, 0)},
            f"WG-{A}-02": {"compounds": (0, 0), "buildings": (0, 0), "groups": (0, 0), "households": (0, 0),
                           "propertyManaged": (0, 0), "membersReported": (0, 0)},
        },
        B: {
            f"WG-{B}-01": {"compounds": (0, 0), "buildings": (0, 0), "groups": (0, 0), "households": (0, 0),
                           "propertyManaged": (0, 0), "membersReported": (0, 0)},
        },
    },
    D2: {
        A: {
            f"WG-{A}-01": {
                "compounds": (1, 1),  # XQ-A-01 y
                "buildings": (2, 2),  # LD-A-0001 y, LD-A-0002 y
                "groups": (1, 1),  # DXZ-A-0101 y (its branch DZB-A-01 covers grid A1)
                "households": (4, 3),  # 0001-101 y, 0001-102 y, 0002-102 y, 0002-101 n
                "propertyManaged": (1, 1),  # XQ-A-01 y
                "membersReported": (2, 2),  # DY-A-000001 (HU-A-0001-101) y, DY-A-000003 (HU-A-0002-101) y
            },
            f"WG-{A}-02": {
                "compounds": (1, 1),  # XQ-A-02 y (grid A2 <- DZB-A-02)
                "buildings": (1, 1),  # LD-A-0003 y (DXZ-A-0201)
                "groups": (1, 0),  # DXZ-A-0201 n (its branch DZB-A-02 covers grid A2)
                "households": (2, 0),  # 0003-101 n, 0003-102 n
                "propertyManaged": (1, 0),  # XQ-A-02 n
                "membersReported": (0, 0),  # DY-A-000004 lives here but is not in service
            },
        },
        B: {
            f"WG-{B}-01": {
                "compounds": (1, 0),  # XQ-B-01 n
                "buildings": (2, 1),  # LD-B-0002 y, LD-B-0001 n
                "groups": (0, 0),  # DXZ-B-0101's branch covers no grid
                "households": (4, 2),  # 0002-101 y, 0002-102 y, 0001-101 n, 0001-102 n
                "propertyManaged": (0, 0),  # XQ-B-01 not central; XQ-B-02 in no grid
                "membersReported": (2, 1),  # DY-B-000002 y, DY-B-000001 n (both homes in LD-B-000x, grid B1)
            },
            None: {
                "compounds": (1, 1),  # XQ-B-02 y (no grid_codes)
                "buildings": (0, 0),  # every building has a grid
                "groups": (1, 1),  # DXZ-B-0101 y
                "households": (0, 0),  # every building has a grid
                "propertyManaged": (1, 1),  # XQ-B-02 y
                "membersReported": (0, 0),  # every home has a grid
            },
        },
    },
    D3: {
        A: {
            f"WG-{A}-01": {
                "compounds": (1, 1),  # XQ-A-01 y
                "buildings": (2, 2),  # LD-A-0001 y, LD-A-0002 y
                "groups": (1, 1),  # DXZ-A-0101 y
                "households": (3, 2),  # 0001-101 y, 0001-102 y, 0002-101 n (0002-102 ended 2024-05-31)
                "propertyManaged": (1, 0),  # XQ-A-01 n (ended 2023-03-31)
                "membersReported": (1, 1),  # DY-A-000001 y (DY-A-000003 gone)
            },
            f"WG-{A}-02": {
                "compounds": (2, 1),  # XQ-A-03 y (DZB-A-03 directly), XQ-A-02 n
                "buildings": (2, 1),  # LD-A-0004 y (DXZ-A-0301), LD-A-0003 n
                "groups": (0, 0),  # DXZ-A-0201 ended; DXZ-A-0301 lies in no grid
                "households": (4, 2),  # 0004-101 y (AT), 0004-102 y, 0003-101 n, 0003-102 n
                "propertyManaged": (1, 1),  # XQ-A-02 y (XQ-A-03 not central)
                "membersReported": (0, 0),  # DY-A-000004 not in service
            },
            None: {
                "compounds": (0, 0),  # every compound of A has a grid
                "buildings": (0, 0),  # every building has a grid
                "groups": (1, 1),  # DXZ-A-0301 y: DZB-A-03 covers compound XQ-A-03, no grid
                "households": (0, 0),
                "propertyManaged": (0, 0),
                "membersReported": (0, 0),
            },
        },
        B: {
            f"WG-{B}-01": {
                "compounds": (1, 0),  # XQ-B-01 n
                "buildings": (2, 1),  # LD-B-0002 y, LD-B-0001 n
                "groups": (0, 0),
                "households": (4, 0),  # all four n
                "propertyManaged": (0, 0),
                "membersReported": (3, 1),  # DY-B-000001 y, DY-B-000002 n, DY-B-000007 n
            },
            None: {
                "compounds": (1, 1),  # XQ-B-02 y
                "buildings": (0, 0),
                "groups": (1, 0),  # DXZ-B-0101 n
                "households": (0, 0),
                "propertyManaged": (1, 1),  # XQ-B-02 y
                "membersReported": (0, 0),
            },
        },
    },
}  # fmt: skip

#: Every gap on each date, entity codes found by hand (sorted by code within a kind).
GAP_CODES: dict[date, dict[str, list[str]]] = {
    D1: {
        "compound_without_branch": [],  # no compound yet
        "building_without_group": [],  # no building yet
        "group_without_central_household": [],  # no group yet
        "household_without_central_household": [],  # no household yet
        "branch_under_three_full_members": [],  # no branch yet
        "branch_without_committee": [],  # no branch yet
        "expired_committee_term": [],  # no committee or branch yet
        "community_size_out_of_range": [A, B],  # 0 households each
        "compound_without_property_company": [],  # no compound yet
        "unit_never_reported": [],  # no membership in force (from 2016-06-01 / 2018-01-01)
        "member_never_reported": [],  # no member yet
        "need_unserved": [],  # no need raised yet
        "community_without_service_center": [A, B],  # centers from 2018-01-01 / 2022-10-01
    },
    D2: {
        "compound_without_branch": [f"XQ-{B}-01"],  # grid B1 has no branch
        "building_without_group": [f"LD-{B}-0001"],
        "group_without_central_household": [f"DXZ-{A}-0201"],
        "household_without_central_household": [
            f"HU-{A}-0002-101",
            f"HU-{A}-0003-101",
            f"HU-{A}-0003-102",
            f"HU-{B}-0001-101",
            f"HU-{B}-0001-102",
        ],
        # DZB-A-02 has 1 full member (DY-A-000004); DZB-A-01 has 3 (DY-A-000001..3); DZB-B-01 has 6 (DY-B-000001..6;
        # DY-B-000007 joins 2022-07-01, DY-B-000008 only since 2026)
        "branch_under_three_full_members": [f"DZB-{A}-02"],
        "branch_without_committee": [],  # DZB-B-01 has 6 < 7
        # SQDW-B-01: 2016-06-01 + 5 (default) = 2021-06-01 < D2. SQDW-A-01's term starts 2022-01-01 (after D2);
        # DZB-A-01 ends 2022-07-01, DZB-A-02 2023-01-01: not yet; DZB-B-01 has no term_start
        "expired_committee_term": [f"SQDW-{B}-01"],
        "community_size_out_of_range": [A, B],  # 6 and 4 households
        "compound_without_property_company": [f"XQ-{A}-02"],  # its service starts 2024-01-01
        "unit_never_reported": [UNIT_2],  # member of DGW since 2018, reports 2022-05-01; UNIT_1 reported;
        #                                   UNIT_3's membership ended 2020-12-31
        "member_never_reported": [f"DY-{B}-000001"],  # reports 2023-03-01
        "need_unserved": [f"XU-{A}-000001"],  # raised 2020-05-01, served 2022-03-01; XU-B-000002 withdrawn 2020-12-31
        "community_without_service_center": [B],  # DQZX-B-01 from 2022-10-01
    },
    D3: {
        "compound_without_branch": [f"XQ-{A}-02", f"XQ-{B}-01"],  # DZB-A-02 dissolved 2023-12-31; grid B1 none
        "building_without_group": [f"LD-{A}-0003", f"LD-{B}-0001"],  # DXZ-A-0201 ended 2023-12-31
        "group_without_central_household": [f"DXZ-{B}-0101"],  # ZXH-B-0101001 ended 2022-12-31
        "household_without_central_household": [
            f"HU-{A}-0002-101",
            f"HU-{A}-0003-101",
            f"HU-{A}-0003-102",
            f"HU-{B}-0001-101",
            f"HU-{B}-0001-102",
            f"HU-{B}-0002-101",  # its central household ended 2022-12-31
            f"HU-{B}-0002-102",  # contacted by the one that ended
        ],
        # DZB-A-01: 2 (DY-A-000003 transferred out 2023-06-30); DZB-A-03: 0; DZB-A-02 dissolved (not counted);
        # DZB-B-01: 7 (DY-B-000001..7; DY-B-000008 is 预备)
        "branch_under_three_full_members": [f"DZB-{A}-01", f"DZB-{A}-03"],
        "branch_without_committee": [f"DZB-{B}-01"],  # 7 full members, has_committee 否
        # SQDW-B-01 (2021-06-01); DZB-A-01 (2017-07-01 + 5 = 2022-07-01). Not: SQDW-A-01 (to 2027-01-01),
        # DZB-A-03 (to 2027-03-01), DZB-A-02 (expired 2023-01-01 but dissolved), DZB-B-01 (no term_start)
        "expired_committee_term": [f"DZB-{A}-01", f"SQDW-{B}-01"],
        "community_size_out_of_range": [A, B],  # 7 and 4 households
        "compound_without_property_company": [f"XQ-{A}-01"],  # COMPANY_1's service ended 2023-03-31
        "unit_never_reported": [UNIT_1],  # its report ended 2024-12-31; UNIT_2 reported 2022-05-01
        "member_never_reported": [f"DY-{B}-000002", f"DY-{B}-000007"],  # report ended 2022-12-31; joined 2022
        "need_unserved": [f"XU-{B}-000001"],  # raised 2025-04-01; XU-A-000001 served 2022-03-01
        "community_without_service_center": [],  # both have one
    },
}

#: Gaps per kind on each date, counted by hand (the lengths of GAP_CODES' lists, written out).
GAPS: dict[date, dict[str, int]] = {
    D1: {
        "compound_without_branch": 0,  # nothing but the areas is in force
        "building_without_group": 0,
        "group_without_central_household": 0,
        "household_without_central_household": 0,
        "branch_under_three_full_members": 0,
        "branch_without_committee": 0,
        "expired_committee_term": 0,
        "community_size_out_of_range": 2,  # A, B: 0 households each
        "compound_without_property_company": 0,
        "unit_never_reported": 0,  # no membership in force yet
        "member_never_reported": 0,
        "need_unserved": 0,
        "community_without_service_center": 2,  # A, B
    },
    D2: {
        "compound_without_branch": 1,  # XQ-B-01
        "building_without_group": 1,  # LD-B-0001
        "group_without_central_household": 1,  # DXZ-A-0201
        "household_without_central_household": 5,  # A: 0002-101, 0003-101, 0003-102; B: 0001-101, 0001-102
        "branch_under_three_full_members": 1,  # DZB-A-02 (1 full member)
        "branch_without_committee": 0,  # DZB-B-01 has 6
        "expired_committee_term": 1,  # SQDW-B-01
        "community_size_out_of_range": 2,  # A (6), B (4)
        "compound_without_property_company": 1,  # XQ-A-02
        "unit_never_reported": 1,  # UNIT_2
        "member_never_reported": 1,  # DY-B-000001
        "need_unserved": 1,  # XU-A-000001
        "community_without_service_center": 1,  # B
    },
    D3: {
        "compound_without_branch": 2,  # XQ-A-02, XQ-B-01
        "building_without_group": 2,  # LD-A-0003, LD-B-0001
        "group_without_central_household": 1,  # DXZ-B-0101
        "household_without_central_household": 7,  # A: 0002-101, 0003-101, 0003-102; B: all four
        "branch_under_three_full_members": 2,  # DZB-A-01 (2), DZB-A-03 (0)
        "branch_without_committee": 1,  # DZB-B-01 (7)
        "expired_committee_term": 2,  # SQDW-B-01, DZB-A-01
        "community_size_out_of_range": 2,  # A (7), B (4)
        "compound_without_property_company": 1,  # XQ-A-01
        "unit_never_reported": 1,  # UNIT_1
        "member_never_reported": 2,  # DY-B-000002, DY-B-000007
        "need_unserved": 1,  # XU-B-000001
        "community_without_service_center": 0,
    },
}
