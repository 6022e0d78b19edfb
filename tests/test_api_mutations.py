"""Mutations on the small city: the loader's checks, the audit log, and coverage that follows every change."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from httpx import AsyncClient

from tests.helpers import SUITE_ADMIN, data_of

TOMORROW = (date.today() + timedelta(days=1)).isoformat()
#: A claimed actor, as clients once sent it: ignored now, the actor is the signed-in account.
CLAIMED = {"X-Grassroots-User": quote("市委组织部部长")}
COUNTS = "query($scope: String!) { gaps(scope: $scope, first: 0) { counts { kind count } } }"
COVERAGE = "query($scope: String!) { coverage(scope: $scope) { scope { figures { metric units covered } } } }"


async def post(client: AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=CLAIMED)
    assert response.status_code == 200
    return response.json()


async def gap_counts(client: AsyncClient, scope: str) -> dict[str, int]:
    result = await data_of(client, COUNTS, scope=scope)
    return {c["kind"]: c["count"] for c in result["gaps"]["counts"]}


async def covered(client: AsyncClient, scope: str, metric: str) -> int:
    figures = (await data_of(client, COVERAGE, scope=scope))["coverage"]["scope"]["figures"]
    return next(f["covered"] for f in figures if f["metric"] == metric)


CREATE_BRANCH = """
mutation($input: GridBranchInput!) {
  createGridBranch(input: $input) { auditId actor action type code before after }
}"""


async def test_a_bad_organization_is_refused_with_the_loaders_reasons_and_nothing_is_written(
    client: AsyncClient, small: dict[str, Any]
) -> None:
    bad = {"code": "DZB-420602001001-99", "name": "新支部", "committeeCode": "SQDW-420602001001-77",
           "termStart": "2030-01-01", "termYears": 40}  # fmt: skip
    body = await post(client, CREATE_BRANCH, input=bad)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "SQDW-420602001001-77" in error["message"]  # the unknown parent is named
    assert "term_years" in error["message"] or "任期" in error["message"]
    found = await data_of(client, '{ entity(code: "DZB-420602001001-99") { code } }')
    assert found["entity"] is None
    log = await data_of(client, '{ auditLog(code: "DZB-420602001001-99") { id } }')
    assert log["auditLog"] == []


async def test_a_new_branch_over_a_bare_compound_closes_its_gap_and_is_audited(
    client: AsyncClient, small: dict[str, Any]
) -> None:
    rows = small["data"].rows
    city = rows["City"][0]["code"]
    covered_compounds = {c for b in rows["GridBranch"] for c in b["compound_codes"].split(";") if c}
    covered_grids = {g for b in rows["GridBranch"] for g in b["grid_codes"].split(";") if g}
    bare = next(
        c for c in rows["Compound"]
        if c["code"] not in covered_compounds and not set(c["grid_codes"].split(";")) & covered_grids
    )  # fmt: skip
    community = bare["community_code"]
    committee = next(cc["code"] for cc in rows["CommunityCommittee"] if cc["community_code"] == community)
    before_gaps = await gap_counts(client, city)
    before_covered = await covered(client, community, "compounds")
    code = f"DZB-{community}-88"
    branch_input = {"code": code, "name": "新建小区党支部", "committeeCode": committee,
                    "compoundCodes": [bare["code"]], "termStart": "2025-01-01"}  # fmt: skip
    created = await post(client, CREATE_BRANCH, input=branch_input)
    assert "errors" not in created, created
    result = created["data"]["createGridBranch"]
    assert result["actor"] == SUITE_ADMIN  # the account signed in, not the header's claim
    assert result["before"] is None
    assert result["after"]["compound_codes"] == [bare["code"]]
    after_gaps = await gap_counts(client, city)
    assert after_gaps["compound_without_branch"] == before_gaps["compound_without_branch"] - 1
    assert await covered(client, community, "compounds") == before_covered + 1
    assert await covered(client, city, "compounds") == (await covered(client, city, "compounds"))  # rollup stable
    chain = await data_of(client, '{ responsibilityChain(code: "%s") { links { level organization { code } } } }'
                          % bare["code"])  # fmt: skip
    branch = next(link for link in chain["responsibilityChain"]["links"] if link["level"] == "GRID_BRANCH")
    assert branch["organization"]["code"] == code

    # update only the name: the links stay
    updated = await post(client, "mutation($i: GridBranchInput!) { updateGridBranch(input: $i) { before after } }",
                         i={"code": code, "name": "改名后的支部"})  # fmt: skip
    assert "errors" not in updated, updated
    change = updated["data"]["updateGridBranch"]
    assert change["before"]["name"] == "新建小区党支部"
    assert change["after"]["name"] == "改名后的支部"
    assert change["after"]["compound_codes"] == [bare["code"]]

    # removing it reopens the gap; the log has all three, newest first
    removed = await post(client, 'mutation { removeGridBranch(code: "%s") { after } }' % code)
    assert removed["data"]["removeGridBranch"]["after"] is None
    assert (await gap_counts(client, city))["compound_without_branch"] == before_gaps["compound_without_branch"]
    log = (await data_of(client, '{ auditLog(code: "%s") { action actor } }' % code))["auditLog"]
    assert [e["action"] for e in log] == ["remove GridBranch", "update GridBranch", "create GridBranch"]
    assert {e["actor"] for e in log} == {SUITE_ADMIN}


async def test_an_organization_with_members_cannot_be_removed(client: AsyncClient, small: dict[str, Any]) -> None:
    branch = small["data"].rows["BuildingGroup"][0]["branch_code"]
    body = await post(client, 'mutation { removeGridBranch(code: "%s") { after } }' % branch)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "BuildingGroup" in body["errors"][0]["message"]
    assert (await data_of(client, '{ entity(code: "%s") { code } }' % branch))["entity"] is not None


async def test_moving_a_building_and_designating_a_central_household(
    client: AsyncClient, small: dict[str, Any]
) -> None:
    rows = small["data"].rows
    groups = rows["BuildingGroup"]
    source = next(g for g in groups if ";" in g["building_codes"])
    building = source["building_codes"].split(";")[0]
    target = next(g for g in groups if g["branch_code"] == source["branch_code"] and g["code"] != source["code"])
    moved = await post(client, 'mutation { moveBuilding(building: "%s", toGroup: "%s") { before after } }'
                       % (building, target["code"]))  # fmt: skip
    assert "errors" not in moved, moved
    assert moved["data"]["moveBuilding"]["before"] == {"groups": [source["code"]]}
    groups_now = await data_of(client, '{ building(code: "%s") { buildingGroups { code } } }' % building)
    assert [g["code"] for g in groups_now["building"]["buildingGroups"]] == [target["code"]]

    # a household with no central household gets one, then loses it again
    city = rows["City"][0]["code"]
    homes = {c["household_code"] for c in rows["CentralHousehold"]}
    lonely = next(h for h in rows["Household"] if not h["central_household_code"] and h["code"] not in homes)
    group = next(g["code"] for g in groups if lonely["building_code"] in g["building_codes"].split(";"))
    before = (await gap_counts(client, city))["household_without_central_household"]
    code = f"ZXH-{lonely['code'][3:15]}-9999001"
    designated = await post(
        client,
        "mutation($i: CentralHouseholdInput!) { designateCentralHousehold(input: $i) { code } }",
        i={
            "code": code,
            "name": "新中心户",
            "groupCode": group,
            "householdCode": lonely["code"],
            "since": "2026-01-01",
        },
    )
    assert "errors" not in designated, designated
    assert (await gap_counts(client, city))["household_without_central_household"] == before - 1
    revoked = await post(client, 'mutation { revokeCentralHousehold(code: "%s") { action } }' % code)
    assert revoked["data"]["revokeCentralHousehold"]["action"] == "remove CentralHousehold"
    assert (await gap_counts(client, city))["household_without_central_household"] == before


async def test_recording_a_report_and_a_service(client: AsyncClient, small: dict[str, Any]) -> None:
    rows = small["data"].rows
    city = rows["City"][0]["code"]
    reported = {r["unit_code"] for r in rows["UnitReport"]}
    membership = next(m for m in rows["UnitMembership"] if m["unit_code"] not in reported)
    community = membership["committee_code"][5:17]
    before = await gap_counts(client, city)
    report = await post(
        client,
        "mutation($i: UnitReportInput!) { recordUnitReport(input: $i) { type after } }",
        i={
            "unitCode": membership["unit_code"],
            "communityCode": community,
            "date": "2026-03-01",
            "receiptReturned": True,
        },
    )
    assert "errors" not in report, report
    assert report["data"]["recordUnitReport"]["type"] == "UnitReport"
    after = await gap_counts(client, city)
    assert after["unit_never_reported"] == before["unit_never_reported"] - 1
    served = {s["need_code"] for s in rows["Service"]}
    need = next(n for n in rows["Need"] if n["code"] not in served)
    service = await post(
        client,
        "mutation($i: ServiceInput!) { recordService(input: $i) { code } }",
        i={"code": f"FW-{need['community_code']}-999999", "title": "上门维修", "date": "2026-04-01", "hours": 2,
           "communityCode": need["community_code"], "providerCode": membership["unit_code"], "needCode": need["code"]},
    )  # fmt: skip
    assert "errors" not in service, service
    assert (await gap_counts(client, city))["need_unserved"] == before["need_unserved"] - 1
    future = await post(
        client,
        "mutation($i: ServiceInput!) { recordService(input: $i) { code } }",
        i={"code": f"FW-{need['community_code']}-999998", "title": "x", "date": TOMORROW, "hours": 30,
           "communityCode": need["community_code"], "providerCode": membership["unit_code"]},
    )  # fmt: skip
    message = future["errors"][0]["message"]
    assert "日期不能晚于今天" in message
    assert "above 24" in message
