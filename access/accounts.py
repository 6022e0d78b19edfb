"""Accounts: adding one (checked), signing in, changing a password, disabling, and who a token names.

Every refusal says why in Chinese and English (`AccountError`); a failed sign-in never says whether the
login exists.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import LiteralString

from access import passwords
from access.tokens import Claims, InvalidToken
from core.access import Grants, Role, grants
from core.areas import level_of, path
from graph import accounts as store
from graph.accounts import Account
from graph.driver import Graph
from graph.editing import record_audit
from graph.scope import LEVEL_ZH, Scope, ScopeError, area_query

#: A login: 3–32 letters, digits, `.`, `_` or `-`, beginning with a letter.
_LOGIN = re.compile(r"[A-Za-z][A-Za-z0-9._-]{2,31}")
SIGN_IN_FAILED = "登录名或密码错误 / wrong login or password"


@dataclass(frozen=True)
class Caller:
    """Who is asking: the account as it is now, the scope it may act in, and what its role grants there."""

    account: Account
    scope: Scope
    grants: Grants

    @classmethod
    def of(cls, account: Account) -> Caller:
        """The caller an account makes (its scope parsed, its role's grants)."""
        return cls(account, Scope.parse(account.scope), grants(Role(account.role), account.pii))

    @property
    def login(self) -> str:
        """The account's login (the actor recorded in the audit log)."""
        return self.account.login

    @property
    def role(self) -> Role:
        """The account's role."""
        return Role(self.account.role)


class AccountError(ValueError):
    """An account operation refused; the message says why, in Chinese and English."""


def check_login(login: str) -> str:
    """The login as stored (lower case), or `AccountError` when it is not a valid one."""
    if not _LOGIN.fullmatch(login):
        raise AccountError(
            f"登录名应为3-32位字母、数字或 . _ -,以字母开头 / a login is 3-32 letters, digits, '.', '_' or '-', "
            f"beginning with a letter: {login!r}"
        )
    return login.lower()


async def check_scope(graph: Graph, code: str) -> Scope:
    """The scope a code names, when it names an area (or grid) in the graph."""
    try:
        scope = Scope.parse(code)
    except ScopeError as exc:
        raise AccountError(str(exc)) from None
    if not await graph.read_rows(area_query(scope.level), {"scope": scope.code}):
        raise AccountError(
            f"图中没有此{LEVEL_ZH[scope.level]}:{scope.code} / "
            f"no {scope.level} {scope.code} in the graph: load it first"
        )
    return scope


async def add(
    graph: Graph, login: str, role: Role, scope: Scope, password: str, *, pii: bool = False, name: str = ""
) -> Account:
    """Create an account; refused for a taken login, a weak password, or `pii` on a role it means nothing to."""
    login = check_login(login)
    problem = passwords.policy_problem(password, login)
    if problem:
        raise AccountError(problem)
    if pii and role not in (Role.EDITOR, Role.AUDITOR):
        raise AccountError(
            "只有编辑和审计员需要 --pii(管理员总能看到,查看者总看不到) / --pii is for editors and auditors "
            "(an admin always sees personal data, a viewer never)"
        )
    if await store.find(graph, login) is not None:
        raise AccountError(f"登录名已存在 / the login {login} is taken")
    await store.create(graph, login, name.strip()[:100], role.value, scope.code, pii, passwords.hash_password(password))
    found = await store.find(graph, login)
    assert found is not None
    return found[0]


async def sign_in(graph: Graph, login: str, password: str) -> Account:
    """The account when the password is right and the account enabled — as it was before this sign-in, so its
    `last_login_at` is the previous one; else `AccountError(SIGN_IN_FAILED)`, whatever was wrong."""
    found = await store.find(graph, login.strip().lower()) if _LOGIN.fullmatch(login.strip()) else None
    account, hash_ = found if found is not None else (None, None)
    if not passwords.verify(hash_, password) or account is None or account.disabled:
        raise AccountError(SIGN_IN_FAILED)
    await graph.write(store.signed_in, account.login)
    return account


async def change_password(graph: Graph, login: str, password: str) -> None:
    """Set a new password (tokens issued before are refused from now on)."""
    login = check_login(login)
    problem = passwords.policy_problem(password, login)
    if problem:
        raise AccountError(problem)
    if not await store.set_password(graph, login, passwords.hash_password(password)):
        raise AccountError(f"没有此账号 / no account {login}")


async def disable(graph: Graph, login: str) -> None:
    """Disable an account (its tokens are refused from now on)."""
    if not await store.disable(graph, check_login(login)):
        raise AccountError(f"没有此账号 / no account {login}")


async def account_of(graph: Graph, claims: Claims) -> Account:
    """The account a checked token names, as it is now: `InvalidToken` when it is gone, disabled, or the token
    was issued before its password last changed — to the microsecond for our own tokens (`iatUs`), in whole
    seconds for an identity provider's (`iat`)."""
    found = await store.find(graph, claims.login)
    if found is None or found[0].disabled:
        raise InvalidToken("账号不存在或已停用 / the account does not exist or is disabled")
    account = found[0]
    valid_after = account.valid_after.astimezone(UTC)
    if claims.issued_at < (valid_after if claims.precise else valid_after.replace(microsecond=0)):
        raise InvalidToken("令牌已失效(密码已更改或账号已停用),请重新登录 / the token was revoked: sign in again")
    return account


#: The first admin's login, and the file (0600, in the data directory) that keeps its generated password.
FIRST_ADMIN = "admin"
FIRST_ADMIN_FILE = "admin-password"
FIRST_CITY: LiteralString = "MATCH (c:City) RETURN c.code AS code, c.name AS name ORDER BY c.code LIMIT 1"


async def first_admin(graph: Graph, data_dir: Path) -> tuple[Account, str] | None:
    """On a graph with no accounts and a city: an `admin` for that city with a generated password, written to
    `data_dir/admin-password` (0600); the account and the password (shown once by the caller). Otherwise None:
    a graph with accounts is left as it is."""
    if await store.count(graph):
        return None
    rows = await graph.read_rows(FIRST_CITY)
    if not rows:
        return None
    password = passwords.generate()
    path = Path(data_dir) / FIRST_ADMIN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    account = await add(graph, FIRST_ADMIN, Role.ADMIN, Scope("city", rows[0]["code"]), password, name="管理员")
    return account, password


# ---------------------------------------------------------------- an admin managing accounts over the API


class NotAllowed(AccountError):
    """The caller may not manage this account (its role, or a scope outside the caller's)."""


def _manages(caller: Caller, scope: Scope) -> None:
    """An admin manages the accounts whose scope lies inside its own; anyone else manages none."""
    if not caller.grants.manage_accounts:
        raise NotAllowed(f"无权管理账号(角色:{caller.role.zh})/ the role {caller.role.value} may not manage accounts")
    if not scope.within(caller.scope):
        raise NotAllowed(
            f"范围 {scope.code} 不在你的范围 {caller.scope.code} 内 / the scope {scope.code} lies outside yours "
            f"({caller.scope.code})"
        )


async def visible_accounts(graph: Graph, caller: Caller) -> list[Account]:
    """The accounts an admin manages: those whose scope lies inside its own."""
    _manages(caller, caller.scope)
    return [a for a in await store.all_accounts(graph) if Scope.parse(a.scope).within(caller.scope)]


async def managed(graph: Graph, caller: Caller, login: str) -> Account:
    """An account the caller manages (`NotAllowed` for one outside its scope, as for one that does not exist:
    an admin learns nothing of accounts beyond its scope)."""
    found = await store.find(graph, check_login(login))
    if found is None or not Scope.parse(found[0].scope).within(caller.scope):
        raise NotAllowed(f"没有你可管理的账号 {login} / no account {login} that you manage")
    _manages(caller, Scope.parse(found[0].scope))
    return found[0]


def _shown(account: Account) -> str:
    """An account as the audit log keeps it (never its password or hash)."""
    keep = {"login": account.login, "name": account.name, "role": account.role, "scope": account.scope,
            "pii": account.pii, "disabled": account.disabled}  # fmt: skip
    return json.dumps(keep, ensure_ascii=False)


async def _audit(graph: Graph, caller: Caller, action: str, before: Account | None, after: Account) -> None:
    """File an account change in the audit log, under the account's area (who, when, before, after)."""
    scope = Scope.parse(after.scope)
    area_code = scope.community if scope.level == "grid" else scope.code
    params = {
        "actor": caller.login, "action": action, "label": "Account", "code": after.login,
        "before": _shown(before) if before is not None else None, "after": _shown(after),
        "area": path(area_code, level_of(area_code).key),
    }  # fmt: skip
    await graph.write(record_audit, params)


async def add_for(
    graph: Graph, caller: Caller, login: str, role: Role, scope_code: str, *, pii: bool, name: str
) -> tuple[Account, str]:
    """An admin adds an account inside its scope, with a generated password (returned once)."""
    scope = await check_scope(graph, scope_code)
    _manages(caller, scope)
    password = passwords.generate()
    account = await add(graph, login, role, scope, password, pii=pii, name=name)
    await _audit(graph, caller, "add account", None, account)
    return account, password


async def reset_for(graph: Graph, caller: Caller, login: str) -> tuple[Account, str]:
    """An admin gives an account it manages a new generated password (its earlier tokens stop working)."""
    account = await managed(graph, caller, login)
    password = passwords.generate()
    await change_password(graph, account.login, password)
    await _audit(graph, caller, "reset password", account, account)
    return account, password


async def disable_for(graph: Graph, caller: Caller, login: str) -> Account:
    """An admin disables an account it manages (not its own: an admin cannot lock itself out)."""
    account = await managed(graph, caller, login)
    if account.login == caller.login:
        raise NotAllowed("不能停用自己的账号 / you cannot disable your own account")
    await disable(graph, account.login)
    found = await store.find(graph, account.login)
    assert found is not None
    await _audit(graph, caller, "disable account", account, found[0])
    return found[0]
