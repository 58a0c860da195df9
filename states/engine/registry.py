"""The names a definition may use for guards, actions, flows, activities, derived roles
and announcements.

A definition never imports code by dotted path: it can only name functions
declared here. Guards answer None when the transition may happen, or a
sentence saying why not; actions do the transition's own bookkeeping.
Flows are only named here (`states` never imports Prefect): `workflows`
runs them from the outbox.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from people.roles import heads_employees_department
from states.definitions.schema import Effect
from states.engine.actions import ACTIONS
from states.engine.guards import GUARDS

__all__ = [
    "ACTIONS",
    "ACTIVITIES",
    "ACTIVITY_ROLES",
    "ANNOUNCEMENTS",
    "DERIVED_ROLES",
    "FLOWS",
    "GUARDS",
]

FLOWS: dict[Effect, str] = {
    Effect.ANNOUNCE: "tell the plan's people that its state changed",
    Effect.REQUEST_SIGNATURES: "ask the next signers of an approval chain to sign",
    Effect.SCHEDULE_FOLLOWUPS: "start reminders and escalations for a running plan",
    Effect.EVALUATION_REPORT: "render the evaluation report and send it to the plan's people",
    Effect.ARCHIVE_COPY: "render the signed copy (HTML and PDF) of a completed approval chain",
}

# The messages a transition may announce (`announce: {message: ..., to: [...]}`); the
# clockwork words and sends them. evaluation_ready is sent once the evaluation report
# is written (the evaluation_report effect), the others by the announce effect.
ANNOUNCEMENTS: dict[str, str] = {
    "plan_agreed": "the plan is agreed: who signed it, and when",
    "plan_started": "the plan has started: its goals, from baseline to target",
    "adjustment_proposed": "an adjustment of a milestone or action is proposed, with its reason",
    "adjustment_reconfirmed": "the proposed adjustments are re-confirmed and the plan runs on",
    "evaluation_ready": "the evaluation report is written: the outcome and each goal's result",
}

# Who may do each activity (roles on the plan), where the state allows it.
ACTIVITY_ROLES: dict[str, tuple[str, ...]] = {
    "edit_plan": ("manager", "hr"),
    "adjust": ("manager", "employee"),
    "report_progress": ("employee",),
    "record_coaching": ("manager", "mentor"),
    "measure": ("manager", "hr"),
    "complete_milestone": ("manager",),
}

ACTIVITIES: dict[str, str] = {
    "edit_plan": "change diagnosis, goals, milestones and actions freely (drafting)",
    "adjust": "change milestones and actions, never goals, with a reason",
    "report_progress": "record the employee's progress report",
    "record_coaching": "record a coaching session",
    "measure": "record a measured value of a goal",
    "complete_milestone": "mark a milestone as done",
}


def _department_head(session: Session, plan_id: int, person_id: int) -> bool:
    return heads_employees_department(session, plan_id=plan_id, person_id=person_id)


# role kind -> does this person hold the derived role on the plan? (`people.roles` says)
DERIVED_ROLES: dict[str, Callable[[Session, int, int], bool]] = {
    "department_head": _department_head,
}
