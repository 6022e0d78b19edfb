"""Signing in over HTTP: bearer tokens, the browser's session cookie, anti-forgery, failed sign-in limits.

Every request but the open ones (`OPEN`: liveness, readiness, the sign-in form, static assets) names an
account, by `Authorization: Bearer <token>` (scripts, IDE header presets) or by the session cookie that
`POST /login` sets (the page and the IDEs: HttpOnly, SameSite=Strict). The account is read as it is now on
every request let through (`access.accounts.account_of`): a disabled account or a new password takes effect at
once. A request its login's limits refuse (`access.concurrency`: requests in flight, share of the database) is
answered once its token is checked, before the account is read.

A cookie-authenticated request that may change something (any method but GET and HEAD) must also carry the
session's anti-forgery value in `X-CSRF-Token` (the value is in the signed session token and, readable by
the page's scripts, in the `grassroots_csrf` cookie), and must not come from another origin. Bearer requests
need neither: a browser never adds an Authorization header on its own.

A request without valid credentials is answered 401 `UNAUTHENTICATED` (a browser asking for a page is sent to
the sign-in form instead). Failed sign-ins are counted per login and per address (`FailedSignIns`) and logged
with the login and the address, never the password.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from access.accounts import SIGN_IN_FAILED, AccountError, Caller, account_of, sign_in
from access.oidc import ProviderUnreachable
from access.tokens import ISSUER, Claims, InvalidToken, Signer
from core.access import Role
from core.errors import BAD_USER_INPUT, FORBIDDEN, SERVICE_UNAVAILABLE
from graph.accounts import Account
from graph.driver import Graph, GraphUnavailable

log = logging.getLogger("grassroots.access")

UNAUTHENTICATED = "UNAUTHENTICATED"
SESSION_COOKIE = "grassroots_session"
CSRF_COOKIE = "grassroots_csrf"
CSRF_HEADER = "x-csrf-token"
#: How long a browser session lasts, and a token from `POST /token`.
SESSION_TTL = TOKEN_TTL = timedelta(hours=8)
#: Paths answered without credentials (exact, or a prefix ending in "/").
OPEN = ("/healthz", "/readyz", "/login", "/logout", "/token", "/favicon.ico", "/static/")
#: The largest sign-in request read (a login and a password).
MAX_SIGN_IN_BYTES = 4096
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BAD_HEADER = "Authorization 头应为 Bearer <令牌> / the Authorization header must be Bearer <token>"
NEED_SIGN_IN = "需要登录 / sign in first: send `Authorization: Bearer <token>` or sign in at /login"

ExternalCheck = Callable[[str], Awaitable[Claims]]


class Unauthenticated(Exception):
    """No valid credentials; the message says why, in Chinese and English."""


class Unavailable(Exception):
    """Credentials that cannot be checked now (the identity provider is unreachable): 503, not 401."""


class Forged(Exception):
    """A cookie-authenticated change without the session's anti-forgery value, or from another origin."""


def is_open(path: str) -> bool:
    """Whether `path` is answered without credentials."""
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in OPEN)


def _issuer(token: str) -> str | None:
    """The unverified `iss` of a JWT: which checker verifies it."""
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return issuer if isinstance(issuer, str) else None


class Authenticator:
    """Who a request comes from: its bearer token or session cookie, checked, and the account read now."""

    def __init__(self, graph: Callable[[], Graph], signer: Signer, external: ExternalCheck | None = None) -> None:
        self._graph = graph
        self.signer = signer
        self._external = external

    async def claims(self, token: str) -> Claims:
        """A token's claims: ours by our secret, anything else by the external identity provider (if any)."""
        if self._external is not None and _issuer(token) != ISSUER:
            return await self._external(token)
        return self.signer.check(token)

    async def caller(self, request: Request) -> Caller:
        """The caller, or `Unauthenticated` / `Forged` saying why not."""
        return await self.caller_of(await self.checked_claims(request))

    async def checked_claims(self, request: Request) -> Claims:
        """The claims of the request's bearer token or session cookie, checked (and a cookie-authenticated change
        checked against forgery), or `Unauthenticated` / `Forged` saying why not; the account is not read yet."""
        header = request.headers.get("authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated(BAD_HEADER)
            return await self._checked(token.strip())
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise Unauthenticated(NEED_SIGN_IN)
        claims = await self._checked(cookie)
        if request.method not in SAFE_METHODS:
            check_not_forged(request, claims)
        return claims

    async def _checked(self, token: str) -> Claims:
        try:
            return await self.claims(token)
        except ProviderUnreachable as exc:  # not the caller's fault: the token could not be checked at all
            raise Unavailable(str(exc)) from None
        except InvalidToken as exc:
            raise Unauthenticated(str(exc)) from None

    async def caller_of(self, claims: Claims) -> Caller:
        """The caller checked claims name: the account read now (`Unauthenticated` when it is gone, disabled, or
        the token was revoked)."""
        try:
            return Caller.of(await account_of(self._graph(), claims))
        except InvalidToken as exc:
            raise Unauthenticated(str(exc)) from None

    def session(self, login: str) -> tuple[str, str]:
        """A new browser session for `login`: its token (the cookie) and its anti-forgery value."""
        csrf = secrets.token_urlsafe(24)
        return self.signer.issue(login, SESSION_TTL, csrf=csrf), csrf


def check_not_forged(request: Request, claims: Claims) -> None:
    """A cookie-authenticated change must carry the session's anti-forgery value and come from this origin."""
    given = request.headers.get(CSRF_HEADER, "")
    if not claims.csrf or not secrets.compare_digest(given.encode(), claims.csrf.encode()):
        raise Forged(f"缺少或错误的防伪令牌 / missing or wrong {CSRF_HEADER.title()} header for a signed-in change")
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise Forged(f"拒绝来自其他来源的请求 / a change from another origin ({origin}) is refused")


# ---------------------------------------------------------------- the middleware


#: Asked with a checked token's login and the path before the account is read: a refusal, or None to go on.
EarlyRefusal = Callable[[str, str], ASGIApp | None]


class RequireSignIn:
    """ASGI middleware: every path but the open ones gets a caller (`request.state.caller`) or is refused.

    `early` (the per-account limits, `access.concurrency.AccountLimits.refusal`) may refuse a request once its
    token is checked, before the account is read: a refused request costs no database round trip."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator, early: EarlyRefusal | None = None) -> None:
        self.app = app
        self.authenticator = authenticator
        self.early = early

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            claims = await self.authenticator.checked_claims(request)
            refused = self.early(claims.login, scope["path"]) if self.early is not None else None
            if refused is not None:
                await refused(scope, receive, send)
                return
            caller = await self.authenticator.caller_of(claims)
        except Unauthenticated as exc:
            await refusal(request, str(exc))(scope, receive, send)
            return
        except Forged as exc:
            await _error(request, 403, FORBIDDEN, str(exc))(scope, receive, send)
            return
        except (GraphUnavailable, Unavailable) as exc:
            await _error(request, 503, SERVICE_UNAVAILABLE, str(exc))(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def wants_page(request: Request) -> bool:
    """A browser navigating to a page (not a script asking for data)."""
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def refusal(request: Request, message: str) -> Response:
    """No credentials: a browser is sent to the sign-in form (coming back here after), anything else gets 401."""
    if wants_page(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    response = _error(request, 401, UNAUTHENTICATED, message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="grassroots"'
    return response


def _error(request: Request, status: int, code: str, message: str) -> JSONResponse:
    """A bilingual error: GraphQL-shaped on /graphql, the reports' shape elsewhere."""
    if request.url.path.startswith("/graphql"):
        body: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code}}]}
    else:
        body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status)


# ---------------------------------------------------------------- failed sign-ins


class FailedSignIns:
    """Failed sign-ins in a sliding window, per login and per address: past the limit, sign-in waits.

    Kept in memory (one process serves the API); the number of logins and addresses remembered is bounded,
    the longest-quiet forgotten first.
    """

    def __init__(
        self, per_login: int = 5, per_address: int = 20, window: float = 900.0, remember: int = 100_000
    ) -> None:
        self.limits = {"login": per_login, "address": per_address}
        self.window = window
        self.remember = remember
        self._seen: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def _times(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._seen.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._seen[key]
        return times

    def wait(self, login: str, address: str, now: float | None = None) -> float:
        """Seconds until this login from this address may try again (0: now)."""
        now = time.monotonic() if now is None else now
        longest = 0.0
        for kind, value in (("login", login), ("address", address)):
            times = self._times((kind, value), now)
            if len(times) >= self.limits[kind]:
                longest = max(longest, times[0] + self.window - now)
        return longest

    def failed(self, login: str, address: str, now: float | None = None) -> None:
        """Count a failed sign-in against the login and the address."""
        now = time.monotonic() if now is None else now
        for key in (("login", login), ("address", address)):
            times = self._seen.setdefault(key, deque())
            times.append(now)
            self._seen.move_to_end(key)
        while len(self._seen) > self.remember:
            self._seen.popitem(last=False)

    def succeeded(self, login: str) -> None:
        """A right password clears the login's count (the address keeps its own)."""
        self._seen.pop(("login", login), None)


# ---------------------------------------------------------------- /login and /logout

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no scheme, no host, no `//`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def _credentials(request: Request) -> tuple[str, str, str | None]:
    """(login, password, next) from a JSON body or a form; bounded before it is read."""
    if int(request.headers.get("content-length") or 0) > MAX_SIGN_IN_BYTES:
        raise ValueError("请求过大 / the sign-in request is too large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SIGN_IN_BYTES:
            raise ValueError("请求过大 / the sign-in request is too large")
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise ValueError("JSON 无效 / the body is not JSON") from None
        if not isinstance(data, dict):
            raise ValueError("应为 JSON 对象 / the body must be a JSON object")
    else:
        data = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    login, password = data.get("login"), data.get("password")
    if not isinstance(login, str) or not isinstance(password, str) or not login.strip() or not password:
        raise ValueError("请填写登录名和密码 / give a login and a password")
    target = data.get("next")
    return login.strip()[:64], password[:1024], target if isinstance(target, str) else None


def whoami(account: Account) -> dict[str, Any]:
    """What the page shows of the signed-in account."""
    role = Role(account.role)
    return {"login": account.login, "name": account.name, "role": role.value, "roleName": role.zh,
            "scope": account.scope}  # fmt: skip


class SignIn:
    """`POST /login` (JSON or a form) → the session cookies; `POST /logout` clears them; `POST /token` → a
    bearer token for scripts. Every sign-in counts against `FailedSignIns` the same way."""

    def __init__(self, authenticator: Authenticator, graph: Callable[[], Graph], limits: FailedSignIns) -> None:
        self.authenticator = authenticator
        self._graph = graph
        self.limits = limits

    async def login(self, request: Request) -> Response:
        """Check the password (waiting after too many failures), then set the session cookies."""
        as_form = not request.headers.get("content-type", "").startswith("application/json")
        checked = await self._check(request, as_form)
        if isinstance(checked, Response):
            return checked
        account, target = checked
        token, csrf = self.authenticator.session(account.login)
        if as_form:
            response: Response = RedirectResponse(_safe_next(target), status_code=303)
        else:
            response = JSONResponse({**whoami(account), "csrfToken": csrf})
        secure = request.url.scheme == "https"
        age = int(SESSION_TTL.total_seconds())
        response.set_cookie(SESSION_COOKIE, token, max_age=age, httponly=True, samesite="strict", secure=secure)
        response.set_cookie(CSRF_COOKIE, csrf, max_age=age, httponly=False, samesite="strict", secure=secure)
        return response

    async def token(self, request: Request) -> Response:
        """`POST /token` (JSON login and password, for scripts): a bearer token for `TOKEN_TTL`, no cookie."""
        checked = await self._check(request, as_form=False)
        if isinstance(checked, Response):
            return checked
        account, _ = checked
        token = self.authenticator.signer.issue(account.login, TOKEN_TTL)
        return JSONResponse(
            {"token": token, "tokenType": "Bearer", "expiresIn": int(TOKEN_TTL.total_seconds())},
            headers={"Cache-Control": "no-store"},
        )

    async def _check(self, request: Request, as_form: bool) -> tuple[Account, str | None] | Response:
        """The account a sign-in request names with its right password, and where to go next; else the refusal."""
        try:
            login, password, target = await _credentials(request)
        except ValueError as exc:
            return self._failed(as_form, None, 400, BAD_USER_INPUT, str(exc))
        address = request.client.host if request.client else "unknown"
        shown = _CONTROL.sub("", login.lower())
        wait = self.limits.wait(shown, address)
        if wait > 0:
            log.warning("登录过于频繁 / sign-in throttled for login %r from %s", shown, address)
            seconds = int(wait) + 1
            message = f"失败次数过多,请 {seconds} 秒后再试 / too many failed sign-ins: try again in {seconds} s"
            response = self._failed(as_form, target, 429, "TOO_MANY_REQUESTS", message)
            response.headers["Retry-After"] = str(seconds)
            return response
        try:
            account = await sign_in(self._graph(), login, password)
        except AccountError:
            self.limits.failed(shown, address)
            log.warning("登录失败 / failed sign-in for login %r from %s", shown, address)
            return self._failed(as_form, target, 401, UNAUTHENTICATED, SIGN_IN_FAILED)
        self.limits.succeeded(shown)
        log.info("登录 / signed in: %s from %s", account.login, address)
        return account, target

    def _failed(self, as_form: bool, target: str | None, status: int, code: str, message: str) -> Response:
        if as_form:
            back = f"/login?error={status}" + (f"&next={quote(_safe_next(target), safe='')}" if target else "")
            return RedirectResponse(back, status_code=303)
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)

    async def logout(self, request: Request) -> Response:
        """Clear the session cookies (the token itself lapses with its lifetime)."""
        response: Response
        if request.headers.get("content-type", "").startswith("application/json"):
            response = JSONResponse({"signedOut": True})
        else:
            response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, samesite="strict", httponly=True)
        response.delete_cookie(CSRF_COOKIE, samesite="strict")
        return response
