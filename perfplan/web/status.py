"""`GET /api/status` (the clockwork's figures as JSON) and `GET /metrics` (the same, and
request counts and latencies, for Prometheus): for admins, with an API token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from people import access
from perfplan.web.deps import ApiViewer, RuntimeDep
from perfplan.web.errors import error_responses
from views.status import clockwork_status

router = APIRouter(tags=["service"])


@router.get(
    "/api/status", summary="The clockwork's figures (admins)", responses=error_responses(401, 403)
)
def status(rt: RuntimeDep, viewer: ApiViewer) -> dict[str, Any]:
    """The outbox, the messages queued, retrying and dead, the follow-ups due, and when
    the sweep, the delivery and the verification last ran (admins)."""
    access.require(viewer, "clockwork.status")
    now = rt.now()
    with rt.transaction() as session:
        found = clockwork_status(session, now=now)
    return {
        "as_of": found.as_of,
        "effects": {
            "waiting": found.effects.waiting,
            "oldest": found.effects.oldest,
            "failed": found.effects_failed,
        },
        "messages": {
            "queued": found.messages.waiting,
            "oldest": found.messages.oldest,
            "retrying": found.retrying,
            "dead_by_channel": found.dead_by_channel,
        },
        "follow_ups": {"due": found.timers_due, "next": found.next_timer},
        "last": {kind: vars(run) for kind, run in found.last.items()},
    }


@router.get("/metrics", responses=error_responses(401, 403), include_in_schema=False)
def metrics(request: Request, viewer: ApiViewer) -> Response:
    """Prometheus' text format (admins)."""
    access.require(viewer, "clockwork.status")
    registry = request.app.state.instruments.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
