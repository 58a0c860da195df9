"""HR's overdue dashboard: every milestone past due on a running plan, across the
organisation (or the departments the viewer covers), most late first."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request
from fastapi.responses import Response

from people import access
from perfplan.web.deps import RuntimeDep, SignedInDep
from perfplan.web.pages.common import Page, whole_number
from perfplan.web.pages.rendering import render
from views.dashboards import overdue_milestones

router = APIRouter()

# The counts above the table cover this many late milestones at most; the table shows
# a page of them (rendering rows, not finding them, is what costs here).
COUNTED = 1000
PER_PAGE = 100


@router.get("/overdue")
def overdue(
    request: Request, rt: RuntimeDep, signed: SignedInDep, page: str | None = None
) -> Response:
    access.require(signed.viewer, "plans.overdue_dashboard")
    number = Page(whole_number(page, field="page", default=1), size=PER_PAGE)
    today = rt.now().date()
    with rt.transaction() as session:
        rows = overdue_milestones(session, viewer=signed.viewer, today=today, limit=COUNTED + 1)
    counted = rows[:COUNTED]
    context = {
        "rows": counted[number.offset : number.offset + number.size],
        "today": today,
        "total": len(counted),
        "capped": len(rows) > COUNTED,
        "page": number.number,
        "more": len(counted) > number.offset + number.size,
        "plans": len({row.plan_id for row in counted}),
        "by_department": Counter(row.department or "—" for row in counted).most_common(),
    }
    return render(request, "overdue.html.j2", context, signed=signed)
