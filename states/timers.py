"""Follow-ups: which reminders and escalations a plan needs, and which are due.

`schedule` (run by the `schedule_followups` flow after a transition) makes a
plan's pending timers the ones its current state needs: milestone reminders
and escalation ladders, progress-report and coaching reminders, signature
reminders, the evaluation prompt. `settle` takes the timers whose time has
come (claimed by the sweep, `workflows.sweep`), checks that each still applies
(milestone neither done nor moved, plan still in the same epoch, report not
already in) and returns the reminders to send. Both run in the caller's
transaction; the caller records the reminders (each with its dedup key) before
it commits. The mechanics of claiming (leases, SKIP LOCKED) are the clockwork's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import insert, select, update
from sqlmodel import Session

from models.tables import (
    COACHING_SESSION,
    FOLLOWUP,
    GOAL,
    MILESTONE,
    PLAN,
    PROGRESS_REPORT,
)
from people.roles import Holder, PlanPeople, people_of_plans, standing_holders
from states.definitions import catalog
from states.definitions.calendar import BusinessCalendar
from states.definitions.compiled import CompiledDefinition
from states.definitions.durations import Duration, parse_duration
from states.definitions.schema import Cadence, Rung
from states.engine.chains import chain_progress, round_signatures
from states.engine.context import PlanSnapshot
from states.engine.firing import PLAN_COLUMNS, load_plan
from states.engine.registry import STANDING_PREFIX as STANDING

# Reminders go out at 01:00 UTC: 09:00 in China (UTC+8).
REMINDER_TIME = time(1, 0)

RECIPIENT_ROLES: dict[str, tuple[str, ...]] = {
    "progress_report_due": ("employee",),
    "coaching_session_due": ("manager", "employee"),
    "milestone_due_soon": ("employee", "manager"),
    "evaluation_due": ("manager", "hr"),
}


# Milestones run (their reminders and escalations are scheduled, and a past due date is
# late) in the states that allow marking one done.
MILESTONE_ACTIVITY = "complete_milestone"


def milestone_states(definition: CompiledDefinition) -> tuple[str, ...]:
    """The states of `definition` in which milestones run: a plan drafted, agreed but not
    started, or finished has none late, whatever their dates."""
    return tuple(
        name for name in definition.spec.states if definition.allows(name, MILESTONE_ACTIVITY)
    )


class _Recurring(NamedTuple):
    """A reminder that comes round again: the activity it asks for (reminded only in states
    that allow it), where the definition sets its cadence (`timers.<timers>`) and the
    plan's own period for it (the `<every>` column)."""

    activity: str
    timers: str
    every: str


_CADENCES: dict[str, _Recurring] = {
    "progress_report_due": _Recurring("report_progress", "progress_report", "report_every"),
    "coaching_session_due": _Recurring("record_coaching", "coaching", "coaching_every"),
}
# A recurring reminder -> the escalation kind that climbs when its due day passes unmet.
MISSED = {
    "progress_report_due": "progress_report_missed",
    "coaching_session_due": "coaching_missed",
}
# The escalation kinds past the milestones', checked by `_escalation_check`.
LADDERS = ("progress_report_missed", "coaching_missed", "signature_waiting", "evaluation_overdue")


@dataclass(frozen=True)
class Reminder:
    """A message to send: what, about which plan, to whom, with what its check found
    (the milestone and how late it is, the due date...; the plan itself is in `Swept`)."""

    kind: str
    plan_id: int
    level: int
    dedup_key: str
    recipients: tuple[Holder, ...]
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Timer:
    kind: str
    subject: str
    level: int
    subject_due: date | None
    due_at: datetime


def _at(day: date) -> datetime:
    return datetime.combine(day, REMINDER_TIME, tzinfo=UTC)


def dedup_key(plan_id: int, kind: str, subject: str, level: int, subject_due: date | None) -> str:
    """The same reminder always has the same key, whoever computes it and how often."""
    due = subject_due.isoformat() if subject_due else ""
    return f"{kind}:plan{plan_id}:{subject}:L{level}:{due}"


def _duration(text: str | None) -> Duration | None:
    return parse_duration(text) if text else None


# ---------------------------------------------------------------- scheduling


def _milestone_timers(
    session: Session,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    calendar: BusinessCalendar,
    now: datetime,
) -> Iterator[_Timer]:
    timers = definition.spec.timers
    lead = _duration(timers.milestone_due_soon)
    ladder = timers.escalation.get("milestone_overdue", [])
    milestones = session.execute(
        select(MILESTONE.c.key, MILESTONE.c.due).where(
            MILESTONE.c.plan_id == plan.id, MILESTONE.c.status == "pending"
        )
    ).all()
    for key, due in milestones:
        if lead is not None:
            soon = _at(calendar.shift(due, lead, backwards=True))
            if soon > now:
                yield _Timer("milestone_due_soon", key, 0, due, soon)
        first_overdue_day = calendar.add_working_days(due, 1)
        yield from _ladder("milestone_overdue", key, due, first_overdue_day, ladder, calendar)


def _ladder(
    kind: str,
    subject: str,
    subject_due: date | None,
    first_day: date,
    rungs: list[Rung],
    calendar: BusinessCalendar,
) -> Iterator[_Timer]:
    """Every rung of an escalation ladder, counted from `first_day` (the first working day
    past what is late, or the day a chain began to wait)."""
    for level, rung in enumerate(rungs, start=1):
        day = calendar.shift(first_day, parse_duration(rung.after))
        yield _Timer(kind, subject, level, subject_due, _at(day))


def next_cadence_due(start: date, every: Duration, after: date) -> date:
    """The first cadence date (start + k·every, k ≥ 1) strictly after `after`."""
    step = max(every.delta.days, 1)
    elapsed = max((after - start).days, 0)
    return start + timedelta(days=(elapsed // step + 1) * step)


def _cadence_timer(
    kind: str, plan: PlanSnapshot, definition: CompiledDefinition, now: datetime
) -> Iterator[_Timer]:
    """The next reminder of a recurring kind after `now`, when the definition sets its
    cadence and the plan's period still has one."""
    cadence: Cadence | None = getattr(definition.spec.timers, _CADENCES[kind].timers)
    if cadence is None:
        return
    every = parse_duration(_cadence_of(plan, kind))
    before = parse_duration(cadence.remind_before).delta if cadence.remind_before else timedelta(0)
    due = next_cadence_due(plan.period_start, every, now.date())
    while _at(due) - before <= now:
        due = next_cadence_due(plan.period_start, every, due)
    if due <= plan.period_end:
        yield _Timer(kind, due.isoformat(), 0, due, _at(due) - before)


def _missed_timers(
    kind: str,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    calendar: BusinessCalendar,
    now: datetime,
) -> Iterator[_Timer]:
    """The ladder of a recurring kind's missed due days (`progress_report_missed`, ...):
    the last due day, if its rungs are still ahead, and the next one in the period."""
    missed = MISSED[kind]
    rungs = definition.spec.timers.escalation.get(missed, [])
    if not rungs or getattr(definition.spec.timers, _CADENCES[kind].timers) is None:
        return
    every = parse_duration(_cadence_of(plan, kind))
    step = timedelta(days=max(every.delta.days, 1))
    following = next_cadence_due(plan.period_start, every, now.date() - timedelta(days=1))
    for due in (following - step, following):
        if plan.period_start < due <= plan.period_end:
            first_day = calendar.add_working_days(due, 1)
            ladder = _ladder(missed, due.isoformat(), due, first_day, rungs, calendar)
            yield from (t for t in ladder if t.due_at > now)


def _signature_timers(
    session: Session,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    calendar: BusinessCalendar,
    now: datetime,
    level: int = 1,
) -> Iterator[_Timer]:
    pending = _duration(definition.spec.timers.signature_pending)
    if pending is None:
        return
    for transition in definition.transitions_from(plan.state):
        if transition.approval:
            day = calendar.shift(now.date(), pending)
            yield _Timer("signature_pending", transition.trigger, level, None, _at(day))


def _waiting_timers(
    plan: PlanSnapshot, definition: CompiledDefinition, calendar: BusinessCalendar, now: datetime
) -> Iterator[_Timer]:
    """The `signature_waiting` ladder of each chain the state waits on, counted from the
    day it began to wait (scheduled when the plan got there; kept by its key after)."""
    rungs = definition.spec.timers.escalation.get("signature_waiting", [])
    for transition in definition.transitions_from(plan.state) if rungs else ():
        if transition.approval:
            ladder = _ladder(
                "signature_waiting", transition.trigger, None, now.date(), rungs, calendar
            )
            yield from ladder


def _plan_timers(
    session: Session, plan: PlanSnapshot, definition: CompiledDefinition, now: datetime
) -> list[_Timer]:
    spec = definition.spec
    calendar = BusinessCalendar(spec.timers.calendar)
    timers = list(_signature_timers(session, plan, definition, calendar, now))
    timers += _waiting_timers(plan, definition, calendar, now)
    if plan.state in milestone_states(definition):
        timers += _milestone_timers(session, plan, definition, calendar, now)
    for kind, recurring in _CADENCES.items():
        if definition.allows(plan.state, recurring.activity):
            timers += _cadence_timer(kind, plan, definition, now)
            timers += _missed_timers(kind, plan, definition, calendar, now)
    if definition.allows(plan.state, "measure"):
        day = calendar.add_working_days(plan.period_end, 1)
        timers.append(_Timer("evaluation_due", "", 0, plan.period_end, _at(day)))
        rungs = spec.timers.escalation.get("evaluation_overdue", [])
        timers += _ladder("evaluation_overdue", "", plan.period_end, day, rungs, calendar)
    return timers


def _cadence_of(plan: PlanSnapshot, kind: str) -> str:
    """The plan's own cadence for a recurring reminder kind (e.g. P1W)."""
    every: str = getattr(plan, _CADENCES[kind].every)
    return every


def _timer_row(plan: PlanSnapshot, timer: _Timer, now: datetime) -> dict[str, Any]:
    dedup = dedup_key(plan.id, timer.kind, timer.subject, timer.level, timer.subject_due)
    return {
        "key": f"{dedup}:e{plan.epoch}",
        "dedup_key": dedup,
        "plan_id": plan.id,
        "kind": timer.kind,
        "subject": timer.subject,
        "level": timer.level,
        "epoch": plan.epoch,
        "subject_due": timer.subject_due,
        "due_at": timer.due_at,
        "status": "pending",
        "created_at": now,
    }


def schedule(session: Session, *, plan_id: int, now: datetime) -> int:
    """Make the plan's pending timers exactly those its current state needs; idempotent.

    Returns how many timers are pending for the plan afterwards.
    """
    plan = load_plan(session, plan_id)
    definition = catalog.by_hash(session, plan.definition_hash)
    wanted = {
        row["key"]: row
        for t in _plan_timers(session, plan, definition, now)
        for row in [_timer_row(plan, t, now)]
    }
    existing = dict(
        session.execute(
            select(FOLLOWUP.c.key, FOLLOWUP.c.status).where(FOLLOWUP.c.plan_id == plan_id)
        )
        .tuples()
        .all()
    )
    stale = [k for k, status in existing.items() if status == "pending" and k not in wanted]
    if stale:
        session.execute(
            update(FOLLOWUP).where(FOLLOWUP.c.key.in_(stale)).values(status="cancelled")
        )
    new = [row for key, row in wanted.items() if key not in existing]
    if new:
        session.execute(insert(FOLLOWUP), new)
    return len(wanted)


# ---------------------------------------------------------------- sweeping


class DueTimer(NamedTuple):
    """A timer whose time has come, claimed by a sweep (`workflows.sweep`): the columns
    its check reads."""

    id: int
    plan_id: int
    kind: str
    subject: str
    level: int
    epoch: int
    subject_due: date | None
    due_at: datetime
    dedup_key: str


@dataclass
class _Batch:
    """Everything the checks of one batch of timers need, loaded in a few queries."""

    plans: dict[int, PlanSnapshot]
    people: dict[int, PlanPeople]
    milestones: dict[tuple[int, str], _Milestone]
    reports: dict[int, list[datetime]]
    coaching: dict[int, list[datetime]]
    # (plan, kind, subject, level) -> the day a pending rung of a ladder falls due
    next_rungs: dict[tuple[int, str, str, int], date] = field(default_factory=dict)
    # standing role -> its holders, with the department each holds it for (None: all)
    standing: dict[str, list[tuple[Holder, str | None]]] = field(default_factory=dict)


def _times(
    session: Session, table: Any, column: Any, plan_ids: list[int]
) -> dict[int, list[datetime]]:
    found: dict[int, list[datetime]] = defaultdict(list)
    for plan_id, at in session.execute(
        select(table.c.plan_id, column).where(table.c.plan_id.in_(plan_ids))
    ):
        found[plan_id].append(at)
    return found


class _Milestone(NamedTuple):
    plan_id: int
    key: str
    title: str
    due: date
    status: str
    goal_title: str  # for the messages


def _milestones(
    session: Session, plan_ids: list[int], keys: set[str]
) -> dict[tuple[int, str], _Milestone]:
    """The milestones the timers name, each with its goal's title."""
    if not keys:
        return {}
    rows = session.execute(
        select(
            MILESTONE.c.plan_id,
            MILESTONE.c.key,
            MILESTONE.c.title,
            MILESTONE.c.due,
            MILESTONE.c.status,
            GOAL.c.title,
        )
        .join(GOAL, GOAL.c.id == MILESTONE.c.goal_id)
        .where(MILESTONE.c.plan_id.in_(plan_ids), MILESTONE.c.key.in_(keys))
    )
    return {(row[0], row[1]): _Milestone(*row) for row in rows}


def _load_batch(session: Session, timers: list[DueTimer]) -> _Batch:
    plan_ids = sorted({t.plan_id for t in timers})
    rows = session.execute(select(*PLAN_COLUMNS).where(PLAN.c.id.in_(plan_ids))).tuples()
    plans = {row[0]: PlanSnapshot(*row) for row in rows}  # PLAN_COLUMNS: its fields, in order
    return _Batch(
        plans=plans,
        people=people_of_plans(session, plan_ids),
        milestones=_milestones(
            session, plan_ids, {t.subject for t in timers if t.kind.startswith("milestone")}
        ),
        reports=_times(session, PROGRESS_REPORT, PROGRESS_REPORT.c.submitted_at, plan_ids),
        coaching=_times(session, COACHING_SESSION, COACHING_SESSION.c.held_at, plan_ids),
        next_rungs=_next_rungs(session, [t for t in timers if t.kind in LADDERS]),
        standing=_standing(session, timers, plans),
    )


def _next_rungs(
    session: Session, climbing: list[DueTimer]
) -> dict[tuple[int, str, str, int], date]:
    """When the rung after each of `climbing` falls due, as scheduled: looked up by the
    timers' keys (unique, indexed), one query."""
    if not climbing:
        return {}
    keys = [
        f"{dedup_key(t.plan_id, t.kind, t.subject, t.level + 1, t.subject_due)}:e{t.epoch}"
        for t in climbing
    ]
    rows = session.execute(
        select(FOLLOWUP.c.plan_id, FOLLOWUP.c.kind, FOLLOWUP.c.subject, FOLLOWUP.c.level)
        .add_columns(FOLLOWUP.c.due_at)
        .where(FOLLOWUP.c.key.in_(keys))
    ).tuples()
    return {(p, k, s, lv): at.date() for p, k, s, lv, at in rows}


def _standing(
    session: Session, timers: list[DueTimer], plans: dict[int, PlanSnapshot]
) -> dict[str, list[tuple[Holder, str | None]]]:
    """The holders of the standing roles the batch's ladders tell (none: no query)."""
    wanted: set[str] = set()
    for timer in timers:
        plan = plans.get(timer.plan_id)
        if plan is not None and (timer.kind in LADDERS or timer.kind == "milestone_overdue"):
            ladder = _definition(session, plan).spec.timers.escalation.get(timer.kind, [])
            wanted |= {r for rung in ladder for r in rung.notify if r.startswith(STANDING)}
    roles = sorted(r.removeprefix(STANDING) for r in wanted)
    return standing_holders(session, roles, prefix=STANDING) if roles else {}


def _recipients(
    people: PlanPeople | None,
    roles: tuple[str, ...],
    standing: dict[str, list[tuple[Holder, str | None]]],
) -> tuple[Holder, ...]:
    """The holders of `roles`, in that order, each person in each role once; a standing
    role (`standing:hr`) is everyone who holds it for the employee's department or all."""
    if people is None:
        return ()
    found: list[Holder] = []
    employees = people.holders("employee")
    department = employees[0].department if employees else ""
    for role in roles:
        if role.startswith(STANDING):  # someone told in a part of the plan is told once
            told = {h.id for h in found}
            held = [
                h
                for h, dept in standing.get(role, [])
                if dept in (None, department) and h.id not in told
            ]
        else:
            held = list(people.holders(role))
        found += [holder for holder in held if holder not in found]
    return tuple(found)


def _definition(session: Session, plan: PlanSnapshot) -> CompiledDefinition:
    return catalog.by_hash(session, plan.definition_hash)


def _milestone_check(
    batch: _Batch,
    timer: DueTimer,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    as_of: datetime,
) -> tuple[tuple[str, ...], dict[str, Any]] | None:
    milestone = batch.milestones.get((plan.id, timer.subject))
    if milestone is None or milestone.status != "pending" or milestone.due != timer.subject_due:
        return None  # done, or moved by an adjustment (its new date has its own timers)
    context: dict[str, Any] = {
        "milestone": {
            "key": milestone.key,
            "title": milestone.title,
            "due": milestone.due.isoformat(),
        },
        "goal_title": milestone.goal_title,
    }
    if timer.kind == "milestone_due_soon":
        if as_of.date() > milestone.due:
            return None  # already overdue: the ladder speaks now, not the reminder
        calendar = BusinessCalendar(definition.spec.timers.calendar)
        context["business_days_left"] = calendar.working_days_between(as_of.date(), milestone.due)
        return RECIPIENT_ROLES["milestone_due_soon"], context
    ladder = definition.spec.timers.escalation.get("milestone_overdue", [])
    if timer.level > len(ladder):
        return None
    calendar = BusinessCalendar(definition.spec.timers.calendar)
    first_overdue_day = calendar.add_working_days(milestone.due, 1)
    following = None
    if timer.level < len(ladder):
        rung = ladder[timer.level]
        on = calendar.shift(first_overdue_day, parse_duration(rung.after))
        following = {"role": rung.notify[0], "roles": list(rung.notify), "on": on.isoformat()}
    context.update(
        level=timer.level,
        levels=len(ladder),
        # Working days, as the ladder counts them: what the messages say is what it is.
        days_overdue=calendar.working_days_between(milestone.due, as_of.date()),
        notified_roles=_told_before(ladder, timer.level),
        next_escalation=following,
    )
    return tuple(ladder[timer.level - 1].notify), context


def _told_before(ladder: list[Rung], level: int) -> list[str]:
    """The roles the rungs below `level` told, each once, in the order they were told."""
    return list(dict.fromkeys(role for rung in ladder[: level - 1] for role in rung.notify))


def _still_late(
    session: Session,
    batch: _Batch,
    timer: DueTimer,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    as_of: datetime,
) -> dict[str, Any] | None:
    """What is still late for an escalation of `timer.kind`, or None when it no longer is
    (the report came, late or not; the talk was held; the chain is signed)."""
    if timer.kind == "signature_waiting":
        found = _signature_check(session, timer, plan, definition)
        if found is None:
            return None
        asked = {k: v for k, v in found[1].items() if k not in ("signed_by", "reminder")}
        return {"event": timer.subject, **asked}
    if timer.kind == "evaluation_overdue":
        return {"due": plan.period_end.isoformat()}  # the epoch holds: not evaluated
    due = timer.subject_due
    assert due is not None  # a missed report's or talk's ladder names its due day
    kind = next(k for k, missed in MISSED.items() if missed == timer.kind)
    window_start = _at(due) - parse_duration(_cadence_of(plan, kind)).delta
    done = batch.reports if kind == "progress_report_due" else batch.coaching
    if any(window_start < at <= as_of for at in done.get(plan.id, [])):
        return None
    return {"due": due.isoformat()}


def _escalation_check(
    session: Session,
    batch: _Batch,
    timer: DueTimer,
    plan: PlanSnapshot,
    definition: CompiledDefinition,
    as_of: datetime,
) -> tuple[tuple[str, ...], dict[str, Any]] | None:
    """A rung of a ladder past the milestones': whom it tells, and what the message says
    (how late, who was told before, who is told next and when)."""
    ladder = definition.spec.timers.escalation.get(timer.kind, [])
    if timer.level > len(ladder):
        return None
    context = _still_late(session, batch, timer, plan, definition, as_of)
    if context is None:
        return None
    calendar = BusinessCalendar(definition.spec.timers.calendar)
    since = date.fromisoformat(context["due"]) if "due" in context else None
    following = batch.next_rungs.get((plan.id, timer.kind, timer.subject, timer.level + 1))
    context.update(
        level=timer.level,
        levels=len(ladder),
        days_late=calendar.working_days_between(since, as_of.date()) if since else None,
        notified_roles=_told_before(ladder, timer.level),
        next_escalation={"roles": list(ladder[timer.level].notify), "on": following.isoformat()}
        if following is not None and timer.level < len(ladder)
        else None,
    )
    return tuple(ladder[timer.level - 1].notify), context


def _cadence_check(
    batch: _Batch, timer: DueTimer, plan: PlanSnapshot, every_text: str
) -> tuple[tuple[str, ...], dict[str, Any]] | None:
    due = timer.subject_due
    assert due is not None  # a cadence timer is scheduled with its due date
    window_start = _at(due) - parse_duration(every_text).delta
    done = batch.reports if timer.kind == "progress_report_due" else batch.coaching
    if any(window_start < at <= _at(due) + timedelta(hours=23) for at in done.get(plan.id, [])):
        return None  # already reported / held in this period
    return RECIPIENT_ROLES[timer.kind], {"due": due.isoformat()}


def _signature_check(
    session: Session, timer: DueTimer, plan: PlanSnapshot, definition: CompiledDefinition
) -> tuple[tuple[str, ...], dict[str, Any]] | None:
    transition = definition.transition(plan.state, timer.subject)
    if transition is None or transition.approval is None:
        return None
    chain = definition.spec.approval_chains[transition.approval]
    status = chain_progress(
        chain, transition.approval, round_signatures(session, plan, timer.subject)
    )
    if status.step is None:
        return None
    step = chain.steps[status.step]
    # The roles still missing (a quorum step: any of its roles), and never a person who
    # has signed this round (`settle` leaves out `signed_by`).
    roles = tuple(r for r in step.roles if r in status.waiting_for) or tuple(step.roles)
    return roles, {
        "event": timer.subject,
        "waiting_for": list(status.waiting_for),
        "reminder": timer.level,
        "signed_by": sorted({s.person_id for s in status.signed}),
    }


def _check(
    session: Session, batch: _Batch, timer: DueTimer, as_of: datetime
) -> tuple[tuple[str, ...], dict[str, Any]] | None:
    """The roles to tell and what to say, or None when the timer no longer applies."""
    plan = batch.plans.get(timer.plan_id)
    if plan is None or plan.epoch != timer.epoch:
        return None  # the plan moved on; its new state scheduled its own timers
    definition = _definition(session, plan)
    if timer.kind.startswith("milestone_"):
        return _milestone_check(batch, timer, plan, definition, as_of)
    if timer.kind in _CADENCES:
        return _cadence_check(batch, timer, plan, _cadence_of(plan, timer.kind))
    if timer.kind == "signature_pending":
        return _signature_check(session, timer, plan, definition)
    if timer.kind in LADDERS:
        return _escalation_check(session, batch, timer, plan, definition, as_of)
    return RECIPIENT_ROLES["evaluation_due"], {"period_end": plan.period_end.isoformat()}


def _next(session: Session, timer: DueTimer, plan: PlanSnapshot, as_of: datetime) -> list[_Timer]:
    """The next occurrence of a recurring timer (reports, coaching, signature reminders)."""
    definition = _definition(session, plan)
    calendar = BusinessCalendar(definition.spec.timers.calendar)
    if timer.kind == "signature_pending":
        later = list(_signature_timers(session, plan, definition, calendar, as_of, timer.level + 1))
        return [t for t in later if t.subject == timer.subject]
    after = max(as_of, timer.due_at)
    return [
        *_cadence_timer(timer.kind, plan, definition, after),
        *_missed_timers(timer.kind, plan, definition, calendar, after),
    ]


RECURRING = (*_CADENCES, "signature_pending")


@dataclass(frozen=True)
class Swept:
    """One batch of due timers settled: how many were claimed, the reminders that still
    apply, and what the checks read about their plans, so that the caller need not read
    it again: each plan as it is now, and its people (`people.roles`)."""

    claimed: int
    reminders: list[Reminder]
    plans: Mapping[int, PlanSnapshot] = field(default_factory=dict)
    people: Mapping[int, PlanPeople] = field(default_factory=dict)


def settle(session: Session, *, timers: list[DueTimer], as_of: datetime) -> Swept:
    """Decide what each claimed timer says now: the reminders that still apply, those
    that no longer do (marked skipped), and the next occurrence of recurring ones."""
    if not timers:
        return Swept(0, [])
    batch = _load_batch(session, timers)
    reminders: list[Reminder] = []
    skipped: list[int] = []
    follow_on: list[dict[str, Any]] = []
    for timer in timers:
        verdict = _check(session, batch, timer, as_of)
        if verdict is None:
            skipped.append(timer.id)
        plan = batch.plans.get(timer.plan_id)
        if plan is not None and plan.epoch == timer.epoch and timer.kind in RECURRING:
            follow_on += [_timer_row(plan, t, as_of) for t in _next(session, timer, plan, as_of)]
        if verdict is None or plan is None:
            continue
        roles, context = verdict
        done = set(context.get("signed_by", ()))  # nobody is asked for what they did
        recipients = tuple(
            h
            for h in _recipients(batch.people.get(plan.id), roles, batch.standing)
            if h.id not in done
        )
        reminders.append(
            Reminder(timer.kind, plan.id, timer.level, timer.dedup_key, recipients, context)
        )
    if skipped:
        session.execute(update(FOLLOWUP).where(FOLLOWUP.c.id.in_(skipped)).values(status="skipped"))
    _schedule_follow_on(session, follow_on)
    return Swept(len(timers), reminders, batch.plans, batch.people)


def _schedule_follow_on(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the timers not there yet (a concurrent sweep may have scheduled some)."""
    if not rows:
        return
    known = set(
        session.execute(
            select(FOLLOWUP.c.key).where(FOLLOWUP.c.key.in_([r["key"] for r in rows]))
        ).scalars()
    )
    fresh = {r["key"]: r for r in rows if r["key"] not in known}
    if fresh:
        session.execute(insert(FOLLOWUP), list(fresh.values()))


def pending(session: Session, plan_id: int) -> list[dict[str, Any]]:
    """A plan's pending timers, soonest first (for `plan show` and tests)."""
    rows = session.execute(
        select(FOLLOWUP.c.kind, FOLLOWUP.c.subject, FOLLOWUP.c.level, FOLLOWUP.c.due_at)
        .where(FOLLOWUP.c.plan_id == plan_id, FOLLOWUP.c.status == "pending")
        .order_by(FOLLOWUP.c.due_at, FOLLOWUP.c.id)
    )
    return [dict(r._mapping) for r in rows]
