"""`GET /calendar/{token}.ics`: a person's private feed of their plans' events.

The token is the only key (calendar applications send no credentials): a revoked or
unknown token answers 404, as a plan not one's own does. What the feed holds is what the
plan list shows its owner (`views.calendars.person_feed`).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from perfplan.web.deps import RuntimeDep
from views.calendars import person_feed
from workflows.messages import config

router = APIRouter(include_in_schema=False)

_MAX_TOKEN = 100


@router.get("/calendar/{token}.ics")
def calendar_feed(token: str, rt: RuntimeDep) -> Response:
    """The feed, as text/calendar; 404 for a token that opens none."""
    now = rt.now()
    text = None
    if len(token) <= _MAX_TOKEN:
        with rt.transaction() as session:
            text = person_feed(
                session,
                token=token,
                today=now.date(),
                base_url=config().renderer.base_url,
                domain=config().mail_domain,
                stamp=now,
            )
    if text is None:
        return PlainTextResponse("no such calendar feed", status_code=404)
    return Response(
        text,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )
