"""Provider answers that make tokens uncheckable give 503, never a 401 or a crash (HTTP mocked with respx)."""

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from app.tests.helpers import bearer, token_claims
from app.tests.oidc_provider import SigningKey

CONFIGURATION_URL = "https://keycloak.test/realms/vre/.well-known/openid-configuration"
JWKS_URL = "https://keycloak.test/realms/vre/protocol/openid-connect/certs"
DISCOVERY = {"issuer": "https://keycloak.test/realms/vre", "jwks_uri": JWKS_URL}


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    return SigningKey.generate("realm-key-1")


@pytest.fixture
def provider() -> respx.MockRouter:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def client(environment, make_client) -> TestClient:
    environment.setenv("DISABLE_AUTH", "false")
    environment.setenv("OIDC_CONFIGURATION_URL", CONFIGURATION_URL)
    return make_client()


@pytest.mark.parametrize(
    ("discovery", "jwks"),
    [
        pytest.param(httpx.Response(500), None, id="discovery-server-error"),
        pytest.param(httpx.Response(200, text="<html>login</html>"), None, id="discovery-not-json"),
        pytest.param(httpx.Response(200, json=[DISCOVERY]), None, id="discovery-not-an-object"),
        pytest.param(httpx.Response(200, json={"issuer": DISCOVERY["issuer"]}), None, id="discovery-without-jwks-uri"),
        pytest.param(httpx.Response(200, json={"jwks_uri": JWKS_URL}), None, id="discovery-without-issuer"),
        pytest.param(httpx.Response(200, json=DISCOVERY), httpx.Response(404), id="jwks-not-found"),
        pytest.param(httpx.Response(200, json=DISCOVERY), httpx.Response(200, json={"keys": {}}), id="keys-not-a-list"),
        pytest.param(
            httpx.Response(200, json=DISCOVERY),
            httpx.Response(200, json={"keys": [{"kid": "k", "kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}]}),
            id="only-symmetric-keys",
        ),
    ],
)
def test_unusable_provider_answer_gives_503(
    client: TestClient,
    provider: respx.MockRouter,
    signing_key: SigningKey,
    discovery: httpx.Response,
    jwks: httpx.Response | None,
) -> None:
    provider.get(CONFIGURATION_URL).mock(return_value=discovery)
    provider.get(JWKS_URL).mock(return_value=jwks or httpx.Response(200, json={"keys": [signing_key.public_jwk()]}))

    response = client.get("/probe/claims", headers=bearer(signing_key.sign(token_claims(iss=DISCOVERY["issuer"]))))

    assert response.status_code == 503
    assert response.json() == {"detail": "the authentication provider is unavailable"}


def test_provider_timeout_gives_503(client: TestClient, provider: respx.MockRouter, signing_key: SigningKey) -> None:
    provider.get(CONFIGURATION_URL).mock(side_effect=httpx.ConnectTimeout("timed out"))

    response = client.get("/probe/claims", headers=bearer(signing_key.sign(token_claims(iss=DISCOVERY["issuer"]))))

    assert response.status_code == 503


def test_a_failed_fetch_is_retried_on_the_next_request(
    client: TestClient, provider: respx.MockRouter, signing_key: SigningKey
) -> None:
    discovery = provider.get(CONFIGURATION_URL)
    discovery.side_effect = [httpx.Response(502), httpx.Response(200, json=DISCOVERY)]
    provider.get(JWKS_URL).mock(return_value=httpx.Response(200, json={"keys": [signing_key.public_jwk()]}))
    token = signing_key.sign(token_claims(iss=DISCOVERY["issuer"]))

    assert client.get("/probe/claims", headers=bearer(token)).status_code == 503
    assert client.get("/probe/claims", headers=bearer(token)).status_code == 200
    assert discovery.call_count == 2
