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
from states.definitions.schema import DEFAULT_ACTIVITY_ROLES, Effect
from states.engine.actions import ACTIONS
from states.engine.guards import GUARDS

__all__ = [
    "ACTIONS",
    "ACTIVITIES",
    "ACTIVITY_ROLES",
    "ANNOUNCEMENTS",
    "DERIVED_ROLES",
    "ESCALATIONS",
    "FLOWS",
    "GUARDS",
    "STANDING_ROLES",
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

# Who may do each activity (roles on the plan), where the state allows it, when the
# definition's `activities:` does not say (the standard definitions rely on these).
ACTIVITY_ROLES: dict[str, tuple[str, ...]] = DEFAULT_ACTIVITY_ROLES

ACTIVITIES: dict[str, str] = {
    "edit_plan": "change diagnosis, goals, milestones and actions freely (drafting)",
    "adjust": "change milestones and actions, never goals, with a reason",
    "report_progress": "record the employee's progress report",
    "record_coaching": "record a coaching session",
    "measure": "record a measured value of a goal",
    "complete_milestone": "mark a milestone as done",
}


# The timers an escalation ladder may climb (`timers.escalation.<kind>`): what starts the
# count of each (its first day is the working day after), and what stops it.
ESCALATIONS: dict[str, str] = {
    "milestone_overdue": "a milestone is past its due date and not done",
    "progress_report_missed": "no progress report came by its due day (the plan's report_every)",
    "coaching_missed": "no coaching talk was recorded by its due day (the plan's coaching_every)",
    "signature_waiting": "an approval chain still waits for a signature since the plan got there",
    "evaluation_overdue": "the plan's period ended and it is not evaluated",
}

# Whom a rung may tell besides the definition's roles: `standing:<role>` is everyone with
# that standing role of the organisation (HR: for the employee's department, or for all).
STANDING_PREFIX = "standing:"
STANDING_ROLES: dict[str, str] = {
    "hr": "HR for the employee's department, or for every department",
    "auditor": "the organisation's auditors",
    "admin": "the organisation's admins",
}


def _department_head(session: Session, plan_id: int, person_id: int) -> bool:
    return heads_employees_department(session, plan_id=plan_id, person_id=person_id)


# role kind -> does this person hold the derived role on the plan? (`people.roles` says)
DERIVED_ROLES: dict[str, Callable[[Session, int, int], bool]] = {
    "department_head": _department_head,
}
