"""Routes the template's tests mount instead of the project's own.

The template's tests check the template's modules; the project's routes
(app/routes/me.py and whatever follows) change from service to service and are
tested by the project's own tests (test_main.py).
"""

from fastapi import APIRouter, Request

from app.auth import AccessToken, Claims

router = APIRouter(prefix="/probe", tags=["probe"])


@router.get("/claims")
def claims(token: AccessToken) -> Claims:
    """The claims of a valid token."""
    return token


@router.get("/connection")
def connection(request: Request) -> dict[str, str | None]:
    """The scheme and client address the application sees (after the proxy headers)."""
    return {"scheme": request.url.scheme, "client": request.client.host if request.client else None}
