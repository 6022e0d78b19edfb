"""Tokens from an external identity provider: a made-up provider (an RSA and an EC key, its JWKS document
served over real HTTP on loopback) signs tokens, and `access.oidc` accepts what it should and refuses, saying
why, everything else — without a database; then through the HTTP service, for accounts in the suite's Neo4j
(those tests are `integration`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from httpx import ASGITransport, AsyncClient
from pydantic import ValidationError

from access import oidc
from access.oidc import ProviderUnreachable, Verifier, issuer_of
from access.tokens import InvalidToken, Signer
from graph.driver import Graph
from graph.local import free_port
from graph.settings import Settings
from tests.helpers import SUITE_ADMIN, bearer, ensure_account, make_settings, own_app

ISSUER = "https://sso.example.gov.cn/realms/xiangyang"
AUDIENCE = "grassroots-graph"
RSA_KID, EC_KID = "rsa-1", "ec-1"


class Provider:
    """A made-up identity provider: two signing keys and its JWKS document served on loopback (requests counted)."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        rsa_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa.public_key(), as_dict=True)
        ec_jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.ec.public_key(), as_dict=True)
        self.jwks = {
            "keys": [
                {**rsa_jwk, "kid": RSA_KID, "alg": "RS256", "use": "sig"},
                {**ec_jwk, "kid": EC_KID, "alg": "ES256", "use": "sig"},
            ]
        }
        self.requests = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.requests += 1
                body = json.dumps(provider.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/protocol/openid-connect/certs"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def token(self, login: str = "Wang.Li", *, kid: str = RSA_KID, alg: str = "RS256", **changes: Any) -> str:
        """A token as the provider issues it, with claims changed (None drops one)."""
        claims = _claims(login, **changes)
        key = self.rsa if alg.startswith(("RS", "PS")) else self.ec
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})

    def public_pem(self) -> bytes:
        return self.rsa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _claims(login: str, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "5f1c2a9e-0d1b-4e55-9d1c-7a3f4c8b2e10",
        "preferred_username": login,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """An HS256 token made by hand (pyjwt refuses a PEM as an HMAC secret): the algorithm-confusion forgery."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = _b64(json.dumps(claims, default=lambda d: int(d.timestamp())).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    p = Provider()
    yield p
    p.stop()


@pytest.fixture
def verifier(provider: Provider) -> Verifier:
    """A fresh verifier (nothing cached) for the made-up provider."""
    return Verifier(provider.url, ISSUER, AUDIENCE)


async def test_a_providers_token_names_its_login(provider: Provider, verifier: Verifier) -> None:
    before = provider.requests
    claims = await verifier.check(provider.token("Wang.Li"))
    assert claims.login == "wang.li"  # lower-cased, as accounts are stored
    assert claims.expires_at - claims.issued_at == timedelta(minutes=5)
    assert claims.issued_at.tzinfo is UTC
    assert (await verifier(provider.token("zhao", alg="ES256", kid=EC_KID))).login == "zhao"  # callable: check
    assert provider.requests == before + 1  # the document fetched once, then cached


async def test_another_login_claim_can_name_the_account(provider: Provider) -> None:
    verifier = Verifier(provider.url, ISSUER, AUDIENCE, login_claim="employee_id")
    claims = await verifier.check(provider.token("ignored", employee_id="E10086"))
    assert claims.login == "e10086"
    with pytest.raises(InvalidToken, match="employee_id"):
        await verifier.check(provider.token("wang"))


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"aud": "another-app"}, "not meant for"),
        ({"aud": None}, "no aud"),
        ({"iat": None}, "no iat"),
        ({"exp": None}, "no exp"),
        ({"exp": datetime.now(UTC) - timedelta(hours=1), "iat": datetime.now(UTC) - timedelta(hours=2)}, "expired"),
        ({"iat": datetime.now(UTC) + timedelta(hours=1)}, "not valid yet"),
        ({"preferred_username": None}, "no preferred_username"),
        ({"preferred_username": "wang@example.gov.cn"}, "not a valid login"),
    ],
)
async def test_a_token_missing_a_check_is_refused(provider: Provider, verifier: Verifier, changes, why) -> None:
    with pytest.raises(InvalidToken, match=why):
        await verifier.check(provider.token(**changes))


async def test_a_token_from_another_issuer_is_refused_without_asking_the_provider(
    provider: Provider, verifier: Verifier
) -> None:
    before = provider.requests
    for iss in ("https://sso.example.gov.cn/realms/other", "grassroots"):
        with pytest.raises(InvalidToken, match="not issued by"):
            await verifier.check(provider.token(iss=iss))
    for no_issuer in (provider.token(iss=None), "not.a.token", ""):
        with pytest.raises(InvalidToken, match="token is not valid"):
            await verifier.check(no_issuer)
    assert provider.requests == before


def _forge(provider: Provider, how: str) -> str:
    """A token for `admin` the provider never issued."""
    if how == "HS256 with the public key":  # HMAC with the published key as its secret: the classic confusion
        return _hs256(_claims("admin"), provider.public_pem(), RSA_KID)
    if how == "HS256 with a secret":
        return _hs256(_claims("admin"), b"x" * 32, RSA_KID)
    if how == "unsigned":
        return jwt.encode(_claims("admin"), None, algorithm="none", headers={"kid": RSA_KID})
    if how == "another key":
        return jwt.encode(_claims("admin"), rsa.generate_private_key(65537, 2048), "RS256", headers={"kid": RSA_KID})
    if how == "altered claims":
        header, _, signature = provider.token("wang").split(".")
        payload = _b64(json.dumps(_claims("admin"), default=lambda d: int(d.timestamp())).encode())
        return f"{header}.{payload}.{signature}"
    assert how == "an RSA signature naming the EC key"
    return provider.token("admin", kid=EC_KID)


@pytest.mark.parametrize(
    "how",
    [
        "HS256 with the public key",
        "HS256 with a secret",
        "unsigned",
        "another key",
        "altered claims",
        "an RSA signature naming the EC key",
    ],
)
async def test_a_forged_token_is_refused(provider: Provider, verifier: Verifier, how: str) -> None:
    with pytest.raises(InvalidToken, match=r"not (valid|accepted)"):
        await verifier.check(_forge(provider, how))


async def test_a_token_naming_an_unknown_key_is_refused_and_refetches_rarely(
    provider: Provider, verifier: Verifier
) -> None:
    await verifier.check(provider.token())
    before = provider.requests
    for _ in range(3):
        with pytest.raises(InvalidToken, match="signing key 'rotated-9' is unknown"):
            await verifier.check(provider.token(kid="rotated-9"))
    assert provider.requests == before  # within the cool-down after the first fetch: no refetch at all
    with pytest.raises(InvalidToken, match="names no signing key"):
        await verifier.check(jwt.encode(_claims("wang"), provider.rsa, algorithm="RS256"))


async def test_a_new_key_of_the_provider_is_found(provider: Provider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oidc, "REFETCH_COOLDOWN", 0.0)
    verifier = Verifier(provider.url, ISSUER, AUDIENCE)
    await verifier.check(provider.token())
    new = rsa.generate_private_key(65537, 2048)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(new.public_key(), as_dict=True)
    before, keys = provider.requests, provider.jwks["keys"]
    provider.jwks = {"keys": [*keys, {**jwk, "kid": "rsa-2", "alg": "RS256", "use": "sig"}]}
    try:
        token = jwt.encode(_claims("liu.yang"), new, algorithm="RS256", headers={"kid": "rsa-2"})
        assert (await verifier.check(token)).login == "liu.yang"
        assert provider.requests == before + 1
    finally:
        provider.jwks = {"keys": keys}


async def test_an_unreachable_provider_is_said_so() -> None:
    closed = Verifier(f"http://127.0.0.1:{free_port()}/certs", ISSUER, AUDIENCE)
    token = jwt.encode(_claims("wang"), rsa.generate_private_key(65537, 2048), algorithm="RS256", headers={"kid": "k"})
    with pytest.raises(ProviderUnreachable, match="identity provider is unreachable"):
        await closed.check(token)

    # a provider that takes the connection and never answers: refused after the timeout, not hung
    with socket.create_server(("127.0.0.1", 0)) as silent:
        slow = Verifier(f"http://127.0.0.1:{silent.getsockname()[1]}/certs", ISSUER, AUDIENCE, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(ProviderUnreachable, match="unreachable"):
            await slow.check(token)
        assert time.monotonic() - started < 5


def test_the_issuer_routes_a_token() -> None:
    ours = Signer(bytes(32)).issue("wang", timedelta(hours=1))
    assert issuer_of(ours) == "grassroots"
    assert issuer_of(jwt.encode(_claims("wang"), "k" * 32, algorithm="HS256")) == ISSUER
    assert issuer_of(jwt.encode({"sub": "wang"}, "k" * 32, algorithm="HS256")) is None
    assert issuer_of(_hs256({"iss": 7}, b"k" * 32, "k")) is None
    assert issuer_of("not.a.token") is None
    assert issuer_of("") is None


OIDC = {
    "GRASSROOTS_OIDC_JWKS_URL": "https://sso.example.gov.cn/realms/xiangyang/protocol/openid-connect/certs",
    "GRASSROOTS_OIDC_ISSUER": ISSUER,
    "GRASSROOTS_OIDC_AUDIENCE": AUDIENCE,
}


def test_the_provider_is_configured_by_three_settings_together() -> None:
    assert oidc.from_settings(make_settings()) is None
    assert oidc.from_settings(make_settings(**dict.fromkeys(OIDC, ""))) is None  # empty is unset
    verifier = oidc.from_settings(make_settings(**OIDC))
    assert verifier is not None
    assert (verifier.url, verifier.issuer, verifier.audience, verifier.login_claim) == (
        OIDC["GRASSROOTS_OIDC_JWKS_URL"],
        ISSUER,
        AUDIENCE,
        "preferred_username",
    )
    custom = oidc.from_settings(make_settings(**OIDC, GRASSROOTS_OIDC_LOGIN_CLAIM="employee_id"))
    assert custom is not None
    assert custom.login_claim == "employee_id"
    for name in OIDC:
        partial = {k: v for k, v in OIDC.items() if k != name}
        with pytest.raises(ValidationError, match=f"三项设置须同时设置.*{name}.* / .*go together: {name} missing"):
            make_settings(**partial)
    with pytest.raises(ValidationError, match="must be an https URL"):
        make_settings(**{**OIDC, "GRASSROOTS_OIDC_JWKS_URL": "http://sso.example.gov.cn/certs"})
    with pytest.raises(ValidationError, match="must be an https URL"):
        make_settings(**{**OIDC, "GRASSROOTS_OIDC_JWKS_URL": "file:///etc/passwd"})
    with pytest.raises(ValidationError, match="must name a claim"):
        make_settings(**OIDC, GRASSROOTS_OIDC_LOGIN_CLAIM=" ")
    with pytest.raises(ValueError, match="service's own"):
        oidc.from_settings(make_settings(**{**OIDC, "GRASSROOTS_OIDC_ISSUER": "grassroots"}))


# ---------------------------------------------------------------- through HTTP (the suite's Neo4j)

ME = "{ me { login role scope { code } } }"


@pytest.fixture(scope="module")
async def with_provider(settings: Settings, provider: Provider) -> AsyncIterator[AsyncClient]:
    """A client (no credentials of its own) on an app that accepts the made-up provider's tokens beside its own,
    with the suite's Neo4j, data directory (its signing secret) and admin account."""
    async with (
        own_app(
            settings,
            GRASSROOTS_OIDC_JWKS_URL=provider.url,
            GRASSROOTS_OIDC_ISSUER=ISSUER,
            GRASSROOTS_OIDC_AUDIENCE=AUDIENCE,
        ) as running,
        running.client(None) as http,
    ):
        await ensure_account(running.app.state.graph, SUITE_ADMIN)
        yield http


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_providers_token_signs_in_as_our_account(
    with_provider: AsyncClient, provider: Provider, graph: Graph
) -> None:
    await ensure_account(graph, "oidc.viewer", role="viewer")
    # the token's own claims of role or scope mean nothing: the account's apply
    token = provider.token("OIDC.Viewer", roles=["admin"], scope="420000000000")
    me = await with_provider.post("/graphql", json={"query": ME}, headers=_auth(token))
    assert me.status_code == 200, me.text
    assert me.json()["data"]["me"] == {"login": "oidc.viewer", "role": "viewer", "scope": {"code": "420600000000"}}


async def test_our_own_tokens_keep_working_beside_the_providers(with_provider: AsyncClient, settings: Settings) -> None:
    me = await with_provider.post("/graphql", json={"query": ME}, headers=bearer(settings, SUITE_ADMIN))
    assert me.status_code == 200, me.text
    assert me.json()["data"]["me"]["login"] == SUITE_ADMIN


async def test_a_providers_token_without_an_account_here_is_refused(
    with_provider: AsyncClient, provider: Provider, graph: Graph
) -> None:
    early = provider.token("oidc.late", iat=datetime.now(UTC) - timedelta(minutes=10))
    refused = {
        "no such account": (provider.token("nobody.here"), "does not exist"),
        "another audience": (provider.token("oidc.viewer", aud="another-app"), "not meant for"),
        "another issuer": (provider.token("oidc.viewer", iss="https://evil.example"), "not issued by"),
        "HS256 with the public key": (_forge(provider, "HS256 with the public key"), "not accepted"),
    }
    for what, (token, why) in refused.items():
        answer = await with_provider.post("/graphql", json={"query": ME}, headers=_auth(token))
        assert answer.status_code == 401, what
        error = answer.json()["errors"][0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED", what
        assert why in error["message"], (what, error["message"])
    # issued before the account was made: refused like a token older than a new password
    await ensure_account(graph, "oidc.late", role="viewer")
    late = await with_provider.post("/graphql", json={"query": ME}, headers=_auth(early))
    assert late.status_code == 401
    assert "revoked" in late.json()["errors"][0]["message"]
    fresh = await with_provider.post("/graphql", json={"query": ME}, headers=_auth(provider.token("oidc.late")))
    assert fresh.json()["data"]["me"]["login"] == "oidc.late"


async def test_without_the_settings_a_providers_token_is_refused(anonymous: AsyncClient, provider: Provider) -> None:
    answer = await anonymous.post("/graphql", json={"query": ME}, headers=_auth(provider.token("suite-admin")))
    assert answer.status_code == 401
    assert "not valid" in answer.json()["errors"][0]["message"]


async def test_an_unreachable_provider_is_503_not_401(settings: Settings, provider: Provider) -> None:
    """The caller is not at fault when the provider's keys cannot be fetched: 503, saying so."""
    from server import create_app

    app = create_app(
        make_settings(
            NEO4J_URI=settings.neo4j_uri,
            GRASSROOTS_DATA_DIR=str(settings.data_dir),
            GRASSROOTS_OIDC_JWKS_URL=f"http://127.0.0.1:{free_port()}/certs",
            GRASSROOTS_OIDC_ISSUER=ISSUER,
            GRASSROOTS_OIDC_AUDIENCE=AUDIENCE,
        )
    )
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http,
    ):
        answer = await http.post("/graphql", json={"query": ME}, headers=_auth(provider.token("oidc.viewer")))
    assert answer.status_code == 503
    error = answer.json()["errors"][0]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "unreachable" in error["message"]
