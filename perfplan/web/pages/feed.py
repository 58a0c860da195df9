"""The signed-in person's calendar feed: whether they have one, a new secret address
(shown once), and revoking it. Each person manages only their own."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from people import feeds, identity
from perfplan.web.deps import CheckedForm, RuntimeDep, SignedInDep
from perfplan.web.pages.rendering import render
from workflows.messages import config

router = APIRouter()


def _page(request: Request, rt: RuntimeDep, signed: identity.SignedIn, **shown: object) -> Response:
    with rt.transaction() as session:
        since = feeds.live_since(session, person_id=signed.viewer.id)
    context = {"since": since, "url": None, "revoked": False, **shown}
    return render(request, "calendar.html.j2", context, signed=signed)


@router.get("/calendar")
def calendar_page(request: Request, rt: RuntimeDep, signed: SignedInDep) -> Response:
    return _page(request, rt, signed)


@router.post("/calendar/new")
def calendar_new(request: Request, rt: RuntimeDep, signed: CheckedForm) -> Response:
    """A new feed address (the old one stops working), shown on this page only."""
    with rt.transaction() as session:
        token = feeds.create(session, person_id=signed.viewer.id, now=rt.now())
    url = f"{config().renderer.base_url}/calendar/{token}.ics"
    return _page(request, rt, signed, url=url)


@router.post("/calendar/revoke")
def calendar_revoke(request: Request, rt: RuntimeDep, signed: CheckedForm) -> Response:
    with rt.transaction() as session:
        feeds.revoke(session, person_id=signed.viewer.id, now=rt.now())
    return _page(request, rt, signed, revoked=True)
