"""The IDEs in a real browser (Debian's chromium driven by Playwright), with no network beyond localhost."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlparse

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright

from graph.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Headless Debian chromium (Playwright downloads no browser)."""
    assert CHROMIUM, "chromium is missing: make setup installs it (apt-get install chromium)"
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        await b.close()


async def _page(browser: Browser, base: str, outside: list[str]) -> Page:
    """A page whose every request to anywhere but the service is recorded and refused."""
    page = await browser.new_page(viewport={"width": 1400, "height": 900})
    host = urlparse(base).netloc

    async def guard(route: Route) -> None:
        url = route.request.url
        if urlparse(url).netloc == host or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            outside.append(url)
            await route.abort()

    await page.route("**/*", guard)
    return page


def _coverage_query(city: str) -> str:
    return '{ coverage(scope: "%s") { scope { area { name } figures { metric units covered } } } }' % city


async def test_graphiql_runs_a_coverage_query_offline(
    small: dict[str, Any], live_server: str, browser: Browser
) -> None:
    city = small["data"].rows["City"][0]
    outside: list[str] = []
    page = await _page(browser, live_server, outside)
    await page.goto(f"{live_server}/graphql?query={quote(_coverage_query(city['code']))}")
    await page.wait_for_selector(".graphiql-execute-button", timeout=30_000)
    await page.click(".graphiql-execute-button")
    await page.wait_for_function("() => document.body.innerText.includes('\"covered\"')", timeout=30_000)
    text = await page.inner_text("body")
    assert city["name"] in text
    assert '"households"' in text
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "graphiql.png"))
    assert outside == []
    await page.close()


async def test_playground_runs_a_coverage_query_offline(
    small: dict[str, Any], live_server: str, browser: Browser
) -> None:
    city = small["data"].rows["City"][0]
    outside: list[str] = []
    page = await _page(browser, live_server, outside)
    await page.goto(f"{live_server}/playground?query={quote(_coverage_query(city['code']))}")
    await page.wait_for_selector(".CodeMirror", timeout=30_000)
    button = page.locator("[title='Execute Query (Ctrl-Enter)']").first
    await button.wait_for(timeout=30_000)
    await button.click()
    await page.wait_for_function("() => document.body.innerText.includes('\"covered\"')", timeout=30_000)
    assert city["name"] in await page.inner_text("body")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "playground.png"))
    assert outside == []
    await page.close()
