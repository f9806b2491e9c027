"""Bearer-token authentication with the OpenID Connect provider (Keycloak).

Real mode: the discovery document at OIDC_CONFIGURATION_URL names the JWKS
endpoint; a token is accepted when it is signed with an asymmetric algorithm by
the key its `kid` names, is meant for the `account` audience and has not
expired. The discovery document and the keys are cached with a TTL, so a
request normally makes no network call.

Fake mode (DISABLE_AUTH=true, development only): the same checks, but the token
is signed with HS256 and the shared secret `fake-secret`, like the fake tokens of
the other NaaVRE services.

Tokens are never logged.
"""

import hashlib
import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Protocol

import httpx
import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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

# Only public-key algorithms: accepting HMAC in real mode would let anyone who
# knows a public key forge tokens with it.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

DISCOVERY_TTL_SECONDS = 12 * 3600
JWKS_TTL_SECONDS = 3600
# A token with an unknown `kid` may mean the provider rotated its keys, so the
# JWKS is fetched again, but not more often than this: otherwise anyone could
# make the service hammer the provider with made-up key ids.
JWKS_MIN_REFRESH_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10
# Tolerated clock difference between the provider and this service.
LEEWAY_SECONDS = 30

Claims = dict[str, Any]


class InvalidTokenError(Exception):
    """The token must be refused (HTTP 401)."""


class ProviderError(Exception):
    """The OIDC provider could not be reached or gave an unusable answer (HTTP 503)."""


class AuthConfigurationError(RuntimeError):
    """The settings do not allow any token to be checked."""


class TokenValidator(Protocol):
    def validate(self, token: str) -> Claims:
        """The token's claims, or InvalidTokenError / ProviderError."""
        ...


def decode_token(token: str, key: jwt.PyJWK | bytes, algorithms: list[str]) -> Claims:
    """Verify the signature, the audience and the expiry; return the claims."""
    try:
        return jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=AUDIENCE,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidTokenError(str(error)) from None


class FakeTokenValidator:
    """Accepts tokens signed with `fake-secret` (DISABLE_AUTH=true)."""

    def validate(self, token: str) -> Claims:
        return decode_token(token, FAKE_KEY, [FAKE_ALGORITHM])


@dataclass(frozen=True)
class _Cached:
    """A value and the clock time it was fetched at."""

    value: Any
    fetched_at: float

    def age(self, now: float) -> float:
        return now - self.fetched_at


class OIDCTokenValidator:
    """Checks tokens against the keys published by an OIDC provider."""

    def __init__(
        self,
        configuration_url: str,
        *,
        verify_ssl: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.configuration_url = configuration_url
        # An explicit context: certificates and host names are checked against
        # the system CA store (SSL_CERT_FILE / SSL_CERT_DIR are honoured).
        self._verify: ssl.SSLContext | bool = ssl.create_default_context() if verify_ssl else False
        self._clock = clock
        # One lock for both caches: concurrent requests wait for a single fetch.
        self._lock = threading.Lock()
        self._discovery: _Cached | None = None
        self._keys: _Cached | None = None

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
        key = self._signing_key(key_id)
        return decode_token(token, key, [key.algorithm_name])

    def _signing_key(self, key_id: str) -> jwt.PyJWK:
        with self._lock:
            now = self._clock()
            keys = self._keys
            if (
                keys is None
                or keys.age(now) >= JWKS_TTL_SECONDS
                or (key_id not in keys.value and keys.age(now) >= JWKS_MIN_REFRESH_SECONDS)
            ):
                keys = self._keys = _Cached(self._fetch_keys(now), now)
        try:
            return keys.value[key_id]
        except KeyError:
            raise InvalidTokenError(f"no signing key with id {key_id!r}") from None

    def _jwks_uri(self, now: float) -> str:
        if self._discovery is None or self._discovery.age(now) >= DISCOVERY_TTL_SECONDS:
            document = self._fetch_json(self.configuration_url)
            jwks_uri = document.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not jwks_uri:
                raise ProviderError(f"{self.configuration_url}: the discovery document has no jwks_uri")
            self._discovery = _Cached(jwks_uri, now)
        return self._discovery.value

    def _fetch_keys(self, now: float) -> dict[str, jwt.PyJWK]:
        jwks_uri = self._jwks_uri(now)
        entries = self._fetch_json(jwks_uri).get("keys")
        keys: dict[str, jwt.PyJWK] = {}
        for entry in entries if isinstance(entries, list) else []:
            # Encryption keys (use=enc) and keys without an id cannot verify tokens.
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or not isinstance(entry.get("kid"), str):
                continue
            try:
                key = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                continue  # a key type or algorithm that PyJWT cannot use
            if key.algorithm_name in ASYMMETRIC_ALGORITHMS:
                keys[entry["kid"]] = key
        if not keys:
            raise ProviderError(f"{jwks_uri}: no usable signing keys")
        logger.debug("fetched %d signing keys from %s", len(keys), jwks_uri)
        return keys

    def _fetch_json(self, url: str) -> dict[str, Any]:
        try:
            with httpx.Client(verify=self._verify, timeout=HTTP_TIMEOUT_SECONDS) as client:
                response = client.get(url, headers={"Accept": "application/json"})
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ProviderError(f"{url}: {error}") from None
        if not isinstance(document, dict):
            raise ProviderError(f"{url}: the answer is not a JSON object")
        return document


@lru_cache
def oidc_validator(configuration_url: str, verify_ssl: bool) -> OIDCTokenValidator:
    """One validator, and so one cache, per provider for the life of the process."""
    return OIDCTokenValidator(configuration_url, verify_ssl=verify_ssl)


def token_validator_for(settings: Settings) -> TokenValidator:
    """The validator the settings ask for."""
    if settings.disable_auth:
        return FakeTokenValidator()
    if not settings.oidc_configuration_url:
        raise AuthConfigurationError("OIDC_CONFIGURATION_URL must be set unless DISABLE_AUTH=true")
    return oidc_validator(settings.oidc_configuration_url, settings.verify_ssl)


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
