"""HR's overdue dashboard: every milestone past due on a running plan, across the
organisation (or the departments the viewer covers), most late first."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request
from fastapi.responses import Response

from perfplan.web.deps import RuntimeDep, SignedInDep
from perfplan.web.pages.rendering import render
from states import access
from states.queries import overdue_milestones

router = APIRouter()

# The dashboard shows this many rows; the counts above it say when there are more.
SHOWN = 500


@router.get("/overdue")
def overdue(request: Request, rt: RuntimeDep, signed: SignedInDep) -> Response:
    access.require(signed.viewer, "plans.overdue_dashboard")
    today = rt.now().date()
    with rt.transaction() as session:
        rows = overdue_milestones(session, viewer=signed.viewer, today=today, limit=SHOWN + 1)
    shown = rows[:SHOWN]
    by_department = Counter(row["department"] or "—" for row in shown)
    plans = len({row["plan_id"] for row in shown})
    context = {"rows": shown, "more": len(rows) > SHOWN, "today": today, "plans": plans,
               "by_department": by_department.most_common()}  # fmt: skip
    return render(request, "overdue.html.j2", context, signed=signed)
