"""Plan events and due follow-ups, as messages in the delivery ledger.

The rules (who is reminded of what, when) are in `states.followups`; the
wording and the channels are in `notifications`. This module only gathers the
facts a template needs and records one message per recipient, with a dedup
key, in the caller's transaction.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session

from models.tables import ADJUSTMENT, GOAL, MILESTONE, PERSON, PLAN, PLAN_ROLE, SIGNATURE
from notifications.config import NotificationConfig
from notifications.ledger import delivery, recording
from notifications.message import Recipient
from notifications.samples import PREVIEW_ROLES
from states.definitions import catalog
from states.engine.firing import chain_status, load_plan
from states.timers import Recipient as Person
from states.timers import Reminder, Swept
from views.report import EvaluationReport
from workflows.outbox import OutboxItem

log = logging.getLogger(__name__)

# Follow-up kinds (states) -> message kinds (notifications).
MESSAGE_KIND = {
    "signature_pending": "signature_requested",
    "milestone_due_soon": "milestone_due_soon",
    "milestone_overdue": "milestone_overdue",
    "progress_report_due": "progress_report_due",
    "coaching_session_due": "coaching_session_due",
    "evaluation_due": "evaluation_due",
}
# Event -> the announcement its transition makes (evaluation_ready is sent by the report).
ANNOUNCEMENT = {
    "agree": "plan_agreed",
    "start": "plan_started",
    "adjust": "adjustment_proposed",
    "reconfirm": "adjustment_reconfirmed",
}


@lru_cache(maxsize=1)
def config() -> NotificationConfig:
    """Routing, templates and settings, loaded once per process."""
    return NotificationConfig.load()


@dataclass
class _Facts:
    """What templates say about one plan: the plan and its people."""

    plan: dict[str, Any]
    people: Mapping[str, Sequence[Person]] = field(default_factory=dict)

    def name(self, role: str) -> str:
        found = self.people.get(role)
        return found[0].name if found else role.replace("_", " ")

    def base(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "employee": {"name": self.name("employee")},
            "manager": {"name": self.name("manager")},
        }

    def recipients(self, roles: Iterable[str]) -> list[Recipient]:
        found: dict[int, Recipient] = {}
        for role in roles:
            for p in self.people.get(role, []):
                found.setdefault(
                    p.person_id,
                    Recipient(
                        person_id=p.person_id,
                        role=role,
                        name=p.name,
                        email=p.email,
                        locale=p.locale,
                        key=p.key,
                    ),
                )
        return list(found.values())


_PLAN_FACTS = (
    "id",
    "title",
    "period_start",
    "period_end",
    "report_every",
    "coaching_every",
    "state",
)


def _plan_facts(plan: Any) -> dict[str, Any]:
    """The plan as templates see it (a plan row or a snapshot: the same fields)."""
    return {name: getattr(plan, name) for name in _PLAN_FACTS}


def _facts(session: Session, plan_id: int) -> _Facts:
    """A plan's facts, read for one announcement."""
    plan = session.execute(
        select(*(PLAN.c[name] for name in _PLAN_FACTS)).where(PLAN.c.id == plan_id)
    ).one()
    rows = session.execute(
        select(
            PLAN_ROLE.c.role,
            PERSON.c.id,
            PERSON.c.key,
            PERSON.c.name,
            PERSON.c.email,
            PERSON.c.locale,
        )
        .join(PERSON, PERSON.c.id == PLAN_ROLE.c.person_id)
        .where(PLAN_ROLE.c.plan_id == plan_id)
        .order_by(PLAN_ROLE.c.id)
    )
    people: dict[str, list[Person]] = defaultdict(list)
    for r in rows:
        people[r.role].append(Person(r.id, r.key, r.name, r.email, r.locale, r.role))
    return _Facts(plan=_plan_facts(plan), people=people)


def _swept_people(swept: Swept, plan_id: int) -> Mapping[str, Sequence[Person]]:
    """The plan's people by role, with the head of the employee's department: a
    message names them ("Informed: …") whether or not they are among its readers."""
    people = swept.people.get(plan_id, {})
    head = swept.heads.get(plan_id)
    if head is None or people.get("department_head"):
        return people
    return {**people, "department_head": [head]}


def _swept_facts(swept: Swept) -> dict[int, _Facts]:
    """The facts of the plans a sweep reminds of, as its checks read them."""
    return {
        plan_id: _Facts(
            plan=_plan_facts(swept.plans[plan_id]), people=_swept_people(swept, plan_id)
        )
        for plan_id in {r.plan_id for r in swept.reminders}
    }


def _recipient(person: Person, known: dict[tuple[int, str], Recipient]) -> Recipient:
    """The person as the ledger addresses them; one object per person and role
    for all the reminders of a batch (`known`)."""
    found = known.get((person.person_id, person.role))
    if found is None:
        found = known[(person.person_id, person.role)] = Recipient(
            person_id=person.person_id,
            role=person.role,
            name=person.name,
            email=person.email,
            locale=person.locale,
            key=person.key,
        )
    return found


def _record(
    session: Session,
    *,
    kind: str,
    plan_id: int,
    recipients: Iterable[Recipient],
    context: Mapping[str, Any],
    dedup_key: str,
    now: datetime,
) -> int:
    recorded = 0
    for recipient in recipients:
        recorded += len(
            recording.enqueue(
                session,
                config=config(),
                kind=kind,
                plan_id=plan_id,
                recipient=recipient,
                context=context,
                dedup_key=dedup_key,
                now=now,
            )
        )
    return recorded


def _day(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _milestone_context(reminder: Reminder, facts: _Facts, now: datetime) -> dict[str, Any]:
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
        notified=[facts.name(role) for role in reminder.context.get("notified_roles", [])],
        next_escalation={"role": following["role"], "on": _day(following["on"])}
        if following
        else None,
    )
    return context


def _signature_context(session: Session, plan_id: int, event: str, now: datetime) -> dict[str, Any]:
    plan = load_plan(session, plan_id)
    definition = catalog.by_hash(session, plan.definition_hash)
    transition = definition.transition(plan.state, event)
    label = (transition.label if transition and transition.label else None) or {"en": event}
    signed = [
        {"name": s["name"], "role": s["role"]}
        for s in _signatures(session, plan_id, event, plan.epoch, plan.content_digest)
    ]
    return {
        "signature": {
            "label": label,
            "requested_on": now.date(),
            "respond_by": None,
            "signed": signed,
        }
    }


def _reminder_context(
    session: Session, reminder: Reminder, facts: _Facts, now: datetime
) -> dict[str, Any]:
    if reminder.kind.startswith("milestone_"):
        return _milestone_context(reminder, facts, now)
    if reminder.kind == "signature_pending":
        return _signature_context(session, reminder.plan_id, reminder.context["event"], now)
    due = _day(reminder.context.get("due") or reminder.context.get("period_end"))
    if reminder.kind == "progress_report_due":
        return {"report": {"due": due}}
    if reminder.kind == "coaching_session_due":
        return {"coaching": {"due": due, "minutes": 15, "coach": facts.name("manager")}}
    return {"evaluation_due": {"period_end": due}}


def record_reminders(session: Session, swept: Swept, *, now: datetime) -> int:
    """Record each reminder of a sweep's batch for each of its recipients, with the
    facts its checks read; returns the messages recorded (a reminder recorded
    before is not recorded again)."""
    reminders = swept.reminders
    if not reminders:
        return 0
    facts = _swept_facts(swept)
    requests = []
    recipients: dict[tuple[int, str], Recipient] = {}
    for reminder in reminders:
        plan = facts[reminder.plan_id]
        context = {**plan.base(), **_reminder_context(session, reminder, plan, now)}
        requests += [
            recording.Request(
                MESSAGE_KIND[reminder.kind],
                reminder.plan_id,
                _recipient(person, recipients),
                context,
                reminder.dedup_key,
            )
            for person in reminder.recipients
        ]
    return recording.enqueue_many(session, config=config(), requests=requests, now=now)


def _signatures(
    session: Session, plan_id: int, event: str, epoch: int, digest: str | None = None
) -> list[dict[str, Any]]:
    """Who signed `event` in this round (and, given a digest, for this very content)."""
    query = (
        select(PERSON.c.name, SIGNATURE.c.role, SIGNATURE.c.signed_at)
        .join(PERSON, PERSON.c.id == SIGNATURE.c.person_id)
        .where(
            SIGNATURE.c.plan_id == plan_id, SIGNATURE.c.event == event, SIGNATURE.c.epoch == epoch
        )
        .order_by(SIGNATURE.c.id)
    )
    if digest is not None:
        query = query.where(SIGNATURE.c.content_digest == digest)
    return [{"name": n, "role": r, "signed_on": at.date()} for n, r, at in session.execute(query)]


def _adjustments(session: Session, plan_id: int, status: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ADJUSTMENT, PERSON.c.name.label("proposer"))
        .join(PERSON, PERSON.c.id == ADJUSTMENT.c.proposed_by_id)
        .where(ADJUSTMENT.c.plan_id == plan_id, ADJUSTMENT.c.status == status)
        .order_by(ADJUSTMENT.c.id)
    ).all()
    titles = dict(
        session.execute(
            select(MILESTONE.c.key, MILESTONE.c.title).where(MILESTONE.c.plan_id == plan_id)
        )
        .tuples()
        .all()
    )
    return [
        {
            "target": titles.get(r.target_key, r.target_key),
            "target_kind": r.target_kind,
            "changes": [
                {"field": f, "before": r.before.get(f), "after": v} for f, v in r.after.items()
            ],
            "reason": r.reason,
            "proposed_by": r.proposer,
            "proposed_on": r.proposed_at.date(),
        }
        for r in rows
    ]


def _announcement_context(
    session: Session, kind: str, item: OutboxItem, facts: _Facts, now: datetime
) -> dict[str, Any] | None:
    plan_id = item.plan_id
    epoch = load_plan(session, plan_id).epoch
    if kind == "plan_agreed":
        # The agreement's signatures are those of the round that just ended.
        signatures = _signatures(session, plan_id, "agree", epoch - 1)
        return {"agreement": {"agreed_on": now.date(), "signatures": signatures}}
    if kind == "plan_started":
        goals = session.execute(
            select(
                GOAL.c.title,
                GOAL.c.baseline,
                GOAL.c.target,
                GOAL.c.unit,
                GOAL.c.deadline,
                GOAL.c.direction,
            )
            .where(GOAL.c.plan_id == plan_id)
            .order_by(GOAL.c.priority)
        )
        return {"started_on": now.date(), "goals": [dict(g._mapping) for g in goals]}
    if kind == "adjustment_proposed":
        proposed = _adjustments(session, plan_id, "proposed")
        return {"adjustment": proposed[-1]} if proposed else None
    confirmed = _adjustments(session, plan_id, "confirmed")
    return {"adjustments": confirmed, "confirmed_on": now.date()} if confirmed else None


def announce(session: Session, *, item: OutboxItem, now: datetime) -> int:
    """Tell the plan's people that its state changed (per the event's announcement)."""
    kind = ANNOUNCEMENT.get(str(item.payload.get("event")))
    if kind is None:
        return 0
    facts = _facts(session, item.plan_id)
    context = _announcement_context(session, kind, item, facts, now)
    if context is None:
        return 0
    return _record(
        session,
        kind=kind,
        plan_id=item.plan_id,
        recipients=facts.recipients(PREVIEW_ROLES[kind]),
        context={**facts.base(), **context},
        dedup_key=f"{kind}|{item.key}",
        now=now,
    )


def request_signatures(session: Session, *, item: OutboxItem, now: datetime) -> int:
    """Ask the people whose signature the plan's approval chain now waits for."""
    plan = load_plan(session, item.plan_id)
    definition = catalog.by_hash(session, plan.definition_hash)
    facts = _facts(session, plan.id)
    recorded = 0
    for transition in definition.transitions_from(plan.state):
        if transition.approval is None:
            continue
        status = chain_status(session, plan, definition, transition)
        if status.step is None:
            continue
        chain = definition.spec.approval_chains[transition.approval]
        signed = {s.person_id for s in status.signed}
        waiting = [
            r for r in facts.recipients(chain.steps[status.step].roles) if r.person_id not in signed
        ]
        context = {**facts.base(), **_signature_context(session, plan.id, transition.trigger, now)}
        recorded += _record(
            session,
            kind="signature_requested",
            plan_id=plan.id,
            recipients=waiting,
            context=context,
            dedup_key=f"signature_requested|{item.key}|step:{status.step}",
            now=now,
        )
    return recorded


def announce_report(session: Session, *, report: EvaluationReport, now: datetime) -> int:
    """Tell the plan's people that its evaluation report is ready, with each goal's result."""
    if report.evaluation is None:
        return 0
    plan_id = report.plan.id
    facts = _facts(session, plan_id)
    results = [
        {
            "goal": g.title,
            "baseline": g.baseline,
            "target": g.target,
            "actual": g.result.actual if g.result else None,
            "unit": g.unit,
            "met": bool(g.result and g.result.met),
        }
        for g in report.goals
    ]
    evaluation = {
        "outcome": report.evaluation.outcome,
        "evaluated_on": report.evaluation.evaluated_at.date(),
        "feedback": report.evaluation.feedback,
        "results": results,
    }
    return _record(
        session,
        kind="evaluation_ready",
        plan_id=plan_id,
        recipients=facts.recipients(PREVIEW_ROLES["evaluation_ready"]),
        context={**facts.base(), "evaluation": evaluation},
        dedup_key=f"evaluation_ready|plan:{plan_id}",
        now=now,
    )


def deliver(engine: Engine, *, now: datetime) -> dict[str, int]:
    """Send the recorded messages whose turn has come, on every channel that can be built."""
    channels, problems = config().available_channels()
    for name, problem in problems.items():
        log.warning("channel %s is not usable (%s); its messages wait", name, problem)
    policy = delivery.DeliveryPolicy.from_settings(config().settings)
    report = delivery.deliver_due(
        engine,
        channels=channels,
        renderer=config().renderer,
        now=now,
        policy=policy,
        unavailable=problems,
    )
    return {
        "sent": report.sent,
        "retried": report.retried,
        "dead": report.dead,
        "more": int(report.more),
    }
