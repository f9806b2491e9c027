"""Real auth mode against a real HTTP(S) OIDC provider on 127.0.0.1; no part of PyJWT is mocked."""

import base64
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from app.auth import (
    DISCOVERY_TTL_SECONDS,
    JWKS_MIN_REFRESH_SECONDS,
    JWKS_TTL_SECONDS,
    InvalidTokenError,
    OIDCTokenValidator,
)
from app.tests.helpers import bearer, token_claims
from app.tests.oidc_provider import DISCOVERY_PATH, JWKS_PATH, OIDCProvider, SigningKey, make_tls_files


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey.generate("realm-key-1")


@pytest.fixture(scope="session")
def impostor_key() -> SigningKey:
    """A key the provider never published, claiming the provider's key id."""
    return SigningKey.generate("realm-key-1")


@pytest.fixture
def provider(signing_key: SigningKey, impostor_key: SigningKey) -> Iterator[OIDCProvider]:
    jwks = [
        signing_key.public_jwk(),
        # Like Keycloak, the JWKS also lists an encryption key, which must never verify a token,
        impostor_key.public_jwk(kid="realm-enc-key", use="enc", alg="RSA-OAEP"),
        # and a future provider may publish key types PyJWT does not know.
        {"kid": "realm-pq-key", "kty": "AKP", "alg": "ML-DSA-65", "use": "sig", "pub": "AAAA"},
    ]
    with OIDCProvider(jwks) as running:
        yield running


@pytest.fixture
def client(environment, make_client, provider: OIDCProvider) -> TestClient:
    environment.setenv("DISABLE_AUTH", "false")
    environment.setenv("OIDC_CONFIGURATION_URL", provider.configuration_url)
    return make_client()


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_valid_token_is_accepted(client: TestClient, signing_key: SigningKey) -> None:
    response = client.get("/me", headers=bearer(signing_key.sign(token_claims())))

    assert response.status_code == 200
    assert response.json() == {"preferred_username": "alice", "groups": ["/virtual-lab-a"]}


def test_wrong_audience_is_refused(client: TestClient, signing_key: SigningKey) -> None:
    response = client.get("/me", headers=bearer(signing_key.sign(token_claims(aud="another-client"))))

    assert response.status_code == 401


def test_expired_token_is_refused(client: TestClient, signing_key: SigningKey) -> None:
    expired = token_claims(iat=int(time.time()) - 600, exp=int(time.time()) - 120)

    response = client.get("/me", headers=bearer(signing_key.sign(expired)))

    assert response.status_code == 401


def test_token_signed_by_another_key_is_refused(client: TestClient, impostor_key: SigningKey) -> None:
    response = client.get("/me", headers=bearer(impostor_key.sign(token_claims())))

    assert response.status_code == 401


def test_unknown_key_id_is_refused(client: TestClient, signing_key: SigningKey) -> None:
    response = client.get("/me", headers=bearer(signing_key.sign(token_claims(), key_id="not-published")))

    assert response.status_code == 401


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param(jwt.encode(token_claims(), None, algorithm="none", headers={"kid": "realm-key-1"}), id="unsigned"),
    ],
)
def test_malformed_or_unsigned_token_is_refused(client: TestClient, provider: OIDCProvider, token: str) -> None:
    response = client.get("/me", headers=bearer(token))

    assert response.status_code == 401
    assert provider.requests.total() == 0, "refused before any key was needed"


def test_token_without_key_id_is_refused(client: TestClient, signing_key: SigningKey) -> None:
    token = jwt.encode(token_claims(), signing_key.private_key, algorithm="RS256")

    response = client.get("/me", headers=bearer(token))

    assert response.status_code == 401


def test_encryption_key_cannot_verify_tokens(client: TestClient, impostor_key: SigningKey) -> None:
    response = client.get("/me", headers=bearer(impostor_key.sign(token_claims(), key_id="realm-enc-key")))

    assert response.status_code == 401


def test_fake_tokens_are_refused_in_real_mode(client: TestClient, make_fake_token) -> None:
    response = client.get("/me", headers=bearer(make_fake_token()))

    assert response.status_code == 401


def test_hmac_token_keyed_with_the_public_key_is_refused(client: TestClient, signing_key: SigningKey) -> None:
    # The classic algorithm-confusion forgery: HS256 with the published public key as
    # secret. Built by hand because PyJWT itself refuses to sign it.
    public_pem = signing_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _base64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": signing_key.key_id}).encode())
    payload = _base64url(json.dumps(token_claims(preferred_username="mallory")).encode())
    signature = _base64url(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    forged = f"{header}.{payload}.{signature}"

    response = client.get("/me", headers=bearer(forged))

    assert response.status_code == 401


def test_discovery_and_keys_are_cached(client: TestClient, provider: OIDCProvider, signing_key: SigningKey) -> None:
    for _ in range(2):
        assert client.get("/me", headers=bearer(signing_key.sign(token_claims()))).status_code == 200

    assert provider.requests == {DISCOVERY_PATH: 1, JWKS_PATH: 1}


def test_caches_expire(provider: OIDCProvider, signing_key: SigningKey) -> None:
    clock = FakeClock()
    validator = OIDCTokenValidator(provider.configuration_url, clock=clock)
    token = signing_key.sign(token_claims())

    validator.validate(token)
    clock.now += JWKS_TTL_SECONDS
    validator.validate(token)
    assert provider.requests == {DISCOVERY_PATH: 1, JWKS_PATH: 2}

    clock.now += DISCOVERY_TTL_SECONDS
    validator.validate(token)
    assert provider.requests == {DISCOVERY_PATH: 2, JWKS_PATH: 3}


def test_rotated_key_is_fetched_at_most_once_a_minute(provider: OIDCProvider, signing_key: SigningKey) -> None:
    clock = FakeClock()
    validator = OIDCTokenValidator(provider.configuration_url, clock=clock)
    validator.validate(signing_key.sign(token_claims()))
    rotated = SigningKey.generate("realm-key-2")
    provider.jwks = [rotated.public_jwk()]
    token = rotated.sign(token_claims())

    # Too soon after the last fetch: refused without asking the provider again.
    with pytest.raises(InvalidTokenError, match="no signing key"):
        validator.validate(token)
    assert provider.requests[JWKS_PATH] == 1

    clock.now += JWKS_MIN_REFRESH_SECONDS
    assert validator.validate(token)["preferred_username"] == "alice"
    assert provider.requests[JWKS_PATH] == 2


def test_unreachable_provider_gives_503(environment, make_client, signing_key: SigningKey) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    environment.setenv("DISABLE_AUTH", "false")
    environment.setenv("OIDC_CONFIGURATION_URL", f"http://127.0.0.1:{port}{DISCOVERY_PATH}")

    response = make_client().get("/me", headers=bearer(signing_key.sign(token_claims())))

    assert response.status_code == 503


class TestTLS:
    """The provider over HTTPS with a certificate from a private CA."""

    @pytest.fixture
    def tls_provider(self, tmp_path: Path, signing_key: SigningKey) -> Iterator[tuple[OIDCProvider, Path]]:
        ca_file, server_context = make_tls_files(tmp_path)
        with OIDCProvider([signing_key.public_jwk()], tls=server_context) as running:
            yield running, ca_file

    @pytest.fixture
    def request_me(self, environment, make_client, tls_provider, signing_key: SigningKey):
        provider, _ = tls_provider
        environment.setenv("DISABLE_AUTH", "false")
        environment.setenv("OIDC_CONFIGURATION_URL", provider.configuration_url)

        def request() -> int:
            return make_client().get("/me", headers=bearer(signing_key.sign(token_claims()))).status_code

        return request

    def test_untrusted_certificate_is_refused(self, request_me, tls_provider) -> None:
        provider, _ = tls_provider

        assert request_me() == 503
        assert JWKS_PATH not in provider.requests

    def test_certificate_from_a_ca_named_by_ssl_cert_file_is_trusted(self, environment, request_me, tls_provider):
        _, ca_file = tls_provider
        environment.setenv("SSL_CERT_FILE", str(ca_file))

        assert request_me() == 200

    def test_verify_ssl_false_skips_the_check(self, environment, request_me) -> None:
        environment.setenv("VERIFY_SSL", "false")

        assert request_me() == 200
