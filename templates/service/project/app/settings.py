"""Settings read from environment variables.

Only the environment is read here, so building `Settings` never touches a file
or the network; the optional JSON configuration file is loaded separately
(see `app.config`). A bad value stops the service at start-up with a message
that names the variable, instead of failing requests later.
"""

import ipaddress
from functools import lru_cache

from pydantic import ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings

# Uvicorn's own default: trust X-Forwarded-* only from the local host.
DEFAULT_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"


class Settings(BaseSettings):
    """Environment variables of the service (names are case-insensitive)."""

    root_path: str = ""
    """Path prefix the service is published under, e.g. /naavre-x-service."""

    debug: bool = False
    """Log at DEBUG level instead of INFO."""

    oidc_configuration_url: str = ""
    """OpenID Connect discovery document, e.g. https://kc/realms/vre/.well-known/openid-configuration."""

    oidc_client_id: str = ""
    """When set, a token must have been issued to this client (its `azp` claim)."""

    verify_ssl: bool = True
    """Verify TLS certificates when fetching the OIDC discovery document and keys."""

    disable_auth: bool = False
    """Fake auth mode for development: accept HS256 tokens signed with `fake-secret`."""

    config_file_url: str = ""
    """Optional JSON configuration file: a path or a file:// URL."""

    forwarded_allow_ips: str = DEFAULT_FORWARDED_ALLOW_IPS
    """Clients whose X-Forwarded-Proto/For headers are believed: IPs and networks, comma-separated, or `*`."""

    @field_validator("root_path")
    @classmethod
    def normalise_root_path(cls, value: str) -> str:
        # Charts commonly pass "/" for "no prefix"; a trailing slash would
        # otherwise make every route path lose its leading slash.
        value = value.strip().rstrip("/")
        if value and not value.startswith("/"):
            raise ValueError(f"ROOT_PATH must start with '/' (got {value!r})")
        return value

    @field_validator("debug", "verify_ssl", "disable_auth", mode="before")
    @classmethod
    def strict_boolean(cls, value: object, info: ValidationInfo) -> object:
        # Pydantic alone would also read 1, yes, on, y and t as true. For a
        # switch like DISABLE_AUTH that is too easy to set by accident, and the
        # other NaaVRE services accept only `true`: so only true/false here.
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(f"{str(info.field_name).upper()} must be 'true' or 'false' (got {value!r})")

    @field_validator("forwarded_allow_ips")
    @classmethod
    def check_forwarded_allow_ips(cls, value: str) -> str:
        # Uvicorn silently treats a misspelt address as a name that never
        # matches; here a typo stops the service instead of disabling the headers.
        entries = [entry.strip() for entry in value.split(",")]
        if entries == ["*"]:
            return "*"
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"FORWARDED_ALLOW_IPS must be '*' or comma-separated IP addresses or networks (got {entry!r})"
                ) from None
        return ",".join(entries)

    @model_validator(mode="after")
    def fake_auth_without_provider(self) -> "Settings":
        # Fake tokens are forgeable by anyone. A deployment that names a real
        # provider and also has DISABLE_AUTH=true is almost certainly a mistake
        # that would leave it open, so it does not start.
        if self.disable_auth and self.oidc_configuration_url:
            raise ValueError(
                "DISABLE_AUTH=true and OIDC_CONFIGURATION_URL are both set: fake tokens would be accepted "
                "where a real provider is configured; unset one of them"
            )
        return self

    @property
    def trusted_proxies(self) -> list[str]:
        """FORWARDED_ALLOW_IPS as the list uvicorn's ProxyHeadersMiddleware takes."""
        return self.forwarded_allow_ips.split(",")


@lru_cache
def get_settings() -> Settings:
    """The settings, read from the environment once per process."""
    return Settings()
