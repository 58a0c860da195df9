"""Audit routes: a plan's history, the auditors' global search, the organisation chain,
verification of the hash chains, and exports as JSON or CSV (with a header row)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query
from fastapi.responses import Response

from models.limits import MAX_ID
from people import access, orgaudit
from perfplan.web.api import schemas
from perfplan.web.api.common import Limit, Offset, PlanId, Responses, name_query
from perfplan.web.deps import ApiViewer, RuntimeDep
from perfplan.web.errors import error_responses
from states import audit
from states.errors import InvalidInput
from states.plans.bounds import Day
from views.audit import AuditQuery, search_audit

router = APIRouter(tags=["audit"])

Format = Annotated[Literal["json", "csv"], Query(description="json, or csv with a header row.")]
CSV_CONTENT: Responses = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "The records, oldest first",
    }
}


F = TypeVar("F", bound=Callable[..., Any])


def _csv(
    records: list[schemas.Row],
    filename: str,
    fields: list[str] = schemas.AUDIT_FIELDS,
) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    for record in records:
        writer.writerow(record.model_dump(mode="json"))
    disposition = f'attachment; filename="{filename}"'
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


def _answer(
    rows: list[Any],
    fmt: str,
    filename: str,
    entry: type[schemas.Row] = schemas.AuditEntry,
    fields: list[str] = schemas.AUDIT_FIELDS,
) -> Any:
    records = [entry.model_validate(row) for row in rows]
    return _csv(records, filename, fields) if fmt == "csv" else records


def _records(path: str, summary: str, entries: object, refused: int) -> Callable[[F], F]:
    """A route that answers records (`entries`), as JSON or as CSV; 401, `refused` and
    422 are its refusals."""
    return router.get(
        path,
        summary=summary,
        response_model=entries,
        responses=error_responses(401, refused, 422) | CSV_CONTENT,
    )


@_records("/plans/{plan_id}/audit", "A plan's audit history", list[schemas.AuditEntry], 404)
def plan_history(
    plan_id: PlanId, rt: RuntimeDep, viewer: ApiViewer, format: Format = "json"
) -> Any:
    """Every record of the plan's hash-chained history, oldest first: who did what, when,
    from which state to which."""
    with rt.transaction() as session:
        access.check_plan(session, viewer, plan_id, "read")
        rows = audit.history(session, plan_id)
    return _answer(rows, format, f"plan-{plan_id}-audit.{format}")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


@_records("/audit", "Search every plan's audit trail (auditors)", list[schemas.AuditEntry], 403)
def search(
    rt: RuntimeDep,
    viewer: ApiViewer,
    actor: Annotated[str | None, name_query("Who did it (a person's key, or system).")] = None,
    event: Annotated[str | None, name_query("The event, e.g. start, sign:agree.")] = None,
    plan: Annotated[int | None, Query(ge=1, le=MAX_ID, description="One plan's id.")] = None,
    since: Annotated[Day | None, Query(description="From this day (UTC), inclusive.")] = None,
    until: Annotated[Day | None, Query(description="To this day (UTC), inclusive.")] = None,
    format: Format = "json",
    limit: Limit = 500,
    offset: Offset = 0,
) -> Any:
    """Records oldest first, filtered by actor, event, plan and period; needs the standing
    auditor role."""
    access.require(viewer, "audit.search")
    if since and until and since > until:
        raise InvalidInput("since is after until", field="since")
    query = AuditQuery(
        plan_id=plan,
        actor=actor,
        event=event,
        since=_day_start(since) if since else None,
        # Up to the end of `until`; the last day there is has no next day to stop at.
        until=_day_start(until + timedelta(days=1)) if until and until < date.max else None,
    )
    with rt.transaction() as session:
        rows = search_audit(session, viewer=viewer, query=query, limit=limit, offset=offset)
    return _answer(rows, format, f"audit.{format}")


def _verified(
    report: audit.VerifyReport, org: orgaudit.OrgVerifyReport | None = None
) -> schemas.Verified:
    breaks = [schemas.BreakRow.model_validate(b) for b in report.breaks]
    organisation = None
    if org is not None:
        org_breaks = [schemas.OrgBreakRow.model_validate(b) for b in org.breaks]
        organisation = schemas.OrgVerified(ok=org.ok, records=org.records, breaks=org_breaks)
    return schemas.Verified(
        ok=report.ok and (org is None or org.ok),
        plans=report.plans,
        records=report.records,
        breaks=breaks,
        organisation=organisation,
    )


@router.get(
    "/plans/{plan_id}/audit/verify",
    summary="Verify a plan's hash chain",
    responses=error_responses(401, 404, 422),
)
def verify_plan(plan_id: PlanId, rt: RuntimeDep, viewer: ApiViewer) -> schemas.Verified:
    """Recompute the plan's chain. A broken chain is a successful check: 200 with `ok`
    false and the first broken record named."""
    with rt.transaction() as session:
        access.check_plan(session, viewer, plan_id, "read")
        return _verified(audit.verify(session, plan_id))


@router.get(
    "/audit/verify",
    summary="Verify every plan's hash chain (auditors)",
    responses=error_responses(401, 403),
)
def verify_all(rt: RuntimeDep, viewer: ApiViewer) -> schemas.Verified:
    """Recompute every chain, the organisation's too; each broken plan is named with its
    first broken record, and so is the organisation chain's (`organisation`). `ok` is
    true only when all of them hold."""
    access.require(viewer, "audit.verify_all")
    with rt.transaction() as session:
        return _verified(audit.verify(session), orgaudit.verify(session))


@_records("/audit/organisation", "The organisation chain (auditors)", list[schemas.OrgEntry], 403)
def organisation(
    rt: RuntimeDep,
    viewer: ApiViewer,
    kind: Annotated[str | None, name_query("One kind of change, e.g. role.granted.")] = None,
    format: Format = "json",
    limit: Limit = 500,
    offset: Offset = 0,
) -> Any:
    """Records of the organisation chain, oldest first: standing roles granted and
    revoked, people created or changed, passwords set, tokens created and revoked,
    definitions installed, sign-ins locked; needs the standing auditor role."""
    access.require(viewer, "audit.search")
    if kind is not None and kind not in orgaudit.KINDS:
        known = ", ".join(orgaudit.KINDS)
        raise InvalidInput(
            f"'{kind}' is not a kind of organisation change; known: {known}", field="kind"
        )
    with rt.transaction() as session:
        rows = orgaudit.history(session, kind=kind, limit=limit, offset=offset)
    return _answer(rows, format, "organisation-audit.csv", schemas.OrgEntry, schemas.ORG_FIELDS)
