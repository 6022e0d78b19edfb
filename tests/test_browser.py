"""The IDEs in a real browser (Debian's chromium driven by Playwright), with no network beyond localhost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tests.browser import ARTIFACTS, guarded_page

if TYPE_CHECKING:
    from playwright.async_api import Browser


def _coverage_query(city: str) -> str:
    return '{ coverage(scope: "%s") { scope { area { name } figures { metric units covered } } } }' % city


async def test_graphiql_runs_a_coverage_query_offline(
    small: dict[str, Any], live_server: str, browser: Browser
) -> None:
    city = small["data"].rows["City"][0]
    outside: list[str] = []
    page = await guarded_page(browser, live_server, outside)
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
    page = await guarded_page(browser, live_server, outside)
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
