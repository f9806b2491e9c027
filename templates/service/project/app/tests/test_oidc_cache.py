"""The provider's keys through outages and slow fetches, against the real HTTP test provider.

A fake clock moves the cache through its lifetimes; the provider is really
stopped, really failing (503), or really slow (its JWKS answer held back).
"""

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import oidc
from app.auth import InvalidTokenError, OIDCTokenValidator, ProviderError, get_token_validator
from app.oidc import JWKS_MIN_REFRESH_SECONDS, JWKS_TTL_SECONDS, MAX_STALE_SECONDS
from app.tests.helpers import FakeClock, bearer, token_claims
from app.tests.oidc_provider import DISCOVERY_PATH, JWKS_PATH, OIDCProvider, SigningKey


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    return SigningKey.generate("realm-key-1")


@pytest.fixture
def provider(signing_key: SigningKey) -> Iterator[OIDCProvider]:
    with OIDCProvider([signing_key.public_jwk()]) as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def validator(provider: OIDCProvider, clock: FakeClock) -> Iterator[OIDCTokenValidator]:
    validator = OIDCTokenValidator(provider.configuration_url, clock=clock)
    yield validator
    provider.release.set()
    validator.provider.wait_for_fetch()


@pytest.fixture
def token(provider: OIDCProvider, signing_key: SigningKey) -> str:
    return signing_key.sign(token_claims(iss=provider.issuer))


@pytest.fixture
def made_up_kid_token(provider: OIDCProvider, signing_key: SigningKey) -> str:
    return signing_key.sign(token_claims(iss=provider.issuer), key_id="made-up")


def in_background(check: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run `check` in a thread; the list gets its result or its exception."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(check())
        except Exception as error:
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def take_provider_down(provider: OIDCProvider, how: str) -> None:
    if how == "stopped":
        provider.stop()
    else:
        provider.failing = True


@pytest.mark.parametrize("how", ["stopped", "failing"])
def test_cached_keys_outlive_a_provider_outage(
    provider: OIDCProvider, validator: OIDCTokenValidator, clock: FakeClock, token: str, how: str, caplog
) -> None:
    validator.validate(token)
    take_provider_down(provider, how)
    clock.now += JWKS_TTL_SECONDS

    assert validator.validate(token)["preferred_username"] == "alice"
    validator.provider.wait_for_fetch()
    assert "cannot refresh the signing keys" in caplog.text

    clock.now += MAX_STALE_SECONDS - JWKS_TTL_SECONDS - 1
    assert validator.validate(token)["preferred_username"] == "alice", "still within the staleness bound"


@pytest.mark.parametrize("how", ["stopped", "failing"])
def test_keys_older_than_the_staleness_bound_are_not_used(
    provider: OIDCProvider, validator: OIDCTokenValidator, clock: FakeClock, token: str, how: str
) -> None:
    validator.validate(token)
    take_provider_down(provider, how)
    clock.now += MAX_STALE_SECONDS

    with pytest.raises(ProviderError):
        validator.validate(token)


def test_a_failed_refresh_is_retried_after_a_pause(
    provider: OIDCProvider, validator: OIDCTokenValidator, clock: FakeClock, token: str
) -> None:
    validator.validate(token)
    provider.failing = True
    clock.now += JWKS_TTL_SECONDS
    validator.validate(token)
    validator.provider.wait_for_fetch()
    assert provider.requests[JWKS_PATH] == 2

    clock.now += JWKS_MIN_REFRESH_SECONDS - 1
    validator.validate(token)
    assert provider.requests[JWKS_PATH] == 2, "no new attempt within the pause"

    provider.failing = False
    clock.now += 1
    validator.validate(token)
    validator.provider.wait_for_fetch()
    assert provider.requests[JWKS_PATH] == 3

    # The refresh succeeded: the keys are fresh again and the provider is left alone.
    clock.now += JWKS_TTL_SECONDS - 1
    validator.validate(token)
    validator.provider.wait_for_fetch()
    assert provider.requests == {DISCOVERY_PATH: 1, JWKS_PATH: 3}


def test_service_answers_200_during_an_outage_and_503_past_the_bound(
    environment, make_client, provider: OIDCProvider, clock: FakeClock, token: str
) -> None:
    environment.setenv("DISABLE_AUTH", "false")
    environment.setenv("OIDC_CONFIGURATION_URL", provider.configuration_url)
    client: TestClient = make_client()
    validator = OIDCTokenValidator(provider.configuration_url, clock=clock)
    client.app.dependency_overrides[get_token_validator] = lambda: validator

    assert client.get("/probe/claims", headers=bearer(token)).status_code == 200
    provider.stop()
    clock.now += JWKS_TTL_SECONDS
    assert client.get("/probe/claims", headers=bearer(token)).status_code == 200
    validator.provider.wait_for_fetch()

    clock.now += MAX_STALE_SECONDS
    response = client.get("/probe/claims", headers=bearer(token))
    assert response.status_code == 503


@pytest.mark.parametrize("trigger", ["made-up-kid", "expired-cache"])
def test_a_slow_fetch_does_not_hold_up_tokens_whose_key_is_cached(
    provider: OIDCProvider, validator: OIDCTokenValidator, clock: FakeClock, token: str, made_up_kid_token: str, trigger
) -> None:
    validator.validate(token)
    clock.now += JWKS_MIN_REFRESH_SECONDS if trigger == "made-up-kid" else JWKS_TTL_SECONDS
    provider.release.clear()  # the provider's JWKS answers wait until the test releases them

    if trigger == "expired-cache":
        # Starts the refresh, and is answered from the cache without waiting for it.
        assert validator.validate(token)["preferred_username"] == "alice"
    # Several made-up key ids at once: one fetch in all, they wait for it.
    attackers = [in_background(lambda: validator.validate(made_up_kid_token)) for _ in range(3)]
    assert provider.holding.wait(10), "a refresh should have reached the provider"

    # While the provider holds its answer, tokens with a cached key are checked at once.
    checker, checked = in_background(lambda: [validator.validate(token) for _ in range(3)])
    checker.join(5)
    assert not checker.is_alive(), "a token whose key is cached waited for the fetch"
    assert [claims["preferred_username"] for claims in checked[0]] == ["alice"] * 3
    assert all(thread.is_alive() for thread, _ in attackers), "made-up key ids wait for the fetch"

    provider.release.set()
    for thread, outcome in attackers:
        thread.join(10)
        assert len(outcome) == 1 and isinstance(outcome[0], InvalidTokenError)
    assert provider.requests[JWKS_PATH] == 2, "one fetch at a time"


def test_requests_without_keys_wait_for_one_fetch(
    provider: OIDCProvider, validator: OIDCTokenValidator, token: str
) -> None:
    provider.release.clear()

    waiting = [in_background(lambda: validator.validate(token)) for _ in range(3)]
    assert provider.holding.wait(10)
    assert all(thread.is_alive() for thread, _ in waiting), "no keys yet: the requests wait"

    provider.release.set()
    for thread, outcome in waiting:
        thread.join(10)
        assert len(outcome) == 1 and outcome[0]["preferred_username"] == "alice"
    assert provider.requests == {DISCOVERY_PATH: 1, JWKS_PATH: 1}


def test_a_fetch_that_takes_too_long_gives_provider_error(
    provider: OIDCProvider, validator: OIDCTokenValidator, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(oidc, "FETCH_WAIT_SECONDS", 0.2)
    provider.release.clear()

    with pytest.raises(ProviderError, match="no answer within"):
        validator.validate(token)


def test_an_unexpected_fetch_error_is_a_provider_error(
    validator: OIDCTokenValidator, token: str, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    def broken(now: float) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(validator.provider, "_download", broken)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ProviderError, match="a bug"):
        validator.validate(token)
