"""Settings from the environment: strict switches, a safe auth combination, the trusted proxies."""

import pytest
from pydantic import ValidationError

from app.settings import DEFAULT_FORWARDED_ALLOW_IPS, Settings, get_settings

SWITCHES = ["DEBUG", "VERIFY_SSL", "DISABLE_AUTH"]


@pytest.mark.parametrize("name", SWITCHES)
@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False), ("TRUE", True), (" False ", False)])
def test_switches_accept_true_and_false(environment, name: str, value: str, expected: bool) -> None:
    environment.setenv(name, value)

    assert getattr(get_settings(), name.lower()) is expected


@pytest.mark.parametrize("name", SWITCHES)
@pytest.mark.parametrize("value", ["1", "yes", "on", "y", "t", "0", "no", "off", "", "enabled"])
def test_switches_refuse_anything_else(environment, name: str, value: str) -> None:
    environment.setenv(name, value)

    with pytest.raises(ValidationError, match=f"{name} must be 'true' or 'false' \\(got {value!r}\\)"):
        get_settings()


def test_defaults(environment) -> None:
    for name in ("DEBUG", "VERIFY_SSL", "DISABLE_AUTH", "FORWARDED_ALLOW_IPS", "OIDC_CLIENT_ID"):
        environment.delenv(name)

    settings = get_settings()

    assert (settings.debug, settings.verify_ssl, settings.disable_auth) == (False, True, False)
    assert settings.forwarded_allow_ips == DEFAULT_FORWARDED_ALLOW_IPS == "127.0.0.1,::1"
    assert settings.oidc_client_id == ""


def test_fake_auth_with_a_provider_is_refused(environment) -> None:
    environment.setenv("DISABLE_AUTH", "true")
    environment.setenv("OIDC_CONFIGURATION_URL", "https://kc.example/realms/vre/.well-known/openid-configuration")

    with pytest.raises(ValidationError, match="DISABLE_AUTH=true and OIDC_CONFIGURATION_URL are both set"):
        get_settings()


def test_fake_auth_with_a_provider_stops_the_service_at_startup(environment, make_client) -> None:
    environment.setenv("OIDC_CONFIGURATION_URL", "https://kc.example/realms/vre/.well-known/openid-configuration")

    with pytest.raises(ValidationError, match="both set"):
        make_client()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("*", ["*"]),
        (" * ", ["*"]),
        ("10.0.0.7", ["10.0.0.7"]),
        ("127.0.0.1, 10.0.0.0/8 ,::1", ["127.0.0.1", "10.0.0.0/8", "::1"]),
        ("fd00::/8", ["fd00::/8"]),
    ],
)
def test_forwarded_allow_ips(value: str, expected: list[str]) -> None:
    assert Settings(forwarded_allow_ips=value).trusted_proxies == expected


@pytest.mark.parametrize("value", ["", "10.0.0.300", "ingress-nginx", "*,10.0.0.1", "10.0.0.1,"])
def test_forwarded_allow_ips_refuses_what_is_not_an_address(value: str) -> None:
    with pytest.raises(ValidationError, match="FORWARDED_ALLOW_IPS must be"):
        Settings(forwarded_allow_ips=value)
