"""HTTP hygiene around every response: which `Host` a request may name, and the headers every answer carries.

Rules: a request whose `Host` is not in the configured list (loopback by default) is refused with 400 before
anything else runs (starlette's `TrustedHostMiddleware`: a page on another name that resolves to this machine —
DNS rebinding — reads nothing); every response says `X-Content-Type-Options: nosniff` (a JSON or text answer is
never run as a script or page) and `Referrer-Policy: same-origin` (no path or query leaves for another site;
same-origin requests keep theirs, so the sign-in form's and the page's own requests are unchanged). Framing is
refused by each HTML page's own Content-Security-Policy (`frame-ancestors 'none'`, in server.py).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


def middleware(trusted_hosts: list[str]) -> list[Middleware]:
    """The hygiene middleware, outermost first: headers on every answer (the host refusal's too), then hosts."""
    return [
        Middleware(SecurityHeaders),
        Middleware(TrustedHostMiddleware, allowed_hosts=trusted_hosts, www_redirect=False),
    ]
