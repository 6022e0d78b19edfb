"""The GraphQL schema: the root Query; its fields' resolvers live in one module per concern."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection
from strawberry.types import ExecutionContext, Info

from graph.scope import area_query
from graph.settings import get_settings
from schema.accesslog import AccessEntry, AccessRecords, resolve_access_log
from schema.accounts import Account, resolve_accounts
from schema.chain import ResponsibilityChain, resolve_chain
from schema.changes import ChangeConnection, resolve_changes
from schema.common import Context, GapKind, Place
from schema.coverage import Coverage, CoverageMetric, resolve_coverage
from schema.entities import ALL_TYPES, Entity, EntityType, lookup_field, resolve_cities
from schema.entities import TYPES as _TYPES
from schema.errors import ErrorCodes, is_variable_error
from schema.execution import FastFieldsExecution
from schema.gaps import GapConnection, resolve_gaps
from schema.history import CoverageHistory, Period, resolve_history
from schema.imports import ImportRecord, resolve_imports
from schema.limits import Limits, extensions
from schema.lookup import EntityConnection, resolve_entity, resolve_node, resolve_nodes, resolve_search
from schema.mutations import AuditEntry, Mutation, resolve_audit_log
from schema.network import LevelOfDetail, Network, PartnerNetwork, resolve_network, resolve_partner_network

__all__ = ["Context", "Query", "build_schema"]

log = logging.getLogger("grassroots.graphql")
CityType = _TYPES["City"]

SCOPE_DOC = (
    "范围编码:12位统计用区划代码(市、区、街道、社区)或网格编码 WG-… / Scope: a 12-digit area code "
    "(city, district, street, community) or a grid code WG-…"
)
FROM_DOC = "起始日,默认截止日前一年 / The first day (default: a year before `to`)."
TO_DOC = "截止日,默认今天 / The last day (default: today)."
#: The `metrics:` argument of the coverage fields.
MetricsArgument = Annotated[
    list[CoverageMetric] | None,  # type: ignore[valid-type]
    strawberry.argument(description="只看这些指标(默认全部) / Only these metrics (default: all)."),
]
AS_OF_DOC = "判定日期,默认今天 / The date rules are judged on (default: today)."


@strawberry.type(description="数据库组件 / A component of the graph database server (CALL dbms.components()).")
class ServerComponent:
    name: str = strawberry.field(description="组件名称 / Component name, e.g. Neo4j Kernel.")
    versions: list[str] = strawberry.field(description="版本 / Versions.")
    edition: str = strawberry.field(description="版本类型 / Edition: community or enterprise.")


@strawberry.type(description="当前登录账号 / The signed-in account: who, what role, where, and what it may do.")
class SignedIn:
    login: str = strawberry.field(description="登录名 / Login.")
    name: str = strawberry.field(description="姓名 / Display name.")
    role: str = strawberry.field(description="角色 / Role: admin, editor, auditor or viewer.")
    role_name: str = strawberry.field(description="角色中文名 / The role in Chinese.")
    scope: Place = strawberry.field(description="范围 / The area the account may act in.")
    can_write: bool = strawberry.field(description="可修改数据 / May run mutations and loads.")
    can_read_audit_log: bool = strawberry.field(description="可查看审计日志 / May read auditLog.")
    can_download_audits: bool = strawberry.field(description="可下载审计报告 / May download audit workbooks.")
    sees_personal_data: bool = strawberry.field(description="可见未脱敏个人信息 / Sees ID numbers and phones.")


async def resolve_me(info: Info[Context, None]) -> SignedIn | None:
    """The signed-in account (None for the service's own callers, which have no account)."""
    caller = info.context.caller
    if caller is None:
        return None
    rows = await info.context.graph.read_rows(area_query(caller.scope.level), {"scope": caller.scope.code})
    granted = caller.grants
    return SignedIn(
        login=caller.login,
        name=caller.account.name,
        role=caller.role.value,
        role_name=caller.role.zh,
        scope=Place(code=caller.scope.code, name=rows[0]["name"] if rows else None),
        can_write=granted.write,
        can_read_audit_log=granted.audit_log,
        can_download_audits=granted.audit_workbook,
        sees_personal_data=granted.personal_data,
    )


@strawberry.type(description="查询入口 / The root of every query.")
class Query:
    @strawberry.field(description="当前登录账号 / The signed-in account.")
    async def me(self, info: Info[Context, None]) -> SignedIn | None:
        return await resolve_me(info)

    @strawberry.field(description="图数据库服务器信息 / The graph database server behind this service.")
    async def server_info(self, info: Info[Context, None]) -> list[ServerComponent]:
        components = await info.context.graph.server_info()
        return [ServerComponent(name=c.name, versions=c.versions, edition=c.edition) for c in components]

    @strawberry.field(
        description="覆盖率:所选范围及其每个下级区域的各项覆盖率 / Coverage of a scope and of each child area: "
        "compounds with a branch, buildings with a group, groups with a central household, households "
        "linked to one, managed compounds, service centers, partner reports, member reports."
    )
    async def coverage(
        self,
        info: Info[Context, None],
        scope: Annotated[str, strawberry.argument(description=SCOPE_DOC)],
        metrics: MetricsArgument = None,
        as_of: Annotated[date | None, strawberry.argument(description=AS_OF_DOC)] = None,
    ) -> Coverage:
        return await resolve_coverage(info, scope, metrics, as_of)

    @strawberry.field(
        description="覆盖率序列:所选范围在起始日、其后每个期末和截止日的各项覆盖率(趋势、年度考核、季度通报) / "
        "A scope's coverage on `from`, at the end of every period after it, and on `to` (trends, period reports)."
    )
    async def coverage_history(
        self,
        info: Info[Context, None],
        scope: Annotated[str, strawberry.argument(description=SCOPE_DOC)],
        metrics: MetricsArgument = None,
        from_: Annotated[
            date | None,
            strawberry.argument(name="from", description=FROM_DOC),
        ] = None,
        to: Annotated[date | None, strawberry.argument(description=TO_DOC)] = None,
        every: Annotated[
            Period,  # type: ignore[valid-type]
            strawberry.argument(description="间隔,默认月 / How far apart (default: MONTH)."),
        ] = Period.MONTH,  # type: ignore[attr-defined]
    ) -> CoverageHistory:
        return await resolve_history(info, scope, metrics, from_, to, every)

    @strawberry.field(
        description="变化:所选范围在一段时间内开始、终止的记录(节点与关系的起止日期)和审计日志中的修改,"
        "解释覆盖率为何变化 / "
        "What started, ended (the dated facts' start and end days) or was edited (the audit log, for roles that may "
        "read it) inside a scope in a period: why a figure moved."
    )
    async def changes(
        self,
        info: Info[Context, None],
        scope: Annotated[str, strawberry.argument(description=SCOPE_DOC)],
        from_: Annotated[date | None, strawberry.argument(name="from", description=FROM_DOC)] = None,
        to: Annotated[date | None, strawberry.argument(description=TO_DOC)] = None,
        first: Annotated[int, strawberry.argument(description="每页条数 0–500 / Page size, 0–500.")] = 50,
        after: Annotated[
            str | None, strawberry.argument(description="上一页的 endCursor / endCursor of the previous page.")
        ] = None,
    ) -> ChangeConnection:
        return await resolve_changes(info, scope, from_, to, first, after)

    @strawberry.field(
        description="空白点:所选范围内违反规则的每个实体,含规则、出处与责任组织 / Every gap in a scope: the "
        "entity, its path, the rule and its source, and the organization that should act."
    )
    async def gaps(
        self,
        info: Info[Context, None],
        scope: Annotated[str, strawberry.argument(description=SCOPE_DOC)],
        kinds: Annotated[
            list[GapKind] | None,  # type: ignore[valid-type]
            strawberry.argument(description="只看这些类型(默认全部) / Only these kinds (default: all)."),
        ] = None,
        first: Annotated[int, strawberry.argument(description="每页条数(0–500) / Page size (0-500).")] = 50,
        after: Annotated[str | None, strawberry.argument(description="上一页的 endCursor / Continue after.")] = None,
        as_of: Annotated[date | None, strawberry.argument(description=AS_OF_DOC)] = None,
    ) -> GapConnection:
        return await resolve_gaps(info, scope, kinds, first, after, as_of)

    @strawberry.field(
        description="责任链:住户、楼栋或小区由谁负责,直到街道;以及服务该社区的共建单位 / Who answers for a "
        "household, building or compound, up to the street, and the partner units serving its community."
    )
    async def responsibility_chain(
        self,
        info: Info[Context, None],
        code: Annotated[
            str, strawberry.argument(description="住户 HU-、楼栋 LD- 或小区 XQ- 编码 / A HU-, LD- or XQ- code.")
        ],
        scope: Annotated[str | None, strawberry.argument(description="限定范围 / Only inside this scope.")] = None,
        as_of: Annotated[date | None, strawberry.argument(description=AS_OF_DOC)] = None,
    ) -> ResponsibilityChain:
        return await resolve_chain(info, code, scope, as_of)

    @strawberry.field(
        description="共建网络:范围内共建单位与社区的报到、服务与时长 / Partner units and the communities they "
        "serve inside a scope: reports, committee membership, services and hours."
    )
    async def partner_network(
        self,
        info: Info[Context, None],
        scope: Annotated[str, strawberry.argument(description=SCOPE_DOC)],
        as_of: Annotated[date | None, strawberry.argument(description=AS_OF_DOC)] = None,
    ) -> PartnerNetwork:
        return await resolve_partner_network(info, scope, as_of)

    @strawberry.field(
        description="绘图子图:从根节点向外若干步,住户折叠为计数,带空白点标记 / A subgraph to draw around a root: "
        "nodes with gap flags and collapsed household counts, edges, and a truncated flag."
    )
    async def network(
        self,
        info: Info[Context, None],
        root_code: Annotated[
            str, strawberry.argument(name="root", description="根节点编码 / The root's code (area, org, place).")
        ],
        depth: Annotated[int, strawberry.argument(description="步数(0–6) / Hops from the root (0-6).")] = 3,
        max_nodes: Annotated[int, strawberry.argument(description="节点上限(1–2000) / Node budget (1-2000).")] = 500,
        households: Annotated[
            bool, strawberry.argument(description="展开住户 / Draw households instead of counting them.")
        ] = False,
        as_of: Annotated[date | None, strawberry.argument(description=AS_OF_DOC)] = None,
        types: Annotated[
            list[EntityType] | None,  # type: ignore[valid-type]
            strawberry.argument(
                description="只绘这些类型(分层细节):其余类型的邻居按类型计数于 hidden / Draw only these types "
                "(level of detail): neighbours of the other types are counted in each node's `hidden`. Default: all."
            ),
        ] = None,
        levels_of_detail: Annotated[
            list[LevelOfDetail] | None,
            strawberry.argument(
                description="分层细节阶梯(最详细在前):绘出第一个节点数不超过其上限的层,见 levelOfDetail;"
                "与 types 二选一 / Levels of detail, most detail first: the first whose nodes stay within its "
                "budget is drawn (the last, truncated, when none does), and `levelOfDetail` says which — one "
                "request instead of one per level. Not with `types`."
            ),
        ] = None,
    ) -> Network:
        return await resolve_network(info, root_code, depth, max_nodes, households, as_of, types, levels_of_detail)

    @strawberry.field(description="审计日志(最新在前) / The audit log, newest first.")
    async def audit_log(
        self,
        info: Info[Context, None],
        code: Annotated[str | None, strawberry.argument(description="只看该编码 / Only this entity.")] = None,
        actor: Annotated[str | None, strawberry.argument(description="只看该操作人 / Only this actor.")] = None,
        first: Annotated[int, strawberry.argument(description="条数(1–500) / How many (1-500).")] = 50,
    ) -> list[AuditEntry]:
        return await resolve_audit_log(info, code, actor, first)

    @strawberry.field(
        description="个人信息查看记录(管理员,最新在前) / Who saw which personal data unmasked: admins only, "
        "newest first."
    )
    async def access_log(
        self,
        info: Info[Context, None],
        code: Annotated[str | None, strawberry.argument(description="只看该实体 / Only this entity.")] = None,
        login: Annotated[str | None, strawberry.argument(description="只看该账号 / Only this account.")] = None,
        first: Annotated[int, strawberry.argument(description="条数(1–500) / How many (1-500).")] = 50,
    ) -> list[AccessEntry]:
        return await resolve_access_log(info, code, login, first)

    @strawberry.field(
        description="导入记录(最新在前,本范围内;管理员、编辑、审计员) / The history of loads inside your scope, "
        "newest first (admins, editors, auditors)."
    )
    async def imports(
        self,
        info: Info[Context, None],
        first: Annotated[int, strawberry.argument(description="条数(1–500) / How many (1-500).")] = 50,
    ) -> list[ImportRecord]:
        return await resolve_imports(info, first)

    @strawberry.field(description="账号(管理员:本范围内的账号) / The accounts inside your scope (admins).")
    async def accounts(self, info: Info[Context, None]) -> list[Account]:
        return await resolve_accounts(info)

    # ---------------------------------------------------------------- entities
    @strawberry.field(description="按全局ID取实体(Relay) / Relay: an entity by its global ID.")
    async def node(
        self, info: Info[Context, None], id: Annotated[strawberry.ID, strawberry.argument(description="全局ID / ID.")]
    ) -> Entity | None:
        return await resolve_node(info, id)

    @strawberry.field(description="按全局ID批量取实体 / Several entities by global ID (null where not found).")
    async def nodes(
        self,
        info: Info[Context, None],
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="全局ID列表 / Global IDs.")],
    ) -> list[Entity | None]:
        return await resolve_nodes(info, ids)

    @strawberry.field(description="按编码取实体(类型可由编码判断) / An entity by code; its type follows from the code.")
    async def entity(
        self,
        info: Info[Context, None],
        code: Annotated[str, strawberry.argument(description="编码 / Code.")],
        type: Annotated[
            EntityType | None,  # type: ignore[valid-type]
            strawberry.argument(description="实体类型(信用代码需给出) / Type (needed for credit codes)."),
        ] = None,
    ) -> Entity | None:
        return await resolve_entity(info, code, type)

    @strawberry.field(
        description="搜索:名称包含(中文子串)或编码前缀 / Search by Chinese name (substring) and/or code prefix."
    )
    async def search(
        self,
        info: Info[Context, None],
        name: Annotated[str | None, strawberry.argument(description="名称包含 / Name contains.")] = None,
        code_prefix: Annotated[str | None, strawberry.argument(description="编码前缀 / Code starts with.")] = None,
        types: Annotated[
            list[EntityType] | None,  # type: ignore[valid-type]
            strawberry.argument(description="只搜这些类型 / Only these types (default: all with a name)."),
        ] = None,
        scope: Annotated[str | None, strawberry.argument(description=SCOPE_DOC)] = None,
        first: Annotated[int, strawberry.argument(description="每页条数(0–500) / Page size (0-500).")] = 20,
        after: Annotated[str | None, strawberry.argument(description="上一页的 endCursor / Continue after.")] = None,
    ) -> EntityConnection:
        return await resolve_search(info, name, code_prefix, types, scope, first, after)

    @strawberry.field(description="可见的市(区域树的根) / The cities you may read: the root of the area tree.")
    async def cities(self, info: Info[Context, None]) -> list[CityType]:  # type: ignore[valid-type]
        return await resolve_cities(info)

    city = lookup_field("City")
    district = lookup_field("District")
    street = lookup_field("Street")
    community = lookup_field("Community")
    grid = lookup_field("Grid")
    compound = lookup_field("Compound")
    building = lookup_field("Building")
    household = lookup_field("Household")
    unit = lookup_field("Unit")
    party_member = lookup_field("PartyMember")


class Schema(strawberry.Schema):
    """strawberry's Schema, logging a request's errors as one line by their kind instead of a traceback for each
    (strawberry's own `StrawberryLogger` is not called). Request errors are counted, never shown: their messages
    hold the values sent, in variables or in the document's literals. Execution errors are logged by
    `ErrorCodes`, with their cause."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        refused = [e for e in errors if e.path is None and not (e.extensions or {}).get("code")]
        if not refused:
            return
        variables = sum(is_variable_error(e) for e in refused)
        log.info("graphql_request_refused errors=%d variable_errors=%d", len(refused), variables)


#: Distinct query texts whose parsed and validated documents are kept (front-ends send the same few).
DOCUMENT_CACHE = 256


def build_schema(
    *, shortcuts: bool = True, introspection: bool = True, limits: Limits | None = None
) -> strawberry.Schema:
    """The service's schema with its extensions (`shortcuts=False`: graphql-core's plain execution path;
    `introspection=False`: `__schema` and `__type` refused, GRASSROOTS_INTROSPECTION).

    Parsing and validating a document is cached (bounded LRU, shared across requests): a front-end sends
    the same few documents again and again, and validation costs about as much as executing a look-up.
    Every request is held to `limits` (default: the settings') before it runs (`schema.limits`).
    """
    limited, pricing = extensions(limits or Limits.of(get_settings()), DOCUMENT_CACHE)
    schema = Schema(
        query=Query,
        mutation=Mutation,
        types=ALL_TYPES,
        extensions=[
            ErrorCodes,
            AccessRecords,
            *limited,
            *(() if introspection else (DisableIntrospection,)),
        ],
        execution_context_class=FastFieldsExecution if shortcuts else None,
    )
    pricing.attach(schema._schema)
    return schema
