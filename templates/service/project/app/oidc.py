"""The OIDC provider's issuer and signing keys, cached, refreshed in the background, kept through outages.

The discovery document at OIDC_CONFIGURATION_URL names the issuer and the JWKS
endpoint; both it and the keys are cached, so a request normally makes no
network call. Why the cache works the way it does:

- Outages: when a refresh fails, the last good keys keep being used until they
  are MAX_STALE_SECONDS old. A Keycloak restart must not turn every request into a 503
  while the keys in hand are still the ones Keycloak signs with.
- No stalls: fetches run in a background thread, one at a time, and never under
  the lock that guards the cache. A request whose key is in hand never waits for
  the network, whatever triggered a refresh (an expired cache, or anyone's
  made-up `kid`). Only a request without a usable key waits for the fetch.
- No hammering: a key id that is not in the cache may mean the provider rotated
  its keys, so it starts a fetch, but not sooner than JWKS_MIN_REFRESH_SECONDS
  after the last one; a failed background refresh is retried after the same pause.
"""

import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

logger = logging.getLogger(__name__)

# Only public-key algorithms: accepting HMAC in real mode would let anyone who
# knows a public key forge tokens with it.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

DISCOVERY_TTL_SECONDS = 12 * 3600
JWKS_TTL_SECONDS = 3600
JWKS_MIN_REFRESH_SECONDS = 60
# How long after their fetch keys stay in use while no refresh succeeds. Past
# this, a provider that still cannot be reached gives 503s: keys this old may
# have been rotated out, and an outage this long needs someone's attention anyway.
MAX_STALE_SECONDS = 24 * 3600
HTTP_TIMEOUT_SECONDS = 10
# How long a request without a usable key waits for a fetch: the discovery
# document and the JWKS, each within HTTP_TIMEOUT_SECONDS, plus a margin.
FETCH_WAIT_SECONDS = 2 * HTTP_TIMEOUT_SECONDS + 5


class ProviderError(Exception):
    """The OIDC provider could not be reached or gave an unusable answer (HTTP 503)."""


@dataclass(frozen=True)
class KeySet:
    """The keys one fetch returned, the issuer they sign for, and when the fetch started."""

    issuer: str
    keys: Mapping[str, jwt.PyJWK]
    fetched_at: float


@dataclass(frozen=True)
class _Discovery:
    issuer: str
    jwks_uri: str
    fetched_at: float


class _Fetch:
    """A fetch in progress: requests that need its result wait on `done`."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: ProviderError | None = None


class ProviderKeys:
    """The signing keys of one provider, for the life of the process."""

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
        # Guards the four fields below; held for bookkeeping only, never during a fetch.
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._fetch: _Fetch | None = None
        self._last_attempt = float("-inf")
        # Read and written only by the fetch thread, and there is one at a time.
        self._discovery: _Discovery | None = None

    def lookup(self, key_id: str) -> tuple[jwt.PyJWK | None, str]:
        """The key named `key_id` (None if the provider does not publish it) and the issuer.

        Raises ProviderError when no usable keys can be had.
        """
        now = self._clock()
        with self._lock:
            keys = self._usable(now)
            if keys is not None and key_id in keys.keys:
                if now - keys.fetched_at >= JWKS_TTL_SECONDS and self._may_refresh(now):
                    self._start_fetch(now)  # for the next requests; this one has its key
                return keys.keys[key_id], keys.issuer
            if keys is not None and self._fetch is None and not self._may_refresh(now):
                return None, keys.issuer  # an unknown key id, and too soon to ask again
            fetch = self._fetch or self._start_fetch(now)
        if not fetch.done.wait(FETCH_WAIT_SECONDS):
            raise ProviderError(f"{self.configuration_url}: no answer within {FETCH_WAIT_SECONDS} s")
        with self._lock:
            keys = self._usable(self._clock())
        if keys is None:
            raise fetch.error or ProviderError(f"{self.configuration_url}: no usable keys")
        return keys.keys.get(key_id), keys.issuer

    def wait_for_fetch(self, timeout: float = FETCH_WAIT_SECONDS) -> None:
        """Wait until the fetch in progress, if any, has finished (for tests)."""
        with self._lock:
            fetch = self._fetch
        if fetch is not None:
            fetch.done.wait(timeout)

    def _usable(self, now: float) -> KeySet | None:
        keys = self._keys
        return keys if keys is not None and now - keys.fetched_at < MAX_STALE_SECONDS else None

    def _may_refresh(self, now: float) -> bool:
        return self._fetch is None and now - self._last_attempt >= JWKS_MIN_REFRESH_SECONDS

    def _start_fetch(self, now: float) -> _Fetch:
        """Start a fetch in a background thread; the caller holds the lock and saw none in progress."""
        fetch = self._fetch = _Fetch()
        self._last_attempt = now
        threading.Thread(target=self._run_fetch, args=(fetch, now), name="oidc-keys", daemon=True).start()
        return fetch

    def _run_fetch(self, fetch: _Fetch, now: float) -> None:
        try:
            keys = self._download(now)
        except Exception as error:  # whatever happens, the waiters must be woken
            fetch.error = error if isinstance(error, ProviderError) else ProviderError(repr(error))
            keys = None
        with self._lock:
            self._fetch = None
            if keys is not None:
                self._keys = keys
            kept = self._keys
        if fetch.error is not None and kept is not None:
            logger.warning(
                "cannot refresh the signing keys (%s); still using those fetched %d s ago",
                fetch.error,
                self._clock() - kept.fetched_at,
            )
        fetch.done.set()

    def _download(self, now: float) -> KeySet:
        discovery = self._discovery
        if discovery is None or now - discovery.fetched_at >= DISCOVERY_TTL_SECONDS:
            discovery = self._discovery = self._fetch_discovery(now)
        entries = self._fetch_json(discovery.jwks_uri).get("keys")
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
            raise ProviderError(f"{discovery.jwks_uri}: no usable signing keys")
        logger.debug("fetched %d signing keys from %s", len(keys), discovery.jwks_uri)
        return KeySet(discovery.issuer, keys, now)

    def _fetch_discovery(self, now: float) -> _Discovery:
        document = self._fetch_json(self.configuration_url)
        values = {name: document.get(name) for name in ("issuer", "jwks_uri")}
        for name, value in values.items():
            if not isinstance(value, str) or not value:
                raise ProviderError(f"{self.configuration_url}: the discovery document has no {name}")
        return _Discovery(values["issuer"], values["jwks_uri"], now)

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
