"""`GET /reports/audit.xlsx?scope=CODE` (and `audit.zip`, the same as CSV files): the audit report over HTTP.

Builds take a slot of the server-wide `reports.queue.BuildQueue` (a few at once, a few waiting, else 429 with
Retry-After); the file is streamed after the slot is given back.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import date
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from access.accounts import Caller
from core.errors import BAD_USER_INPUT, FORBIDDEN, NOT_FOUND, QUERY_TIMEOUT, SERVICE_UNAVAILABLE, TOO_MANY_REQUESTS
from graph.driver import GraphUnavailable, QueryTimeout
from graph.scope import AreaNotFound, ScopeError
from graph.scope import Scope as AreaScope
from reports.audit import AuditReport, OutsideScope, build_audit, file_stem, sheets
from reports.files import XLSX_MEDIA, ZIP_MEDIA, TooManyRows, check_fits, write_csv_zip, write_xlsx
from reports.queue import BuildQueue, Busy

AUDIT_MEDIA = {"xlsx": XLSX_MEDIA, "zip": ZIP_MEDIA}


def caller_of(request: Request) -> Caller:
    """The signed-in caller (`access.web.RequireSignIn` lets no request here without one)."""
    return request.state.caller


def _error(status: int, code: str, message: str) -> JSONResponse:
    """A bilingual JSON error with the GraphQL errors' codes."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def build_queue(request: Request) -> BuildQueue:
    """The app's one build queue, made from the settings of its graph on the first download."""
    state = request.app.state
    queue = getattr(state, "audit_builds", None)
    if queue is None:
        queue = state.audit_builds = BuildQueue.from_settings(state.graph.settings)
    return queue


async def audit_report(request: Request) -> Response:
    """`/reports/audit.xlsx?scope=CODE[&asOf=YYYY-MM-DD][&compareTo=YYYY-MM-DD]`: the audit workbook (with
    `compareTo`, beside that day's figures and gaps); `/reports/audit.zip`: the same as CSV files. Read over the
    async driver, written in a worker thread to a temporary file, then streamed."""
    caller = caller_of(request)
    if not caller.grants.audit_workbook:
        role = caller.role
        message = f"无权下载审计报告(角色:{role.zh})/ the role {role.value} may not download audit reports"
        return _error(403, FORBIDDEN, message)
    suffix = request.path_params["suffix"]
    if suffix not in AUDIT_MEDIA:
        return _error(404, NOT_FOUND, f"没有这种报告格式 / no report audit.{suffix}: use audit.xlsx or audit.zip")
    code = request.query_params.get("scope", "").strip()
    if not code:
        return _error(400, BAD_USER_INPUT, "缺少参数 scope / missing parameter scope: ?scope=<area code or WG-…>")
    try:
        scope = AreaScope.parse(code)
        day = date.fromisoformat(request.query_params.get("asOf") or date.today().isoformat()).isoformat()
        earlier = request.query_params.get("compareTo") or None
        compare_to = date.fromisoformat(earlier).isoformat() if earlier else None
    except ScopeError as exc:
        return _error(400, BAD_USER_INPUT, str(exc))
    except ValueError:
        return _error(400, BAD_USER_INPUT, "日期无效,应为 YYYY-MM-DD / invalid asOf or compareTo: use YYYY-MM-DD")
    try:
        async with build_queue(request).slot():
            built = await _build(request, caller, scope, day, suffix, compare_to)
    except Busy as exc:
        response = _error(429, TOO_MANY_REQUESTS, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(built, Response):
        return built
    report, path = built
    name, fallback = file_stem(report)
    disposition = f"attachment; filename=\"{fallback}.{suffix}\"; filename*=UTF-8''{quote(f'{name}.{suffix}', safe='')}"
    return FileResponse(
        path,
        media_type=AUDIT_MEDIA[suffix],
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
        background=BackgroundTask(os.unlink, path),
    )


async def _build(
    request: Request, caller: Caller, scope: AreaScope, day: str, suffix: str, compare_to: str | None
) -> tuple[AuditReport, str] | Response:
    """Read the report and write it to a temporary file: the report and the file's path, or the error answer."""
    try:
        report = await build_audit(request.app.state.graph, scope, day, allowed=caller.scope, compare_to=compare_to)
    except OutsideScope as exc:
        return _error(403, FORBIDDEN, str(exc))
    except AreaNotFound:
        return _error(404, NOT_FOUND, f"找不到范围 {scope.code} / no area with code {scope.code}")
    except GraphUnavailable as exc:
        return _error(503, SERVICE_UNAVAILABLE, str(exc))
    except QueryTimeout as exc:
        return _error(504, QUERY_TIMEOUT, str(exc))
    tables = await asyncio.to_thread(sheets, report)
    if suffix == "xlsx":
        try:
            check_fits(tables)
        except TooManyRows as exc:
            return _error(400, BAD_USER_INPUT, str(exc))
    write = write_xlsx if suffix == "xlsx" else write_csv_zip
    fd, path = tempfile.mkstemp(prefix="grassroots-audit-", suffix=f".{suffix}")
    try:
        with os.fdopen(fd, "wb") as f:
            await asyncio.to_thread(write, tables, f)
    except BaseException:
        os.unlink(path)
        raise
    return report, path
