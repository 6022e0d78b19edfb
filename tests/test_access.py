"""Roles, passwords and tokens, without a database: what each role may do, what a password must be, what a
token proves and when it stops proving it."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from access import passwords
from access.tokens import InvalidToken, Signer, parse_ttl, secret
from core.access import Role, grants

KEY = bytes(range(32))


def test_what_each_role_may_do() -> None:
    admin, editor, auditor, viewer = (grants(r) for r in (Role.ADMIN, Role.EDITOR, Role.AUDITOR, Role.VIEWER))
    assert (admin.write, admin.manage_accounts, admin.audit_log, admin.audit_workbook, admin.personal_data) == (
        True,
        True,
        True,
        True,
        True,
    )
    assert (editor.write, editor.manage_accounts, editor.personal_data) == (True, False, False)
    assert (auditor.write, auditor.audit_log, auditor.audit_workbook, auditor.personal_data) == (
        False,
        True,
        True,
        False,
    )
    assert (viewer.write, viewer.audit_log, viewer.audit_workbook, viewer.personal_data) == (False, False, False, False)
    assert grants(Role.EDITOR, pii=True).personal_data
    assert grants(Role.AUDITOR, pii=True).personal_data
    assert not grants(Role.VIEWER, pii=True).personal_data  # a viewer never sees personal data


def test_a_password_is_hashed_verified_and_held_to_the_policy() -> None:
    stored = passwords.hash_password("Qx7-river-lamp")
    assert stored.startswith("$argon2id$")
    assert "Qx7-river-lamp" not in stored
    assert passwords.verify(stored, "Qx7-river-lamp")
    assert not passwords.verify(stored, "Qx7-river-lamP")
    assert not passwords.verify(None, "Qx7-river-lamp")  # no account: refused after the same work
    assert not passwords.verify("not a hash", "Qx7-river-lamp")
    assert "10" in (passwords.policy_problem("short", "wang") or "")
    assert "login" in (passwords.policy_problem("wang-is-my-name", "wang") or "")
    assert "simple" in (passwords.policy_problem("aaaaaaaaaaaa", "wang") or "")
    assert "white space" in (passwords.policy_problem(" Qx7-river-lamp", "wang") or "")
    assert passwords.policy_problem("Qx7-river-lamp", "wang") is None
    made = {passwords.generate() for _ in range(50)}
    assert len(made) == 50
    assert all(len(p) == 16 and passwords.policy_problem(p, "wang") is None for p in made)


def test_a_token_names_its_account_until_it_expires() -> None:
    signer = Signer(KEY)
    now = datetime.now(UTC).replace(microsecond=0)
    claims = signer.check(signer.issue("wang", timedelta(hours=8), now))
    assert claims.login == "wang"
    assert claims.issued_at == now
    assert claims.expires_at == now + timedelta(hours=8)
    old = signer.issue("wang", timedelta(minutes=5), now - timedelta(hours=1))
    with pytest.raises(InvalidToken, match="expired"):
        signer.check(old)


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature altered
        lambda t: Signer(bytes(32)).issue("wang", timedelta(hours=1)),  # another service's secret
        lambda t: jwt.encode(
            {"iss": "grassroots", "sub": "admin", "iat": 0, "exp": 2**40}, b"x" * 32, algorithm="HS256"
        ),
        lambda t: jwt.encode({"sub": "wang", "exp": 2**40}, KEY, algorithm="HS256"),  # no issuer, no iat
        lambda t: jwt.encode({"iss": "x", "sub": "wang", "iat": 0, "exp": 2**40}, KEY, algorithm="HS256"),
        lambda t: "not.a.token",
    ],
)
def test_a_forged_or_foreign_token_is_refused(forge) -> None:
    signer = Signer(KEY)
    with pytest.raises(InvalidToken, match="not valid"):
        signer.check(forge(signer.issue("wang", timedelta(hours=1))))


def test_an_unsigned_token_is_refused() -> None:
    unsigned = jwt.encode({"iss": "grassroots", "sub": "admin", "iat": 0, "exp": 2**40}, None, algorithm="none")
    with pytest.raises(InvalidToken):
        Signer(KEY).check(unsigned)


def test_lifetimes() -> None:
    assert parse_ttl("8h") == timedelta(hours=8)
    assert parse_ttl(" 30m ") == timedelta(minutes=30)
    assert parse_ttl("7d") == timedelta(days=7)
    for bad in ("8", "0h", "31d", "1y", "-1h", ""):
        with pytest.raises(ValueError, match="lifetime"):
            parse_ttl(bad)


def test_the_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = secret(tmp_path / "data")
    path = tmp_path / "data" / "token-secret"
    assert len(first) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert secret(tmp_path / "data") == first  # read back, never overwritten
    with pytest.raises(ValueError, match="32"):
        Signer(b"short")
