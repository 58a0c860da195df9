"""The JSON API under /api: the same services as the CLI, behind personal API tokens."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from perfplan.web.api import audit, copies, definitions, notifications, plans
from perfplan.web.deps import ApiViewer
from perfplan.web.errors import error_responses

router = APIRouter(prefix="/api")
for part in (plans, copies, audit, definitions, notifications):
    router.include_router(part.router)


class Health(BaseModel):
    status: str


class Me(BaseModel):
    key: str
    name: str
    locale: str
    standing_roles: list[dict[str, str | int | None]]


@router.get("/health", tags=["service"])
def health() -> Health:
    """Whether the service answers (no token needed)."""
    return Health(status="ok")


@router.get("/me", tags=["people"], responses=error_responses(401))
def me(viewer: ApiViewer) -> Me:
    """Who the token belongs to, and their standing roles."""
    roles = [
        {"role": role, "department_id": dept}
        for role, dept in sorted(viewer.org_roles, key=lambda r: (r[0], r[1] or 0))
    ]
    return Me(key=viewer.key, name=viewer.name, locale=viewer.locale, standing_roles=roles)
