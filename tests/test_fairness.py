"""Each account's share of the database (issue 22, graph/fairness.py): the ledger of seconds per minute, the turns
that go to the least-used account, and, on the real app with a tiny share, an account refused RATE_LIMITED with
retryAfter while another account is answered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient, Response
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from access.concurrency import PAUSING, AccountConcurrency, AccountLimits
from access.tokens import Signer
from access.web import Authenticator, RequireSignIn
from graph import fairness
from graph.bounds import RequestGraph
from graph.driver import Graph
from graph.fairness import DatabaseTime, Deferred, FairTurns, OverShare
from graph.settings import Settings
from tests.helpers import OwnApp, ensure_account, own_app

HEAVY, LIGHT, WARM = "fair-heavy", "fair-light", "fair-warm"
SHARE = 0.3  # s of database time a minute: well above one request of STREETS, even on a busy host
STREETS = '{ city(code: "420600000000") { districts { streets { communities { grids { code } } } } } }'


def test_the_ledger_refuses_past_the_share_until_the_minute_has_passed() -> None:
    ledger = DatabaseTime(per_minute=2.0, window=60.0)
    ledger.charge("a", 1.5, now=100.0)
    ledger.check("a", now=101.0)  # 1.5 s of 2: still allowed
    ledger.charge("a", 1.0, now=110.0)  # the running transaction's overrun is charged
    with pytest.raises(OverShare) as refused:
        ledger.check("a", now=111.0)
    assert refused.value.retry_after == 49  # the first charge leaves the window at 160: 2.5 - 1.5 fits again
    assert "GRASSROOTS_ACCOUNT_DB_SECONDS" in str(refused.value)
    assert "请" in str(refused.value)
    ledger.check("b", now=111.0)  # another account is untouched
    ledger.check("a", now=160.5)
    assert ledger.used("a", now=170.5) == 0.0


def test_an_account_has_the_busy_share_while_another_account_uses_the_database() -> None:
    ledger = DatabaseTime(per_minute=6.0, window=60.0, busy_per_minute=2.0)
    ledger.charge("a", 3.0, now=100.0)
    assert ledger.share("a", now=101.0) == 6.0  # alone: the quiet share
    ledger.check("a", now=101.0)  # 3 s of 6
    ledger.charge("b", 0.01, now=102.0)  # another account reads
    assert ledger.share("a", now=103.0) == 2.0
    assert ledger.share("b", now=103.0) == 2.0  # a's transaction ended 3 s ago: b is not alone either
    with pytest.raises(OverShare) as refused:
        ledger.check("a", now=103.0)  # 3 s of the busy 2
    assert refused.value.limit == 2.0
    assert "GRASSROOTS_ACCOUNT_DB_SECONDS_BUSY" in str(refused.value)
    assert refused.value.retry_after == 57  # its 3 s leave the window at 160
    ledger.check("b", now=103.0)
    quiet = 102.0 + fairness.BUSY_WINDOW + 0.1  # b's last transaction is out of the busy window
    assert ledger.share("a", now=quiet) == 6.0
    ledger.check("a", now=quiet)
    assert DatabaseTime(per_minute=2.0, busy_per_minute=5.0).busy_per_minute == 2.0  # never more than the quiet one
    assert DatabaseTime(per_minute=2.0, busy_per_minute=0).busy_per_minute == 2.0  # 0: the same


def test_an_unlimited_ledger_never_refuses_but_still_counts() -> None:
    ledger = DatabaseTime(per_minute=0)
    ledger.charge("a", 1000.0)
    ledger.check("a")
    assert ledger.used("a") == 1000.0


async def test_a_free_turn_goes_to_the_least_used_waiting_account() -> None:
    ledger = DatabaseTime(per_minute=0)
    ledger.charge("heavy", 30.0)
    turns = FairTurns(1, ledger)
    await turns.acquire("someone")  # the one slot is taken
    order: list[str] = []

    async def wait(login: str) -> None:
        await turns.acquire(login)
        order.append(login)
        turns.release(login)

    waiters = [asyncio.ensure_future(wait(login)) for login in ("heavy", "heavy", "light", "other")]
    await asyncio.sleep(0.01)
    assert order == []  # nobody runs past the slot
    turns.release("someone")
    await asyncio.gather(*waiters)
    assert order == ["light", "other", "heavy", "heavy"]
    assert turns.running == 0


async def test_a_waiter_that_gives_up_passes_its_turn_on() -> None:
    turns = FairTurns(1, DatabaseTime(per_minute=0))
    await turns.acquire("a")
    gone = asyncio.ensure_future(turns.acquire("b"))
    await asyncio.sleep(0.01)
    gone.cancel()
    after = asyncio.ensure_future(turns.acquire("c"))
    await asyncio.sleep(0.01)
    turns.release("a")
    await asyncio.wait_for(after, 1)
    turns.release("c")
    assert turns.running == 0


async def test_one_account_runs_at_most_its_share_of_the_slots_while_others_get_theirs() -> None:
    turns = FairTurns(4, DatabaseTime(per_minute=0), per_account=2)
    running: list[str] = []
    gate = asyncio.Event()

    async def run(login: str) -> None:
        await turns.acquire(login)
        running.append(login)
        await gate.wait()
        turns.release(login)

    heavy = [asyncio.ensure_future(run("heavy")) for _ in range(6)]
    await asyncio.sleep(0.01)
    assert running == ["heavy", "heavy"]  # two of its six, though four slots are free
    light = asyncio.ensure_future(run("light"))
    await asyncio.sleep(0.01)
    assert running == ["heavy", "heavy", "light"]  # a newcomer passes the capped account's queue
    gate.set()
    await asyncio.gather(*heavy, light)
    assert running.count("heavy") == 6
    assert turns.running == 0
    assert not turns.mine


async def test_a_heavy_account_waits_while_the_service_is_busy_and_runs_when_it_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ledger = DatabaseTime(per_minute=3.0)
    ledger.charge("heavy", 1.5)  # half its share: heavy (a third)
    turns = FairTurns(4, ledger, per_account=2)
    for login in ("a", "b"):
        await turns.acquire(login)  # half the slots taken: busy
    waiting = asyncio.ensure_future(turns.acquire("heavy"))
    await turns.acquire("light")  # a light account still passes
    await asyncio.sleep(0.01)
    assert not waiting.done()
    for login in ("a", "b", "light"):
        turns.release(login)
    await asyncio.wait_for(waiting, 1)  # quiet again: the heavy account runs, one transaction at a time
    second = asyncio.ensure_future(turns.acquire("heavy"))
    await asyncio.sleep(0.01)
    assert not second.done()
    turns.release("heavy")
    await asyncio.wait_for(second, 1)
    turns.release("heavy")
    assert turns.running == 0

    busy_ledger = DatabaseTime(per_minute=30.0, busy_per_minute=3.0)
    busy_ledger.charge("heavy", 1.5)  # a twentieth of its quiet share, half of its busy one
    busy_turns = FairTurns(4, busy_ledger)
    assert not busy_turns.heavy("heavy", busy_ledger.used("heavy"))  # alone
    busy_ledger.charge("light", 0.01)
    assert busy_turns.heavy("heavy", busy_ledger.used("heavy"))  # another account reads: heavy by its busy share

    monkeypatch.setattr(fairness, "HEAVY_WAIT", 0.05)
    for login in ("a", "b"):
        await turns.acquire(login)
    with pytest.raises(Deferred) as deferred:
        await turns.acquire("heavy")
    assert "服务繁忙" in str(deferred.value)
    assert "GRASSROOTS_ACCOUNT_DB_SECONDS" in str(deferred.value)
    for login in ("a", "b"):
        turns.release(login)
    assert turns.running == 0
    assert not turns.mine


async def test_a_transaction_runs_no_longer_than_its_accounts_share_left(graph: Graph) -> None:
    view = RequestGraph(graph, account="fair-long")
    view.db_time = DatabaseTime(per_minute=0.6)
    view.turns = FairTurns(4, view.db_time)
    started = time.monotonic()
    with pytest.raises(OverShare) as refused:
        await view.read_rows("UNWIND range(1, 1000000000) AS x RETURN count(x) AS n")  # many seconds, unstopped
    assert time.monotonic() - started < 10  # stopped at the share (0.6 s), not at NEO4J_QUERY_TIMEOUT
    assert refused.value.retry_after >= 1
    assert view.db_time.used("fair-long") >= 0.6
    assert view.turns.running == 0


@pytest.fixture(scope="module")
async def shared_out(settings: Settings, small: dict[str, Any]) -> AsyncIterator[OwnApp]:
    """The real app with a share of SHARE s of database time per minute."""
    async with own_app(settings, GRASSROOTS_ACCOUNT_DB_SECONDS=SHARE) as running:
        for login in (HEAVY, LIGHT, WARM):
            await ensure_account(running.app.state.graph, login)
        yield running


async def test_an_account_past_its_share_is_refused_and_another_is_answered(
    shared_out: OwnApp,
) -> None:
    # The query's plan is made once, by another account: a first plan (tens of ms on a busy host) would spend much
    # of the heavy account's share on its first request.
    async with shared_out.client(WARM) as warm:
        await warm.post("/graphql", json={"query": STREETS})
    async with shared_out.client(HEAVY) as heavy, shared_out.client(LIGHT) as light:
        codes: list[str | None] = []
        # Until the heavy account's reads add up to its share: a few ms each on a quiet host, tens on a busy one
        # (a count of requests would be too few on the one or refused at the first on the other).
        for _ in range(2000):
            body = (await heavy.post("/graphql", json={"query": STREETS})).json()
            errors = body.get("errors") or []
            codes.append(errors[0]["extensions"]["code"] if errors else None)
            if errors:
                break
        assert codes[0] is None, codes
        assert codes[-1] == "RATE_LIMITED", codes
        error = errors[0]
        assert 1 <= error["extensions"]["retryAfter"] <= 60
        assert "GRASSROOTS_ACCOUNT_DB_SECONDS" in error["message"]
        assert "数据库" in error["message"]
        # from now on the heavy account is refused at the door, its body unread: 429 with Retry-After
        again = await heavy.post("/graphql", json={"query": STREETS})
        assert again.status_code == 429
        assert again.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert 1 <= int(again.headers["retry-after"]) <= 60
        answered = (await light.post("/graphql", json={"query": "{ me { login } }"})).json()
        assert answered == {"data": {"me": {"login": LIGHT}}}
        page = await heavy.get("/")  # the page reads nothing from the graph: still served, to say why in its words
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
    assert shared_out.app.state.graph.db_time.used(HEAVY) >= SHARE


async def test_a_login_at_its_limits_is_refused_before_its_account_is_read() -> None:
    """The share of the database and the requests in flight need only the token's login: a refused request never
    asks the graph for the account (an app with no graph at all shows it); one within its limits does."""

    def no_graph() -> Graph:
        raise AssertionError("the account was read")

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("let through")

    signer = Signer(b"k" * 32)
    limits = AccountLimits(1, lambda login: OverShare(1.0, 7) if login == HEAVY else None)
    limits.in_flight["fair-busy"] = 1  # one request in flight: at its limit of 1
    app = RequireSignIn(AccountConcurrency(inner, limits), Authenticator(no_graph, signer), limits.refusal)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:

        async def ask(login: str) -> Response:
            token = signer.issue(login, timedelta(minutes=5))
            headers = {"Authorization": f"Bearer {token}"}
            return await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)

        for login, code, retry in ((HEAVY, "RATE_LIMITED", "7"), ("fair-busy", "TOO_MANY_REQUESTS", "1")):
            started = time.monotonic()
            refused = await ask(login)
            assert time.monotonic() - started >= 0.9  # paused a second before it is sent (REFUSAL_PAUSE)
            assert refused.status_code == 429
            assert refused.json()["errors"][0]["extensions"]["code"] == code
            assert refused.headers["retry-after"] == retry
        with pytest.raises(AssertionError, match="the account was read"):
            await ask(LIGHT)
    assert limits.in_flight == {"fair-busy": 1}


async def test_refusals_are_paused_up_to_the_accounts_limit_then_sent_at_once() -> None:
    """A client asking again at once after a refusal waits the pause; its pausing refusals are bounded (`PAUSING`
    times the account's `limit`, here 2), the rest are answered at once, and a pausing refusal holds no slot in
    flight."""

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"data": {"ok": True}})(scope, receive, send)

    signer = Signer(b"k" * 32)
    limits = AccountLimits(2, lambda login: OverShare(1.0, 30) if login == HEAVY else None, pause=0.5)
    app = RequireSignIn(AccountConcurrency(inner, limits), Authenticator(_no_graph, signer), limits.refusal)
    headers = {"Authorization": f"Bearer {signer.issue(HEAVY, timedelta(minutes=5))}"}
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:

        async def timed() -> tuple[float, int]:
            started = time.monotonic()
            response = await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
            return time.monotonic() - started, response.status_code

        paused = PAUSING * limits.limit
        answers = await asyncio.gather(*(timed() for _ in range(paused + 3)))
    assert [status for _, status in answers] == [429] * (paused + 3)
    waits = sorted(seconds for seconds, _ in answers)
    assert all(seconds < 0.4 for seconds in waits[:3]), waits  # past those pausing: at once
    assert all(seconds >= 0.45 for seconds in waits[3:]), waits  # the paused ones
    assert not limits.pausing
    assert not limits.in_flight


def _no_graph() -> Graph:
    raise AssertionError("the account was read")
