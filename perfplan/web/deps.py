"""Request dependencies: the runtime, who is asking (API token or browser session),
and the CSRF check of every form."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from people import identity
from people.access import Viewer
from perfplan.web.runtime import Runtime
from states.errors import Unauthenticated

SESSION_COOKIE = "perfplan_session"
LOGIN_CSRF_COOKIE = "perfplan_login_csrf"
LANG_COOKIE = "perfplan_lang"

_bearer = HTTPBearer(
    auto_error=False,
    description="A personal API token: `perfplan token create PERSON`.",
)


async def runtime(request: Request) -> Runtime:
    # async: reading an attribute needs no worker thread (a sync dependency takes one)
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def api_viewer(
    rt: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Viewer:
    """The person whose bearer token came with the request; 401 without a valid one."""
    if credentials is None:
        raise Unauthenticated("send a personal API token: Authorization: Bearer <token>")
    with rt.transaction() as session:
        return identity.authenticate_token(session, token=credentials.credentials, now=rt.now())


ApiViewer = Annotated[Viewer, Depends(api_viewer)]


class NotSignedIn(Exception):
    """A page was asked for without a session: the pages answer with the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url
        super().__init__("not signed in")


def signed_in(request: Request, rt: RuntimeDep) -> identity.SignedIn:
    """The browser's session, or NotSignedIn (a redirect to the login page)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise NotSignedIn(str(request.url.path))
    try:
        with rt.transaction() as session:
            return identity.session_viewer(session, cookie=cookie, now=rt.now())
    except Unauthenticated:
        raise NotSignedIn(str(request.url.path)) from None


SignedInDep = Annotated[identity.SignedIn, Depends(signed_in)]


class CsrfRejected(Exception):
    """A form arrived without the token of the session that showed it."""


def csrf_checked(signed: SignedInDep, csrf_token: Annotated[str, Form()] = "") -> identity.SignedIn:
    """For every POST of a signed-in page: the form must carry the session's CSRF token."""
    if not csrf_token or not hmac.compare_digest(csrf_token, signed.csrf_token):
        raise CsrfRejected()
    return signed


CheckedForm = Annotated[identity.SignedIn, Depends(csrf_checked)]
