"""Versioned, idempotent schema migrations, applied at start-up.

Each migration is a fixed list of Cypher schema statements (`IF NOT EXISTS`, so re-running one is
harmless); `(:_Migration {version})` nodes record what has been applied. A released migration is
never edited: change the schema by appending a new one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import LiteralString

from neo4j import AsyncManagedTransaction

from graph.driver import Graph

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    """One schema step."""

    version: int
    name: str
    statements: tuple[LiteralString, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "code uniqueness for every entity / 每类实体编码唯一",
        (
            "CREATE CONSTRAINT migration_version IF NOT EXISTS FOR (n:_Migration) REQUIRE n.version IS UNIQUE",
            "CREATE CONSTRAINT city_code IF NOT EXISTS FOR (n:City) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT district_code IF NOT EXISTS FOR (n:District) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT street_code IF NOT EXISTS FOR (n:Street) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT community_code IF NOT EXISTS FOR (n:Community) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT grid_code IF NOT EXISTS FOR (n:Grid) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT compound_code IF NOT EXISTS FOR (n:Compound) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT building_code IF NOT EXISTS FOR (n:Building) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT household_code IF NOT EXISTS FOR (n:Household) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT street_working_committee_code IF NOT EXISTS "
            "FOR (n:StreetWorkingCommittee) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT community_committee_code IF NOT EXISTS "
            "FOR (n:CommunityCommittee) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT grid_branch_code IF NOT EXISTS FOR (n:GridBranch) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT building_group_code IF NOT EXISTS FOR (n:BuildingGroup) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT central_household_code IF NOT EXISTS FOR (n:CentralHousehold) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT unit_code IF NOT EXISTS FOR (n:Unit) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT party_member_code IF NOT EXISTS FOR (n:PartyMember) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT residents_committee_code IF NOT EXISTS "
            "FOR (n:ResidentsCommittee) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT owners_committee_code IF NOT EXISTS FOR (n:OwnersCommittee) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT property_company_code IF NOT EXISTS FOR (n:PropertyCompany) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT service_center_code IF NOT EXISTS FOR (n:ServiceCenter) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT red_station_code IF NOT EXISTS FOR (n:RedStation) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT resource_code IF NOT EXISTS FOR (n:Resource) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT need_code IF NOT EXISTS FOR (n:Need) REQUIRE n.code IS UNIQUE",
            "CREATE CONSTRAINT service_code IF NOT EXISTS FOR (n:Service) REQUIRE n.code IS UNIQUE",
        ),
    ),
    Migration(
        2,
        "name search and area indexes / 名称检索与区域索引",
        (
            # Substring search by Chinese name (CONTAINS) uses text indexes.
            "CREATE TEXT INDEX street_name IF NOT EXISTS FOR (n:Street) ON (n.name)",
            "CREATE TEXT INDEX community_name IF NOT EXISTS FOR (n:Community) ON (n.name)",
            "CREATE TEXT INDEX grid_name IF NOT EXISTS FOR (n:Grid) ON (n.name)",
            "CREATE TEXT INDEX compound_name IF NOT EXISTS FOR (n:Compound) ON (n.name)",
            "CREATE TEXT INDEX building_name IF NOT EXISTS FOR (n:Building) ON (n.name)",
            "CREATE TEXT INDEX unit_name IF NOT EXISTS FOR (n:Unit) ON (n.name)",
            "CREATE TEXT INDEX grid_branch_name IF NOT EXISTS FOR (n:GridBranch) ON (n.name)",
            # Scope filters: every area-bound node carries the codes of the areas above it.
            "CREATE INDEX household_building IF NOT EXISTS FOR (n:Household) ON (n.buildingCode)",
            "CREATE INDEX party_member_community IF NOT EXISTS FOR (n:PartyMember) ON (n.communityCode)",
        ),
    ),
    Migration(
        3,
        "community indexes for community and grid scopes / 社区范围索引",
        (
            # Households are reached through their buildings: an index over millions would slow loads.
            "CREATE INDEX grid_community IF NOT EXISTS FOR (n:Grid) ON (n.communityCode)",
            "CREATE INDEX compound_community IF NOT EXISTS FOR (n:Compound) ON (n.communityCode)",
            "CREATE INDEX building_community IF NOT EXISTS FOR (n:Building) ON (n.communityCode)",
            "CREATE INDEX community_committee_community IF NOT EXISTS FOR (n:CommunityCommittee) ON (n.communityCode)",
            "CREATE INDEX grid_branch_community IF NOT EXISTS FOR (n:GridBranch) ON (n.communityCode)",
            "CREATE INDEX building_group_community IF NOT EXISTS FOR (n:BuildingGroup) ON (n.communityCode)",
            "CREATE INDEX central_household_community IF NOT EXISTS FOR (n:CentralHousehold) ON (n.communityCode)",
            "CREATE INDEX resource_community IF NOT EXISTS FOR (n:Resource) ON (n.communityCode)",
            "CREATE INDEX need_community IF NOT EXISTS FOR (n:Need) ON (n.communityCode)",
            "CREATE INDEX service_community IF NOT EXISTS FOR (n:Service) ON (n.communityCode)",
            # Coverage rollups, one per community (graph/rollups.py).
            "CREATE CONSTRAINT rollup_code IF NOT EXISTS FOR (n:_Rollup) REQUIRE n.code IS UNIQUE",
        ),
    ),
    Migration(
        4,
        "drop the index on households' building code, a property never written / 删除住户楼栋编码索引（无此属性）",
        (
            # Households name their building by an IN relationship, never by a property: the index stayed empty.
            "DROP INDEX household_building IF EXISTS",
        ),
    ),
    Migration(
        5,
        "accounts: one per login / 账号登录名唯一",
        ("CREATE CONSTRAINT user_login IF NOT EXISTS FOR (n:_User) REQUIRE n.login IS UNIQUE",),
    ),
    Migration(
        6,
        "personal-data access log, newest first / 个人信息查看记录按时间",
        ("CREATE INDEX access_at IF NOT EXISTS FOR (n:_Access) ON (n.at)",),
    ),
    Migration(
        7,
        "search the three lists by title / 三张清单按标题搜索",
        (  # `search` reads a list entry's title (graph/entities.py `matches`): CONTAINS uses a text index
            "CREATE TEXT INDEX resource_title IF NOT EXISTS FOR (n:Resource) ON (n.title)",
            "CREATE TEXT INDEX need_title IF NOT EXISTS FOR (n:Need) ON (n.title)",
            "CREATE TEXT INDEX service_title IF NOT EXISTS FOR (n:Service) ON (n.title)",
        ),
    ),
    Migration(
        8,
        "history of loads, newest first / 导入记录按时间",
        (  # graph/imports.py: listed newest first; a load's `previous` is found by its id
            "CREATE INDEX load_at IF NOT EXISTS FOR (n:_Load) ON (n.at)",
            "CREATE CONSTRAINT load_id IF NOT EXISTS FOR (n:_Load) REQUIRE n.id IS UNIQUE",
        ),
    ),
    Migration(
        9,
        "members found by ID number, for rows without a code / 无编码党员按身份证号查找",
        (  # graph/natural.py: a member row without a code is looked up by its natural key, the ID number
            "CREATE INDEX party_member_id_number IF NOT EXISTS FOR (n:PartyMember) ON (n.idNumber)",
        ),
    ),
)

APPLIED_VERSIONS: LiteralString = "MATCH (m:_Migration) RETURN m.version AS version ORDER BY version"
RECORD_MIGRATION: LiteralString = (
    "MERGE (m:_Migration {version: $version}) ON CREATE SET m.name = $name, m.appliedAt = $appliedAt"
)
AWAIT_INDEXES: LiteralString = "CALL db.awaitIndexes($seconds)"


async def applied_versions(graph: Graph) -> list[int]:
    """Versions already recorded in the database."""
    return [row["version"] for row in await graph.read_rows(APPLIED_VERSIONS)]


async def migrate(graph: Graph, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply every migration not yet recorded, in order; return the versions applied now."""
    done = set(await applied_versions(graph))
    applied: list[int] = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version in done:
            continue
        log.info("迁移 / applying migration %d: %s", migration.version, migration.name)
        for statement in migration.statements:
            # Schema commands cannot share a transaction with writes: one transaction each.
            await graph.write(_run, statement, {})
        await graph.write(
            _run,
            RECORD_MIGRATION,
            {"version": migration.version, "name": migration.name, "appliedAt": datetime.now(UTC).isoformat()},
        )
        applied.append(migration.version)
    if applied:
        await graph.write(_run, AWAIT_INDEXES, {"seconds": 600})
    return applied


async def _run(tx: AsyncManagedTransaction, cypher: LiteralString, params: dict[str, object]) -> None:
    result = await tx.run(cypher, params)
    await result.consume()
