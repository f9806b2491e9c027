"""Bearer-token authentication with the OpenID Connect provider (Keycloak).

Real mode: a token is accepted when it is signed with an asymmetric algorithm by
the key its `kid` names (see `app.oidc` for how keys are fetched and cached), is
issued by the provider's `issuer`, is meant for the `account` audience, has not
expired, and, when OIDC_CLIENT_ID is set, was issued to that client (`azp`).

Fake mode (DISABLE_AUTH=true, development only): the same checks except the
issuer, but the token is signed with HS256 and the shared secret `fake-secret`,
like the fake tokens of the other NaaVRE services.

Tokens are never logged.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any, Protocol

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.oidc import ASYMMETRIC_ALGORITHMS, ProviderError, ProviderKeys
from app.settings import Settings, get_settings

logger = logging.getLogger(__name__)

AUDIENCE = "account"
"""Keycloak puts this audience in the access tokens it issues."""

FAKE_SECRET = "fake-secret"
FAKE_ALGORITHM = "HS256"
# The key that fake mode signs and verifies with: `fake-secret` padded with zero
# bytes to SHA-256's block size. HMAC pads every shorter key that way (RFC 2104,
# section 2), so the signatures are exactly those made with `fake-secret`, and
# the other services' fake tokens keep working. PyJWT, which sees the padded
# key, no longer warns (InsecureKeyLengthWarning) on every fake-token request
# that an 11-byte secret is short: this secret is public anyway.
FAKE_KEY = FAKE_SECRET.encode().ljust(hashlib.sha256().block_size, b"\0")

# Tolerated clock difference between the provider and this service.
LEEWAY_SECONDS = 30

Claims = dict[str, Any]


class InvalidTokenError(Exception):
    """The token must be refused (HTTP 401)."""


class AuthConfigurationError(RuntimeError):
    """The settings do not allow any token to be checked."""


class TokenValidator(Protocol):
    def validate(self, token: str) -> Claims:
        """The token's claims, or InvalidTokenError / ProviderError."""
        ...


def decode_token(
    token: str,
    key: jwt.PyJWK | bytes,
    algorithms: list[str],
    *,
    issuer: str | None = None,
    client_id: str = "",
) -> Claims:
    """Verify the signature, the audience, the expiry and, when given, the issuer and client."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=AUDIENCE,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidTokenError(str(error)) from None
    # `azp` (authorized party) is the client the provider issued the token to;
    # every client of the realm gets the `account` audience, so only this tells them apart.
    if client_id and claims.get("azp") != client_id:
        raise InvalidTokenError(f"the token was issued to another client (azp={claims.get('azp')!r})")
    return claims


class FakeTokenValidator:
    """Accepts tokens signed with `fake-secret` (DISABLE_AUTH=true)."""

    def __init__(self, client_id: str = "") -> None:
        self.client_id = client_id

    def validate(self, token: str) -> Claims:
        return decode_token(token, FAKE_KEY, [FAKE_ALGORITHM], client_id=self.client_id)


class OIDCTokenValidator:
    """Checks tokens against the issuer and keys published by an OIDC provider."""

    def __init__(
        self,
        configuration_url: str,
        *,
        verify_ssl: bool = True,
        client_id: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = ProviderKeys(configuration_url, verify_ssl=verify_ssl, clock=clock)
        self.client_id = client_id

    def validate(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidTokenError(f"malformed token: {error}") from None
        algorithm = header.get("alg")
        if algorithm not in ASYMMETRIC_ALGORITHMS:
            raise InvalidTokenError(f"algorithm {algorithm!r} is not accepted")
        key_id = header.get("kid")
        if not isinstance(key_id, str):
            raise InvalidTokenError("the token header has no key id (kid)")
        key, issuer = self.provider.lookup(key_id)
        if key is None:
            raise InvalidTokenError(f"no signing key with id {key_id!r}")
        return decode_token(token, key, [key.algorithm_name], issuer=issuer, client_id=self.client_id)


@lru_cache
def oidc_validator(configuration_url: str, verify_ssl: bool, client_id: str = "") -> OIDCTokenValidator:
    """One validator, and so one key cache, per provider for the life of the process.

    Built at start-up (the lifespan asks for it), which is why the warning is here.
    """
    if not verify_ssl:
        logger.warning(
            "VERIFY_SSL=false: the certificate of %s is not checked, so anyone on the network path "
            "could hand this service signing keys; never in production",
            configuration_url,
        )
    return OIDCTokenValidator(configuration_url, verify_ssl=verify_ssl, client_id=client_id)


def token_validator_for(settings: Settings) -> TokenValidator:
    """The validator the settings ask for."""
    if settings.disable_auth:
        return FakeTokenValidator(settings.oidc_client_id)
    if not settings.oidc_configuration_url:
        raise AuthConfigurationError("OIDC_CONFIGURATION_URL must be set unless DISABLE_AUTH=true")
    return oidc_validator(settings.oidc_configuration_url, settings.verify_ssl, settings.oidc_client_id)


def get_token_validator(settings: Annotated[Settings, Depends(get_settings)]) -> TokenValidator:
    """FastAPI dependency wrapper around `token_validator_for`."""
    return token_validator_for(settings)


bearer_scheme = HTTPBearer(auto_error=False, description="An access token issued by the OIDC provider")


def valid_access_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    validator: Annotated[TokenValidator, Depends(get_token_validator)],
) -> Claims:
    """FastAPI dependency: the claims of the request's bearer token, or HTTP 401."""
    if credentials is None:
        raise _unauthorized("a bearer token is required")
    try:
        return validator.validate(credentials.credentials)
    except InvalidTokenError as error:
        logger.info("refused a token: %s", error)
        raise _unauthorized("invalid token") from None
    except ProviderError as error:
        logger.error("cannot check tokens: %s", error)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the authentication provider is unavailable") from None


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


AccessToken = Annotated[Claims, Depends(valid_access_token)]
"""Use as a route parameter type to require a valid token and get its claims."""
