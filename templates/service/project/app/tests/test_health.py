from fastapi.testclient import TestClient


def test_health_answers_ok_without_a_token(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_needs_no_provider_in_real_auth_mode(environment, make_client) -> None:
    # Port 9 (discard) on localhost: any attempt to reach the provider would fail.
    environment.setenv("DISABLE_AUTH", "false")
    environment.setenv("OIDC_CONFIGURATION_URL", "http://127.0.0.1:9/realms/x/.well-known/openid-configuration")

    response = make_client().get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_documents_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert {"/health", "/probe/claims"} <= set(paths)
