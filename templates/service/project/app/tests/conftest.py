"""Shared fixtures: a clean environment per test, app clients and fake tokens."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from app import auth, config, settings
from app.application import create_app
from app.tests import probe
from app.tests.helpers import token_claims

# Every variable the service reads, set explicitly so that the developer's own
# environment cannot change the outcome. Fake auth mode unless a test says otherwise.
ENV_DEFAULTS = {
    "ROOT_PATH": "",
    "DEBUG": "false",
    "OIDC_CONFIGURATION_URL": "",
    "OIDC_CLIENT_ID": "",
    "VERIFY_SSL": "true",
    "DISABLE_AUTH": "true",
    "CONFIG_FILE_URL": "",
    "FORWARDED_ALLOW_IPS": settings.DEFAULT_FORWARDED_ALLOW_IPS,
}


def clear_caches() -> None:
    settings.get_settings.cache_clear()
    config.load_config.cache_clear()
    auth.oidc_validator.cache_clear()


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set the defaults; tests change variables with the returned monkeypatch."""
    for name, value in ENV_DEFAULTS.items():
        monkeypatch.setenv(name, value)
    # The tests' OIDC provider listens on 127.0.0.1: keep a developer's proxy
    # settings and CA bundle out of its way.
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    clear_caches()
    yield monkeypatch
    clear_caches()


@pytest.fixture
def make_client() -> Iterator[Callable[..., TestClient]]:
    """Build the template's app (with the test routes) from the environment as it is now, and start it.

    Keyword arguments go to TestClient, e.g. client=("10.0.0.7", 50000) for the caller's address.
    """
    with ExitStack() as stack:
        yield lambda **options: stack.enter_context(
            TestClient(create_app(title="test", routers=[probe.router]), **options)
        )


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def make_fake_token() -> Callable[..., str]:
    """Tokens for fake auth mode (DISABLE_AUTH=true), with claims overridable."""

    def make(**overrides: Any) -> str:
        return jwt.encode(token_claims(**overrides), auth.FAKE_KEY, algorithm=auth.FAKE_ALGORITHM)

    return make


@pytest.fixture
def fake_token(make_fake_token: Callable[..., str]) -> str:
    return make_fake_token()
