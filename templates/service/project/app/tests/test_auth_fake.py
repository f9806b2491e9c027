"""Fake auth mode (DISABLE_AUTH=true): the same checks as real mode, with an HS256 shared secret."""

import logging
import time
import warnings

import jwt
import pytest
from fastapi.testclient import TestClient

from app.auth import FAKE_KEY, AuthConfigurationError
from app.tests.helpers import bearer, token_claims


def test_fake_token_gives_its_claims(client: TestClient, fake_token: str) -> None:
    response = client.get("/probe/claims", headers=bearer(fake_token))

    assert response.status_code == 200
    assert response.json() == jwt.decode(fake_token, options={"verify_signature": False})
    assert response.json()["preferred_username"] == "alice"


def test_tokens_signed_with_the_plain_fake_secret_are_accepted(client: TestClient) -> None:
    # What the other NaaVRE services and their token scripts sign with. PyJWT warns
    # here, while signing with the 11-byte secret, not later in the service.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        token = jwt.encode(token_claims(), "fake-secret", algorithm="HS256")

    response = client.get("/probe/claims", headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["preferred_username"] == "alice"


def test_fake_token_request_emits_no_warning(client: TestClient, fake_token: str) -> None:
    # PyJWT warns about HMAC keys shorter than 32 bytes; the service would log it on every request.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = client.get("/probe/claims", headers=bearer(fake_token))

    assert response.status_code == 200
    assert [str(w.message) for w in caught if w.category.__module__.startswith("jwt")] == []


def test_no_token_is_refused(client: TestClient) -> None:
    response = client.get("/probe/claims")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_other_authorization_scheme_is_refused(client: TestClient) -> None:
    response = client.get("/probe/claims", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})

    assert response.status_code == 401


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param(jwt.encode(token_claims(), "another-secret-" + "x" * 32, algorithm="HS256"), id="wrong-secret"),
        pytest.param(jwt.encode(token_claims(), None, algorithm="none"), id="unsigned"),
        pytest.param(jwt.encode(token_claims(exp=int(time.time()) - 120), FAKE_KEY), id="expired"),
        pytest.param(jwt.encode(token_claims(aud="another-client"), FAKE_KEY), id="wrong-audience"),
        pytest.param(jwt.encode(token_claims(aud=None), FAKE_KEY), id="no-audience"),
        pytest.param(jwt.encode(token_claims(exp=None), FAKE_KEY), id="no-expiry"),
    ],
)
def test_bad_token_is_refused(client: TestClient, token: str) -> None:
    response = client.get("/probe/claims", headers=bearer(token))

    assert response.status_code == 401
    assert response.json() == {"detail": "invalid token"}


def test_refused_token_is_not_logged(client: TestClient, make_fake_token, caplog: pytest.LogCaptureFixture) -> None:
    token = make_fake_token(aud="another-client")
    caplog.set_level(logging.DEBUG)

    response = client.get("/probe/claims", headers=bearer(token))

    assert response.status_code == 401
    assert "refused a token" in caplog.text
    assert token not in caplog.text
    assert token.rsplit(".", 1)[1] not in caplog.text


def test_real_mode_without_provider_url_fails_at_startup(environment, make_client) -> None:
    environment.setenv("DISABLE_AUTH", "false")

    with pytest.raises(AuthConfigurationError, match="OIDC_CONFIGURATION_URL must be set"):
        make_client()


def test_startup_warns_about_fake_mode(make_client, caplog: pytest.LogCaptureFixture) -> None:
    make_client()

    assert "DISABLE_AUTH=true: accepting fake tokens" in caplog.text


class TestClientCheck:
    """OIDC_CLIENT_ID: fake tokens go through the same client check as real ones."""

    @pytest.fixture
    def client(self, environment, make_client) -> TestClient:
        environment.setenv("OIDC_CLIENT_ID", "naavre-workflow")
        return make_client()

    def test_token_for_the_client_is_accepted(self, client: TestClient, make_fake_token) -> None:
        response = client.get("/probe/claims", headers=bearer(make_fake_token(azp="naavre-workflow")))

        assert response.status_code == 200
        assert response.json()["azp"] == "naavre-workflow"

    @pytest.mark.parametrize("azp", ["another-client", None], ids=["another-client", "no-azp"])
    def test_token_for_another_client_is_refused(self, client: TestClient, make_fake_token, azp) -> None:
        response = client.get("/probe/claims", headers=bearer(make_fake_token(azp=azp)))

        assert response.status_code == 401
