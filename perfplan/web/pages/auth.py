"""Signing in and out of the pages, and choosing their language."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from people import identity, throttle
from people.errors import SignInLocked
from perfplan.web.deps import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CheckedForm,
    RuntimeDep,
)
from perfplan.web.pages.rendering import LOCALES, render
from states.errors import Unauthenticated

router = APIRouter()


def safe_next(next_url: str | None) -> str:
    """Only a path of this site: a login must never send anyone elsewhere."""
    parsed = urlparse(next_url or "")
    if not next_url or parsed.scheme or parsed.netloc or not next_url.startswith("/"):
        return "/plans"
    if next_url.startswith("//") or next_url.startswith("/login"):
        return "/plans"
    return next_url


def _secure(request: Request, rt: RuntimeDep) -> bool:
    chosen = rt.settings.secure_cookies
    return request.url.scheme == "https" if chosen is None else chosen


def _login_page(
    request: Request,
    rt: RuntimeDep,
    *,
    next_url: str,
    failed: bool = False,
    locked: SignInLocked | None = None,
    person: str = "",
    signed_out: bool = False,
    status: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    page = render(
        request,
        "login.html.j2",
        {
            "login_csrf": token,
            "next_url": next_url,
            "failed": failed,
            "locked": locked,
            "person": person,
            "signed_out": signed_out,
        },
        status=status,
    )
    page.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request, rt),
        max_age=3600,
    )
    return page


def client_address(request: Request) -> str:
    """Where the request came from, as the server saw it (behind a proxy, uvicorn's
    --proxy-headers with --forwarded-allow-ips makes this the client's own address)."""
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_form(request: Request, rt: RuntimeDep, next: str = "/plans", bye: int = 0) -> Response:
    return _login_page(request, rt, next_url=safe_next(next), signed_out=bool(bye))


@router.post("/login")
def login(
    request: Request,
    rt: RuntimeDep,
    person: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/plans",
) -> Response:
    # Double submit: the form's token must match the cookie set with the form.
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_page(request, rt, next_url=safe_next(next), failed=True, status=400)
    now = rt.now()
    door = throttle.Door(account=person.strip(), address=client_address(request))
    try:
        viewer = identity.sign_in(
            rt.transaction, door=door, password=password, now=now, rules=rt.settings.signin_rules()
        )
    except SignInLocked as locked:
        page = _login_page(
            request, rt, next_url=safe_next(next), locked=locked, person=person, status=429
        )
        page.headers["Retry-After"] = str(locked.retry_after)
        return page
    except Unauthenticated:
        return _login_page(
            request, rt, next_url=safe_next(next), failed=True, person=person, status=401
        )
    with rt.transaction() as session:
        lifetime = timedelta(hours=rt.settings.session_hours)
        opened = identity.open_session(session, viewer=viewer, now=now, lifetime=lifetime)
    answer = RedirectResponse(safe_next(next), status_code=303)
    answer.set_cookie(
        SESSION_COOKIE,
        opened.cookie,
        httponly=True,
        samesite="lax",
        secure=_secure(request, rt),
        max_age=int(rt.settings.session_hours * 3600),
    )
    answer.delete_cookie(LOGIN_CSRF_COOKIE)
    return answer


@router.post("/logout")
def logout(request: Request, rt: RuntimeDep, _signed: CheckedForm) -> Response:
    with rt.transaction() as session:
        identity.close_session(session, cookie=request.cookies[SESSION_COOKIE], now=rt.now())
    answer = RedirectResponse("/login?bye=1", status_code=303)
    answer.delete_cookie(SESSION_COOKIE)
    return answer


@router.post("/language")
def language(lang: Annotated[str, Form()], next: Annotated[str, Form()] = "/plans") -> Response:
    """Switch the pages' language (a cookie; no session needed, nothing else changes)."""
    answer = RedirectResponse(safe_next(next), status_code=303)
    if lang in LOCALES:
        answer.set_cookie(LANG_COOKIE, lang, samesite="lax", max_age=365 * 24 * 3600)
    return answer


@router.get("/")
def home() -> Response:
    return RedirectResponse("/plans", status_code=303)
