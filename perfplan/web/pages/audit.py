"""The auditor's page: search the audit trail by plan, actor, event and period, read
the records and the organisation chain's latest, verify a plan's chain (or every
chain, the organisation's too), and export what was found (or the organisation chain)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from models.clock import utc
from models.tables import AUDIT, ORG_AUDIT
from people import access, orgaudit
from people.identity import SignedIn
from perfplan.web.deps import CheckedForm, RuntimeDep, SignedInDep
from perfplan.web.pages.common import Page, a_date, whole_number
from perfplan.web.pages.rendering import render
from perfplan.web.runtime import Runtime
from states import audit
from states.errors import InvalidInput
from views.audit import AuditQuery, search_audit
from views.record import AuditLine

router = APIRouter()

# Every column of an audit record (its id aside), as stored; the export puts when after
# which plan and record.
_RECORDED = [column.name for column in AUDIT.columns if column.name != "id"]
COLUMNS = ("plan_id", "seq", "at", *(c for c in _RECORDED if c not in ("plan_id", "seq", "at")))
EXPORT_BATCH = 5000
ORG_COLUMNS = [column.name for column in ORG_AUDIT.columns if column.name != "id"]
ORG_SHOWN = 50  # the organisation chain's latest records on the page; the export has all


@dataclass(frozen=True)
class AuditSearch:
    """The search form's fields as typed (the query parameters of the search and the
    export); `until` is a whole day, included."""

    plan: str | None = None
    actor: str | None = None
    event: str | None = None
    since: str | None = None
    until: str | None = None

    def query(self) -> AuditQuery:
        start, end = a_date(self.since, field="since"), a_date(self.until, field="until")
        if start and end and end < start:
            raise InvalidInput("the period ends before it starts", field="until")
        return AuditQuery(
            plan_id=whole_number(self.plan, field="plan", default=0) or None,
            actor=(self.actor or "").strip() or None,
            event=(self.event or "").strip() or None,
            since=utc(datetime.combine(start, time())) if start else None,
            until=utc(datetime.combine(end + timedelta(days=1), time())) if end else None,
        )


Searched = Annotated[AuditSearch, Depends()]


def _form_values(query: AuditQuery, since: str | None, until: str | None) -> dict[str, str]:
    return {
        "plan": str(query.plan_id or ""),
        "actor": query.actor or "",
        "event": query.event or "",
        "since": since or "",
        "until": until or "",
    }


def _page(
    request: Request,
    rt: Runtime,
    signed: SignedIn,
    query: AuditQuery,
    values: dict[str, str],
    page: Page,
    report: audit.VerifyReport | None = None,
    verified_plan: int | None = None,
    org_report: orgaudit.OrgVerifyReport | None = None,
) -> Response:
    access.require(signed.viewer, "audit.search")
    with rt.transaction() as session:
        if query.plan_id is not None:
            access.check_plan(session, signed.viewer, query.plan_id, "read")
        rows = search_audit(
            session, viewer=signed.viewer, query=query, limit=page.fetch, offset=page.offset
        )
        org_rows = orgaudit.recent(session, count=ORG_SHOWN)
    export = urlencode({k: v for k, v in values.items() if v})
    context = {
        "rows": rows[: page.size],
        "more": len(rows) > page.size,
        "page": page.number,
        "values": values,
        "report": report,
        "verified_plan": verified_plan,
        "export": export,
        "org_rows": org_rows,
        "org_report": org_report,
    }
    return render(request, "audit.html.j2", context, signed=signed)


@router.get("/audit")
def audit_page(
    request: Request, rt: RuntimeDep, signed: SignedInDep, search: Searched, page: str | None = None
) -> Response:
    query = search.query()
    number = Page(whole_number(page, field="page", default=1))
    values = _form_values(query, search.since, search.until)
    return _page(request, rt, signed, query, values, number)


@router.post("/audit/verify")
def verify(
    request: Request,
    rt: RuntimeDep,
    signed: CheckedForm,
    plan: Annotated[str, Form()] = "",
) -> Response:
    """Recompute one plan's chain (any auditor) or every chain (audit.verify_all)."""
    access.require(signed.viewer, "audit.search")
    plan_id = whole_number(plan, field="plan", default=0) or None
    with rt.transaction() as session:
        if plan_id is None:
            access.require(signed.viewer, "audit.verify_all")
        else:
            access.check_plan(session, signed.viewer, plan_id, "read")
        report = audit.verify(session, plan_id)
        org_report = orgaudit.verify(session) if plan_id is None else None
    query = AuditQuery(plan_id=plan_id)
    return _page(
        request,
        rt,
        signed,
        query,
        _form_values(query, None, None),
        Page(1),
        report=report,
        verified_plan=plan_id,
        org_report=org_report,
    )


def _all_rows(rt: Runtime, signed: SignedIn, query: AuditQuery) -> list[AuditLine]:
    rows: list[AuditLine] = []
    with rt.transaction() as session:
        if query.plan_id is not None:
            access.check_plan(session, signed.viewer, query.plan_id, "read")
        while True:
            batch = search_audit(
                session, viewer=signed.viewer, query=query, limit=EXPORT_BATCH, offset=len(rows)
            )
            rows.extend(batch)
            if len(batch) < EXPORT_BATCH:
                return rows


def _cell(row: Any, column: str) -> Any:
    value = getattr(row, column)
    return value.isoformat() if column == "at" else value


def _csv(rows: list[Any], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row, c) for c in columns])
    return out.getvalue()


def _export_rows(
    rt: Runtime, signed: SignedIn, search: AuditSearch, chain: str
) -> tuple[Sequence[str], list[Any]]:
    if chain == "plans":
        return COLUMNS, _all_rows(rt, signed, search.query())
    if chain == "organisation":
        with rt.transaction() as session:
            return ORG_COLUMNS, orgaudit.history(session)
    raise InvalidInput(f"'{chain}' is not a chain; use plans or organisation", field="chain")


@router.get("/audit/export")
def export(
    rt: RuntimeDep,
    signed: SignedInDep,
    search: Searched,
    format: str = "csv",
    chain: str = "plans",
) -> Response:
    """The records found (or the whole organisation chain), every column, hashes
    included, as CSV or JSON."""
    access.require(signed.viewer, "audit.search")
    if format not in ("csv", "json"):
        raise InvalidInput(f"'{format}' is not an export format; use csv or json", field="format")
    columns, rows = _export_rows(rt, signed, search, chain)
    stamp = rt.now().strftime("%Y%m%dT%H%M%SZ")
    prefix = "perfplan-audit" if chain == "plans" else "perfplan-organisation-audit"
    name = f"{prefix}-{stamp}.{format}"
    if format == "csv":
        body = "\ufeff" + _csv(rows, columns)  # BOM: Excel reads UTF-8
        media = "text/csv; charset=utf-8"
    else:
        records = [{c: _cell(row, c) for c in columns} for row in rows]
        body, media = json.dumps(records, ensure_ascii=False, indent=1), "application/json"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
