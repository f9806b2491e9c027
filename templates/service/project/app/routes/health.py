"""Liveness and readiness: answers without authentication and without calling anything."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


@router.get("/health")
def health() -> Health:
    """The process is up and serving requests."""
    return Health()
