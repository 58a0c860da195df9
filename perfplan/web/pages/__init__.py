"""Server-rendered pages (Jinja2, en and zh-CN, no JavaScript build step) for HR,
auditors, admins, managers and employees."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from perfplan.web.pages import admin, audit, auth, dashboard, plans
from perfplan.web.pages.rendering import locale_of, render, words
from states.errors import NotFound

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
for pages in (plans, dashboard, audit, admin):
    router.include_router(pages.router)


def page_error(request: Request, error: Exception, status: int) -> Response:
    """A refusal as a page, in the request's language; never a traceback."""
    not_found = words(locale_of(request))["error.not_found"]
    message = not_found if isinstance(error, NotFound) else str(error)
    return render(request, "error.html.j2", {"message": message, "status": status}, status=status)
