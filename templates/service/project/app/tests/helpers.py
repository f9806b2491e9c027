"""Helpers shared by the tests."""

import time
from typing import Any

from app import auth


def token_claims(**overrides: Any) -> dict[str, Any]:
    """Claims like Keycloak's; an override of None removes that claim."""
    now = int(time.time())
    claims = {
        "preferred_username": "alice",
        "groups": ["/virtual-lab-a"],
        "aud": auth.AUDIENCE,
        "iat": now,
        "exp": now + 300,
        **overrides,
    }
    return {name: value for name, value in claims.items() if value is not None}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class FakeClock:
    """A monotonic clock the test moves forward by hand (`clock.now += seconds`)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
