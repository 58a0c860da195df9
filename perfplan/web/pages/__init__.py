"""Server-rendered pages (Jinja2, en and zh-CN, no JavaScript build step) for HR,
auditors, admins, managers and employees."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from people import identity
from perfplan.web.deps import SESSION_COOKIE
from perfplan.web.pages import admin, audit, auth, dashboard, feed, intake, plans
from perfplan.web.pages.rendering import locale_of, render, words
from states.errors import NotFound, Unauthenticated

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
for pages in (plans, dashboard, audit, admin, intake, feed):
    router.include_router(pages.router)


def _signed_in(request: Request) -> identity.SignedIn | None:
    """Who is asking, when a session says so: a refusal is shown in their language,
    with their navigation. Never raises: the refusal must be shown whatever happens."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    runtime = request.app.state.runtime
    try:
        with runtime.transaction() as session:
            return identity.session_viewer(session, cookie=cookie, now=runtime.now())
    except Unauthenticated:
        return None


def page_error(request: Request, error: Exception, status: int) -> Response:
    """A refusal as a page, in the request's language; never a traceback."""
    signed = _signed_in(request) if status != 503 else None
    not_found = words(locale_of(request, signed))["error.not_found"]
    message = not_found if isinstance(error, NotFound) else str(error)
    return render(
        request,
        "error.html.j2",
        {"message": message, "status": status},
        signed=signed,
        status=status,
    )
