"""The network page readable at real sizes (issue 24), in a real browser on the small city: levels of detail under
a node cap, labels of at least 12 px at "fit", held counts ("+楼栋 12 · 空白 2") that open, search that finds and
focuses, the picture's export, and a layout that fits 1366×768 and 1920×1080. Expected values come from the
generated rows and the public API, never typed in."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from bench.crowd import LADDER
from bench.crowd import NETWORK as PAGE_NETWORK
from core.model import SHEETS
from graph.network import DRAWN
from graph.settings import PROJECT_ROOT
from tests.browser import ARTIFACTS, guarded_page
from tests.test_page import _api, _community_with_most_gaps, _drawn, _open

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, Route

STYLE_JS = PROJECT_ROOT / "web" / "static" / "app" / "style.js"
LOD = """
query($root: String!, $types: [EntityType!]) {
  network(root: $root, depth: 4, maxNodes: 2000, households: false, types: $types) {
    truncated nodes { id code type level gaps hidden { type count gaps level } }
  }
}"""


def test_aggregates_sit_on_the_parent_the_model_names() -> None:
    """style.js's HOME (where a left-out type is counted) is each drawn type's parent link in core/model.py."""
    body = re.search(r"export const HOME = \{(.*?)\};", STYLE_JS.read_text(encoding="utf-8"), re.S)
    assert body
    home = dict(re.findall(r"(\w+): \"(\w+)\"", body.group(1)))
    assert set(home) == set(DRAWN)
    for sheet in SHEETS:
        parents = [link.targets[0] for link in sheet.links if link.parent]
        if sheet.label in DRAWN and parents:
            assert home[sheet.label] == parents[0], sheet.label


async def _view(page: Page) -> dict[str, Any]:
    """What is drawn: nodes, what they hold, the median and least label height at the current zoom."""
    return await page.evaluate(
        """() => {
             const d = grassroots.drawing;
             const heights = d.labelHeights().sort((a, b) => a - b);
             const nodes = d.cy.nodes().not('.badge');
             return {
               ids: nodes.map((n) => n.id()),
               held: nodes.filter('.has-more').map((n) => ({ id: n.id(), code: n.data('code'), type: n.data('type'),
                 more: n.data('more'), badge: d.cy.getElementById('badge:' + n.id()).data('display') ?? null })),
               count: nodes.length,
               median: heights[Math.floor(heights.length / 2)], least: heights[0],
               mode: document.body.dataset.mode, types: grassroots.state.types,
               octagons: nodes.filter('.gap').map((n) => [n.data('type'), n.data('code'), n.style('shape')]),
             };
           }"""
    )


async def test_a_scope_asks_for_its_network_once_and_estimates_its_levels_as_the_layout_draws_them(
    small: dict[str, Any], live_server: str, browser: Browser, suite_headers: dict[str, str]
) -> None:
    """Issue 24: opening a community asks for its levels of detail in one request (and the ladder from the next
    level beside it, so passing over the first waits for no second round trip) — not one request per level. The
    page passes over a level by its estimated zoom at "fit" (`Drawing.estimateZoom`, no layout): for every level
    of the community and of one of its grids, the estimate comes within 0.15 of the zoom the layout gives it."""
    community, _ = _community_with_most_gaps(small)
    outside: list[str] = []
    page = await guarded_page(browser, live_server, outside)
    asked: list[dict[str, Any]] = []
    page.on("request", lambda r: asked.append(r.post_data_json) if r.url.endswith("/graphql") and r.post_data else None)
    await page.goto(f"{live_server}/?scope={community}")
    await _drawn(page, community)
    ladders = [a["variables"]["levels"] for a in asked if "levels" in (a.get("variables") or {})]
    assert 1 <= len(ladders) <= 2, ladders
    ladders.sort(key=len, reverse=True)
    assert [level["types"] for level in ladders[0]] == LADDER["community"]
    assert [[level["types"] for level in ladder] for ladder in ladders[1:]] in ([], [LADDER["community"][1:]])
    assert all(0 < level["maxNodes"] <= 150 for ladder in ladders for level in ladder)
    assert not any("types" in (a.get("variables") or {}) and a["variables"]["types"] for a in asked)
    grid = next(g["code"] for g in small["data"].rows["Grid"] if g["code"][3:15] == community)
    compared = 0
    for root, ladder in ((community, LADDER["community"]), (grid, LADDER["grid"])):
        for types in ladder:
            levels = [{"types": types, "maxNodes": 2000}]
            answer = _api(live_server, suite_headers, PAGE_NETWORK, root=root, depth=4, max=2000, households=False,
                          levels=levels)["network"]  # fmt: skip
            zooms = await page.evaluate(
                """async (n) => {
                     const estimate = grassroots.drawing.estimateZoom(n);
                     await grassroots.drawing.show(n);
                     return [estimate, grassroots.drawing.cy.zoom()];
                   }""",
                answer,
            )
            estimate, drawn = min(zooms[0], 1.6), zooms[1]  # "fit" never zooms in past 1.6
            assert abs(estimate - drawn) <= 0.15, (root, types, zooms)
            compared += 1
    assert compared == 6
    assert outside == []


async def test_a_community_opens_at_a_level_of_detail_under_the_cap(
    small: dict[str, Any], live_server: str, browser: Browser, suite_headers: dict[str, str]
) -> None:
    rows = small["data"].rows
    community, gaps = _community_with_most_gaps(small)
    outside: list[str] = []
    errors: list[str] = []
    page = await _open(browser, live_server, outside, errors, f"/?scope={community}")
    await _drawn(page, community)
    view = await _view(page)
    budget = await page.evaluate("() => grassroots.budget")
    assert view["mode"] == "network"
    assert view["count"] <= budget == 150
    assert view["least"] >= 12, view  # readable at fit
    assert view["median"] >= 12, view
    assert "Building" not in view["types"]  # a community opens without its buildings: they are counted
    answer = _api(live_server, suite_headers, LOD, root=community, types=view["types"])["network"]
    assert set(view["ids"]) == {n["id"] for n in answer["nodes"]}
    # Gaps of the drawn types are red octagons, exactly where the API puts them.
    assert {code for _, code, _ in view["octagons"]} == {n["code"] for n in answer["nodes"] if n["gaps"]}
    assert {shape for _, _, shape in view["octagons"]} <= {"octagon"}
    if "Compound" in view["types"]:
        assert {c for t, c, _ in view["octagons"] if t == "Compound"} == gaps["Compound"]
    # Buildings: counted once each, on their grids, with the gaps they hold — the rows' count of both; a node's
    # badge is the gaps it holds.
    buildings = {b["code"] for b in rows["Building"] if b["code"][3:15] == community}
    holders = [h for h in view["held"] if any(m["type"] == "Building" for m in h["more"])]
    assert {h["type"] for h in holders} == {"Grid"}
    counted = [m for h in holders for m in h["more"] if m["type"] == "Building"]
    assert sum(m["count"] for m in counted) == len(buildings)
    assert sum(m["gaps"] for m in counted) == len(gaps["Building"]) > 0
    for h in view["held"]:
        gaps_held = sum(m["gaps"] for m in h["more"])
        assert (h["badge"] and int(h["badge"])) == (gaps_held or None), h
    assert await page.evaluate("() => performance.getEntriesByName('grassroots:first-drawing').length") == 1
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "page-community.png"))

    # The legend explains the marks, and switches a type family off and on again.
    await page.click("#legend-box summary")
    assert "空白点" in await page.inner_text("#legend")
    shown = "(t) => grassroots.drawing.cy.nodes(':visible').filter((n) => n.data('type') === t).length"
    branches = await page.evaluate(shown, "GridBranch")
    assert branches > 0
    await page.uncheck("#legend input[data-family='party']")
    await page.wait_for_function(f"() => ({shown})('GridBranch') === 0")
    assert await page.evaluate(shown, "Grid") > 0  # the other families stay
    await page.check("#legend input[data-family='party']")
    await page.wait_for_function(f"() => ({shown})('GridBranch') === {branches}")
    await page.click("#legend-box summary")

    # An opened node folds back (a second double-click): what its opening added goes, its held counts return.
    first = holders[0]
    before = await page.evaluate("() => grassroots.drawing.summary()")
    held = await page.evaluate("(id) => grassroots.drawing.cy.getElementById(id).data('more')", first["id"])
    await page.evaluate("(id) => { grassroots.drawing.cy.getElementById(id).emit('dbltap'); }", first["id"])
    await page.wait_for_function("(code) => document.body.dataset.expanded === code", arg=first["code"])
    opened = await page.evaluate("() => grassroots.drawing.summary()")
    assert opened["nodes"] > before["nodes"]
    await page.evaluate("(id) => { grassroots.drawing.cy.getElementById(id).emit('dbltap'); }", first["id"])
    await page.wait_for_function("(code) => document.body.dataset.folded === code", arg=first["code"])
    assert await page.evaluate("() => grassroots.drawing.summary()") == before
    assert await page.evaluate("(id) => grassroots.drawing.cy.getElementById(id).data('more')", first["id"]) == held
    assert await page.evaluate("(id) => grassroots.drawing.cy.getElementById(id).hasClass('has-more')", first["id"])
    await page.evaluate("() => { delete document.body.dataset.expanded; }")

    # Opening the grids draws every building, the ones no group covers as octagons (a person's double-clicks).
    for holder in holders:
        await page.evaluate("(id) => { grassroots.drawing.cy.getElementById(id).emit('dbltap'); }", holder["id"])
        await page.wait_for_function("(code) => document.body.dataset.expanded === code", arg=holder["code"])
    view = await _view(page)
    drawn = await page.evaluate("() => grassroots.drawing.cy.nodes('.building').map((n) => n.data('code'))")
    assert set(drawn) == buildings
    assert {c for t, c, _ in view["octagons"] if t == "Building"} == gaps["Building"]
    assert not [h for h in view["held"] if any(m["type"] == "Building" for m in h["more"])]
    # Every name stays inside its shape (a long Chinese name wraps; central households' names sit below them).
    await page.evaluate("() => { grassroots.drawing.cy.nodes('.compound.has-more').forEach((n) => n.emit('dbltap')); }")
    await page.wait_for_function("() => grassroots.drawing.cy.nodes('.other').length > 0")
    await page.wait_for_timeout(500)
    spills = await page.evaluate(
        """() => grassroots.drawing.cy.nodes(':visible').not('.badge, .central').filter((n) =>
             n.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true }).w > n.width() + 2)
             .map((n) => [n.data('type'), n.data('label')])"""
    )
    assert spills == []
    # A building's group is drawn beside it: each covered building has an edge to a group.
    covered = await page.evaluate(
        "() => grassroots.drawing.cy.nodes('.building').filter((n) => n.neighborhood('node[type = \"BuildingGroup\"]')"
        ".length > 0).map((n) => n.data('code'))"
    )
    assert set(covered) == buildings - gaps["Building"]
    await page.screenshot(path=str(ARTIFACTS / "page-community-opened.png"))
    assert outside == []
    assert errors == []
    await page.close()


async def test_labels_are_readable_at_fit_for_a_grid_and_a_street(
    small: dict[str, Any], live_server: str, browser: Browser, suite_headers: dict[str, str]
) -> None:
    rows = small["data"].rows
    grid = Counter(b["grid_code"] for b in rows["Building"]).most_common(1)[0][0]  # the fullest grid
    street = rows["Street"][0]["code"]
    outside: list[str] = []
    errors: list[str] = []
    page = await _open(browser, live_server, outside, errors, f"/?scope={grid}")
    await _drawn(page, grid)
    view = await _view(page)
    assert view["mode"] == "network"
    assert view["count"] <= 150
    assert view["median"] >= 12, view
    await page.evaluate("() => { document.body.dataset.drawn = ''; }")
    await page.evaluate("(code) => grassroots.pick({ code })", street)
    await _drawn(page, street)
    view = await _view(page)
    assert view["mode"] == "collapsed"
    assert view["median"] >= 12, view
    assert view["least"] >= 12, view
    # Each child area with gaps wears a red badge with its gap count (the API's uncovered compounds, buildings
    # and groups).
    badges = await page.evaluate(
        "() => grassroots.drawing.cy.nodes('.badge').map((b) => [b.data('badgeOf'), b.data('display')])"
    )
    children = _api(
        live_server,
        suite_headers,
        "query($s: String!) { coverage(scope: $s) { children { area { code } figures { metric uncovered } } } }",
        s=street,
    )["coverage"]["children"]
    expected = {
        f"area:{c['area']['code']}": sum(
            f["uncovered"] for f in c["figures"] if f["metric"] in ("compounds", "buildings", "groups")
        )
        for c in children
    }
    assert {k: int(v) for k, v in badges} == {k: v for k, v in expected.items() if v}
    assert outside == []
    assert errors == []
    await page.close()


async def _search(page: Page, text: str, code: str) -> None:
    await page.fill("#search", text)
    hit = f"#search-hits .tree-row[data-code='{code}']"
    await page.wait_for_selector(hit, timeout=30_000)
    await page.evaluate("() => { delete document.body.dataset.found; }")
    await page.click(hit)
    await page.wait_for_function("(code) => document.body.dataset.found === code", arg=code, timeout=30_000)


async def test_search_finds_a_compound_a_red_station_and_a_list_entry(
    small: dict[str, Any], live_server: str, browser: Browser
) -> None:
    """By a Chinese substring of the name (or the title of a list entry): the hit is found, drawn and its path
    from the scope highlighted; a list entry (not a drawn type) is shown in the details."""
    rows = small["data"].rows
    street = rows["Street"][0]["code"]
    outside: list[str] = []
    errors: list[str] = []
    page = await _open(browser, live_server, outside, errors, f"/?scope={street}")
    await _drawn(page, street)
    station = rows["RedStation"][-1]
    compound = rows["Compound"][-1]
    titles = Counter(n["title"] for n in rows["Need"])
    need = min(rows["Need"], key=lambda n: titles[n["title"]])
    for row, text in ((compound, compound["name"][:2]), (station, station["name"][:3])):
        await _search(page, text, row["code"])
        community = row["community_code"]
        assert await page.evaluate("() => grassroots.state.scope.code") == community
        on_path = await page.evaluate("() => grassroots.drawing.cy.nodes('.path').map((n) => n.data('code'))")
        assert row["code"] in on_path, on_path
        assert community in on_path, on_path
        assert row["code"] in await page.inner_text("#details-body")
    await _search(page, need["title"], need["code"])
    assert need["code"] in await page.inner_text("#details-body")
    await page.screenshot(path=str(ARTIFACTS / "page-search.png"))
    assert outside == []
    assert errors == []
    await page.close()


async def test_the_chain_is_shown_on_the_picture(
    small: dict[str, Any], live_server: str, browser: Browser, suite_headers: dict[str, str]
) -> None:
    community, gaps = _community_with_most_gaps(small)
    rows = small["data"].rows
    covered = sorted(
        b["code"] for b in rows["Building"] if b["code"][3:15] == community and b["code"] not in gaps["Building"]
    )
    building = next(b for b in rows["Building"] if b["code"] == covered[0])
    outside: list[str] = []
    errors: list[str] = []
    page = await _open(browser, live_server, outside, errors, f"/?scope={community}")
    await _drawn(page, community)
    await page.evaluate(
        "(b) => grassroots.find({ code: b.code, type: 'Building', label: b.name, typeName: '楼栋' })", building
    )
    await page.wait_for_function("(code) => document.body.dataset.found === code", arg=building["code"])
    await page.wait_for_selector("button[data-action='chain']", timeout=30_000)
    await page.click("button[data-action='chain']")
    await page.wait_for_function("(code) => document.body.dataset.chain === code", arg=building["code"])
    chain = _api(
        live_server,
        suite_headers,
        "query($c: String!) { responsibilityChain(code: $c) { links { organization { code } } } }",
        c=building["code"],
    )["responsibilityChain"]
    orgs = {link["organization"]["code"] for link in chain["links"] if link["organization"]}
    lit = set(await page.evaluate("() => grassroots.drawing.cy.nodes('.path').map((n) => n.data('code'))"))
    drawn = set(await page.evaluate("() => grassroots.drawing.cy.nodes().map((n) => n.data('code'))"))
    assert building["code"] in lit
    assert lit - {building["code"]} == orgs & drawn
    assert orgs & drawn  # the group, branch and committee of a community view are drawn
    assert outside == []
    assert errors == []
    await page.close()


async def test_the_picture_exports_as_png_and_svg(small: dict[str, Any], live_server: str, browser: Browser) -> None:
    community, _ = _community_with_most_gaps(small)
    outside: list[str] = []
    errors: list[str] = []
    page = await _open(browser, live_server, outside, errors, f"/?scope={community}")
    await _drawn(page, community)
    shown = await page.evaluate("() => grassroots.drawing.cy.nodes(':visible').length")
    files = {}
    for kind in ("png", "svg"):
        async with page.expect_download() as info:
            await page.click(f"#export-{kind}")
        download = await info.value
        assert download.suggested_filename.endswith(f".{kind}")
        files[kind] = (await download.path()).read_bytes()  # type: ignore[union-attr]
    assert files["png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert len(files["png"]) > 20_000
    svg = files["svg"].decode("utf-8")
    assert svg.lstrip().startswith("<?xml")
    assert "<svg" in svg
    assert svg.count("<g data-code=") == shown
    assert len(svg) > 5_000
    assert outside == []
    assert errors == []
    await page.close()


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
async def test_the_layout_fits_the_window(
    size: tuple[int, int], small: dict[str, Any], live_server: str, browser: Browser
) -> None:
    """Nothing overflows sideways, the drawing takes at least 60 % of the window's height, the header and the
    figures' headings stay on one line; the screenshots are kept to look at."""
    community, _ = _community_with_most_gaps(small)
    outside: list[str] = []
    errors: list[str] = []
    page = await _open(browser, live_server, outside, errors, f"/?scope={community}", size=size)
    await _drawn(page, community)
    box = await page.evaluate(
        """() => ({
             scroll: document.documentElement.scrollWidth, width: innerWidth, height: innerHeight,
             graph: document.querySelector('#graph').getBoundingClientRect().height,
             right: document.querySelector('#right').getBoundingClientRect().right,
             panels: [...document.querySelectorAll('#side, #right, #dashboard')]
               .map((e) => e.scrollWidth - e.clientWidth),
             toolbar: [...document.querySelectorAll('#toolbar > *')].map((e) => e.getBoundingClientRect().right),
             h1: document.querySelector('header h1').getBoundingClientRect().height,
             headings: [...document.querySelectorAll('#coverage-figures th')]
               .map((th) => th.getBoundingClientRect().height),
           })"""
    )
    assert box["scroll"] <= box["width"], box
    assert box["right"] <= box["width"]
    assert max(box["panels"]) <= 0, box["panels"]  # no panel scrolls sideways: the figures fit their column
    assert max(box["toolbar"]) <= box["width"]
    assert box["graph"] >= 0.6 * box["height"], box
    assert box["h1"] < 30
    assert box["headings"]
    assert max(box["headings"]) < 30, box["headings"]  # 空白 on one line
    view = await _view(page)
    assert view["median"] >= 12
    await page.screenshot(path=str(ARTIFACTS / f"page-{size[0]}x{size[1]}.png"))
    # Folding the side panels gives the drawing their room.
    before = await page.evaluate("() => document.querySelector('#graph').getBoundingClientRect().width")
    await page.click("#toggle-side")
    await page.click("#toggle-right")
    after = await page.evaluate("() => document.querySelector('#graph').getBoundingClientRect().width")
    assert after > before + 300
    assert outside == []
    assert errors == []
    await page.close()


RATES = """query($s: String!) { coverage(scope: $s) {
  scope { area { code } figures { metric units covered } } children { area { code } figures { metric units covered } }
} }"""
ORGS = """() => grassroots.drawing.cy.nodes()
  .filter((n) => ['CommunityCommittee', 'GridBranch'].includes(n.data('type')))
  .map((n) => ({ code: n.data('code'), gap: n.hasClass('gap'), rated: n.hasClass('org-rated'), rate: n.data('rate'),
                 fill: n.style('background-color') }))"""


async def test_committees_and_branches_are_coloured_by_their_areas_rates(
    small: dict[str, Any], live_server: str, browser: Browser, suite_headers: dict[str, str]
) -> None:
    """A community's committee wears its community's rate of the chosen metric, a grid branch the rate of the grids
    it covers (the generated rows say which), as the API counts them; a branch with a gap stays a red octagon."""
    rows = small["data"].rows
    community, _ = _community_with_most_gaps(small)
    coverage = _api(live_server, suite_headers, RATES, s=community)["coverage"]
    figures = {
        a["area"]["code"]: {f["metric"]: f for f in a["figures"]} for a in [coverage["scope"], *coverage["children"]]
    }
    areas = {c["code"]: [community] for c in rows["CommunityCommittee"] if c["community_code"] == community}
    areas |= {b["code"]: b["grid_codes"].split(";") for b in rows["GridBranch"] if b["code"][4:16] == community
              and b["grid_codes"]}  # fmt: skip
    outside: list[str] = []
    errors: list[str] = []
    page = await _open(browser, live_server, outside, errors, f"/?scope={community}")
    await _drawn(page, community)
    for metric in ("households", "buildings"):
        chosen = await page.evaluate(CHOOSE, metric)
        assert chosen == metric
        drawn = await page.evaluate(ORGS)
        rated = [o for o in drawn if o["rated"]]
        assert {o["code"] for o in rated} == {o["code"] for o in drawn if not o["gap"] and o["code"] in areas}
        assert len(rated) >= 2, drawn
        for org in rated:
            units = sum(figures[code][metric]["units"] for code in areas[org["code"]])
            covered = sum(figures[code][metric]["covered"] for code in areas[org["code"]])
            assert org["rate"] == (pytest.approx(covered / units) if units else None), org
            fill = await page.evaluate(
                "(rate) => import('/static/app/style.js').then((m) => m.rateColour(rate).fill)", org["rate"]
            )
            assert _rgb(org["fill"]) == _rgb(fill), org
        assert await page.is_visible("#scale")
    assert outside == []
    assert errors == []
    await page.close()


#: Choose the metric colouring the picture (the dashboard's select, folded on a short window), as a person would.
CHOOSE = """(metric) => { const s = document.querySelector('#chart-metric'); s.value = metric;
  s.dispatchEvent(new Event('change')); return s.value; }"""


def _rgb(colour: str) -> tuple[int, ...]:
    """A CSS colour, `#rrggbb` or `rgb(r,g,b)`, as its three numbers."""
    if colour.startswith("#"):
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(int(x) for x in re.findall(r"\d+", colour)[:3])


async def test_a_community_in_the_url_is_drawn_before_the_area_tree_answers(
    small: dict[str, Any], live_server: str, browser: Browser
) -> None:
    """Issue 24 (time to first drawing): `/?scope=<community>` draws and paints the community's network as soon as
    its answer is in, while the area tree is still on its way; the tree's row, the breadcrumbs, the figures and
    `data-drawn` follow once the tree is there. Here the area tree's answer is held until the picture is painted."""
    community, _ = _community_with_most_gaps(small)
    outside: list[str] = []
    page = await guarded_page(browser, live_server, outside)
    release = asyncio.Event()
    held: list[str] = []

    async def hold_tree(route: Route) -> None:
        if "gapKinds" in (route.request.post_data or ""):  # the area tree's request (api.js AREA_TREE)
            held.append(route.request.url)
            await release.wait()
        await route.fallback()

    await page.route("**/graphql", hold_tree)
    await page.goto(f"{live_server}/?scope={community}")
    await page.wait_for_function(
        "() => performance.getEntriesByName('grassroots:first-drawing').length === 1", timeout=60_000
    )
    before = await page.evaluate(
        """() => ({ drawn: document.body.dataset.drawn, nodes: grassroots.drawing.cy.nodes().length,
                    crumbs: document.querySelector('#crumbs').textContent,
                    rows: document.querySelectorAll('#tree li').length })"""
    )
    assert held, "the area tree was never asked for"
    assert before["drawn"] == "", before  # the tree is held: nothing is marked drawn yet
    assert before["rows"] == 0, before
    assert before["crumbs"] == "", before
    assert before["nodes"] > 1, before  # yet the community is drawn
    release.set()
    await _drawn(page, community)
    after = await page.evaluate(
        """(code) => ({ crumbs: document.querySelector('#crumbs').textContent,
                        selected: document.querySelector('#tree .tree-row.selected')?.dataset.code,
                        timing: grassroots.state.timing.scope, mode: document.body.dataset.mode })""",
        community,
    )
    assert after["selected"] == community, after
    assert after["crumbs"], after
    assert after["timing"] == community, after
    assert after["mode"] == "network", after
    assert outside == []
