"""Settings read from environment variables.

Only the environment is read here, so building `Settings` never touches a file
or the network; the optional JSON configuration file is loaded separately
(see `app.config`).
"""

from functools import lru_cache

from pydantic import field_validator
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    """Environment variables of the service (names are case-insensitive)."""

    root_path: str = ""
    """Path prefix the service is published under, e.g. /naavre-x-service."""

    debug: bool = False
    """Log at DEBUG level instead of INFO."""

    oidc_configuration_url: str = ""
    """OpenID Connect discovery document, e.g. https://kc/realms/vre/.well-known/openid-configuration."""

    verify_ssl: bool = True
    """Verify TLS certificates when fetching the OIDC discovery document and keys."""

    disable_auth: bool = False
    """Fake auth mode for development: accept HS256 tokens signed with `fake-secret`."""

    config_file_url: str = ""
    """Optional JSON configuration file: a path or a file:// URL."""

    @field_validator("root_path")
    @classmethod
    def normalise_root_path(cls, value: str) -> str:
        # Charts commonly pass "/" for "no prefix"; a trailing slash would
        # otherwise make every route path lose its leading slash.
        value = value.strip().rstrip("/")
        if value and not value.startswith("/"):
            raise ValueError(f"ROOT_PATH must start with '/' (got {value!r})")
        return value


@lru_cache
def get_settings() -> Settings:
    """The settings, read from the environment once per process."""
    return Settings()
