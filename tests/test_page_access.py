"""The page, the sign-in form and GraphiQL for callers of different roles and scopes, in a real browser (Debian's
chromium driven by Playwright, nothing reachable beyond localhost).

The small city has one street; a second street (one community, one grid) is loaded beside it here, so a street
viewer has a neighbour it must not see. Expected areas come from the generated rows, never typed in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlparse

import httpx
import pytest

from graph.driver import Graph
from loaders.demo import Dataset, dataset_to_xlsx
from loaders.load import load_file
from tests.browser import ARTIFACTS, guarded_page
from tests.helpers import SUITE_ADMIN, TEST_PASSWORD, ensure_account

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

OTHER_STREET = "檀溪街道"
OTHER_COMMUNITY = "檀溪湖社区"
VIEWER = "street.viewer"
GRID_EDITOR = "grid.editor"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: A GraphQL POST from the signed-in page itself (its session cookie goes along); `csrf`: send the anti-forgery
#: value from the readable cookie, a wrong one, or none.
CRAFTED = """async ({ query, csrf }) => {
  const cookie = (document.cookie.match(/(?:^|;\\s*)grassroots_csrf=([^;]*)/) || [])[1] || "";
  const headers = { "content-type": "application/json" };
  if (csrf === "cookie") headers["x-csrf-token"] = decodeURIComponent(cookie);
  if (csrf === "wrong") headers["x-csrf-token"] = "not-the-sessions-value";
  const response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query }) });
  return { status: response.status, body: await response.json() };
}"""


@pytest.fixture(scope="module")
async def areas(
    small: dict[str, Any], graph: Graph, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Any]]:
    """The small city with a second street in its district, and the accounts below; both removed afterwards."""
    rows = small["data"].rows
    street = rows["Street"][0]
    district = street["district_code"]
    taken = {s["code"] for s in rows["Street"]}
    other = next(code for n in range(1, 1000) if (code := f"{district[:6]}{n:03d}000") not in taken)
    community = f"{other[:9]}001"
    names = {r.get("name") for sheet in rows.values() for r in sheet}
    assert not any(OTHER_STREET in str(n) or OTHER_COMMUNITY in str(n) for n in names), "the second street's names"
    extra = Dataset("other-street", 0, date.today())
    extra.add("Street", code=other, name=OTHER_STREET, district_code=district)
    extra.add("Community", code=community, name=OTHER_COMMUNITY, central_city="是", street_code=other)
    extra.add("Grid", code=f"WG-{community}-01", name="01网格", community_code=community)
    workbook = tmp_path_factory.mktemp("page-access") / "other-street.xlsx"
    dataset_to_xlsx(extra, workbook)
    await load_file(workbook, graph)
    grid = sorted(g["code"] for g in rows["Grid"] if g["code"][3:12] == street["code"][:9])[0]
    await ensure_account(graph, VIEWER, "viewer", street["code"])
    await ensure_account(graph, GRID_EDITOR, "editor", grid)
    yield {
        "city": rows["City"][0],
        "district": next(d for d in rows["District"] if d["code"] == district),
        "street": street,
        "communities": {c["code"]: c["name"] for c in rows["Community"] if c["street_code"] == street["code"]},
        "grid": next(g for g in rows["Grid"] if g["code"] == grid),
        "other": other,
        "other_community": community,
    }
    await graph.write_rows("MATCH (n) WHERE n.streetCode = $street DETACH DELETE n", {"street": other})
    await graph.write_rows("MATCH (u:_User) WHERE u.login IN $logins DELETE u", {"logins": [VIEWER, GRID_EDITOR]})


async def _unsigned(browser: Browser, base: str, outside: list[str], errors: list[str]) -> Page:
    page = await guarded_page(browser, base, outside, login=None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page


async def _sign_in_through_the_form(page: Page, login: str) -> None:
    """On the sign-in form: type the login and the password and submit, as a user would."""
    await page.wait_for_selector("#sign-in form", timeout=30_000)
    await page.fill("#login", login)
    await page.fill("#password", TEST_PASSWORD)
    await page.click("#sign-in-submit")


async def _drawn(page: Page, code: str) -> None:
    await page.wait_for_function("(code) => document.body?.dataset.drawn === code", arg=code, timeout=60_000)


async def _codes(page: Page, selector: str) -> list[str]:
    return await page.eval_on_selector_all(selector, "(els) => els.map((e) => e.dataset.code)")


def _admin_api(base: str, headers: dict[str, str], query: str) -> dict[str, Any]:
    body = httpx.post(f"{base}/graphql", json={"query": query}, headers=headers, timeout=60).json()
    assert "errors" not in body, body
    return body["data"]


async def test_a_street_viewer_signs_in_through_the_form_and_sees_only_its_street(
    areas: dict[str, Any], live_server: str, browser: Browser, suite_headers: dict[str, str]
) -> None:
    street, other, other_community = areas["street"], areas["other"], areas["other_community"]
    outside: list[str] = []
    errors: list[str] = []
    page = await _unsigned(browser, live_server, outside, errors)
    await page.goto(f"{live_server}/")
    assert page.url == f"{live_server}/login?next=%2F"
    assert await page.is_visible("#sign-in form")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "sign-in.png"))
    await _sign_in_through_the_form(page, VIEWER)
    await _drawn(page, street["code"])
    assert urlparse(page.url).path == "/"

    # Who is signed in: name, role in Chinese and English, scope name.
    account = await page.inner_text("#account")
    for shown in (VIEWER, "查看者 / viewer", street["name"]):
        assert shown in account
    me = await page.evaluate("() => grassroots.me")
    assert (me["login"], me["role"], me["scope"]["code"]) == (VIEWER, "viewer", street["code"])
    assert me["canDownloadAudits"] is False
    assert await page.is_hidden("#audit")  # a viewer may not download audit workbooks: not offered

    # The tree starts at the street; the city and district above it are plain labels (name and code).
    assert await _codes(page, "#tree > li") == [street["code"]]
    assert set(await _codes(page, "#tree li")) == {street["code"], *areas["communities"]}
    assert await _codes(page, "#above li") == [areas["city"]["code"], areas["district"]["code"]]
    above = await page.inner_text("#above")
    for area in (areas["city"], areas["district"]):
        assert area["name"] in above
        assert area["code"] in above
    assert await page.locator("#above .tree-row, #above a, #above button").count() == 0
    tree = await page.inner_html("#tree")
    for hidden in (other, other_community, OTHER_STREET, OTHER_COMMUNITY):
        assert hidden not in tree
    assert await page.is_visible(f"#tree .tree-row.selected[data-code='{street['code']}']")
    assert other not in await page.inner_text("body")
    # The other street exists (the suite's admin sees it), but the viewer's search does not find it.
    seen = _admin_api(live_server, suite_headers, '{ network(root: "%s") { nodes { code } } }' % other)
    assert {other, other_community} <= {n["code"] for n in seen["network"]["nodes"]}
    await page.fill("#search", OTHER_STREET)
    await page.wait_for_selector("#search-hits:not([hidden]) li.hint", timeout=30_000)
    assert "无结果 / no match" in await page.inner_text("#search-hits")
    await page.fill("#search", "")
    await page.wait_for_selector("#search-hits", state="hidden", timeout=30_000)
    await page.screenshot(path=str(ARTIFACTS / "page-street-viewer.png"))

    # Crafted requests from the signed-in page: another street is not there, or refused.
    network = await page.evaluate(CRAFTED, {"query": '{ network(root: "%s") { root nodes { code } } }' % other,
                                            "csrf": "cookie"})  # fmt: skip
    assert network["status"] == 200
    assert (network["body"].get("data") or {}).get("network") is None
    assert network["body"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    coverage = await page.evaluate(CRAFTED, {"query": '{ coverage(scope: "%s") { asOf } }' % other, "csrf": "cookie"})
    assert coverage["body"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    found = await page.evaluate(CRAFTED, {"query": '{ community(code: "%s") { code name } }' % other_community,
                                          "csrf": "cookie"})  # fmt: skip
    assert found["body"]["data"]["community"] is None
    # A cookie POST without the session's anti-forgery value, or with a wrong one, is refused whatever it asks.
    for csrf in ("none", "wrong"):
        forged = await page.evaluate(CRAFTED, {"query": "{ me { login } }", "csrf": csrf})
        assert forged["status"] == 403, forged
        assert forged["body"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    own = await page.evaluate(CRAFTED, {"query": "{ me { login } }", "csrf": "cookie"})
    assert own["body"]["data"]["me"]["login"] == VIEWER
    # The hidden control is refused by the server too.
    audit = await page.request.get(f"{live_server}/reports/audit.xlsx?scope={street['code']}")
    assert audit.status == 403

    # Asked for the other street in the address, the page shows the viewer's own street and says why.
    await page.goto(f"{live_server}/?scope={other}")
    await _drawn(page, street["code"])
    status = await page.inner_text("#status")
    assert other in status
    assert "不在您可查看的区域内" in status
    assert outside == []
    assert errors == []
    await page.close()


async def test_signing_out_returns_to_the_form_and_the_page_asks_again(
    areas: dict[str, Any], live_server: str, browser: Browser
) -> None:
    street = areas["street"]
    outside: list[str] = []
    errors: list[str] = []
    page = await _unsigned(browser, live_server, outside, errors)
    await page.goto(f"{live_server}/login")
    await _sign_in_through_the_form(page, VIEWER)
    await _drawn(page, street["code"])
    await page.click("#sign-out")
    await page.wait_for_url(f"{live_server}/login", timeout=30_000)
    assert await page.is_visible("#sign-in form")
    names = {c["name"] for c in await page.context.cookies()}
    assert not names & {"grassroots_session", "grassroots_csrf"}
    await page.goto(f"{live_server}/")
    assert page.url == f"{live_server}/login?next=%2F"
    refused = await page.request.post(f"{live_server}/graphql", data={"query": "{ me { login } }"})
    assert refused.status == 401
    # A wrong password: the form says so and keeps where to go next.
    await page.fill("#login", VIEWER)
    await page.fill("#password", "not-the-password-1")
    await page.click("#sign-in-submit")
    await page.wait_for_selector("#sign-in-error:not([hidden])", timeout=30_000)
    assert "登录名或密码错误 / wrong login or password" in await page.inner_text("#sign-in-error")
    assert await page.input_value("#next") == "/"
    assert await page.input_value("#login") == VIEWER
    assert outside == []
    assert errors == []
    await page.close()


async def test_graphiql_runs_a_query_after_signing_in_through_the_form(
    areas: dict[str, Any], live_server: str, browser: Browser
) -> None:
    street = areas["street"]
    query = (
        '{ me { login roleName scope { code name } } coverage(scope: "%s") { scope { figures { metric covered } } } }'
    )
    path = "/graphql?query=" + quote(query % street["code"])
    outside: list[str] = []
    errors: list[str] = []
    page = await _unsigned(browser, live_server, outside, errors)
    await page.goto(f"{live_server}{path}", wait_until="domcontentloaded")
    assert page.url == f"{live_server}/login?next={quote(path, safe='')}"
    assert "/graphql?…" in await page.inner_text("#sign-in-next")
    await _sign_in_through_the_form(page, VIEWER)
    await page.wait_for_selector(".graphiql-execute-button", timeout=30_000)
    assert page.url == f"{live_server}{path}"
    await page.click(".graphiql-execute-button")
    await page.wait_for_function("() => document.body.innerText.includes('\"covered\"')", timeout=30_000)
    text = await page.inner_text("body")
    assert f'"login": "{VIEWER}"' in text
    assert street["name"] in text
    assert "FORBIDDEN" not in text
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "graphiql-signed-in.png"))
    assert outside == []
    assert errors == []
    await page.close()


async def test_an_admin_gets_the_whole_city_and_the_audit_workbook(
    areas: dict[str, Any], live_server: str, browser: Browser
) -> None:
    city, community = areas["city"], sorted(areas["communities"])[0]
    outside: list[str] = []
    errors: list[str] = []
    page = await _unsigned(browser, live_server, outside, errors)
    await page.goto(f"{live_server}/?scope={community}")
    await _sign_in_through_the_form(page, SUITE_ADMIN)
    await _drawn(page, community)
    assert "管理员 / admin" in await page.inner_text("#account")
    assert await page.is_hidden("#above")
    assert await _codes(page, "#tree > li") == [city["code"]]
    tree = set(await _codes(page, "#tree li"))
    assert {areas["street"]["code"], areas["other"]} <= tree
    link = page.locator("#audit")
    assert await link.is_visible()
    href = await link.get_attribute("href")
    assert href == f"/reports/audit.xlsx?scope={community}"
    workbook = await page.request.get(f"{live_server}{href}")
    assert workbook.status == 200
    assert workbook.headers["content-type"] == XLSX
    assert outside == []
    assert errors == []
    await page.close()


async def test_a_grid_editor_starts_at_its_grid(areas: dict[str, Any], live_server: str, browser: Browser) -> None:
    grid = areas["grid"]
    outside: list[str] = []
    page = await guarded_page(browser, live_server, outside, login=GRID_EDITOR)
    await page.goto(f"{live_server}/")
    await _drawn(page, grid["code"])
    assert "编辑 / editor" in await page.inner_text("#account")
    assert await _codes(page, "#tree li") == [grid["code"]]
    community = grid["code"][3:15]
    assert await _codes(page, "#above li") == [
        areas["city"]["code"], areas["district"]["code"], areas["street"]["code"], community
    ]  # fmt: skip
    assert await page.locator("#audit").is_visible()  # an editor may download its grid's workbook
    assert outside == []
    await page.close()
