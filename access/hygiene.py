"""HTTP hygiene around every response: which `Host` a request may name, and the headers every answer carries.

Rules: a request whose `Host` is not in the configured list (loopback by default) is refused with 400 before
anything else runs (starlette's `TrustedHostMiddleware`: a page on another name that resolves to this machine —
DNS rebinding — reads nothing); every response says `X-Content-Type-Options: nosniff` (a JSON or text answer is
never run as a script or page) and `Referrer-Policy: same-origin` (no path or query leaves for another site;
same-origin requests keep theirs, so the sign-in form's and the page's own requests are unchanged). Framing is
refused by each HTML page's own Content-Security-Policy (`frame-ancestors 'none'`, in server.py). A client that
hangs up while its request body is still being read (a closed tab, a cancelled fetch) is logged as one line, not as
an "Exception in ASGI application" traceback: nobody is left to answer, and it is no fault of the service.
"""

from __future__ import annotations

import logging

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("grassroots.http")

#: Added to every HTTP response (a header the app set itself is kept).
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """Pure ASGI middleware: `HEADERS` on every HTTP response, streamed ones included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


class ClientGone:
    """Pure ASGI middleware: a `ClientDisconnect` (raised by starlette when the client hung up before its body was
    read whole) ends the request with a log line; nothing is sent, as nobody is listening."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            log.info("client_disconnected method=%s path=%s", scope.get("method"), scope.get("path"))


def middleware(trusted_hosts: list[str]) -> list[Middleware]:
    """The hygiene middleware, outermost first: a client gone mid-body is no error, headers on every answer (the
    host refusal's too), then hosts."""
    return [
        Middleware(ClientGone),
        Middleware(SecurityHeaders),
        Middleware(TrustedHostMiddleware, allowed_hosts=trusted_hosts, www_redirect=False),
    ]
