"""Due follow-ups as messages: each reminder a sweep's batch settled (`states.timers`)
recorded for each of its readers, with what its check found and what the batch read
of its plan — nothing is read again per reminder but the signatures a chain waits for."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session

from models.tables import PERSON, SIGNATURE
from notifications.ledger import recording
from notifications.message import Recipient
from people.roles import Holder, PlanPeople
from states.definitions import catalog
from states.definitions.schema import COACHING_COACH, COACHING_MINUTES
from states.engine.context import PlanSnapshot
from states.timers import LADDERS, Reminder, Swept
from workflows.messages import addressed, base_context, config

# Follow-up kinds (states) -> message kinds (notifications).
MESSAGE_KIND = {
    "signature_pending": "signature_requested",
    "milestone_due_soon": "milestone_due_soon",
    "milestone_overdue": "milestone_overdue",
    "progress_report_due": "progress_report_due",
    "coaching_session_due": "coaching_session_due",
    "evaluation_due": "evaluation_due",
    # Every ladder past the milestones' speaks with one message (`escalation.kind`).
    **dict.fromkeys(LADDERS, "escalation"),
}

_SIGNED = (
    select(PERSON.c.name, SIGNATURE.c.role)
    .join(PERSON, PERSON.c.id == SIGNATURE.c.person_id)
    .where(
        SIGNATURE.c.plan_id == bindparam("plan_id"),
        SIGNATURE.c.event == bindparam("event"),
        SIGNATURE.c.epoch == bindparam("epoch"),
        SIGNATURE.c.content_digest == bindparam("digest"),
    )
    .order_by(SIGNATURE.c.id)
)


def _day(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _milestone(reminder: Reminder, people: PlanPeople) -> dict[str, Any]:
    milestone = dict(reminder.context["milestone"])
    milestone["due"] = _day(milestone["due"])
    context: dict[str, Any] = {
        "milestone": milestone,
        "goal": {"title": reminder.context.get("goal_title", "")},
    }
    if reminder.kind == "milestone_due_soon":
        context["days_left"] = reminder.context["business_days_left"]
        return context
    following = reminder.context.get("next_escalation")
    context.update(
        level=reminder.level,
        days_overdue=reminder.context["days_overdue"],
        notified=[people.name(role) for role in reminder.context.get("notified_roles", [])],
        next_escalation={"role": following["role"], "on": _day(following["on"])}
        if following
        else None,
    )
    return context


def _escalation(reminder: Reminder, people: PlanPeople) -> dict[str, Any]:
    """A rung of a ladder past the milestones': what is late since when, who was told."""
    found = reminder.context
    following = found.get("next_escalation")
    return {
        "kind": reminder.kind,
        "level": reminder.level,
        "levels": found["levels"],
        "due": _day(found["due"]) if found.get("due") else None,
        "days_late": found.get("days_late"),
        "waiting_for": list(found.get("waiting_for", [])),
        "notified": [people.name(role) for role in found.get("notified_roles", [])],
        "next": {"roles": following["roles"], "on": _day(following["on"])} if following else None,
    }


def signature_context(
    session: Session, plan: PlanSnapshot, event: str, now: datetime
) -> dict[str, Any]:
    """What a request to sign says: the event, when it was asked, who has signed this
    round for the plan's content as it is now."""
    definition = catalog.by_hash(session, plan.definition_hash)
    transition = definition.transition(plan.state, event)
    label = (transition.label if transition and transition.label else None) or {"en": event}
    # What is signed, in words: the plan itself, or a change to it that waits to be
    # re-confirmed (a chain whose transition confirms adjustments).
    confirms = transition is not None and "confirm_adjustments" in transition.actions
    values = {"plan_id": plan.id, "event": event, "epoch": plan.epoch}
    rows = session.execute(_SIGNED, {**values, "digest": plan.content_digest})
    signed = [{"name": name, "role": role} for name, role in rows.tuples()]
    return {
        "signature": {
            "label": label,
            "purpose": "reconfirm" if confirms else "sign_off",
            "requested_on": now.date(),
            "respond_by": None,
            "signed": signed,
        }
    }


def _context(
    session: Session, reminder: Reminder, plan: PlanSnapshot, people: PlanPeople, now: datetime
) -> dict[str, Any]:
    if reminder.kind.startswith("milestone_"):
        return _milestone(reminder, people)
    if reminder.kind in LADDERS:
        return {"escalation": _escalation(reminder, people)}
    if reminder.kind == "signature_pending":
        return signature_context(session, plan, reminder.context["event"], now)
    due = _day(reminder.context.get("due") or reminder.context.get("period_end"))
    if reminder.kind == "progress_report_due":
        return {"report": {"due": due}}
    if reminder.kind == "coaching_session_due":
        return {"coaching": _coaching(session, plan, people, due)}
    return {"evaluation_due": {"period_end": due}}


def _coaching(
    session: Session, plan: PlanSnapshot, people: PlanPeople, due: date
) -> dict[str, Any]:
    """The talk that is due: when, how long and with whom, as the definition says."""
    coaching = catalog.by_hash(session, plan.definition_hash).spec.timers.coaching
    minutes, coach = COACHING_MINUTES, COACHING_COACH  # a reminder of a talk is due: as ever
    if coaching is not None:
        minutes, coach = coaching.talk_minutes, coaching.coach_role
    return {"due": due, "minutes": minutes, "coach": people.name(coach)}


def _reader(holder: Holder, known: dict[tuple[int, str], Recipient]) -> Recipient:
    """One ledger recipient per person and role for all the reminders of a batch."""
    found = known.get((holder.id, holder.role))
    if found is None:
        found = known[(holder.id, holder.role)] = addressed(holder)
    return found


def record(session: Session, swept: Swept, *, now: datetime) -> int:
    """Record each reminder of a sweep's batch for each of its readers; returns the
    messages recorded (a reminder recorded before is not recorded again)."""
    if not swept.reminders:
        return 0
    requests = []
    readers: dict[tuple[int, str], Recipient] = {}
    bases: dict[int, dict[str, Any]] = {}
    for reminder in swept.reminders:
        plan, people = swept.plans[reminder.plan_id], swept.people.get(reminder.plan_id)
        people = people or PlanPeople()
        if plan.id not in bases:
            bases[plan.id] = base_context(plan, people)
        context = {**bases[plan.id], **_context(session, reminder, plan, people, now)}
        kind = MESSAGE_KIND[reminder.kind]
        requests += [
            recording.Request(kind, plan.id, _reader(h, readers), context, reminder.dedup_key)
            for h in reminder.recipients
        ]
    return recording.enqueue_many(session, config=config(), requests=requests, now=now)
