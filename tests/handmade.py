"""A hand-made street of two communities, small enough that every figure below was counted by hand.

檀溪社区 A (420602001001): grids A1, A2; compounds A-01 (grid A1), A-02 (grid A2); buildings
A-0001, A-0002 (A1, compound A-01), A-0003 (A2, compound A-02); two households per building.
Branch DZB-A-01 covers grid A1 (so compound A-01, not A-02); its group DXZ-A-0101 covers
buildings A-0001 and A-0002 and has one central household at HU-A-0001-101, which also keeps in
touch with HU-A-0001-102 and HU-A-0002-101.

昭明社区 B (420602001002): grid B1; compounds B-01 (grid B1), B-02 (no grid); buildings B-0001
(B1, B-01), B-0002 (B1, B-02); two households each. Branch DZB-B-01 covers compound B-02
directly (not grid B1); its group DXZ-B-0101 covers building B-0002 and has no central household.
"""

from __future__ import annotations

from datetime import date

from core.codes import uscc_check_char
from loaders.demo import Dataset

AS_OF = date(2026, 11, 27)  # the date every figure below is counted on
A, B = "420602001001", "420602001002"


def _uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


UNIT_1 = _uscc("91420600MA0000001")  # member unit of 檀溪's committee; reported to 檀溪
UNIT_2 = _uscc("91420600MA0000002")  # member unit of the street's working committee; never reported
COMPANY = _uscc("91420600MA0000009")


def dataset() -> Dataset:
    """The hand-made street as generator rows (written to a workbook by the tests)."""
    ds = Dataset("handmade", 0, AS_OF)
    add = ds.add
    add("City", code="420600000000", name="襄阳市")
    add("District", code="420602000000", name="襄城区", city_code="420600000000")
    add("Street", code="420602001000", name="古城街道", district_code="420602000000")
    add("Community", code=A, name="檀溪社区", central_city="是", street_code="420602001000")
    add("Community", code=B, name="昭明社区", central_city="是", street_code="420602001000")
    for grid, community in ((f"WG-{A}-01", A), (f"WG-{A}-02", A), (f"WG-{B}-01", B)):
        add("Grid", code=grid, name=grid[-2:] + "网格", community_code=community)
    for code, community, central, grids in (
        (f"XQ-{A}-01", A, "是", f"WG-{A}-01"),
        (f"XQ-{A}-02", A, "是", f"WG-{A}-02"),
        (f"XQ-{B}-01", B, "否", f"WG-{B}-01"),
        (f"XQ-{B}-02", B, "", ""),  # central city by inheritance: community B is
    ):
        add("Compound", code=code, name="小区" + code[-5:], address="", central_city=central, community_code=community,
            grid_codes=grids)  # fmt: skip
    buildings = (
        (f"LD-{A}-0001", f"WG-{A}-01", f"XQ-{A}-01"),
        (f"LD-{A}-0002", f"WG-{A}-01", f"XQ-{A}-01"),
        (f"LD-{A}-0003", f"WG-{A}-02", f"XQ-{A}-02"),
        (f"LD-{B}-0001", f"WG-{B}-01", f"XQ-{B}-01"),
        (f"LD-{B}-0002", f"WG-{B}-01", f"XQ-{B}-02"),
    )
    contacted = {f"HU-{A}-0001-102", f"HU-{A}-0002-101"}
    for code, grid, compound in buildings:
        add("Building", code=code, name=code[-4:] + "栋", floors=6, units=1, grid_code=grid, compound_code=compound)
        for room in ("101", "102"):
            household = f"HU-{code[3:]}-{room}"
            central = f"ZXH-{A}-0101001" if household in contacted else ""
            add("Household", code=household, unit="1", room=room, size=3, building_code=code,
                central_household_code=central)  # fmt: skip
    add("StreetWorkingCommittee", code="DGW-420602001000-01", name="古城街道大工委", street_code="420602001000")
    add("CommunityCommittee", code=f"SQDW-{A}-01", name="檀溪社区党委", widened="是", term_start=date(2019, 1, 1),
        term_years=5, community_code=A, working_committee_code="DGW-420602001000-01")  # fmt: skip
    add("CommunityCommittee", code=f"SQDW-{B}-01", name="昭明社区党委", widened="是", term_start=date(2024, 1, 1),
        term_years=5, community_code=B, working_committee_code="DGW-420602001000-01")  # fmt: skip
    add("GridBranch", code=f"DZB-{A}-01", name="檀溪第1网格党支部", dual_report="是", has_committee="否",
        term_start=date(2020, 6, 1), term_years=5, committee_code=f"SQDW-{A}-01", grid_codes=f"WG-{A}-01",
        compound_codes="")  # fmt: skip
    add("GridBranch", code=f"DZB-{B}-01", name="昭明小区党支部", dual_report="是", has_committee="否",
        term_start=date(2025, 1, 1), term_years=5, committee_code=f"SQDW-{B}-01", grid_codes="",
        compound_codes=f"XQ-{B}-02")  # fmt: skip
    add("BuildingGroup", code=f"DXZ-{A}-0101", name="第1党小组", branch_code=f"DZB-{A}-01",
        building_codes=f"LD-{A}-0001;LD-{A}-0002")  # fmt: skip
    add("BuildingGroup", code=f"DXZ-{B}-0101", name="第1党小组", branch_code=f"DZB-{B}-01",
        building_codes=f"LD-{B}-0002")  # fmt: skip
    add("CentralHousehold", code=f"ZXH-{A}-0101001", name="101党员中心户", since=date(2025, 3, 1),
        group_code=f"DXZ-{A}-0101", household_code=f"HU-{A}-0001-101")  # fmt: skip
    add("Unit", credit_code=UNIT_1, name="襄城区税务局", kind="机关", address="")
    add("Unit", credit_code=UNIT_2, name="古城供电所", kind="企事业单位", address="")
    # members: 2 full members in A's branch, 7 in B's; M1 and M3 work (in service); M1 reported
    homes_a = [f"HU-{A}-0001-101", f"HU-{A}-0003-101"]
    homes_b = [f"HU-{B}-0001-101", f"HU-{B}-0001-102", f"HU-{B}-0002-101", f"HU-{B}-0002-102"]
    members = [(f"DY-{A}-{i:06d}", f"DZB-{A}-01", homes_a[i - 1]) for i in (1, 2)]
    members += [(f"DY-{B}-{i:06d}", f"DZB-{B}-01", homes_b[(i - 3) % 4]) for i in range(3, 10)]
    for n, (code, branch, home) in enumerate(members, start=1):
        add("PartyMember", code=code, name=f"党员{n}", id_number="", status="正式党员",
            in_service="是" if n in (1, 3) else "否", joined_at=date(2000, 7, 1), phone="", branch_code=branch,
            household_code=home, unit_code=UNIT_1 if n in (1, 3) else "")  # fmt: skip
    add("Role", member_code=f"DY-{A}-000001", organization_code=f"DZB-{A}-01", role="书记", since=date(2020, 6, 1),
        until="")  # fmt: skip
    add("Role", member_code=f"DY-{A}-000002", organization_code=f"DXZ-{A}-0101", role="组长", since=date(2020, 6, 1),
        until="")  # fmt: skip
    add("ResidentsCommittee", code=f"JWH-{A}-01", name="檀溪居委会", community_code=A)
    add("PropertyCompany", credit_code=COMPANY, name="古城物业")
    add("ServiceCenter", code=f"DQZX-{A}-01", name="檀溪党群服务中心", area_m2=300, community_code=A)
    add("Need", code=f"XU-{A}-000001", title="路灯维修", category="民生", raised_at=date(2026, 1, 5), community_code=A,
        claimed_by_code=UNIT_1)  # fmt: skip
    add("Need", code=f"XU-{B}-000001", title="助老", category="民生", raised_at=date(2026, 2, 5), community_code=B,
        claimed_by_code="")  # fmt: skip
    add("Service", code=f"FW-{A}-000001", title="路灯维修服务", date=date(2026, 1, 9), hours=2, community_code=A,
        provider_code=UNIT_1, need_code=f"XU-{A}-000001")  # fmt: skip
    add("UnitMembership", unit_code=UNIT_1, committee_code=f"SQDW-{A}-01", since=date(2024, 1, 1), until="")
    add("UnitMembership", unit_code=UNIT_2, committee_code="DGW-420602001000-01", since=date(2024, 1, 1), until="")
    add("UnitReport", unit_code=UNIT_1, community_code=A, date=date(2024, 3, 1), receipt_returned="是")
    add("MemberReport", member_code=f"DY-{A}-000001", community_code=A, date=date(2024, 4, 1), receipt_returned="是")
    add("PropertyService", company_code=COMPANY, compound_code=f"XQ-{A}-01", since=date(2020, 1, 1), until="")
    add("PropertyService", company_code=COMPANY, compound_code=f"XQ-{A}-02", since=date(2020, 1, 1),
        until=date(2025, 1, 1))  # fmt: skip
    return ds


#: Gaps, counted by hand (see the module docstring):
GAPS = {
    "compound_without_branch": 2,  # A-02 (grid A2 has no branch), B-01 (grid B1 has none; the branch covers B-02)
    "building_without_group": 2,  # A-0003, B-0001
    "group_without_central_household": 1,  # DXZ-B-0101
    "household_without_central_household": 7,  # 10 households; 3 linked (one is the central household's home)
    "branch_under_three_full_members": 1,  # DZB-A-01 has 2 full members
    "branch_without_committee": 1,  # DZB-B-01 has 7 and no committee
    "expired_committee_term": 2,  # 檀溪's committee (2019 + 5 = 2024) and DZB-A-01 (2020-06 + 5 = 2025-06)
    "community_size_out_of_range": 2,  # 6 and 4 households
    "compound_without_property_company": 2,  # A-02 (service ended 2025-01-01), B-02 (none); B-01 is not central
    "unit_never_reported": 1,  # UNIT_2
    "member_never_reported": 1,  # M3 works and never reported
    "need_unserved": 1,  # 昭明's need
    "community_without_service_center": 1,  # 昭明
}

#: Coverage per community (units, covered), counted by hand.
COVERAGE = {
    A: {"compounds": (2, 1), "buildings": (3, 2), "groups": (1, 1), "households": (6, 3), "propertyManaged": (2, 1),
        "serviceCenters": (1, 1), "partnerReported": (1, 1), "membersReported": (1, 1)},
    B: {"compounds": (2, 1), "buildings": (2, 1), "groups": (1, 0), "households": (4, 0), "propertyManaged": (1, 0),
        "serviceCenters": (1, 0), "partnerReported": (1, 0), "membersReported": (1, 0)},
}  # fmt: skip

#: Coverage per grid of each community (units, covered); None is the "no grid" child.
GRID_COVERAGE = {
    A: {
        f"WG-{A}-01": {"compounds": (1, 1), "buildings": (2, 2), "groups": (1, 1), "households": (4, 3),
                       "propertyManaged": (1, 1), "membersReported": (1, 1)},
        f"WG-{A}-02": {"compounds": (1, 0), "buildings": (1, 0), "groups": (0, 0), "households": (2, 0),
                       "propertyManaged": (1, 0), "membersReported": (0, 0)},
    },
    B: {
        f"WG-{B}-01": {"compounds": (1, 0), "buildings": (2, 1), "groups": (0, 0), "households": (4, 0),
                       "propertyManaged": (0, 0), "membersReported": (1, 0)},
        None: {"compounds": (1, 1), "buildings": (0, 0), "groups": (1, 0), "households": (0, 0),
               "propertyManaged": (1, 0), "membersReported": (0, 0)},
    },
}  # fmt: skip

S = "420602001000"
DGW = "DGW-420602001000-01"
#: Every gap, found by hand from the rules of docs/model.md, in the order the gaps API lists them (kind,
#: then rule, then entity code): (entity code, street, community, grid, compound, responsible organization).
GAP_ROWS: dict[str, list[tuple[str, str | None, str | None, str | None, str | None, str]]] = {
    "compound_without_branch": [  # path: the compound's grid; the community's committee acts
        (f"XQ-{A}-02", S, A, f"WG-{A}-02", f"XQ-{A}-02", f"SQDW-{A}-01"),
        (f"XQ-{B}-01", S, B, f"WG-{B}-01", f"XQ-{B}-01", f"SQDW-{B}-01"),
    ],
    "building_without_group": [  # no branch covers grid A2 or B1: the community's committee acts
        (f"LD-{A}-0003", S, A, f"WG-{A}-02", f"XQ-{A}-02", f"SQDW-{A}-01"),
        (f"LD-{B}-0001", S, B, f"WG-{B}-01", f"XQ-{B}-01", f"SQDW-{B}-01"),
    ],
    "group_without_central_household": [  # DZB-B-01 covers no grid, so the group has none
        (f"DXZ-{B}-0101", S, B, None, None, f"DZB-{B}-01"),
    ],
    "household_without_central_household": [  # the building's group, else the community's committee
        (f"HU-{A}-0002-102", S, A, f"WG-{A}-01", f"XQ-{A}-01", f"DXZ-{A}-0101"),
        (f"HU-{A}-0003-101", S, A, f"WG-{A}-02", f"XQ-{A}-02", f"SQDW-{A}-01"),
        (f"HU-{A}-0003-102", S, A, f"WG-{A}-02", f"XQ-{A}-02", f"SQDW-{A}-01"),
        (f"HU-{B}-0001-101", S, B, f"WG-{B}-01", f"XQ-{B}-01", f"SQDW-{B}-01"),
        (f"HU-{B}-0001-102", S, B, f"WG-{B}-01", f"XQ-{B}-01", f"SQDW-{B}-01"),
        (f"HU-{B}-0002-101", S, B, f"WG-{B}-01", f"XQ-{B}-02", f"DXZ-{B}-0101"),
        (f"HU-{B}-0002-102", S, B, f"WG-{B}-01", f"XQ-{B}-02", f"DXZ-{B}-0101"),
    ],
    "branch_under_three_full_members": [(f"DZB-{A}-01", S, A, f"WG-{A}-01", None, f"SQDW-{A}-01")],
    "branch_without_committee": [(f"DZB-{B}-01", S, B, None, None, f"SQDW-{B}-01")],
    "expired_committee_term": [  # the community committees' rule comes before the branches'
        (f"SQDW-{A}-01", S, A, None, None, DGW),
        (f"DZB-{A}-01", S, A, f"WG-{A}-01", None, f"SQDW-{A}-01"),
    ],
    "community_size_out_of_range": [(A, S, A, None, None, DGW), (B, S, B, None, None, DGW)],
    "compound_without_property_company": [  # B-02 lies in no grid
        (f"XQ-{A}-02", S, A, f"WG-{A}-02", f"XQ-{A}-02", f"SQDW-{A}-01"),
        (f"XQ-{B}-02", S, B, None, f"XQ-{B}-02", f"SQDW-{B}-01"),
    ],
    "unit_never_reported": [(UNIT_2, None, None, None, None, DGW)],  # a unit lies in no area
    "member_never_reported": [(f"DY-{B}-000003", S, B, f"WG-{B}-01", None, f"DZB-{B}-01")],  # lives in B-0001
    "need_unserved": [(f"XU-{B}-000001", S, B, None, None, f"SQDW-{B}-01")],
    "community_without_service_center": [(B, S, B, None, None, DGW)],
}
