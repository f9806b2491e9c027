"""Real auth mode against a real HTTP(S) OIDC provider on 127.0.0.1; no part of PyJWT is mocked."""

import base64
import hashlib
import hmac
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from app.auth import InvalidTokenError, OIDCTokenValidator
from app.oidc import DISCOVERY_TTL_SECONDS, JWKS_MIN_REFRESH_SECONDS, JWKS_TTL_SECONDS
from app.tests.helpers import FakeClock, bearer, token_claims
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


@pytest.fixture
def claims(provider: OIDCProvider) -> Callable[..., dict[str, Any]]:
    """Keycloak-like claims issued by the test provider, with overrides."""
    return lambda **overrides: token_claims(**{"iss": provider.issuer, **overrides})


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_valid_token_is_accepted(client: TestClient, signing_key: SigningKey, claims) -> None:
    response = client.get("/probe/claims", headers=bearer(signing_key.sign(claims())))

    assert response.status_code == 200
    assert response.json()["preferred_username"] == "alice"
    assert response.json()["groups"] == ["/virtual-lab-a"]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"aud": "another-client"}, id="wrong-audience"),
        pytest.param({"iss": "https://elsewhere.example/realms/test"}, id="foreign-issuer"),
        pytest.param({"iss": None}, id="no-issuer"),
    ],
)
def test_wrong_audience_or_issuer_is_refused(client: TestClient, signing_key: SigningKey, claims, overrides) -> None:
    response = client.get("/probe/claims", headers=bearer(signing_key.sign(claims(**overrides))))

    assert response.status_code == 401


def test_expired_token_is_refused(client: TestClient, signing_key: SigningKey, claims) -> None:
    expired = claims(iat=int(time.time()) - 600, exp=int(time.time()) - 120)

    response = client.get("/probe/claims", headers=bearer(signing_key.sign(expired)))

    assert response.status_code == 401


def test_token_signed_by_another_key_is_refused(client: TestClient, impostor_key: SigningKey, claims) -> None:
    response = client.get("/probe/claims", headers=bearer(impostor_key.sign(claims())))

    assert response.status_code == 401


def test_unknown_key_id_is_refused(client: TestClient, signing_key: SigningKey, claims) -> None:
    response = client.get("/probe/claims", headers=bearer(signing_key.sign(claims(), key_id="not-published")))

    assert response.status_code == 401


class TestClientCheck:
    """OIDC_CLIENT_ID set: only tokens issued to that client (`azp`) are accepted."""

    @pytest.fixture
    def client(self, environment, make_client, provider: OIDCProvider) -> TestClient:
        environment.setenv("DISABLE_AUTH", "false")
        environment.setenv("OIDC_CONFIGURATION_URL", provider.configuration_url)
        environment.setenv("OIDC_CLIENT_ID", "naavre-workflow")
        return make_client()

    def test_token_for_the_client_is_accepted(self, client: TestClient, signing_key: SigningKey, claims) -> None:
        response = client.get("/probe/claims", headers=bearer(signing_key.sign(claims(azp="naavre-workflow"))))

        assert response.status_code == 200

    @pytest.mark.parametrize("azp", ["another-client", None], ids=["another-client", "no-azp"])
    def test_token_for_another_client_is_refused(self, client: TestClient, signing_key: SigningKey, claims, azp):
        response = client.get("/probe/claims", headers=bearer(signing_key.sign(claims(azp=azp))))

        assert response.status_code == 401


def test_without_client_id_any_client_is_accepted(client: TestClient, signing_key: SigningKey, claims) -> None:
    response = client.get("/probe/claims", headers=bearer(signing_key.sign(claims(azp="another-client"))))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param(jwt.encode(token_claims(), None, algorithm="none", headers={"kid": "realm-key-1"}), id="unsigned"),
    ],
)
def test_malformed_or_unsigned_token_is_refused(client: TestClient, provider: OIDCProvider, token: str) -> None:
    response = client.get("/probe/claims", headers=bearer(token))

    assert response.status_code == 401
    assert provider.requests.total() == 0, "refused before any key was needed"


def test_token_without_key_id_is_refused(client: TestClient, signing_key: SigningKey, claims) -> None:
    token = jwt.encode(claims(), signing_key.private_key, algorithm="RS256")

    response = client.get("/probe/claims", headers=bearer(token))

    assert response.status_code == 401


def test_encryption_key_cannot_verify_tokens(client: TestClient, impostor_key: SigningKey, claims) -> None:
    response = client.get("/probe/claims", headers=bearer(impostor_key.sign(claims(), key_id="realm-enc-key")))

    assert response.status_code == 401


def test_fake_tokens_are_refused_in_real_mode(client: TestClient, make_fake_token) -> None:
    response = client.get("/probe/claims", headers=bearer(make_fake_token()))

    assert response.status_code == 401


def test_hmac_token_keyed_with_the_public_key_is_refused(client: TestClient, signing_key: SigningKey, claims) -> None:
    # The classic algorithm-confusion forgery: HS256 with the published public key as
    # secret. Built by hand because PyJWT itself refuses to sign it.
    public_pem = signing_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _base64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": signing_key.key_id}).encode())
    payload = _base64url(json.dumps(claims(preferred_username="mallory")).encode())
    signature = _base64url(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    forged = f"{header}.{payload}.{signature}"

    response = client.get("/probe/claims", headers=bearer(forged))

    assert response.status_code == 401


def test_discovery_and_keys_are_cached(client: TestClient, provider: OIDCProvider, signing_key: SigningKey, claims):
    for _ in range(2):
        assert client.get("/probe/claims", headers=bearer(signing_key.sign(claims()))).status_code == 200

    assert provider.requests == {DISCOVERY_PATH: 1, JWKS_PATH: 1}


def test_caches_expire(provider: OIDCProvider, signing_key: SigningKey, claims) -> None:
    clock = FakeClock()
    validator = OIDCTokenValidator(provider.configuration_url, clock=clock)
    token = signing_key.sign(claims())

    validator.validate(token)
    clock.now += JWKS_TTL_SECONDS
    validator.validate(token)  # answered from the cache; the refresh runs in the background
    validator.provider.wait_for_fetch()
    assert provider.requests == {DISCOVERY_PATH: 1, JWKS_PATH: 2}

    clock.now += DISCOVERY_TTL_SECONDS
    validator.validate(token)
    validator.provider.wait_for_fetch()
    assert provider.requests == {DISCOVERY_PATH: 2, JWKS_PATH: 3}


def test_rotated_key_is_fetched_at_most_once_a_minute(provider: OIDCProvider, signing_key: SigningKey, claims) -> None:
    clock = FakeClock()
    validator = OIDCTokenValidator(provider.configuration_url, clock=clock)
    validator.validate(signing_key.sign(claims()))
    rotated = SigningKey.generate("realm-key-2")
    provider.jwks = [rotated.public_jwk()]
    token = rotated.sign(claims())

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

    response = make_client().get("/probe/claims", headers=bearer(signing_key.sign(token_claims())))

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
            token = signing_key.sign(token_claims(iss=provider.issuer))
            return make_client().get("/probe/claims", headers=bearer(token)).status_code

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

    def test_verify_ssl_false_warns_at_startup(self, environment, make_client, tls_provider, caplog) -> None:
        provider, _ = tls_provider
        environment.setenv("DISABLE_AUTH", "false")
        environment.setenv("OIDC_CONFIGURATION_URL", provider.configuration_url)
        environment.setenv("VERIFY_SSL", "false")

        make_client()

        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "VERIFY_SSL=false" in r.message]
        assert len(warnings) == 1
        assert provider.configuration_url in warnings[0].message
        assert provider.requests.total() == 0, "the warning comes at startup, before any token is checked"

    def test_verified_connection_does_not_warn(self, environment, make_client, tls_provider, caplog) -> None:
        provider, _ = tls_provider
        environment.setenv("DISABLE_AUTH", "false")
        environment.setenv("OIDC_CONFIGURATION_URL", provider.configuration_url)

        make_client()

        assert "VERIFY_SSL" not in caplog.text
