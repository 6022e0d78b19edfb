"""The Neo4j password every command uses: NEO4J_PASSWORD when set, else one generated per install.

Rule: there is no shared default. Unset, the embedded local Neo4j's password is made on first use — random,
written once (O_EXCL) to `neo4j-password` in the data directory, readable by its owner only (0600) — and
every later command (serve, load, user, token, neo4j, demo, the benchmarks) reads the same file. The local
launcher sets the configured password on the store at every start (`LocalNeo4j.java`, `ensureUser`), so a
store created with the former shared default takes the new one the next time it starts; a local server
already running with the former default (started by an earlier version) is taken over by `take_over`,
which changes its password over Bolt. A server named by NEO4J_URI needs NEO4J_PASSWORD.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import LiteralString

from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, Neo4jError

from graph.settings import Settings

log = logging.getLogger(__name__)

#: The generated password's file, in GRASSROOTS_DATA_DIR.
PASSWORD_FILE = "neo4j-password"
#: The password every install shared before it was generated per install: only ever used to change it.
FORMER_DEFAULT = "grassroots-local"
#: Run on the system database, as the user itself (Community has no roles to manage other users' passwords).
CHANGE_OWN_PASSWORD: LiteralString = "ALTER CURRENT USER SET PASSWORD FROM $old TO $new"
PING: LiteralString = "RETURN 1"


class PasswordMissing(RuntimeError):
    """A server named by NEO4J_URI and no NEO4J_PASSWORD."""


def neo4j_password(settings: Settings) -> str:
    """NEO4J_PASSWORD, or (for the local Neo4j) the install's generated one, made on first use."""
    if settings.neo4j_password is not None:
        return settings.neo4j_password.get_secret_value()
    if not settings.uses_local:
        raise PasswordMissing(
            "未设置 NEO4J_PASSWORD / NEO4J_PASSWORD is not set: a server named by NEO4J_URI needs its password."
        )
    return generated(Path(settings.data_dir))


def password_file(data_dir: Path) -> Path:
    """Where the generated password is kept."""
    return Path(data_dir) / PASSWORD_FILE


def kept_secret(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    """A secret kept in `path`: read, or made there by `make` (0600, created exclusively, never overwritten: a
    process that loses the race to create it reads the winner's). The text, and whether this call made it."""
    made = False
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(make())
            made = True
    return path.read_text().strip(), made


def generated(data_dir: Path) -> str:
    """The install's password: read from the data directory, or made there (`kept_secret`)."""
    path = password_file(data_dir)
    password, made = kept_secret(path, lambda: secrets.token_urlsafe(24))
    if made:
        log.info("已生成本地 Neo4j 密码 / generated the local Neo4j password in %s (0600)", path)
    return password


def take_over(uri: str, user: str, password: str) -> bool:
    """Make a running server answer to `password`: when it refuses it but takes the former default, change its
    password from that default (a server started by an earlier version). True when it was changed."""
    if _accepts(uri, user, password):
        return False
    with GraphDatabase.driver(uri, auth=(user, FORMER_DEFAULT), connection_timeout=3) as driver:
        try:
            driver.execute_query(CHANGE_OWN_PASSWORD, {"old": FORMER_DEFAULT, "new": password}, database_="system")
        except Neo4jError as exc:
            if not _refused(exc):
                raise
            return False  # neither: let the caller's first query say so
    log.warning("已更换本地 Neo4j 的旧默认密码 / changed the running local Neo4j's former default password")
    return True


def _accepts(uri: str, user: str, password: str) -> bool:
    """A query answers with these credentials (a query, not `verify_authentication`, which said yes to a wrong
    password in neo4j 6.x)."""
    with GraphDatabase.driver(uri, auth=(user, password), connection_timeout=3) as driver:
        try:
            driver.execute_query(PING)
        except Neo4jError as exc:
            if not _refused(exc):
                raise
            return False
    return True


def _refused(exc: Neo4jError) -> bool:
    """Wrong credentials, or too many wrong ones in a row."""
    return isinstance(exc, AuthError) or str(exc.code or "").startswith("Neo.ClientError.Security.")
