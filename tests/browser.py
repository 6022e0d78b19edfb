"""The browser tests' harness: pages that may reach localhost only (the `browser` fixture is in conftest.py).

A script a test evaluates never returns a Cytoscape collection (`emit`, `forEach`, `addClass`… return one): Playwright
serializes the value it is given, and a collection reaches the whole graph and renderer — the page's renderer ran
out of memory (2.6 GB, "Target crashed") doing that. End such scripts with a block body: `() => { …; }`."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from graph.settings import PROJECT_ROOT
from tests.helpers import SUITE_ADMIN, TEST_PASSWORD

if TYPE_CHECKING:  # Playwright is imported by the tests that drive a browser, not by a unit run collecting them
    from playwright.async_api import Browser, Page, Route

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


async def guarded_page(
    browser: Browser,
    base: str,
    outside: list[str],
    login: str | None = SUITE_ADMIN,
    password: str = TEST_PASSWORD,
    size: tuple[int, int] = (1400, 900),
) -> Page:
    """A page whose every request to anywhere but the service is recorded and refused, signed in as `login`
    (its own browser context holds the session cookie; `login=None`: not signed in), in a window of `size`."""
    page = await browser.new_page(viewport={"width": size[0], "height": size[1]}, accept_downloads=True)
    host = urlparse(base).netloc
    if login is not None:
        response = await page.request.post(f"{base}/login", data={"login": login, "password": password})
        assert response.status == 200, await response.text()

    async def guard(route: Route) -> None:
        url = route.request.url
        if urlparse(url).netloc == host or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            outside.append(url)
            await route.abort()

    await page.route("**/*", guard)
    return page
