"""How we know it holds (issue 21): every read, walked from the schema itself, shows a caller nothing of an
area it may not read.

A city of two streets is generated and loaded, with links across every pair of communities (`bridges`); three
callers — a street's viewer, a community's editor in the other street, a grid's viewer — call every root
Query field with arguments from their own area, from the areas above it and from other areas, each selecting
every field within `walk.DEPTH` (built from introspection, so a field added tomorrow is walked the day it is
added). No answer may hold the code of an area the caller may not read, nor any code inside one, and an area
above it shows only its code and name (`tests/walk.py`). Mutations are not walked here
(`test_access_mutations.py`); the audit log is, with edits in every community made first.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from starlette.applications import Starlette

from core.codes import own_code_area
from core.privacy import mask_text
from graph.driver import Graph
from graph.migrations import migrate
from graph.settings import Settings
from loaders.demo import Dataset, Profile, dataset_to_xlsx, generate, write_demo
from loaders.history import record_load
from loaders.load import load_file
from tests import walk as w
from tests.helpers import SUITE_ADMIN, bearer, clear, data_of, ensure_account, make_settings

#: The small demo city's sizes, its four communities in two streets (the small city has one street).
TWO_STREETS = Profile("two-streets", 1, 1, 2, 4, 18, 16, 12, 5, 600)
SEED = 3
#: Page sizes and drawing budgets every call uses (bounded, yet past the first page).
FIXED = {"first": 100, "depth": 4, "maxNodes": 200, "households": True}

RENAME = "mutation($i: GridBranchInput!) { updateGridBranch(input: $i) { code } }"
REPORT = "mutation($i: UnitReportInput!) { recordUnitReport(input: $i) { code } }"
PHONE = "query($c: String!) { partyMember(code: $c) { phone } }"
SERVICE = "mutation($i: ServiceInput!) { recordService(input: $i) { code } }"
MEMBER_REPORT = "mutation($i: MemberReportInput!) { recordMemberReport(input: $i) { code } }"
ACCOUNT = "mutation($l: String!, $s: String!) { addAccount(login: $l, role: viewer, scope: $s) { password } }"


#: The local part of the code of each community's member living outside the loaded area (issue 25).
ELSEWHERE = "990001"
#: Their home address: personal data, masked for a caller not granted it.
ADDRESS = "湖北省襄阳市襄城区檀溪路8号2单元"


def bridges(rows: dict[str, list[dict[str, Any]]]) -> Dataset:
    """Links across every pair of communities, which the model allows and the generator does not make: the
    first member of each community holds a role in the others' committees and branches (and in the other
    street's working committee), reports to them, serves, claims a need and offers a resource there; every
    unit is a member unit of every committee (the streets' too) and reports to every community — but a unit
    that never reported stays so. And a member living elsewhere in each community (`elsewhere`)."""
    ds = Dataset("bridges", SEED, date.today())
    day = date.today() - timedelta(days=30)
    communities = [c["code"] for c in rows["Community"]]
    member = {c: next(m["code"] for m in rows["PartyMember"] if own_code_area(m["code"]) == c) for c in communities}
    committee = {c["community_code"]: c["code"] for c in rows["CommunityCommittee"]}
    branch = {c: next(b["code"] for b in rows["GridBranch"] if own_code_area(b["code"]) == c) for c in communities}
    elsewhere(ds, communities, branch, committee, day)
    streets = {c["code"]: c["street_code"] for c in rows["Community"]}
    for a in communities:
        for street in rows["StreetWorkingCommittee"]:
            if street["street_code"] != streets[a]:
                ds.add("Role", member_code=member[a], organization_code=street["code"], role="委员", since=day)
    for i, a in enumerate(communities):
        for j, b in enumerate(communities):
            if a == b:
                continue
            who, own = member[a], f"9{i:02d}{j:03d}"
            for org in (committee[b], branch[b]):
                ds.add("Role", member_code=who, organization_code=org, role="委员", since=day)
            ds.add("MemberReport", member_code=who, community_code=b, date=day, receipt_returned="是")
            ds.add("Service", code=f"FW-{b}-{own}", title="跨社区服务", date=day, hours=2.0, community_code=b,
                   provider_code=who)  # fmt: skip
            ds.add("Need", code=f"XU-{b}-{own}", title="跨社区需求", category="民生", raised_at=day, community_code=b,
                   claimed_by_code=who)  # fmt: skip
            ds.add("Resource", code=f"ZY-{b}-{own}", title="跨社区资源", category="志愿服务", community_code=b,
                   provider_code=who)  # fmt: skip
    reported = {r["unit_code"] for r in rows["UnitReport"]}
    committees = [c["code"] for c in rows["CommunityCommittee"] + rows["StreetWorkingCommittee"]]
    for unit in (u["credit_code"] for u in rows["Unit"]):
        for org in committees:
            if not any(m["unit_code"] == unit and m["committee_code"] == org for m in rows["UnitMembership"]):
                ds.add("UnitMembership", unit_code=unit, committee_code=org, since=day)
        if unit in reported:
            for c in communities:
                if not any(r["unit_code"] == unit and r["community_code"] == c for r in rows["UnitReport"]):
                    ds.add("UnitReport", unit_code=unit, community_code=c, date=day, receipt_returned="是")
    return ds


def elsewhere(ds: Dataset, communities: list[str], branch: dict[str, str], committee: dict[str, str],
              day: date) -> None:  # fmt: skip
    """In every community a member with no household and a home address: in every other community placed by its
    branch, else by the community's code alone; each is a committee member of its own community and of the
    next (a head living in another area, whom that area's readers must not see)."""
    for i, community in enumerate(communities):
        code = f"DY-{community}-{ELSEWHERE}"
        by_branch = branch[community] if i % 2 == 0 else ""
        ds.add("PartyMember", code=code, name="异地党员", id_number="", status="正式党员", in_service="否",
               joined_at=date(2010, 7, 1), phone="", address=ADDRESS, branch_code=by_branch, household_code="",
               unit_code="", community_code="" if by_branch else community)  # fmt: skip
        for org in (committee[community], committee[communities[(i + 1) % len(communities)]]):
            ds.add("Role", member_code=code, organization_code=org, role="委员", since=day)


#: The walk reads every field four levels deep, one document per root field: thousands of tokens, hundreds of
#: aliases, costs far over a request's budget. It runs on an app of its own with the request limits opened
#: (schema/limits.py): what it checks is access, not size.
WIDE_OPEN = {
    "GRASSROOTS_MAX_TOKENS": 1_000_000,
    "GRASSROOTS_MAX_ALIASES": 1_000_000,
    "GRASSROOTS_MAX_DEPTH": 50,
    "GRASSROOTS_MAX_LIST_ITEMS": 1_000_000,
    "GRASSROOTS_MAX_COST": 10**15,
    "GRASSROOTS_COST_PER_MINUTE": 0,
}


@pytest.fixture(scope="module")
async def walk_app(settings: Settings, app: Starlette) -> AsyncIterator[Starlette]:
    """The app as the suite serves it (the suite's admin made by `app`), with the request limits opened."""
    from server import create_app

    opened = make_settings(NEO4J_URI=settings.neo4j_uri, GRASSROOTS_DATA_DIR=str(settings.data_dir), **WIDE_OPEN)
    application = create_app(opened)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="module")
async def client(walk_app: Starlette, settings: Settings) -> AsyncIterator[AsyncClient]:
    """The suite's admin on the walk's app (in place of conftest's `client`)."""
    async with AsyncClient(transport=ASGITransport(app=walk_app), base_url="http://test",
                           headers=bearer(settings, SUITE_ADMIN)) as http:  # fmt: skip
        yield http


@pytest.fixture(scope="module")
async def anonymous(walk_app: Starlette) -> AsyncIterator[AsyncClient]:
    """No credentials, on the walk's app (in place of conftest's `anonymous`)."""
    async with AsyncClient(transport=ASGITransport(app=walk_app), base_url="http://test") as http:
        yield http


@pytest.fixture(scope="module")
async def city(graph: Graph, client: AsyncClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The city of `load_city`, in an emptied graph."""
    return await load_city(graph, client, tmp_path_factory.mktemp("walk") / "two-streets")


async def load_city(graph: Graph, client: AsyncClient, folder: Path) -> dict[str, Any]:
    """The two-street city loaded into an emptied graph with its `bridges`; edits in every community by the
    suite's admin (a branch renamed, a unit's report, a service and a report by a member of the other street,
    an account: audit entries), a phone shown to it (an access-log entry) and a grid loaded in each (the history
    of loads); the three callers' accounts.
    Their `walk.Reader`s by name, and the city's `walk.Places`."""
    await migrate(graph)
    await clear(graph)
    write_demo(TWO_STREETS, SEED, folder)
    await load_file(folder, graph)
    rows = generate(TWO_STREETS, SEED).rows
    across = bridges(rows)
    dataset_to_xlsx(across, folder / "bridges.xlsx")
    await load_file(folder / "bridges.xlsx", graph)
    for key, added in across.rows.items():  # the members living elsewhere first: every sample starts with them
        rows[key] = [*added, *rows[key]] if key == "PartyMember" else [*rows[key], *added]
    for community in rows["Community"]:  # a load in every community: the history of loads (`imports`)
        grid = {"code": f"WG-{community['code']}-95", "name": "导入记录网格", "community_code": community["code"]}
        one = Dataset("history", SEED, date.today())
        one.add("Grid", **grid)
        path = folder / f"grid-{community['code']}.xlsx"
        dataset_to_xlsx(one, path)
        await record_load(graph, path, await load_file(path, graph, measure_effect=True), SUITE_ADMIN)
        rows["Grid"].append(grid)
    communities = [c["code"] for c in rows["Community"]]
    for n, community in enumerate(rows["Community"]):
        there = communities[(n + len(communities) // 2) % len(communities)]  # a community of the other street
        stranger = next(m["code"] for m in rows["PartyMember"] if own_code_area(m["code"]) == there)
        service = {"code": f"FW-{community['code']}-800001", "title": "跨街道服务", "date": "2026-01-05",
                   "hours": 1.0, "communityCode": community["code"], "providerCode": stranger}  # fmt: skip
        await data_of(client, SERVICE, i=service)
        await data_of(client, MEMBER_REPORT, i={"memberCode": stranger, "communityCode": community["code"],
                                                "date": "2026-01-05"})  # fmt: skip
        branch = next(b for b in rows["GridBranch"] if own_code_area(b["code"]) == community["code"])
        await data_of(client, RENAME, i={"code": branch["code"], "name": f"{branch['name']}(巡检)"})
        unit = rows["Unit"][len(community["code"]) % len(rows["Unit"])]["credit_code"]
        await data_of(client, REPORT, i={"unitCode": unit, "communityCode": community["code"], "date": "2026-01-05"})
        member = next(m for m in rows["PartyMember"] if own_code_area(m["code"]) == community["code"])
        await data_of(client, PHONE, c=member["code"])  # shown unmasked to the admin: an access-log entry
        await data_of(client, ACCOUNT, l=f"walk.{community['code']}", s=community["code"])
    mine, theirs = rows["Street"][0]["code"], rows["Street"][1]["code"]
    of = {s: [c["code"] for c in rows["Community"] if c["street_code"] == s] for s in (mine, theirs)}
    grid = next(g["code"] for g in rows["Grid"] if g["community_code"] == of[mine][1])
    readers = {
        "street.viewer": w.Reader("walk.street.viewer", mine, mine, 9),
        "community.editor": w.Reader("walk.community.editor", of[theirs][0], of[theirs][0], 12),
        "grid.viewer": w.Reader("walk.grid.viewer", grid, of[mine][1], 12),
    }
    roles = {"street.viewer": "viewer", "community.editor": "editor", "grid.viewer": "viewer"}
    for name, reader in readers.items():
        await ensure_account(graph, reader.login, roles[name], reader.scope)
    return {"readers": readers, "places": w.Places.of(rows)}


@pytest.fixture(scope="module")
async def schema(client: AsyncClient) -> Any:
    """The served schema, from its introspection over HTTP."""
    return w.client_schema(await data_of(client, w.INTROSPECTION))


async def _walk(
    http: AsyncClient, settings: Settings, schema: Any, places: w.Places, reader: w.Reader, login: str, depth: int
) -> tuple[w.Walk, list[w.Call], list[w.Answer]]:
    """Every root field called as `login` with `reader`'s argument values, reading `depth` deep."""
    walk = w.Walk(schema, depth)
    every = w.calls(walk, w.pools(places, reader, walk), FIXED)
    answers = await w.run(http, bearer(settings, login), walk, every)
    return walk, every, answers


def _report(found: dict[str, list[str]], limit: int = 6) -> str:
    lines = []
    for root, items in sorted(found.items()):
        lines.append(f"{root}: {len(items)} finding(s)")
        lines += [f"    {item}" for item in items[:limit]]
    return "\n".join(lines)


@pytest.mark.parametrize("who", ["street.viewer", "community.editor", "grid.viewer"])
async def test_no_answer_shows_a_code_of_another_area(
    anonymous: AsyncClient, settings: Settings, schema: Any, city: dict[str, Any], who: str
) -> None:
    reader, places = city["readers"][who], city["places"]
    started = time.monotonic()
    walk, every, answers = await _walk(anonymous, settings, schema, places, reader, reader.login, w.DEPTH)
    assert not walk.unfillable, f"the walk cannot fill these required arguments: {sorted(walk.unfillable)}"
    entities = frozenset(t.name for t in schema.get_possible_types(schema.get_type("Node")))
    found = w.problems(answers, reader.foreign(places.areas), reader.over(places.areas), entities)
    print(f"{who}: {len(every)} calls of {len(walk.roots)} root fields in {time.monotonic() - started:.1f} s")
    assert not found, f"{who} ({reader.scope}) was shown what lies outside {reader.reads}:\n{_report(found)}"


async def test_the_walk_reads_every_field_within_its_depth(schema: Any, city: dict[str, Any]) -> None:
    """The (type, field) pairs the walk's documents select, read back from their text, are those reachable
    from Query within `walk.DEPTH` — found breadth first over the schema's types, not from the documents."""
    walk = w.Walk(schema)
    reader = city["readers"]["street.viewer"]
    every = w.calls(walk, w.pools(city["places"], reader, walk), FIXED)
    assert not walk.unfillable, sorted(walk.unfillable)
    read: set[w.Pair] = set()
    for root, names in {(c.root, tuple(a for a, _ in c.args)) for c in every}:
        document = walk.document(root, {a: walk.variable_type(root, a) for a in names})
        read |= w.document_pairs(schema, document)
    expected = w.expected_pairs(schema)
    assert expected - read == set(), f"never read: {sorted(expected - read)}"
    assert read - expected == set(), f"read beyond the depth: {sorted(read - expected)}"
    assert {c.root for c in every} == set(walk.roots), "a root field is never called"
    assert len(expected) > 300  # the model's types, their relationships both ways, the edges and reports


async def test_as_the_citys_admin_the_same_walk_finds_the_other_street(
    client: AsyncClient, settings: Settings, schema: Any, city: dict[str, Any]
) -> None:
    """The walk is not vacuous: the street viewer's calls, made by the city's admin (three levels deep, which is
    enough to see what each call names), show the other street's codes in every root field that was given
    one of its codes or areas."""
    reader, places = city["readers"]["street.viewer"], city["places"]
    foreign = reader.foreign(places.areas)
    _, every, answers = await _walk(client, settings, schema, places, reader, SUITE_ADMIN, 3)
    found = w.problems(answers, foreign)
    fed = {c.root for c in every if any(True for _ in w.find_foreign([v for _, v in c.args], foreign))}
    assert fed >= {"coverage", "gaps", "network", "node", "entity", "search", "street", "partyMember"}
    assert fed - set(found) == set(), f"given another street's codes, these showed none: {fed - set(found)}"
    unasked = {"cities", "auditLog", "accessLog", "imports", "unit"}
    assert unasked <= set(found)  # unasked: the admin sees the whole city


ELSEWHERE_MEMBER = "query($c: String!) { partyMember(code: $c) { code address household { code } } }"


@pytest.mark.parametrize("who", ["street.viewer", "community.editor"])
async def test_a_member_living_elsewhere_is_read_inside_its_area_only_and_its_address_masked(
    anonymous: AsyncClient, client: AsyncClient, settings: Settings, city: dict[str, Any], who: str
) -> None:
    """Issue 25: a member with no household lies in the community its branch or its community code gives; a
    reader sees it there only, its address masked (neither account is granted personal data); the city's admin
    sees every one, the address as typed."""
    reader = city["readers"][who]
    members = [(code, area) for code, area in city["places"].by_label["PartyMember"] if code.endswith(ELSEWHERE)]
    assert len(members) == 4
    seen = 0
    for code, area in members:
        answer = await anonymous.post("/graphql", json={"query": ELSEWHERE_MEMBER, "variables": {"c": code}},
                                      headers=bearer(settings, reader.login))  # fmt: skip
        shown = answer.json()["data"]["partyMember"]
        if reader.inside(area or ""):
            assert shown == {"code": code, "address": mask_text(ADDRESS), "household": None}
            assert shown["address"].startswith("湖北省襄阳")
            assert shown["address"].count("*") == len(ADDRESS) - 5
            seen += 1
        else:
            assert shown is None, (who, code)
        admin = (await data_of(client, ELSEWHERE_MEMBER, c=code))["partyMember"]
        assert admin == {"code": code, "address": ADDRESS, "household": None}
    assert seen == (2 if who == "street.viewer" else 1)


def test_the_finder_sees_a_code_however_it_is_wrapped() -> None:
    """Without a database: a foreign area code is found as a whole string, inside a longer one, in a JSON
    scalar's keys and values, as a number, and inside a base64 global ID or cursor; its path is named."""
    foreign = {"420602002001": "the other street's community"}
    answer = {
        "a": [{"code": "420602001001"}, {"code": "DY-420602002001-000007"}],
        "audit": {"before": {"grid_codes": ["WG-420602002001-01"]}, "after": None},
        "keys": {"HU-420602002001-0001-10101": 1},
        "number": 420602002001,
        "id": base64.b64encode(b"PartyMember:DY-420602002001-000007").decode(),
        "cursor": base64.urlsafe_b64encode(b"3:XQ-420602002001-02").decode(),
        "mine": ["WG-420602001001-01", "420602001000", "9142060057MA4K2X1B", True],
    }
    paths = [f.path for f in w.find_foreign(answer, foreign)]
    assert paths == ["$.a[1].code", "$.audit.before.grid_codes[0]", "$.keys.<key>", "$.number", "$.id", "$.cursor"]
    street = w.Reader("x", "420602001000", "420602001000", 9)
    community = w.Reader("y", "WG-420602002001-01", "420602002001", 12)
    areas = ["420600000000", "420602000000", "420602001000", "420602001001", "420602002000", "420602002001"]
    assert set(street.foreign(areas)) == {"420602002000", "420602002001"}
    assert set(community.foreign(areas)) == {"420602001000", "420602001001"}
    assert community.over(areas) == {"420600000000", "420602000000", "420602002000"}
    above = [{"__typename": "Street", "Street_code": "420602002000", "Street_name": "x", "Street_population": 5}]
    assert [f.path for f in w.overshown(above, community.over(areas), frozenset({"Street"}))] == ["$[0].population"]
