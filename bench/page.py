"""Page benchmark: time to first drawing of the page at `/` for a community and for a street, in headless chromium.

`python -m bench page` generates the `city` profile (or `--page-profile small`), loads it into a fresh local Neo4j,
serves the app with uvicorn and opens `/?scope=CODE` in Debian's chromium (Playwright), each run in a new browser
context (cold cache: scripts, styles and API answers all fetched again). The page sets the performance mark
`grassroots:first-drawing` once the first drawing is laid out and painted; its `startTime` counts from the start
of navigation. With NEO4J_URI set, the database there is used as it is (any loaded city). The browser is signed
in as an admin of the whole city (`bench.signin`), its bearer token sent with every request the page makes.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, async_playwright

from bench.api import ADMIN, _ours
from bench.database import profile_database
from bench.report import write_section
from bench.signin import Account, bearer, ensure, first_city
from core.access import Role

RUNS = 7
WARMUP = 1


def _scopes(graphql: str, headers: dict[str, str]) -> dict[str, dict[str, str]]:
    """The first street of the first district, and its first community (the API benchmark's choice)."""
    query = "{ cities { districts { streets { code name communities { code name } } } } }"
    data = httpx.post(graphql, json={"query": query}, headers=headers, timeout=120).json()["data"]
    street = data["cities"][0]["districts"][0]["streets"][0]
    community = street["communities"][0]
    return {"community": {"code": community["code"], "name": community["name"]},
            "street": {"code": street["code"], "name": street["name"]}}  # fmt: skip


async def _first_drawing(browser: Browser, base: str, code: str, headers: dict[str, str]) -> dict[str, Any]:
    """One cold visit of `/?scope=code`: the mark's time since navigation, the page's own breakdown, what it drew."""
    context = await browser.new_context(viewport={"width": 1600, "height": 1000}, extra_http_headers=headers)
    page = await context.new_page()
    try:
        await page.goto(f"{base}/?scope={code}")
        await page.wait_for_function(
            "(code) => ['error', code].includes(document.body.dataset.drawn)", arg=code, timeout=300_000
        )
        if await page.evaluate("() => document.body.dataset.drawn") == "error":
            raise RuntimeError(f"the page could not draw {code}: {await page.inner_text('#status')}")
        return await page.evaluate(
            """() => ({
                 first: performance.getEntriesByName('grassroots:first-drawing')[0].startTime,
                 timing: grassroots.state.timing,
                 mode: document.body.dataset.mode,
                 labels: grassroots.drawing.labelHeights().sort((a, b) => a - b),
                 ...grassroots.drawing.summary() })"""
        )
    finally:
        await context.close()


async def _measure(
    base: str, scopes: dict[str, dict[str, str]], headers: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise RuntimeError("chromium is missing: apt-get install chromium")
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in scopes}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            for _ in range(WARMUP):
                for scope in scopes.values():
                    await _first_drawing(browser, base, scope["code"], headers)
            for _ in range(RUNS):  # interleaved, so both scopes see the same noise
                for name, scope in scopes.items():
                    out[name].append(await _first_drawing(browser, base, scope["code"], headers))
        finally:
            await browser.close()
    return out


def run(profile: str) -> dict[str, Any]:
    """Measure; return the numbers (also written to docs/benchmarks.md)."""
    with tempfile.TemporaryDirectory(prefix="bench-page-") as tmp, profile_database(Path(tmp), profile) as db:
        if db.fresh:
            held, label = f"the `{profile}` profile loaded into a fresh local Neo4j", f"{profile} profile"
        else:
            held, label = "the database at NEO4J_URI, as loaded", "NEO4J_URI"
        data_dir = Path(tmp) / "data"
        ensure(db.uri, db.password, Account(ADMIN, Role.ADMIN, first_city(db.uri, db.password)))
        headers = bearer(data_dir, ADMIN)
        with _ours(db.uri, db.password, data_dir) as graphql:
            scopes = _scopes(graphql, headers)
            runs = asyncio.run(_measure(graphql.removesuffix("/graphql"), scopes, headers))
    return {"held": held, "label": label, "scopes": scopes, "runs": runs}


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ms"


def main(profile: str = "city") -> None:
    result = run(profile)
    rows = [
        "| scope | drawn | first drawing (from navigation) | until the scope is picked (page, scripts; a street: the area "
        "tree) | "
        "answers still awaited | draw and layout (layout alone) | to paint | levels of detail drawn | "
        "labels at fit, least / median px | runs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, scope in result["scopes"].items():
        runs = result["runs"][name]
        last = runs[-1]
        drawn = (
            f"{last['nodes']} nodes, {last['edges']} edges"
            if last["mode"] == "network"
            else f"collapsed: {last['nodes'] - 1} child areas as counts"
        )
        timing = [r["timing"] for r in runs]
        rows.append(
            f"| {name} {scope['name']} (`{scope['code']}`) | {drawn} | **{_ms([r['first'] for r in runs])}** | "
            f"{_ms([r['first'] - t['total'] for r, t in zip(runs, timing, strict=True)])} | "
            f"{_ms([t['api'] for t in timing])} | {_ms([t['draw'] for t in timing])} "
            f"({_ms([t['layout'] for t in timing])}) | {_ms([t['paint'] for t in timing])} | "
            f"{statistics.median([t.get('tried', 0) for t in timing]):.0f} | "
            f"{last['labels'][0]:.1f} / {statistics.median(last['labels']):.1f} | "
            + ", ".join(f"{r['first']:.0f}" for r in runs)
            + " |"
        )
    body = "\n".join(
        [
            f"## Page: time to first drawing / 页面首次绘图 ({result['label']})",
            "",
            f"`python -m bench page`: {result['held']}; the app on uvicorn; `/?scope=CODE` opened in headless Debian "
            f"chromium (Playwright, 1600×1000, software rendering), each visit in a fresh browser context (cold cache); "
            f"{RUNS} runs per scope after {WARMUP} warm-up, interleaved; medians. *First drawing* is the page's "
            "`grassroots:first-drawing` performance mark (laid out and painted), counted from the start of navigation: "
            "it includes loading the page, Cytoscape.js with dagre, the `network` and `coverage` answers (for a street "
            "the area tree too), and painting. The page asks for the URL's scope (its coverage, and its network: the "
            "levels of detail in one request, the ladder from the next level beside it) while the area tree loads; a "
            "community or grid is picked then and drawn as soon as its network is answered (the tree's row and "
            "figures follow the tree), a street or larger once the tree is there. The rest of the breakdown is "
            "measured by the page from picking the scope (a level passed over by its estimated zoom is waited for "
            "under *answers*). A community or grid is drawn at the most detailed level that stays within 150 nodes and "
            'reads at "fit" (labels ≥ 12 px; each level drawn to see is counted); a street or larger is drawn as its '
            "child areas.",
            "",
            *rows,
        ]
    )
    write_section("page", body)
    print(body)
    json.dump({k: v for k, v in result.items() if k != "runs"}, sys.stdout, ensure_ascii=False)
