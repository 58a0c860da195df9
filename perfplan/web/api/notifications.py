"""Notification routes: a plan's delivery ledger, the dead letters, and retrying them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from models.limits import MAX_ID
from notifications.ledger import history
from people import access
from perfplan.web.api import schemas
from perfplan.web.api.common import Limit, Offset, PlanId
from perfplan.web.deps import ApiViewer, RuntimeDep
from perfplan.web.errors import error_responses

router = APIRouter(tags=["notifications"])


@router.get(
    "/plans/{plan_id}/notifications",
    summary="A plan's delivery ledger",
    responses=error_responses(401, 404, 422),
)
def plan_ledger(
    plan_id: PlanId, rt: RuntimeDep, viewer: ApiViewer, limit: Limit = 200, offset: Offset = 0
) -> list[schemas.LedgerMessage]:
    """Every message about the plan, oldest first: to whom, how, its status and attempts."""
    with rt.transaction() as session:
        access.check_plan(session, viewer, plan_id, "read")
        rows = history.plan_ledger(session, plan_id=plan_id, limit=limit, offset=offset)
    return [schemas.LedgerMessage.model_validate(row) for row in rows]


@router.get(
    "/notifications/dead-letters",
    summary="Messages that will not go out without help",
    responses=error_responses(401, 403, 422),
)
def dead_letters(rt: RuntimeDep, viewer: ApiViewer, limit: Limit = 200) -> list[schemas.DeadLetter]:
    """Newest first, with the last error; needs the standing HR or admin role. HR see the
    messages of their departments' plans; admins every one."""
    access.require(viewer, "notifications.dead_letters")
    with rt.transaction() as session:
        rows = history.dead_letters(session, scope=access.message_scope(viewer), limit=limit)
    return [schemas.DeadLetter.model_validate(row) for row in rows]


@router.post(
    "/notifications/dead-letters/retry",
    summary="Queue every dead letter again",
    responses=error_responses(401, 403),
)
def retry_all(rt: RuntimeDep, viewer: ApiViewer) -> schemas.Requeued:
    """Each gets a fresh set of attempts; its earlier attempts stay in the ledger."""
    access.require(viewer, "notifications.retry")
    with rt.transaction() as session:
        count = history.retry(
            session, notification_id=None, now=rt.now(), scope=access.message_scope(viewer)
        )
    return schemas.Requeued(requeued=count)


@router.post(
    "/notifications/{notification_id}/retry",
    summary="Queue one dead letter again",
    responses=error_responses(401, 403, 404, 409, 422),
)
def retry_one(
    notification_id: Annotated[int, Path(ge=1, le=MAX_ID)], rt: RuntimeDep, viewer: ApiViewer
) -> schemas.Requeued:
    """409 when the message is not a dead letter (queued or sent); 404 when it is not
    one of yours to handle."""
    access.require(viewer, "notifications.retry")
    with rt.transaction() as session:
        count = history.retry(
            session,
            notification_id=notification_id,
            now=rt.now(),
            scope=access.message_scope(viewer),
        )
    return schemas.Requeued(requeued=count)
