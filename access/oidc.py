"""Bearer tokens from an external identity provider (a department's unified sign-in, OpenID Connect).

A provider's token is a JWT signed with one of its own asymmetric keys, published as a JWKS document at
`GRASSROOTS_OIDC_JWKS_URL`. It is accepted when its signature checks against the published key its header
names (`kid`), its algorithm is an asymmetric one (`ALGORITHMS`: never HS* — the published key is public, so
anyone could sign with it as an HMAC secret — and never `none`), and it carries `iss` equal to the configured
issuer, `aud` naming the configured audience, `exp` still ahead and `iat` (a minute's leeway for the two
clocks). The login claim (`preferred_username` unless set) names the account in our graph, lower-cased as
`access.accounts.check_login` stores it; a claim that is no valid login (an e-mail address, say) is refused.

The token says who the caller is, nothing more: role, scope and the personal-data grant are read from our
account (`access.accounts.account_of`), never from the token. That check keeps its rule for these tokens too:
a token issued before the account's `validAfter` (its creation, a password change, disabling) is refused, so a
user whose account is created after they signed in at the provider signs in there once more.

The provider's token and our own HS256 ones (`access.tokens.Signer`, issuer `grassroots`) are told apart by
their unverified `iss` (`issuer_of`); the configured issuer may therefore not be ours.

Keys: the JWKS document is fetched with a timeout and kept for `KEYS_LIFESPAN` (PyJWKClient's key-set cache);
a token naming a key not in it refetches the document at most once per `REFETCH_COOLDOWN`, so a provider's
new key is found within that time and made-up key ids cannot flood the provider. A key the provider withdraws
stops being accepted when the cached document expires (PyJWKClient's per-key cache is left off: it never
expires). Fetching and verifying block, so `Verifier.check` runs them in a thread.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import jwt

from access.accounts import AccountError, check_login
from access.tokens import ISSUER, Claims, InvalidToken
from graph.settings import Settings

log = logging.getLogger("grassroots.oidc")

#: The signature algorithms a provider's token may use: asymmetric only.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
#: Seconds to wait for the provider's JWKS document.
FETCH_TIMEOUT = 5.0
#: Seconds a fetched JWKS document is used before it is fetched again.
KEYS_LIFESPAN = 300.0
#: Least seconds between two fetches caused by tokens naming a key the document does not hold.
REFETCH_COOLDOWN = 30.0
#: Seconds of clock difference allowed between the provider and us (for `exp` and `iat`).
LEEWAY = 60.0
#: The claims a provider's token must carry (besides the login claim).
REQUIRED = ("iss", "aud", "exp", "iat")
#: How the pinned pyjwt's PyJWKClient says the document holds no key with a token's `kid` (tests/test_oidc.py
#: fails if a new pyjwt words it otherwise).
NO_SUCH_KEY = "Unable to find a signing key"

UNREACHABLE = "无法连接身份认证服务,请稍后再试 / the identity provider is unreachable: try again later"
NOT_VALID = "外部令牌无效 / the identity provider's token is not valid"


class ProviderUnreachable(InvalidToken):
    """The provider's keys could not be fetched (or were unusable): the token could not be checked at all."""


def issuer_of(token: str) -> str | None:
    """The `iss` a JWT claims, unverified (only to route it to the checker that can verify it); None when the
    text is not a JWT or names no issuer."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None


class Verifier:
    """Checks tokens from one identity provider: its JWKS URL, issuer and audience, and the claim naming the login."""

    def __init__(
        self,
        url: str,
        issuer: str,
        audience: str,
        login_claim: str = "preferred_username",
        *,
        timeout: float = FETCH_TIMEOUT,
    ) -> None:
        if issuer == ISSUER:
            raise ValueError(
                f"外部身份认证的签发者不能是本服务的 {ISSUER!r} / the identity provider's issuer cannot be "
                f"{ISSUER!r}, the service's own"
            )
        self.url = url
        self.issuer = issuer
        self.audience = audience
        self.login_claim = login_claim
        self._keys = jwt.PyJWKClient(
            url,
            cache_keys=False,
            cache_jwk_set=True,
            lifespan=KEYS_LIFESPAN,
            timeout=timeout,
            cooldown_duration=REFETCH_COOLDOWN,
        )

    async def check(self, token: str) -> Claims:
        """What a provider's token says, when it checks (see the module's rules); else `InvalidToken` saying why
        (`ProviderUnreachable` when the provider's keys could not be had)."""
        issuer = issuer_of(token)  # refused before any fetch when it is not the provider's
        if issuer is None:
            raise InvalidToken(NOT_VALID)
        if issuer != self.issuer:
            raise InvalidToken(f"令牌签发者不符 / the token was not issued by {self.issuer}")
        return await asyncio.to_thread(self._check, token)

    async def __call__(self, token: str) -> Claims:
        """`check`: a verifier is the external checker `access.web.Authenticator` takes (token -> Claims)."""
        return await self.check(token)

    def _check(self, token: str) -> Claims:
        """`check`'s blocking part: the key, the signature, the claims."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken(NOT_VALID) from None
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken(
                f"外部令牌的签名算法不被接受 / the token's signature algorithm {header.get('alg')!r} is not accepted"
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("外部令牌未指明签名密钥 / the token names no signing key (kid)")
        key = self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                issuer=self.issuer,
                audience=self.audience,
                leeway=LEEWAY,
                options={"require": list(REQUIRED)},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("外部令牌已过期,请重新登录 / the token has expired: sign in again") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken(f"外部令牌不是发给本服务的 / the token is not meant for {self.audience}") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken(f"令牌签发者不符 / the token was not issued by {self.issuer}") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"外部令牌缺少 {exc.claim} / the token has no {exc.claim} claim") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("外部令牌尚未生效 / the token is not valid yet (issued in the future)") from None
        except jwt.PyJWTError:
            raise InvalidToken(NOT_VALID) from None
        return Claims(
            self._login(claims),
            datetime.fromtimestamp(claims["iat"], UTC),
            datetime.fromtimestamp(claims["exp"], UTC),
        )

    def _key(self, kid: str) -> jwt.PyJWK:
        """The provider's published key `kid` (from the cached document, refetched as the module says)."""
        try:
            return self._keys.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            log.warning("identity provider unreachable: %s: %s", self.url, exc)
            raise ProviderUnreachable(UNREACHABLE) from None
        except jwt.PyJWKClientError as exc:
            if str(exc).startswith(NO_SUCH_KEY):
                raise InvalidToken(f"外部令牌的签名密钥未知 / the token's signing key {kid!r} is unknown") from None
            log.warning("identity provider's keys unusable: %s: %s", self.url, exc)
            raise ProviderUnreachable(UNREACHABLE) from None
        except jwt.PyJWTError as exc:  # a malformed document or key (PyJWKSetError, InvalidKeyError)
            log.warning("identity provider's keys unusable: %s: %s", self.url, exc)
            raise ProviderUnreachable(UNREACHABLE) from None

    def _login(self, claims: dict[str, Any]) -> str:
        """The login the token's login claim names, as stored (lower case)."""
        login = claims.get(self.login_claim)
        if not isinstance(login, str):
            raise InvalidToken(f"外部令牌缺少 {self.login_claim} / the token has no {self.login_claim} claim")
        try:
            return check_login(login.strip())
        except AccountError:
            raise InvalidToken(
                f"外部令牌的 {self.login_claim} 不是有效的登录名 / the token's {self.login_claim} is not a "
                f"valid login: {login!r}"
            ) from None


def from_settings(settings: Settings) -> Verifier | None:
    """The verifier for the configured identity provider, or None when none is configured."""
    url, issuer, audience = settings.oidc_jwks_url, settings.oidc_issuer, settings.oidc_audience
    if url is None or issuer is None or audience is None:  # the settings let all three be set, or none
        return None
    return Verifier(url, issuer, audience, settings.oidc_login_claim)
