"""Settings from the environment (and an optional `.env` file), one place for every variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Host names a request may name in its `Host` header by default: loopback only (DNS rebinding is refused).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
#: Listen addresses that name no one host (every interface): they add nothing to the trusted hosts.
ANY_ADDRESS = ("", "0.0.0.0", "::", "[::]")


class Settings(BaseSettings):
    """Every environment variable the service reads; README lists them with their defaults."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # The server to use. Unset: the main command starts the embedded local Neo4j itself.
    neo4j_uri: str | None = Field(default=None, validation_alias="NEO4J_URI")
    neo4j_user: str = Field(default="neo4j", validation_alias="NEO4J_USER")
    #: Unset: the local Neo4j's password is generated on first start and kept 0600 in the data directory
    #: (`graph.password`); a server named by NEO4J_URI needs it set.
    neo4j_password: SecretStr | None = Field(default=None, validation_alias="NEO4J_PASSWORD")
    neo4j_database: str = Field(default="neo4j", validation_alias="NEO4J_DATABASE")

    # Driver behaviour: fail fast when the database is away, recover when it is back.
    neo4j_connection_timeout: float = Field(default=3.0, validation_alias="NEO4J_CONNECTION_TIMEOUT")
    neo4j_retry_time: float = Field(default=2.0, validation_alias="NEO4J_MAX_RETRY_TIME")
    neo4j_query_timeout: float = Field(default=60.0, validation_alias="NEO4J_QUERY_TIMEOUT")
    neo4j_pool_size: int = Field(default=50, validation_alias="NEO4J_POOL_SIZE")

    # The embedded local Neo4j (used only when NEO4J_URI is unset).
    local_home: Path = Field(default=PROJECT_ROOT / "data" / "neo4j", validation_alias="NEO4J_LOCAL_HOME")
    local_listen: str = Field(default="127.0.0.1", validation_alias="NEO4J_LOCAL_LISTEN")
    local_port: int = Field(default=7687, validation_alias="NEO4J_LOCAL_PORT")
    local_heap: str = Field(default="4g", validation_alias="NEO4J_HEAP")
    local_pagecache: str = Field(default="4g", validation_alias="NEO4J_PAGECACHE")
    #: The local Neo4j's garbage collector. Parallel: on two cores it spends ~10 % less CPU per written row
    #: than G1, with the API's latencies unchanged (docs/benchmarks.md); G1 is Neo4j's general
    #: recommendation, for bigger heaps and machines.
    local_gc: Literal["G1", "Parallel"] = Field(default="Parallel", validation_alias="NEO4J_GC")
    local_start_timeout: float = Field(default=300.0, validation_alias="NEO4J_LOCAL_START_TIMEOUT")
    local_dist: Path = Field(default=PROJECT_ROOT / "neo4j-local", validation_alias="NEO4J_LOCAL_DIST")

    # The HTTP service.
    host: str = Field(default="127.0.0.1", validation_alias="GRASSROOTS_HOST")
    port: int = Field(default=8000, validation_alias="GRASSROOTS_PORT")
    log_level: str = Field(default="info", validation_alias="GRASSROOTS_LOG_LEVEL")
    demo_profile: str = Field(default="city", validation_alias="GRASSROOTS_DEMO")
    #: The service's own files: the token signing secret, the first admin's password (each 0600).
    data_dir: Path = Field(default=PROJECT_ROOT / "data", validation_alias="GRASSROOTS_DATA_DIR")
    #: `grassroots load` on behalf of this account: rows outside its scope are refused (unset: the operator's
    #: own load, trusted).
    load_as: str | None = Field(default=None, validation_alias="GRASSROOTS_LOAD_AS")

    # An external identity provider (a department's unified sign-in, OpenID Connect): bearer tokens whose `iss`
    # is `oidc_issuer` are checked against the provider's published keys (`access.oidc`). The three are set
    # together or not at all; unset, only the service's own tokens are accepted.
    oidc_jwks_url: str | None = Field(default=None, validation_alias="GRASSROOTS_OIDC_JWKS_URL")
    oidc_issuer: str | None = Field(default=None, validation_alias="GRASSROOTS_OIDC_ISSUER")
    oidc_audience: str | None = Field(default=None, validation_alias="GRASSROOTS_OIDC_AUDIENCE")
    #: The claim holding the login of the account in our graph (role and scope are the account's, never the token's).
    oidc_login_claim: str = Field(default="preferred_username", validation_alias="GRASSROOTS_OIDC_LOGIN_CLAIM")

    # Request limits before execution (schema/limits.py): sizes, tokens, aliases, depth, lists, cost, budgets.
    #: Bytes a `/graphql` request body may hold: a longer one is refused (413) before it is read past the limit.
    max_graphql_body: int = Field(default=256 * 1024, ge=1024, validation_alias="GRASSROOTS_MAX_GRAPHQL_BODY")
    #: Bytes any other request body (`/login`, `/token`, `/logout`) may hold (413 beyond).
    max_form_body: int = Field(default=16 * 1024, ge=1024, validation_alias="GRASSROOTS_MAX_FORM_BODY")
    #: Bytes a URL's query string may hold (a GET `/graphql?query=…`; 414 beyond).
    max_query_string: int = Field(default=16 * 1024, ge=256, validation_alias="GRASSROOTS_MAX_QUERY_STRING")
    #: Lexical tokens (and comments) a GraphQL document may hold: the parser stops at the limit.
    max_tokens: int = Field(default=2000, ge=100, validation_alias="GRASSROOTS_MAX_TOKENS")
    #: Aliases a document may use (fragments counted where they are spread).
    max_aliases: int = Field(default=15, ge=1, validation_alias="GRASSROOTS_MAX_ALIASES")
    #: Levels of nested selections (a leaf field does not count; introspection is bounded by the cost instead).
    max_depth: int = Field(default=6, ge=2, validation_alias="GRASSROOTS_MAX_DEPTH")
    #: Items any list argument may hold (`nodes(ids:)`, `metrics`, `kinds`, `types`, lists inside inputs).
    max_list_items: int = Field(default=100, ge=1, validation_alias="GRASSROOTS_MAX_LIST_ITEMS")
    #: The cost one request may have: the values its answer is expected to hold, lists counted at their
    #: expected row counts in a city (schema/limits.py); QUERY_TOO_COMPLEX beyond.
    max_cost: int = Field(default=150_000, ge=100, validation_alias="GRASSROOTS_MAX_COST")
    #: The cost one account may spend per minute (a sliding window, in memory); 0: no per-account budget.
    cost_per_minute: int = Field(default=2_000_000, ge=0, validation_alias="GRASSROOTS_COST_PER_MINUTE")

    @model_validator(mode="after")
    def _minute_holds_a_request(self) -> Self:
        """A budget per minute smaller than one request's would refuse requests the service accepts."""
        if 0 < self.cost_per_minute < self.max_cost:
            raise ValueError(
                f"GRASSROOTS_COST_PER_MINUTE({self.cost_per_minute})须为 0 或不小于 GRASSROOTS_MAX_COST"
                f"({self.max_cost})/ GRASSROOTS_COST_PER_MINUTE must be 0 (off) or at least GRASSROOTS_MAX_COST"
            )
        return self

    # (end of request limits)

    # Bounded execution (graph/ and schema/): round trips, plan cache, concurrency, audit builds.
    #: Read transactions one GraphQL request may run (`graph.bounds`): past it, QUERY_TOO_COMPLEX. The page's and
    #: the benchmarks' requests use at most 6, the access walk's everything-selecting ones ~110.
    max_round_trips: int = Field(default=256, ge=1, validation_alias="GRASSROOTS_MAX_ROUND_TRIPS")
    #: Cypher transactions one request runs at the same time; the others wait (the pool is NEO4J_POOL_SIZE).
    request_concurrency: int = Field(default=4, ge=1, validation_alias="GRASSROOTS_REQUEST_CONCURRENCY")
    #: Query shapes whose Cypher text each builder of `graph.entities` keeps (LRU; each new shape costs Neo4j a plan).
    query_cache_size: int = Field(default=512, ge=1, validation_alias="GRASSROOTS_QUERY_CACHE")
    #: Core-seconds of Neo4j transactions one account's GraphQL requests may use per sliding minute (wall time
    #: times the share of the cores each had, `graph.fairness`); past it, RATE_LIMITED with retryAfter, and no
    #: transaction runs past what is left. 0: no limit (the least-used account still gets the next turn).
    account_db_seconds: float = Field(default=15.0, ge=0, validation_alias="GRASSROOTS_ACCOUNT_DB_SECONDS")
    #: The same share while other accounts use the database too (one of theirs ran in the last 10 s): what one
    #: account takes from a busy service, the others wait for. At most GRASSROOTS_ACCOUNT_DB_SECONDS; 0: the same.
    account_db_seconds_busy: float = Field(default=10.0, ge=0, validation_alias="GRASSROOTS_ACCOUNT_DB_SECONDS_BUSY")
    #: GraphQL requests' transactions running at once, server-wide; a free turn goes to the least-used account.
    db_concurrency: int = Field(default=16, ge=1, validation_alias="GRASSROOTS_DB_CONCURRENCY")
    #: Of those, how many one account's requests may run at once (the others wait for their turn).
    account_db_concurrency: int = Field(default=2, ge=1, validation_alias="GRASSROOTS_ACCOUNT_DB_CONCURRENCY")
    #: Seconds between the service's checks that every community has a current coverage rollup (made when not,
    #: graph/rollups.py `keep_current`); 0: never.
    rollup_check: float = Field(default=60.0, ge=0, validation_alias="GRASSROOTS_ROLLUP_CHECK_SECONDS")
    #: Read the stored graph once after each start of Neo4j (graph/warmup.py), so the first readers do not pay for
    #: a cold page cache.
    warm_up: bool = Field(default=True, validation_alias="GRASSROOTS_WARM_UP")
    #: Requests one account may have in flight; past it, 429 with Retry-After (`access.concurrency`).
    account_concurrency: int = Field(default=8, ge=1, validation_alias="GRASSROOTS_ACCOUNT_CONCURRENCY")
    #: Audit workbooks built at the same time, server-wide (`reports.http`).
    audit_builds: int = Field(default=2, ge=1, validation_alias="GRASSROOTS_AUDIT_BUILDS")
    #: Audit downloads waiting for a build slot; one more is answered 429 with Retry-After.
    audit_queue: int = Field(default=4, ge=0, validation_alias="GRASSROOTS_AUDIT_QUEUE")
    #: Seconds a waiting audit download waits for its slot before it is answered 429.
    audit_wait: float = Field(default=30.0, gt=0, validation_alias="GRASSROOTS_AUDIT_WAIT")
    # (end of bounded execution)

    # HTTP hygiene (server.py): trusted hosts, headers, introspection.
    #: Host names a request's `Host` header may carry (comma-separated; `*.example.org` for a domain's
    #: sub-domains); any other is refused with 400 (DNS rebinding). GRASSROOTS_HOST is added when it names
    #: one address.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default=list(LOOPBACK_HOSTS), validation_alias="GRASSROOTS_ALLOWED_HOSTS"
    )
    #: GraphQL introspection (the IDEs' Docs pane and completion need it); off: strawberry's
    #: DisableIntrospection refuses `__schema` and `__type`.
    introspection: bool = Field(default=True, validation_alias="GRASSROOTS_INTROSPECTION")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        """`a,b,c` (the environment's form) or a list; blanks dropped, lower case."""
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, list | tuple):
            hosts = [str(h).strip().lower() for h in items if str(h).strip()]
            if not hosts:
                raise ValueError("GRASSROOTS_ALLOWED_HOSTS 不能为空 / GRASSROOTS_ALLOWED_HOSTS names no host")
            return hosts
        return value

    @property
    def trusted_hosts(self) -> list[str]:
        """The allowed hosts, plus GRASSROOTS_HOST when it is one address (not 0.0.0.0 or ::)."""
        hosts = list(self.allowed_hosts)
        own = self.host.strip().lower()
        if own not in ANY_ADDRESS:
            for name in (own, f"[{own}]" if ":" in own and not own.startswith("[") else own):
                if name not in hosts:
                    hosts.append(name)
        return hosts

    # (end of HTTP hygiene)

    # Bounded imports (loaders/read.py): file size, sheet dimension, rows, cell length.
    #: An input file's size (an .xlsx, or each CSV file), checked before it is opened. A province's biggest CSV
    #: (households, ~20 M rows) holds ~1.7 GB.
    import_max_file_mb: int = Field(default=4096, ge=1, validation_alias="GRASSROOTS_IMPORT_MAX_FILE_MB")
    #: An .xlsx's members unzipped, summed (zip bombs), checked before openpyxl opens it.
    import_max_unzipped_mb: int = Field(default=2048, ge=1, validation_alias="GRASSROOTS_IMPORT_MAX_UNZIPPED_MB")
    #: Rows of one sheet or CSV file, header included: a sheet's declared dimension and its counted rows are
    #: checked before it is read, a CSV file's rows as they stream. A province's households: ~20.6 M.
    import_max_rows: int = Field(default=50_000_000, ge=2, validation_alias="GRASSROOTS_IMPORT_MAX_ROWS")
    #: Columns of one sheet or CSV row (the model's widest sheet has 10; Excel allows 16,384).
    import_max_columns: int = Field(default=256, ge=1, validation_alias="GRASSROOTS_IMPORT_MAX_COLUMNS")
    #: Characters in one cell or CSV field (Excel's own limit is 32,767).
    import_max_cell_chars: int = Field(default=32_767, ge=1, validation_alias="GRASSROOTS_IMPORT_MAX_CELL_CHARS")
    # (end of bounded imports)

    # The embedded Neo4j's supervision (graph/local.py): restarts after a crash.
    #: Restart the local Neo4j that `grassroots serve` started when its JVM dies (off: it stays down).
    supervise: bool = Field(default=True, validation_alias="GRASSROOTS_SUPERVISE")
    #: Seconds before the first restart; each further failure doubles it, up to the next setting.
    restart_backoff: float = Field(default=1.0, gt=0, validation_alias="GRASSROOTS_RESTART_BACKOFF")
    restart_backoff_max: float = Field(default=30.0, gt=0, validation_alias="GRASSROOTS_RESTART_BACKOFF_MAX")
    #: The supervisor gives up (and `/healthz` says 503) after this many crashes or failed restarts within
    #: GRASSROOTS_RESTART_WINDOW seconds.
    restart_limit: int = Field(default=5, ge=1, validation_alias="GRASSROOTS_RESTART_LIMIT")
    restart_window: float = Field(default=600.0, gt=0, validation_alias="GRASSROOTS_RESTART_WINDOW")
    # (end of supervision)

    @field_validator("neo4j_uri")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        schemes = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")
        if not value.startswith(schemes):
            raise ValueError(
                f"NEO4J_URI 协议不支持 / unsupported scheme in NEO4J_URI={value!r}: use one of {', '.join(schemes)}"
            )
        return value

    @field_validator("local_port", "port")
    @classmethod
    def _valid_port(cls, value: int) -> int:
        if not 1 <= value <= 65535:
            raise ValueError(f"端口无效 / port {value} is outside 1-65535")
        return value

    @field_validator("oidc_jwks_url", "oidc_issuer", "oidc_audience")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        """An empty value (`GRASSROOTS_OIDC_ISSUER=` in a `.env`) is unset."""
        if value is None or not value.strip():
            return None
        return value.strip()

    @field_validator("oidc_jwks_url")
    @classmethod
    def _jwks_over_tls(cls, value: str | None) -> str | None:
        """The provider's keys decide who may sign in: fetched over https, or plain http on loopback only."""
        if value is None:
            return None
        url = urlsplit(value)
        loopback = url.hostname in ("127.0.0.1", "::1", "localhost")
        if not (url.scheme == "https" or (url.scheme == "http" and loopback)) or not url.hostname:
            raise ValueError(
                f"GRASSROOTS_OIDC_JWKS_URL 须为 https 地址(http 仅限本机)/ GRASSROOTS_OIDC_JWKS_URL must be an "
                f"https URL (plain http only on loopback): {value!r}"
            )
        return value

    @field_validator("oidc_login_claim")
    @classmethod
    def _claim_named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("GRASSROOTS_OIDC_LOGIN_CLAIM 不能为空 / GRASSROOTS_OIDC_LOGIN_CLAIM must name a claim")
        return value.strip()

    @model_validator(mode="after")
    def _oidc_all_or_none(self) -> Self:
        """The identity provider needs its key URL, issuer and audience together: some without the others is a
        mistake, never a provider with a check left out."""
        given = {
            "GRASSROOTS_OIDC_JWKS_URL": self.oidc_jwks_url,
            "GRASSROOTS_OIDC_ISSUER": self.oidc_issuer,
            "GRASSROOTS_OIDC_AUDIENCE": self.oidc_audience,
        }
        missing = [name for name, value in given.items() if value is None]
        if 0 < len(missing) < len(given):
            raise ValueError(
                f"外部身份认证的三项设置须同时设置,缺少 {', '.join(missing)} / the identity provider's "
                f"three settings go together: {', '.join(missing)} missing"
            )
        return self

    @property
    def uses_local(self) -> bool:
        """True when no server is named and the embedded local Neo4j is the database."""
        return self.neo4j_uri is None

    @property
    def effective_uri(self) -> str:
        """The Bolt URI the driver connects to."""
        return self.neo4j_uri or f"bolt://{self.local_listen}:{self.local_port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
