"""`accessLog`: who saw which personal data unmasked, and the extension that writes it after each response."""

from __future__ import annotations

from collections.abc import AsyncIterator

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.types import Info

from graph import accesslog
from schema.common import Context, require
from schema.errors import UserError


@strawberry.type(description="个人信息查看记录 / An entity whose personal data a response showed unmasked.")
class AccessEntry:
    at: str = strawberry.field(description="时间 / When (ISO 8601).")
    login: str = strawberry.field(description="账号 / Who (the account's login).")
    type: str = strawberry.field(description="实体类型 / Entity type.")
    code: str = strawberry.field(description="编码 / The entity's code.")
    fields: list[str] = strawberry.field(description="字段 / Which fields were shown unmasked.")


async def resolve_access_log(
    info: Info[Context, None], code: str | None, login: str | None, first: int
) -> list[AccessEntry]:
    """Resolver of `Query.accessLog`: admins only, the entries filed inside their scope."""
    require(info, info.context.grants.manage_accounts, "查看个人信息查看记录", "read the personal-data access log")
    if not 1 <= first <= 500:
        raise UserError("first 应在 1–500 之间 / first must be between 1 and 500")
    rows = await accesslog.entries(info.context.graph, info.context.scope, code, login, first)
    return [
        AccessEntry(at=r["at"], login=r["login"], type=r["label"], code=r["code"], fields=list(r["fields"]))
        for r in rows
    ]


class AccessRecords(SchemaExtension):
    """After a response's data is complete: one access-log entry per entity it showed personal data of."""

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        yield
        context = self.execution_context.context
        if isinstance(context, Context) and context.revealed:
            await accesslog.record(context.graph, context.actor, context.revealed)
            context.revealed.clear()
