"""Bearer tokens: JWTs signed with HS256 by a secret of the service's own, kept 0600 in its data directory.

A token names its account (`sub`) and when it was issued and expires; it carries no role or scope. Whoever
checks a token reads the account as it is now (`access.accounts.account_of`), so a disabled account, a new
password or a narrowed scope takes effect on the next request, not when the token expires.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from graph.password import kept_secret

ISSUER = "grassroots"
ALGORITHM = "HS256"
SECRET_FILE = "token-secret"
_TTL = re.compile(r"(\d+)\s*([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
#: The longest a token may live.
MAX_TTL = timedelta(days=30)


class InvalidToken(ValueError):
    """A token that cannot be accepted; the message says why, in Chinese and English."""


@dataclass(frozen=True)
class Claims:
    """What a valid token says."""

    login: str
    issued_at: datetime
    expires_at: datetime
    csrf: str | None = None  # a browser session's anti-forgery value (`access.web`); None in a bearer token
    precise: bool = False  # `issued_at` to the microsecond (our own tokens' `iatUs`), not whole seconds (`iat`)


def parse_ttl(text: str) -> timedelta:
    """A lifetime like `8h`, `30m`, `7d` or `90s`; at most `MAX_TTL`."""
    m = _TTL.fullmatch(text.strip().lower())
    if m is None:
        raise ValueError(f"有效期格式应如 8h、30m、7d / a lifetime looks like 8h, 30m or 7d, not {text!r}")
    ttl = timedelta(**{_UNITS[m[2]]: int(m[1])})
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError(f"有效期应在 0 到 30 天之间 / a lifetime must be more than 0 and at most 30 days: {text!r}")
    return ttl


def secret(data_dir: Path) -> bytes:
    """The signing secret: read from the data directory, or made there on first use (0600, never overwritten)."""
    text, _ = kept_secret(Path(data_dir) / SECRET_FILE, lambda: secrets.token_hex(32))
    return bytes.fromhex(text)


class Signer:
    """Issues and checks tokens with one secret."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("签名密钥至少 32 字节 / the signing secret needs at least 32 bytes")
        self._key = key

    def issue(self, login: str, ttl: timedelta, now: datetime | None = None, csrf: str | None = None) -> str:
        """A token for `login`, valid for `ttl` from `now` (a browser session's carries its `csrf` value)."""
        now = now or datetime.now(UTC)
        claims = {"iss": ISSUER, "sub": login, "iat": now, "exp": now + ttl, "jti": secrets.token_hex(8),
                  "iatUs": int(now.timestamp() * 1_000_000)}  # fmt: skip
        if csrf is not None:
            claims["csrf"] = csrf
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def check(self, token: str) -> Claims:
        """What a token says, when it is ours, unaltered and unexpired; else `InvalidToken` saying why."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["iss", "sub", "iat", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("令牌已过期,请重新登录 / the token has expired: sign in again") from None
        except jwt.PyJWTError:
            raise InvalidToken("令牌无效 / the token is not valid") from None
        precise = isinstance(claims.get("iatUs"), int)
        issued = claims["iatUs"] / 1_000_000 if precise else claims["iat"]
        return Claims(
            claims["sub"],
            datetime.fromtimestamp(issued, UTC),
            datetime.fromtimestamp(claims["exp"], UTC),
            claims.get("csrf"),
            precise,
        )
