"""`grassroots`: the project's command line (serve, neo4j, migrate, info, template, load, demo, audit, user, token)."""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
import uvicorn.config

from core.logfmt import KeyValueFormatter, NoQueryStrings
from core.privacy import RedactingFilter, redact_logs
from graph.driver import Graph
from graph.local import LocalNeo4j, LocalNeo4jError, database_uri, supervised_database
from graph.migrations import migrate
from graph.scope import Scope
from graph.settings import Settings, get_settings
from loaders.batches import BATCH
from loaders.load import LoadResult
from loaders.problems import InvalidInput

T = TypeVar("T")

app = typer.Typer(
    help="基层党建组织网络图谱服务 / Grassroots party-organization network graph service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _logging() -> None:
    """The root logger's level and one-line `key=value` format (`core.logfmt`); its handlers redact every record
    (`core.privacy.RedactingFilter`). The Neo4j driver never logs below INFO: its debug lines show query
    parameters, which carry what clients sent."""
    level = get_settings().log_level.upper()
    logging.basicConfig(level=level)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(KeyValueFormatter())
    redact_logs()
    driver_log = logging.getLogger("neo4j")
    driver_log.setLevel(max(logging.INFO, driver_log.getEffectiveLevel()))


def _uvicorn_logging() -> dict[str, Any]:
    """uvicorn's own logging configuration, one `key=value` line per event, with a `RedactingFilter` on each of
    its handlers (its loggers do not propagate to the root's) and no query strings in its access log."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {
        **config.get("filters", {}),
        "redact": {"()": RedactingFilter},
        "no_query": {"()": NoQueryStrings},
    }
    for name in config["formatters"]:
        config["formatters"][name] = {"()": KeyValueFormatter}
    for name, handler in config["handlers"].items():
        extra = ["no_query", "redact"] if name == "access" else ["redact"]
        handler["filters"] = [*handler.get("filters", []), *extra]
    return config


def _fail(message: str) -> typer.Exit:
    typer.echo(f"错误 / Error: {message}", err=True)
    return typer.Exit(code=1)


@app.command()
def serve() -> None:
    """启动服务 / Serve GraphQL on GRASSROOTS_HOST:GRASSROOTS_PORT (starts the local Neo4j when NEO4J_URI is unset)."""
    from server import create_app

    _logging()
    settings = get_settings()
    signal.signal(signal.SIGTERM, _terminated)
    try:
        with supervised_database(settings, supervise=settings.supervise) as (uri, supervisor):
            if settings.demo_profile != "none":
                asyncio.run(_load_demo_if_empty(settings.demo_profile, uri))
            asyncio.run(_first_admin(settings, uri))
            typer.echo(f"Neo4j: {uri}  GraphQL: http://{settings.host}:{settings.port}/graphql")
            uvicorn.run(
                create_app(settings, uri=uri, supervisor=supervisor),
                host=settings.host,
                port=settings.port,
                log_level=settings.log_level,
                log_config=_uvicorn_logging(),
            )
    except LocalNeo4jError as exc:
        raise _fail(str(exc)) from None
    except _Terminated:
        typer.echo("已停止 / stopped (SIGTERM)")


class _Terminated(Exception):
    """SIGTERM arrived: unwinds `serve` so the local Neo4j it started is stopped cleanly before the process ends."""


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM's handler in `serve`. uvicorn catches SIGTERM while it serves, shuts down, then raises the signal
    again once its own handler is gone: with the default action the process would end there, before `serve`'s
    `with` blocks stop the local Neo4j (the JVM then lingers until it notices, and its pid file stays behind).
    Raised as an exception instead, the blocks unwind. A second SIGTERM meanwhile ends the process at once."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise _Terminated


async def _load_demo_if_empty(profile: str, uri: str) -> None:
    """An empty database gets the demo city, through the same path as a department's workbook."""
    from loaders.demo import write_demo
    from loaders.load import load_file

    graph = Graph(get_settings(), uri=uri)
    try:
        await migrate(graph)
        if (await graph.read_rows("MATCH (c:City) RETURN count(c) AS n"))[0]["n"]:
            return
        typer.echo(f"数据库为空,导入演示城市 / empty database: loading the demo profile '{profile}'")
        with tempfile.TemporaryDirectory(prefix="grassroots-demo-") as tmp:
            target = Path(tmp) / profile
            write_demo(profile, 1, target)
            result = await load_file(target, graph, show_progress=True)
            typer.echo(f"导入完成 / loaded {result.summary.rows:,} rows in {result.seconds:.1f} s")
    finally:
        await graph.close()


async def _first_admin(settings: Settings, uri: str) -> None:
    """A graph with a city and no accounts gets its `admin`; the password is shown once and kept 0600."""
    from access.accounts import FIRST_ADMIN_FILE, first_admin
    from graph.accounts import count

    graph = Graph(settings, uri=uri)
    try:
        await migrate(graph)
        made = await first_admin(graph, settings.data_dir)
        if made is None:
            if not await count(graph):
                typer.echo("尚无账号:导入数据后用 grassroots user add 建立 / no accounts yet: load data, then "
                           "add one with `grassroots user add`")  # fmt: skip
            return
        account, password = made
        path = settings.data_dir / FIRST_ADMIN_FILE
        typer.echo(
            f"已建立管理员 / first admin created: login {account.login}, scope {account.scope}\n"
            f"  密码(只显示这一次)/ password (shown once): {password}\n"
            f"  也保存在 / also kept in {path} (0600); 登录 / sign in at http://{settings.host}:{settings.port}/login"
        )
    finally:
        await graph.close()


@app.command("neo4j")
def run_neo4j() -> None:
    """只启动本地 Neo4j / Run only the embedded local Neo4j, in the foreground, until Ctrl-C."""
    _logging()
    settings = get_settings()
    local = LocalNeo4j.from_settings(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        local.start()
    except LocalNeo4jError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"本地 Neo4j 就绪 / local Neo4j ready: {local.uri} (user {settings.neo4j_user}); Ctrl-C to stop")
    while not stop.wait(1.0):
        if local.pid is None:
            raise _fail("本地 Neo4j 意外退出 / the local Neo4j exited unexpectedly")
    local.stop()


@app.command("migrate")
def run_migrate() -> None:
    """应用数据库结构迁移 / Apply schema migrations (constraints and indexes)."""
    _logging()
    applied = _with_graph(migrate, migrate_first=False)
    typer.echo(f"已应用 / applied: {applied}" if applied else "无待应用迁移 / nothing to apply")


@app.command()
def info() -> None:
    """数据库信息 / Print the Neo4j server's components (CALL dbms.components())."""
    _logging()

    async def show(graph: Graph) -> None:
        for c in await graph.server_info():
            typer.echo(f"{c.name} {','.join(c.versions)} {c.edition}")

    _with_graph(show, migrate_first=False)


class InBackground:
    """`work(graph)` in a thread of its own — its own event loop and driver — while the caller goes on.

    A load applies the migrations this way: on a fresh database they take about two seconds, which
    the load spends validating its input with Neo4j idle; its writes wait for them (`done`).
    """

    def __init__(self, work: Callable[[Graph], Awaitable[object]], settings: Settings, uri: str) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work, settings, uri), name="in-background", daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[Graph], Awaitable[object]], settings: Settings, uri: str) -> None:
        async def go() -> None:
            graph = Graph(settings, uri=uri)
            try:
                await work(graph)
            finally:
                await graph.close()

        try:
            asyncio.run(go())
        except BaseException as exc:  # re-raised in the caller's thread by `done`
            self._error = exc

    async def done(self) -> None:
        """Wait for the work to finish; raise what it raised."""
        await asyncio.to_thread(self._thread.join)
        if self._error is not None:
            raise self._error

    def join(self) -> None:
        """Wait for the thread (a caller leaving early must not cut the work off half-way)."""
        self._thread.join()


def _with_graph(work: Callable[[Graph], Awaitable[T]], *, migrate_first: bool = True) -> T:
    """Run `work(graph)` on the configured Neo4j (the local one started if needed), migrations applied first."""
    settings = get_settings()

    async def go(uri: str) -> T:
        graph = Graph(settings, uri=uri)
        try:
            if migrate_first:
                await migrate(graph)
            return await work(graph)
        finally:
            await graph.close()

    try:
        with database_uri(settings) as uri:
            return asyncio.run(go(uri))
    except LocalNeo4jError as exc:
        raise _fail(str(exc)) from None


@app.command()
def template(
    out: Annotated[Path, typer.Argument(help="输出文件 / the .xlsx to write")],
    with_data: Annotated[
        str | None,
        typer.Option(
            "--with-data",
            metavar="SCOPE",
            help="导出该范围(市、区、街道或社区的12位区划代码)的现行数据,原样导入不改变任何数据;含未遮盖的个人信息"
            "(身份证号、联系电话),文件权限 0600 / export the current data of this scope (a 12-digit city, "
            "district, street or community code) in the same workbook; loading it changes nothing. It holds "
            "personal data unmasked (ID numbers, phones): the file is made 0600",
        ),
    ] = None,
) -> None:
    """写出导入模板(说明、示例行、下拉列表),或加 --with-data 导出某范围的数据 / Write the import workbook to fill
    (说明 sheet, example rows, drop-downs), or with --with-data a scope's data in it."""
    from loaders.workbooks import write_template

    if with_data is None:
        write_template(out)
        typer.echo(f"已写出模板 / template written: {out}")
        return
    _export(with_data, out)


def _export(code: str, out: Path) -> None:
    """`template --with-data`: the scope's current graph in the import workbook, read only (no migration: a read
    never writes), written 0600."""
    from graph.export import NotAnArea, area_scope
    from graph.scope import AreaNotFound, ScopeError
    from loaders.export import export_scope
    from loaders.workbooks import SheetFull

    try:
        scope = area_scope(Scope.parse(code))  # refused before any connection
    except (ScopeError, NotAnArea) as exc:
        raise _fail(str(exc)) from None
    _logging()

    async def work(graph: Graph) -> dict[str, int]:
        return await export_scope(graph, scope, out)

    try:
        rows = _with_graph(work, migrate_first=False)
    except (NotAnArea, SheetFull) as exc:
        raise _fail(str(exc)) from None
    except AreaNotFound:
        raise _fail(f"找不到范围 {scope.code} / no area with code {scope.code}") from None
    total = sum(rows.values())
    typer.echo(
        f"已导出 {total:,} 行({len([n for n in rows.values() if n])} 个工作表有数据)/ exported {total:,} rows: {out}\n"
        "文件含未遮盖的个人信息(身份证号、联系电话),权限 0600,请妥善保管 / the file holds personal data unmasked "
        "(ID numbers, phones), mode 0600: keep it safe"
    )


@app.command()
def load(
    path: Annotated[Path, typer.Argument(help="工作簿 .xlsx 或 CSV 文件夹 / workbook or CSV folder")],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="跳过错误行 / load valid rows, write rejected ones to --errors")
    ] = False,
    errors: Annotated[Path | None, typer.Option(help="错误工作簿 / where rejected rows go (.xlsx)")] = None,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune", help="删除本区域内工作簿未列出的数据 / delete what the workbook no longer lists, in its area"
        ),
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=100_000, help="每个事务的行数 / rows per transaction")
    ] = BATCH,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="显示各阶段用时 / show the phases' timings")] = False,
) -> None:
    """导入 / Validate everything, then load; with any problem nothing is written (unless --skip-invalid)."""
    from loaders.history import record_load
    from loaders.load import load_file

    _logging()

    kept: list[LoadResult] = []

    async def work(graph: Graph) -> None:
        # Everything happens inside the event loop: a city's plan is millions of objects, and handing it
        # out of asyncio.run() costs minutes of teardown; only None leaves this coroutine.
        load_as = await _load_as(graph, get_settings().load_as)
        migrations = InBackground(migrate, get_settings(), graph.uri)  # while the input is validated
        try:
            result = await load_file(
                path,
                graph,
                skip_invalid=skip_invalid,
                show_progress=True,
                prune_missing=prune,
                batch_size=batch_size,
                before_writes=migrations.done,
                load_as=load_as,
                measure_effect=True,
            )
        finally:
            migrations.join()
        _report(result, path, errors, verbose)
        loaded, _ = await record_load(graph, path, result, load_as[0] if load_as else None)
        typer.echo(f"已记入导入记录 / recorded in the history of loads: {loaded}")
        kept.append(result)  # not freed here, object by object: see below

    try:
        _with_graph(work, migrate_first=False)
    except InvalidInput as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise _fail(str(exc)) from None
    # Every write is committed, the driver closed and the summary printed. Freeing a city's plan (ten
    # million objects) one by one would keep the prompt waiting seconds more; the process's exit frees it whole.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


async def _load_as(graph: Graph, login: str | None) -> tuple[str, Scope] | None:
    """GRASSROOTS_LOAD_AS: the account a load runs for (enabled, allowed to write) and its scope."""
    from access.accounts import Caller
    from graph import accounts as store

    if not login:
        return None
    found = await store.find(graph, login.strip().lower())
    if found is None or found[0].disabled:
        raise _fail(f"GRASSROOTS_LOAD_AS:账号不存在或已停用 / no enabled account {login!r}")
    caller = Caller.of(found[0])
    if not caller.grants.write:
        raise _fail(f"GRASSROOTS_LOAD_AS:{caller.role.zh}不能导入 / the role {caller.role.value} may not load data")
    typer.echo(
        f"以账号 {caller.login} 导入,范围 {caller.scope.code} / loading as {caller.login}, scope {caller.scope.code}"
    )
    return caller.login, caller.scope


def _report(result: LoadResult, path: Path, errors: Path | None, verbose: bool) -> None:
    """Print the summary in the reader's words (`loaders.wording`); write rejected rows to the error workbook."""
    from loaders.wording import plural, problems_phrase, summary_lines
    from loaders.workbooks import write_error_workbook

    for line in summary_lines(result.summary, result.seconds, result.effect, verbose):
        typer.echo(line)
    for warning in result.warnings:
        typer.echo(f"提示 / warning: {warning}", err=True)
    if result.skipped:
        target = errors or Path(path).with_name(Path(path).stem + ".errors.xlsx")
        count = write_error_workbook(result.plan, target)
        problems = problems_phrase(len(result.plan.problems))
        typer.echo(
            f"{problems};已跳过 {count:,} 行,原因见 / skipped {plural(count, 'row')}, reasons in {target}", err=True
        )


@app.command()
def loads(
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="条数 / how many")] = 20,
    scope: Annotated[str | None, typer.Option(help="只看该范围内的导入 / only loads inside this area")] = None,
) -> None:
    """导入记录(最新在前) / The history of loads, newest first: file, who, scope, what changed."""
    from rich.console import Console
    from rich.table import Table

    from graph import imports
    from graph.scope import ScopeError
    from loaders.wording import LOAD_COLUMNS, load_row

    try:
        within = Scope.parse(scope) if scope else None
    except ScopeError as exc:
        raise _fail(str(exc)) from None

    async def work(graph: Graph) -> list[dict[str, Any]]:
        return await imports.loads(graph, within, limit)

    table = Table(title="导入记录 / loads")
    for column in LOAD_COLUMNS:
        table.add_column(column)
    for entry in _with_graph(work, migrate_first=False):  # a read never writes
        table.add_row(*load_row(entry))
    Console().print(table)


@app.command()
def demo(
    profile: Annotated[str, typer.Option(help="small | city | province")] = "small",
    seed: Annotated[int, typer.Option(help="随机种子 / random seed")] = 1,
    out: Annotated[
        Path | None, typer.Option(help="输出 .xlsx 或文件夹 / write a workbook (.xlsx) or CSV folder")
    ] = None,
    load_it: Annotated[bool, typer.Option("--load", help="生成后导入 / load it into the graph")] = False,
) -> None:
    """生成演示城市 / Generate a demo city with injected gaps (and its manifest), write and/or load it."""
    from loaders.demo import PROFILES, write_demo
    from loaders.load import load_file

    if profile not in PROFILES:
        raise _fail(f"未知的规模 / unknown profile {profile!r}: use small, city or province")
    if out is None and not load_it:
        raise _fail("请指定 --out 或 --load / give --out FILE, --load, or both")
    _logging()
    with tempfile.TemporaryDirectory(prefix="grassroots-demo-") as tmp:
        target = out or Path(tmp) / profile
        manifest = write_demo(profile, seed, target)
        typer.echo(f"已生成 / generated {sum(manifest['entities'].values()):,} rows → {target}")
        if load_it:

            async def work(graph: Graph) -> None:
                result = await load_file(target, graph, show_progress=True)
                typer.echo(f"导入完成 / loaded {result.summary.rows:,} rows in {result.seconds:.1f} s")

            _with_graph(work)


@app.command()
def audit(
    scope: Annotated[str, typer.Option(help="范围编码:区划代码或网格编码 / scope: area code or grid code WG-…")],
    out: Annotated[Path, typer.Option(help="输出文件 / the file to write (.xlsx, or .zip for CSV)")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="xlsx | csv (CSV: a zip of one CSV per sheet); default from --out's suffix"),
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="判定日期 YYYY-MM-DD / date judged on (today)")] = None,
    compare_to: Annotated[
        str | None,
        typer.Option(
            "--compare-to", help="对比日期 YYYY-MM-DD(环比/同比)/ compare with the figures and gaps of this day"
        ),
    ] = None,
) -> None:
    """审计工作簿 / Write a scope's audit workbook: coverage summary and one sheet per gap kind (with --compare-to:
    each figure then, now and its change, and the gaps new and closed since)."""
    from graph.scope import AreaNotFound, Scope, ScopeError
    from reports.audit import build_audit, sheets
    from reports.files import TooManyRows, save, write_csv_zip, write_xlsx

    kind = fmt or ("csv" if out.suffix.lower() in (".zip", ".csv") else "xlsx")
    if kind not in ("xlsx", "csv"):
        raise _fail(f"未知的格式 / unknown format {fmt!r}: use xlsx or csv")
    try:
        where = Scope.parse(scope)
    except ScopeError as exc:
        raise _fail(str(exc)) from None
    try:
        day = (date.fromisoformat(as_of) if as_of else date.today()).isoformat()
        earlier = date.fromisoformat(compare_to).isoformat() if compare_to else None
    except ValueError:
        raise _fail(f"日期无效 / invalid date {as_of or compare_to!r}: use YYYY-MM-DD") from None
    _logging()

    async def work(graph: Graph) -> int:
        report = await build_audit(graph, where, day, compare_to=earlier)
        # Written only once everything is read; whole or not at all.
        save(out, partial(write_xlsx if kind == "xlsx" else write_csv_zip, sheets(report)))
        return sum(len(g) for g in report.gaps.values())

    try:
        found = _with_graph(work)
    except AreaNotFound:
        raise _fail(f"找不到范围 {where.code} / no area with code {where.code}") from None
    except TooManyRows as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"已写出审计报告 / audit written: {out} ({found:,} 个空白点 / gaps, 判定日期 / as of {day})")


users = typer.Typer(help="账号 / Accounts: add, list, disable, change a password.", no_args_is_help=True)
app.add_typer(users, name="user")


def _password(generate: bool) -> str:
    """A new password: generated, typed twice at a terminal, or one line of standard input."""
    from access.passwords import generate as generated

    if generate:
        return generated()
    if sys.stdin.isatty():
        return str(typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


def _accounts(work: Callable[[Graph], Awaitable[T]]) -> T:
    """Run an account command on the configured Neo4j; a refusal is printed, exit status 1."""
    from access.accounts import AccountError

    try:
        return _with_graph(work)
    except AccountError as exc:
        raise _fail(str(exc)) from None


@users.command("add")
def user_add(
    login: Annotated[str, typer.Argument(help="登录名 / login")],
    role: Annotated[str, typer.Option(help="admin | editor | auditor | viewer")],
    scope: Annotated[str, typer.Option(help="范围编码:区划代码或网格编码 / scope: area code or grid code WG-…")],
    pii: Annotated[bool, typer.Option("--pii", help="可见个人信息(编辑、审计员)/ may see personal data")] = False,
    name: Annotated[str, typer.Option(help="姓名 / display name")] = "",
    generate_password: Annotated[
        bool, typer.Option("--generate-password", help="生成并打印密码 / generate a password and print it")
    ] = False,
) -> None:
    """新建账号 / Add an account; the password is read from standard input (or generated and printed)."""
    from access import accounts
    from core.access import Role

    try:
        role_ = Role(role)
    except ValueError:
        raise _fail(f"未知的角色 / unknown role {role!r}: use admin, editor, auditor or viewer") from None
    password = _password(generate_password)

    async def work(graph: Graph) -> None:
        where = await accounts.check_scope(graph, scope)
        account = await accounts.add(graph, login, role_, where, password, pii=pii, name=name)
        typer.echo(f"已新建账号 / account added: {account.login} ({role_.zh} {role_.value}, {account.scope})")

    _accounts(work)
    if generate_password:
        typer.echo(f"密码 / password: {password}")


@users.command("list")
def user_list() -> None:
    """列出账号 / List the accounts (never their passwords)."""
    from graph import accounts as store

    async def work(graph: Graph) -> None:
        for a in await store.all_accounts(graph):
            state = "停用 disabled" if a.disabled else "启用 enabled"
            last = a.last_login_at.isoformat(timespec="seconds") if a.last_login_at else "-"
            pii = " pii" if a.pii else ""
            typer.echo(f"{a.login:<20} {a.role:<8}{pii:<4} {a.scope:<24} {state:<12} {last}  {a.name}")

    _accounts(work)


@users.command("disable")
def user_disable(login: Annotated[str, typer.Argument(help="登录名 / login")]) -> None:
    """停用账号 / Disable an account; its tokens stop working at once."""
    from access import accounts

    _accounts(partial(accounts.disable, login=login))
    typer.echo(f"已停用 / disabled: {login}")


@users.command("passwd")
def user_passwd(
    login: Annotated[str, typer.Argument(help="登录名 / login")],
    generate_password: Annotated[
        bool, typer.Option("--generate-password", help="生成并打印密码 / generate a password and print it")
    ] = False,
) -> None:
    """修改密码 / Set an account's password (read from standard input); its earlier tokens stop working."""
    from access import accounts

    password = _password(generate_password)
    _accounts(partial(accounts.change_password, login=login, password=password))
    typer.echo(f"密码已更改 / password changed: {login}")
    if generate_password:
        typer.echo(f"密码 / password: {password}")


@app.command()
def token(
    login: Annotated[str, typer.Argument(help="登录名 / login")],
    ttl: Annotated[str, typer.Option(help="有效期,如 8h、30m、7d / lifetime, e.g. 8h, 30m, 7d")] = "8h",
) -> None:
    """签发令牌 / Print a bearer token for an enabled account (Authorization: Bearer …)."""
    from access.accounts import check_login
    from access.tokens import Signer, parse_ttl, secret
    from graph import accounts as store

    try:
        lifetime = parse_ttl(ttl)
    except ValueError as exc:
        raise _fail(str(exc)) from None

    async def work(graph: Graph) -> None:
        found = await store.find(graph, check_login(login))
        if found is None or found[0].disabled:
            raise _fail(f"没有此账号或已停用 / no enabled account {login}")

    _accounts(work)
    typer.echo(Signer(secret(get_settings().data_dir)).issue(login.lower(), lifetime))


if __name__ == "__main__":
    app()
