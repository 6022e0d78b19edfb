"""Accounts over the API: an admin lists, adds, re-passwords and disables the accounts inside its scope.

The rules are `access.accounts`' (`add_for`, `reset_for`, `disable_for`): only an admin, only inside its own
scope, never its own account disabled; passwords are generated and shown once, in the answer that made them.
Every change is written to the audit log.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from access import accounts
from access.accounts import AccountError, Caller, NotAllowed
from core.access import Role
from core.errors import BAD_USER_INPUT, FORBIDDEN
from graph.accounts import Account as Stored
from schema.common import Context, Place, require
from schema.errors import UserError

AccountRole = strawberry.enum(
    Enum("AccountRole", {r.value: strawberry.enum_value(r.value, description=f"{r.zh} / {r.value}") for r in Role}),  # type: ignore[misc]
    description="账号角色 / An account's role.",
)


@strawberry.type(description="账号 / An account (never its password).")
class Account:
    login: str = strawberry.field(description="登录名 / Login.")
    name: str = strawberry.field(description="姓名 / Display name.")
    role: str = strawberry.field(description="角色 / Role.")
    role_name: str = strawberry.field(description="角色中文名 / The role in Chinese.")
    scope: Place = strawberry.field(description="范围 / Scope (code).")
    pii: bool = strawberry.field(description="可见个人信息 / Granted personal data (editors, auditors).")
    disabled: bool = strawberry.field(description="已停用 / Disabled.")
    created_at: str = strawberry.field(description="建立时间 / Created (ISO 8601).")
    last_login_at: str | None = strawberry.field(description="上次登录 / Last sign-in (ISO 8601).")

    @classmethod
    def of(cls, account: Stored) -> Account:
        """From a stored account."""
        role = Role(account.role)
        last = account.last_login_at.isoformat(timespec="seconds") if account.last_login_at else None
        return cls(
            login=account.login, name=account.name, role=role.value, role_name=role.zh,
            scope=Place(code=account.scope, name=None), pii=account.pii, disabled=account.disabled,
            created_at=account.created_at.isoformat(timespec="seconds"), last_login_at=last,
        )  # fmt: skip


@strawberry.type(description="新密码(只显示这一次) / An account with its new password, shown this once only.")
class AccountWithPassword:
    account: Account = strawberry.field(description="账号 / The account.")
    password: str = strawberry.field(description="生成的密码(只显示这一次) / The generated password (shown once).")


def _caller(info: Info[Context, None]) -> Caller:
    caller = info.context.caller
    require(info, info.context.grants.manage_accounts, "管理账号", "manage accounts")
    if caller is None:
        raise UserError("账号管理需要登录 / managing accounts needs a signed-in admin", FORBIDDEN)
    return caller


def _refused(exc: AccountError) -> UserError:
    return UserError(str(exc), FORBIDDEN if isinstance(exc, NotAllowed) else BAD_USER_INPUT)


async def resolve_accounts(info: Info[Context, None]) -> list[Account]:
    """Resolver of `Query.accounts`."""
    try:
        return [Account.of(a) for a in await accounts.visible_accounts(info.context.graph, _caller(info))]
    except AccountError as exc:
        raise _refused(exc) from None


@strawberry.type
class AccountMutations:
    @strawberry.mutation(
        description="新建账号(管理员,限本范围内;密码自动生成,只显示一次) / Add an account inside your scope (admins); "
        "its password is generated and shown once."
    )
    async def add_account(
        self,
        info: Info[Context, None],
        login: Annotated[str, strawberry.argument(description="登录名 / Login.")],
        role: Annotated[AccountRole, strawberry.argument(description="角色 / Role.")],  # type: ignore[valid-type]
        scope: Annotated[str, strawberry.argument(description="范围编码 / Scope code.")],
        name: Annotated[str, strawberry.argument(description="姓名 / Display name.")] = "",
        pii: Annotated[bool, strawberry.argument(description="可见个人信息 / Grant personal data.")] = False,
    ) -> AccountWithPassword:
        caller = _caller(info)
        try:
            made, password = await accounts.add_for(
                info.context.graph, caller, login, Role(role.value), scope, pii=pii, name=name
            )
        except AccountError as exc:
            raise _refused(exc) from None
        return AccountWithPassword(account=Account.of(made), password=password)

    @strawberry.mutation(
        description="重设密码(管理员;原令牌随即失效) / Give an account a new generated password; its tokens stop "
        "working."
    )
    async def reset_password(
        self, info: Info[Context, None], login: Annotated[str, strawberry.argument(description="登录名 / Login.")]
    ) -> AccountWithPassword:
        try:
            account, password = await accounts.reset_for(info.context.graph, _caller(info), login)
        except AccountError as exc:
            raise _refused(exc) from None
        return AccountWithPassword(account=Account.of(account), password=password)

    @strawberry.mutation(description="停用账号(管理员;其令牌随即失效) / Disable an account; its tokens stop working.")
    async def disable_account(
        self, info: Info[Context, None], login: Annotated[str, strawberry.argument(description="登录名 / Login.")]
    ) -> Account:
        try:
            return Account.of(await accounts.disable_for(info.context.graph, _caller(info), login))
        except AccountError as exc:
            raise _refused(exc) from None
