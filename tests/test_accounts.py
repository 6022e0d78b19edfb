"""Accounts in the graph, managed from the command line: add, list, tokens, a new password, disabling."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from access import accounts
from access.tokens import InvalidToken, Signer, secret
from core.access import Role
from graph.driver import Graph
from graph.migrations import migrate
from graph.settings import Settings
from tests.helpers import clear, run_cli

CITY, STREET = "420600000000", "420602001000"
PASSWORD = "Qx7-river-lamp"


@pytest.fixture(scope="module")
async def areas(graph: Graph) -> Graph:
    """A graph holding only a city and one of its streets, and no accounts."""
    await migrate(graph)
    await clear(graph)
    await graph.write_rows(
        "CREATE (:City {code: $city, name: '襄阳市'}), (:Street {code: $street, name: '古城街道'})",
        {"city": CITY, "street": STREET},
    )
    return graph


async def _cli(settings: Settings, data: Path, *args: str, stdin: str | None = None):
    return await asyncio.to_thread(run_cli, settings, *args, stdin=stdin, data_dir=data)


async def test_an_account_added_from_the_command_line_signs_in_and_gets_tokens(
    areas: Graph, settings: Settings, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    added = await _cli(
        settings,
        data,
        "user",
        "add",
        "Wang.Li",
        "--role",
        "viewer",
        "--scope",
        STREET,
        "--name",
        "王丽",
        stdin=PASSWORD,
    )
    assert added.returncode == 0, added.stderr
    assert "wang.li" in added.stdout
    assert PASSWORD not in added.stdout + added.stderr
    listed = await _cli(settings, data, "user", "list")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.startswith("wang.li"))
    assert "viewer" in line
    assert STREET in line
    assert "王丽" in line
    assert "argon2" not in listed.stdout

    account = await accounts.sign_in(areas, "wang.li", PASSWORD)
    assert (account.role, account.scope, account.pii) == ("viewer", STREET, False)
    assert account.last_login_at is None  # as it was before: this is its first sign-in
    again = await accounts.sign_in(areas, "WANG.LI", PASSWORD)
    assert again.last_login_at is not None
    for wrong in (("wang.li", "Qx7-river-lamP"), ("nobody", PASSWORD), ("", "")):
        with pytest.raises(accounts.AccountError, match="wrong login or password"):
            await accounts.sign_in(areas, *wrong)

    issued = await _cli(settings, data, "token", "wang.li", "--ttl", "2h")
    assert issued.returncode == 0, issued.stderr
    claims = Signer(secret(data)).check(issued.stdout.strip())
    assert claims.expires_at - claims.issued_at.replace(microsecond=0) == timedelta(hours=2)
    assert (await accounts.account_of(areas, claims)).login == "wang.li"
    assert (await _cli(settings, data, "token", "nobody")).returncode == 1


async def test_a_new_password_or_disabling_revokes_earlier_tokens(
    areas: Graph, settings: Settings, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    made = await _cli(
        settings, data, "user", "add", "zhao", "--role", "editor", "--scope", CITY, "--pii", "--generate-password"
    )
    assert made.returncode == 0, made.stderr
    first = made.stdout.split("密码 / password: ")[1].strip()
    assert (await accounts.sign_in(areas, "zhao", first)).pii
    signer = Signer(secret(data))
    before = signer.check((await _cli(settings, data, "token", "zhao")).stdout.strip())
    await asyncio.sleep(1.1)  # a token's time is in whole seconds
    changed = await _cli(settings, data, "user", "passwd", "zhao", stdin="Another-pass-42")
    assert changed.returncode == 0, changed.stderr
    with pytest.raises(InvalidToken, match="revoked"):
        await accounts.account_of(areas, before)
    with pytest.raises(accounts.AccountError):
        await accounts.sign_in(areas, "zhao", first)
    after = signer.check((await _cli(settings, data, "token", "zhao")).stdout.strip())
    assert (await accounts.account_of(areas, after)).login == "zhao"

    assert (await _cli(settings, data, "user", "disable", "zhao")).returncode == 0
    with pytest.raises(InvalidToken, match="disabled"):
        await accounts.account_of(areas, after)
    with pytest.raises(accounts.AccountError):
        await accounts.sign_in(areas, "zhao", "Another-pass-42")
    refused = await _cli(settings, data, "token", "zhao")
    assert refused.returncode == 1
    assert "no enabled account" in refused.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("user", "add", "liu", "--role", "viewer", "--scope", "420602009000"), "no street 420602009000"),
        (("user", "add", "liu", "--role", "viewer", "--scope", "12345"), "invalid scope"),
        (("user", "add", "liu", "--role", "boss", "--scope", STREET), "unknown role"),
        (("user", "add", "1li", "--role", "viewer", "--scope", STREET), "a login is 3-32"),
        (("user", "add", "liu", "--role", "viewer", "--scope", STREET, "--pii"), "--pii is for editors and auditors"),
        (("user", "passwd", "nobody"), "no account nobody"),
        (("user", "disable", "nobody"), "no account nobody"),
        (("token", "liu", "--ttl", "1y"), "lifetime"),
    ],
)
async def test_refusals_say_why_and_change_nothing(
    areas: Graph, settings: Settings, tmp_path: Path, args: tuple[str, ...], fragment: str
) -> None:
    before = await areas.read_rows("MATCH (u:_User) RETURN u.login AS login, u.passwordHash AS hash ORDER BY login")
    done = await _cli(settings, tmp_path, *args, stdin=PASSWORD)
    assert done.returncode == 1
    assert fragment in done.stderr
    after = await areas.read_rows("MATCH (u:_User) RETURN u.login AS login, u.passwordHash AS hash ORDER BY login")
    assert after == before


async def test_a_taken_login_and_a_weak_password_are_refused(areas: Graph) -> None:
    street = await accounts.check_scope(areas, STREET)
    await accounts.add(areas, "sun", Role.AUDITOR, street, PASSWORD)
    with pytest.raises(accounts.AccountError, match="taken"):
        await accounts.add(areas, "SUN", Role.VIEWER, street, PASSWORD)
    with pytest.raises(accounts.AccountError, match="at least 10"):
        await accounts.add(areas, "qian", Role.VIEWER, street, "short")
    rows = await areas.read_rows("MATCH (u:_User {login: 'sun'}) RETURN u.role AS role, u.passwordHash AS h")
    assert rows[0]["role"] == "auditor"
    assert rows[0]["h"].startswith("$argon2id$")
