"""The network page at `/` in a real browser (Debian's chromium driven by Playwright), with no network beyond
localhost. Expected values come from the small city's generated rows and from the public API, never typed in."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.browser import ARTIFACTS, guarded_page

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

NETWORK = """
query($root: String!, $depth: Int!, $max: Int!, $households: Boolean!) {
  network(root: $root, depth: $depth, maxNodes: $max, households: $households) {
    truncated nodes { id code type gaps } edges { source target type }
  }
}"""
CHAIN = """
query($code: String!) {
  responsibilityChain(code: $code) { complete links { level broken organization { code name } } }
}"""
COVERAGE = """
query($scope: String!) {
  coverage(scope: $scope) { children { area { code name } figure(metric: households) { rate } } }
}"""


def _api(base: str, headers: dict[str, str], query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=60)
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    return body["data"]


def _split(cell: str | None) -> set[str]:
    return {c for c in (cell or "").split(";") if c}


def _expected_gaps(rows: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, set[str]]]:
    """Per community, the compounds no branch covers and the buildings no group covers, from the generated rows."""
    branch_grids = set().union(*(_split(b.get("grid_codes")) for b in rows["GridBranch"]))
    branch_compounds = set().union(*(_split(b.get("compound_codes")) for b in rows["GridBranch"]))
    grouped = set().union(*(_split(g.get("building_codes")) for g in rows["BuildingGroup"]))
    out: dict[str, dict[str, set[str]]] = {c["code"]: {"Compound": set(), "Building": set()} for c in rows["Community"]}
    for compound in rows["Compound"]:
        if compound["code"] not in branch_compounds and not _split(compound.get("grid_codes")) & branch_grids:
            out[compound["community_code"]]["Compound"].add(compound["code"])
    for building in rows["Building"]:
        if building["code"] not in grouped:
            out[building["code"][3:15]]["Building"].add(building["code"])
    return out


async def _open(
    browser: Browser,
    base: str,
    outside: list[str],
    errors: list[str],
    path: str = "/",
    size: tuple[int, int] = (1400, 900),
) -> Page:
    page = await guarded_page(browser, base, outside, size=size)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{base}{path}")
    return page


async def _drawn(page: Page, code: str) -> None:
    await page.wait_for_function("(code) => document.body?.dataset.drawn === code", arg=code, timeout=60_000)


async def _drawn_nodes(page: Page) -> list[dict[str, Any]]:
    return await page.evaluate(
        """() => grassroots.drawing.cy.nodes().not('.badge').map((n) => ({
             id: n.id(), code: n.data('code'), type: n.data('type'), label: n.data('label'),
             gap: n.hasClass('gap'), shape: n.style('shape'), fill: n.style('background-color') }))"""
    )


async def _click_node(page: Page, code: str) -> None:
    """Zoom onto a drawn node and click it with the mouse, as a user would."""
    box = await page.evaluate(
        """(code) => {
             const cy = grassroots.drawing.cy;
             const node = cy.nodes().filter((n) => n.data('code') === code)[0];
             cy.zoom(1.2); cy.center(node);
             const p = node.renderedPosition(); const r = cy.container().getBoundingClientRect();
             return { x: r.left + p.x, y: r.top + p.y };
           }""",
        code,
    )
    await page.mouse.click(box["x"], box["y"])


def _community_with_most_gaps(small: dict[str, Any]) -> tuple[str, dict[str, set[str]]]:
    rows = small["data"].rows
    expected = _expected_gaps(rows)
    manifest = small["manifest"]["gaps"]
    # The rows' own count of each kind agrees with the generator's manifest (so the expectations below are sound).
    assert sum(len(e["Compound"]) for e in expected.values()) == manifest["compound_without_branch"]
    assert sum(len(e["Building"]) for e in expected.values()) == manifest["building_without_group"]
    code = max(expected, key=lambda c: (len(expected[c]["Compound"]), len(expected[c]["Building"])))
    return code, expected[code]


async def test_clicking_a_building_shows_its_chain_and_expands_its_households(
    small: dict[str, Any], live_server: str, browser: Browser, suite_headers: dict[str, str]
) -> None:
    rows = small["data"].rows
    community, gaps = _community_with_most_gaps(small)
    buildings = sorted(b["code"] for b in rows["Building"] if b["code"][3:15] == community)
    building = sorted(gaps["Building"])[0] if gaps["Building"] else buildings[0]
    outside: list[str] = []
    errors: list[str] = []
    page = await _open(browser, live_server, outside, errors, f"/?scope={community}")
    await _drawn(page, community)
    # A community opens without its buildings: the building's grid holds it ("+楼栋 n"); opening the grid draws it.
    grid = next(b["grid_code"] for b in rows["Building"] if b["code"] == building)
    assert not await page.evaluate(
        "(code) => grassroots.drawing.cy.nodes().some((n) => n.data('code') === code)", building
    )
    await page.evaluate(
        "(code) => { grassroots.drawing.cy.nodes().filter((n) => n.data('code') === code)[0].emit('dbltap'); }", grid
    )
    await page.wait_for_function("(code) => document.body.dataset.expanded === code", arg=grid, timeout=30_000)
    await _click_node(page, building)
    await page.wait_for_selector("#chain li", timeout=30_000)
    chain = _api(live_server, suite_headers, CHAIN, code=building)["responsibilityChain"]
    items = page.locator("#chain li")
    assert await items.count() == len(chain["links"])
    assert await page.locator("#chain li.broken").count() == sum(link["broken"] for link in chain["links"])
    text = await page.inner_text("#details-body")
    assert building in text
    for link in chain["links"]:
        if link["organization"]:
            assert link["organization"]["code"] in text
    # A building with no group: the chain says so, and the rows agree.
    groups = [g for g in rows["BuildingGroup"] if building in _split(g["building_codes"])]
    assert (building in gaps["Building"]) == (not groups)
    if groups:
        assert groups[0]["code"] in text
    else:
        assert await page.inner_text("#chain-state") == "责任链断裂 / broken"
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "page-chain.png"))

    # Expand its neighbours: its households join the drawing (grid, compound and group are drawn already).
    before = await page.evaluate("() => grassroots.drawing.cy.nodes().length")
    await page.click("button[data-action='expand']")
    await page.wait_for_function("(code) => document.body.dataset.expanded === code", arg=building, timeout=30_000)
    after = await page.evaluate("() => grassroots.drawing.cy.nodes().length")
    households = Counter(h["building_code"] for h in rows["Household"])[building]
    assert households > 0
    assert after - before == households
    assert outside == []
    assert errors == []
    await page.close()


async def test_a_street_too_big_to_draw_is_collapsed_to_counts(
    small: dict[str, Any], live_server: str, browser: Browser, suite_headers: dict[str, str]
) -> None:
    rows = small["data"].rows
    street = rows["Street"][0]["code"]
    communities = {c["code"]: c for c in rows["Community"] if c["street_code"] == street}
    budget = 100
    drawn = _api(live_server, suite_headers, NETWORK, root=street, depth=5, max=budget, households=False)
    assert drawn["network"]["truncated"]
    outside: list[str] = []
    errors: list[str] = []
    page = await _open(browser, live_server, outside, errors, f"/?scope={street}&maxNodes={budget}")
    await _drawn(page, street)
    assert await page.evaluate("() => document.body.dataset.mode") == "collapsed"
    drawn = await _drawn_nodes(page)
    counted = {n["code"]: n for n in drawn if n["code"] in communities}
    assert len(drawn) == len(communities) + 1
    assert set(counted) == set(communities)
    households = Counter(h["code"][3:15] for h in rows["Household"])
    for code in communities:
        label = await page.evaluate(
            "(code) => grassroots.drawing.cy.nodes().filter((n) => n.data('code') === code)[0].data('display')", code
        )
        assert f"住户 {households[code]:,}" in label
    assert "折叠" in await page.inner_text("#status")
    # Coloured by the chosen metric's rate (households' contact by default), as the API gives it; no red octagons.
    coverage = _api(live_server, suite_headers, COVERAGE, scope=street)["coverage"]["children"]
    shown = await page.evaluate(
        "() => grassroots.drawing.cy.nodes('.rated').map((n) => [n.data('code'), n.data('rate'), n.data('fill')])"
    )
    assert {code for code, _, _ in shown} == set(communities)
    api_rate = {c["area"]["code"]: c["figure"]["rate"] for c in coverage}
    for code, rate, fill in shown:
        assert rate == pytest.approx(api_rate[code]), code
        assert fill == await page.evaluate(
            "(rate) => import('/static/app/style.js').then((m) => m.rateColour(rate).fill)", rate
        )
    worst = min(shown, key=lambda s: s[1])
    best = max(shown, key=lambda s: s[1])
    if worst[1] < best[1]:  # a lower rate is a darker fill

        def lightness(hex_: str) -> int:
            return sum(int(hex_[i : i + 2], 16) for i in (1, 3, 5))

        assert lightness(worst[2]) < lightness(best[2])
    assert await page.evaluate("() => grassroots.drawing.cy.nodes('.collapsed.gap').length") == 0
    assert await page.is_visible("#scale")
    assert not re.search(r"\d ms\b", await page.inner_text("#status"))  # no developer timings without ?debug=1
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "page-street-collapsed.png"))

    # The dashboard: one row and one bar per community, sortable by a rate.
    coverage = _api(live_server, suite_headers, COVERAGE, scope=street)["coverage"]["children"]
    assert await page.locator("#children-table tbody tr").count() == len(coverage)
    assert await page.locator("#chart g.bar").count() == len(coverage)
    rate = {c["area"]["code"]: c["figure"]["rate"] for c in coverage}
    header = page.locator("#children-table th[data-key='households']")
    for order in ("ascending", "descending"):
        await header.click()
        assert await header.get_attribute("aria-sort") == order
        codes = await page.eval_on_selector_all("#children-table tbody tr", "(rs) => rs.map((r) => r.dataset.code)")
        assert set(codes) == set(rate)
        rates = [rate[code] for code in codes]
        assert rates == sorted(rates, reverse=order == "descending")

    # Double-click a count node: that community becomes the scope.
    first = sorted(communities)[0]
    await page.evaluate(
        "(code) => { grassroots.drawing.cy.nodes().filter((n) => n.data('code') === code)[0].emit('dbltap'); }", first
    )
    await _drawn(page, first)
    assert await page.evaluate("() => new URL(location.href).searchParams.get('scope')") == first
    assert outside == []
    assert errors == []
    await page.close()


async def test_the_area_tree_is_searchable(small: dict[str, Any], live_server: str, browser: Browser) -> None:
    rows = small["data"].rows
    target = rows["Community"][-1]
    others = [c for c in rows["Community"] if c["name"] != target["name"]]
    outside: list[str] = []
    errors: list[str] = []
    page = await _open(browser, live_server, outside, errors)
    await page.wait_for_selector(f".tree-row[data-code='{target['code']}']", timeout=30_000)
    await page.fill("#search", target["name"])
    await page.wait_for_selector(f"#search-hits .tree-row[data-code='{target['code']}']", timeout=30_000)
    assert await page.is_visible(f"#tree .tree-row[data-code='{target['code']}']")
    for other in others:
        if target["name"] not in other["name"]:
            assert not await page.is_visible(f"#tree .tree-row[data-code='{other['code']}']")
    await page.click(f"#search-hits .tree-row[data-code='{target['code']}']")
    await _drawn(page, target["code"])
    assert outside == []
    assert errors == []
    await page.close()


HISTORY = """
query($scope: String!, $to: Date) {
  coverageHistory(scope: $scope, to: $to) { points { asOf figures { metric rate } } }
}"""
FIGURES = """
query($scope: String!, $asOf: Date) {
  coverage(scope: $scope, asOf: $asOf) { asOf scope { figures { metric units covered } } }
}"""


async def test_trend_lines_and_the_as_of_picker(
    small: dict[str, Any], live_server: str, browser: Browser, suite_headers: dict[str, str]
) -> None:
    """Each figure beside the drawing has its 12-month trend line (the API's `coverageHistory`); picking a past day
    re-judges the figures, the drawing and the audit link on that day (the API's `coverage(asOf:)`)."""
    street = small["data"].rows["Street"][0]["code"]
    outside: list[str] = []
    errors: list[str] = []
    page = await _open(browser, live_server, outside, errors, f"/?scope={street}")
    await _drawn(page, street)
    points = _api(live_server, suite_headers, HISTORY, scope=street)["coverageHistory"]["points"]
    await page.wait_for_selector("#coverage-figures .trend svg.spark")
    for metric in ("compounds", "households"):
        spark = page.locator(f"#coverage-figures tr[data-metric='{metric}'] svg.spark")
        rates = [next(f["rate"] for f in p["figures"] if f["metric"] == metric) for p in points]
        assert await spark.get_attribute("data-points") == str(sum(r is not None for r in rates))
        label = await spark.get_attribute("aria-label") or ""
        assert label.startswith(points[0]["asOf"])
        assert f"{points[-1]['asOf']} {rates[-1] * 100:.1f}%" in label

    day = "2021-01-01"
    today = _api(live_server, suite_headers, FIGURES, scope=street)["coverage"]["scope"]["figures"]
    past = _api(live_server, suite_headers, FIGURES, scope=street, asOf=day)["coverage"]["scope"]["figures"]
    assert past != today  # the small city's dated facts make the day differ (else this proves little)
    await page.evaluate("() => { document.body.dataset.drawn = ''; }")
    await page.fill("#as-of", day)
    await page.dispatch_event("#as-of", "change")
    await _drawn(page, street)
    assert f"as of {day}" in await page.inner_text("#coverage-figures .hint")
    for f in past:
        if f["units"]:
            cell = page.locator(f"#coverage-figures tr[data-metric='{f['metric']}'] td.num").first
            assert await cell.inner_text() == f"{f['covered']:,}/{f['units']:,}", f["metric"]
    assert await page.evaluate("() => new URL(location.href).searchParams.get('asOf')") == day
    assert (await page.get_attribute("#audit", "href") or "").endswith(f"&asOf={day}")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "page-as-of.png"))
    assert outside == []
    assert errors == []
    await page.close()
