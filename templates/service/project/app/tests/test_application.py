"""The application factory (app/application.py): routers, logging and the proxy headers."""

import logging

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from app.application import create_app

PROXY = ("10.0.0.7", 50000)
"""The ingress controller, as the service sees it: a cluster address."""

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.10"}


def test_routers_are_mounted_beside_health() -> None:
    router = APIRouter()

    @router.get("/extra")
    def extra() -> dict[str, str]:
        return {"extra": "yes"}

    with TestClient(create_app(title="Extra service", routers=[router], version="1.2.3")) as client:
        assert client.get("/extra").json() == {"extra": "yes"}
        assert client.get("/health").json() == {"status": "ok"}
        info = client.get("/openapi.json").json()["info"]
    assert info == {"title": "Extra service", "version": "1.2.3"}


@pytest.mark.parametrize(("debug", "level"), [("true", logging.DEBUG), ("false", logging.INFO)])
def test_debug_sets_the_log_level(environment, debug: str, level: int) -> None:
    environment.setenv("DEBUG", debug)

    create_app(title="test")

    assert logging.getLogger("app").getEffectiveLevel() == level


class TestProxyHeaders:
    """X-Forwarded-Proto/For are believed from FORWARDED_ALLOW_IPS only."""

    @pytest.mark.parametrize("allowed", ["*", "10.0.0.7", "10.0.0.0/8", "127.0.0.1, 10.0.0.0/8"])
    def test_trusted_proxy_keeps_https_in_redirects(self, environment, make_client, allowed: str) -> None:
        environment.setenv("FORWARDED_ALLOW_IPS", allowed)
        client = make_client(client=PROXY)

        response = client.get("/health/", headers=FORWARDED, follow_redirects=False)

        assert response.status_code == 307
        assert response.headers["location"] == "https://testserver/health"

    def test_trusted_proxy_gives_the_callers_address(self, environment, make_client) -> None:
        environment.setenv("FORWARDED_ALLOW_IPS", "10.0.0.0/8")

        response = make_client(client=PROXY).get("/probe/connection", headers=FORWARDED)

        assert response.json() == {"scheme": "https", "client": "192.0.2.10"}

    @pytest.mark.parametrize("allowed", [None, "10.0.0.8", "192.168.0.0/16"], ids=["default", "other-ip", "other-net"])
    def test_headers_from_other_clients_are_ignored(self, environment, make_client, allowed: str | None) -> None:
        if allowed is not None:
            environment.setenv("FORWARDED_ALLOW_IPS", allowed)
        client = make_client(client=PROXY)

        redirect = client.get("/health/", headers=FORWARDED, follow_redirects=False)
        connection = client.get("/probe/connection", headers=FORWARDED)

        assert redirect.headers["location"] == "http://testserver/health"
        assert connection.json() == {"scheme": "http", "client": PROXY[0]}

    def test_default_trusts_the_local_host(self, make_client) -> None:
        response = make_client(client=("127.0.0.1", 50000)).get("/probe/connection", headers=FORWARDED)

        assert response.json() == {"scheme": "https", "client": "192.0.2.10"}

    def test_redirect_under_the_root_path(self, environment, make_client) -> None:
        environment.setenv("FORWARDED_ALLOW_IPS", "*")
        environment.setenv("ROOT_PATH", "/naavre-x-service")
        client = make_client(client=PROXY)

        response = client.get("/naavre-x-service/health/", headers=FORWARDED, follow_redirects=False)

        assert response.status_code == 307
        assert response.headers["location"] == "https://testserver/naavre-x-service/health"
