"""Example of a route that requires a valid access token."""

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ValidationError

from app.auth import AccessToken

router = APIRouter(tags=["users"])


class CurrentUser(BaseModel):
    preferred_username: str
    groups: list[str] = []
    """Keycloak sends groups only when the client has a group mapper."""


@router.get("/me")
def read_current_user(claims: AccessToken) -> CurrentUser:
    """Who the caller is, according to their token."""
    try:
        return CurrentUser.model_validate(claims)
    except ValidationError:
        # A valid token that names no user (e.g. a service account without the claim).
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the token does not identify a user") from None
