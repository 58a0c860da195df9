"""Recording what happens while a plan runs: progress reports, coaching,
measurements, milestones done, and adjustments (milestones and actions only).

Each record is allowed only in states whose definition `allows` it, by the roles its
definition's `activities:` names (else `registry.ACTIVITY_ROLES`), bumps the plan's
version and appends an audit record, in the caller's transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from dateutil.rrule import rrulestr
from sqlalchemy import Table, insert, select, update
from sqlmodel import Session

from models.tables import (
    ACTION,
    ADJUSTMENT,
    COACHING_SESSION,
    GOAL,
    MEASUREMENT,
    MILESTONE,
    PERSON,
    PROGRESS_REPORT,
)
from states import audit
from states.definitions.compiled import CompiledDefinition
from states.engine.authority import authorise
from states.engine.context import Context, PlanSnapshot
from states.engine.firing import fire, load_actor, load_plan_and_definition, not_possible_there
from states.errors import InvalidInput, NotAllowedNow
from states.plans.content import plan_digest


def _states_allowing(definition: CompiledDefinition, activity: str) -> str:
    names = [name for name, spec in definition.spec.states.items() if activity in spec.allows]
    return ", ".join(names) or "no state"


def _begin(
    session: Session,
    plan_id: int,
    actor: str,
    activity: str,
    now: datetime,
    expected_version: int | None,
) -> Context:
    """The activity's context, once the plan's state allows it and the actor's role may."""
    plan, definition = load_plan_and_definition(session, plan_id, expected_version)
    if not definition.allows(plan.state, activity):
        allowing = _states_allowing(definition, activity)
        raise not_possible_there(
            plan, activity, f"{activity.replace('_', ' ')} is possible only in {allowing}"
        )
    person = load_actor(session, actor)
    roles = list(definition.spec.activity_roles(activity))
    role = authorise(session, plan, definition, person, roles, activity)
    return Context(session, plan, definition, activity, person, role, now)


def _log(ctx: Context, comment: str, content_digest: str | None = None) -> int:
    entry = audit.entry(ctx, "record", comment=comment)
    return audit.advance(ctx.session, ctx.plan, entry, content_digest=content_digest)


def _insert(session: Session, table: Table, values: dict[str, Any]) -> int:
    return int(session.execute(insert(table).values(**values).returning(table.c.id)).scalar_one())


def _recorded(
    ctx: Context,
    comment: str,
    table: Table,
    values: dict[str, Any],
    content_digest: str | None = None,
) -> int:
    """Audit the activity with `comment` (and the plan's new digest, when it changed what
    the plan says), then add its row to `table`; returns the row's id."""
    _log(ctx, comment, content_digest)
    return _insert(ctx.session, table, {"plan_id": ctx.plan.id, **values})


def _row_id(session: Session, table: Table, plan_id: int, key: str, kind: str) -> Any:
    row = session.execute(
        select(table).where(table.c.plan_id == plan_id, table.c.key == key)
    ).first()
    if row is None:
        known = session.execute(select(table.c.key).where(table.c.plan_id == plan_id)).scalars()
        raise InvalidInput(
            f"plan {plan_id} has no {kind} '{key}'; known: {', '.join(known)}", field=kind
        )
    return row


def report_progress(
    *,
    session: Session,
    plan_id: int,
    actor: str,
    now: datetime,
    summary: str,
    blockers: str = "",
    expected_version: int | None = None,
) -> int:
    """The employee's progress report; returns its id."""
    if not summary.strip():
        raise InvalidInput("a progress report needs a summary", field="summary")
    ctx = _begin(session, plan_id, actor, "report_progress", now, expected_version)
    values = {"author_id": ctx.actor.id, "submitted_at": now, "summary": summary}
    return _recorded(ctx, summary, PROGRESS_REPORT, {**values, "blockers": blockers})


def record_coaching(
    *,
    session: Session,
    plan_id: int,
    actor: str,
    now: datetime,
    notes: str,
    minutes: int = 15,
    expected_version: int | None = None,
) -> int:
    """A coaching talk held now by the manager or mentor; returns its id."""
    if minutes <= 0:
        raise InvalidInput("minutes must be positive", field="minutes")
    ctx = _begin(session, plan_id, actor, "record_coaching", now, expected_version)
    values = {"coach_id": ctx.actor.id, "held_at": now, "minutes": minutes, "notes": notes}
    return _recorded(ctx, notes, COACHING_SESSION, values)


def measure(
    *,
    session: Session,
    plan_id: int,
    goal: str,
    value: float,
    actor: str,
    now: datetime,
    measured_on: date | None = None,
    source: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> int:
    """A measured value of a goal's metric; returns the measurement's id."""
    ctx = _begin(session, plan_id, actor, "measure", now, expected_version)
    goal_row = _row_id(session, GOAL, plan_id, goal, "goal")
    on = measured_on or now.date()
    values = {
        "goal_id": goal_row.id,
        "value": value,
        "measured_on": on,
        "recorded_by_id": ctx.actor.id,
        "recorded_at": now,
        "source": source or goal_row.source,
        "note": note,
    }
    comment = f"{goal} = {value:g} {goal_row.unit} on {on.isoformat()}"
    return _recorded(ctx, comment, MEASUREMENT, values)


def complete_milestone(
    *,
    session: Session,
    plan_id: int,
    milestone: str,
    actor: str,
    now: datetime,
    comment: str = "",
    expected_version: int | None = None,
) -> None:
    """Mark a milestone done (accepted against its criterion by the manager)."""
    ctx = _begin(session, plan_id, actor, "complete_milestone", now, expected_version)
    row = _row_id(session, MILESTONE, plan_id, milestone, "milestone")
    if row.status == "done":
        raise NotAllowedNow(
            f"milestone '{milestone}' is already done",
            plan_id=plan_id,
            event="complete_milestone",
            state=ctx.plan.state,
        )
    late = f" ({(now.date() - row.due).days} days late)" if now.date() > row.due else ""
    _log(ctx, f"{milestone} done{late}. {comment}".strip())
    session.execute(
        update(MILESTONE).where(MILESTONE.c.id == row.id).values(status="done", done_at=now)
    )


def _as_date(field: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"'{text}' is not a date (YYYY-MM-DD)", field=field) from exc


def _as_rrule(field: str, text: str) -> str:
    try:
        rrulestr(text)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"'{text}' is not an RFC 5545 RRULE ({exc})", field=field) from exc
    return text


def _as_person(session: Session, field: str, key: str) -> int:
    person_id = session.execute(select(PERSON.c.id).where(PERSON.c.key == key)).scalar()
    if person_id is None:
        raise InvalidInput(f"unknown person '{key}'", field=field)
    return int(person_id)


# kind -> field -> (column, parser)
_EDITABLE: dict[str, dict[str, str]] = {
    "milestone": {"due": "due", "title": "title", "criterion": "criterion"},
    "action": {
        "title": "title",
        "starts": "starts",
        "ends": "ends",
        "recurrence": "recurrence",
        "supporter": "supporter_id",
    },
}


def _parsed(
    session: Session, kind: str, changes: dict[str, str], plan: PlanSnapshot
) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(_EDITABLE[kind]))
    if unknown:
        raise InvalidInput(
            f"a {kind} adjustment may change {', '.join(_EDITABLE[kind])}; "
            f"not {', '.join(unknown)}",
            field="changes",
        )
    values: dict[str, Any] = {}
    for field, text in changes.items():
        column = _EDITABLE[kind][field]
        if field in ("due", "starts", "ends"):
            values[column] = _as_date(field, text)
        elif field == "recurrence":
            values[column] = _as_rrule(field, text)
        elif field == "supporter":
            values[column] = _as_person(session, field, text)
        else:
            values[column] = text
    due = values.get("due")
    if due is not None and not plan.period_start <= due <= plan.period_end:
        raise InvalidInput(
            f"{due.isoformat()} is outside the plan's period "
            f"({plan.period_start.isoformat()} to {plan.period_end.isoformat()})",
            field="due",
        )
    return values


def _open_adjustment(
    session: Session,
    plan_id: int,
    actor: str,
    now: datetime,
    reason: str,
    expected_version: int | None,
) -> None:
    """Move the plan into a state that allows adjustments, when one transition leads there."""
    plan, definition = load_plan_and_definition(session, plan_id, expected_version)
    if definition.allows(plan.state, "adjust"):
        return
    for transition in definition.transitions_from(plan.state):
        if transition.approval is None and definition.allows(transition.dest, "adjust"):
            fire(
                session=session,
                plan_id=plan_id,
                event=transition.trigger,
                actor=actor,
                now=now,
                comment=reason,
                expected_version=expected_version,
            )
            return


def _refuse_unadjustable(kind: str, changes: dict[str, str], reason: str) -> None:
    if kind == "goal":
        raise InvalidInput(
            "goals stay fixed while a plan runs; adjust its milestones or actions", field="kind"
        )
    if kind not in _EDITABLE:
        raise InvalidInput(f"'{kind}' cannot be adjusted; use milestone or action", field="kind")
    if not reason.strip():
        raise InvalidInput("an adjustment needs a reason", field="reason")
    if not changes:
        raise InvalidInput("nothing to change", field="changes")


def _target(ctx: Context, kind: str, key: str) -> tuple[Table, Any]:
    """The milestone or action to adjust, and its table; a milestone done stays as it is."""
    table = MILESTONE if kind == "milestone" else ACTION
    row = _row_id(ctx.session, table, ctx.plan.id, key, kind)
    if kind == "milestone" and row.status == "done":
        raise NotAllowedNow(
            f"milestone '{key}' is already done and cannot be adjusted",
            plan_id=ctx.plan.id,
            event="adjust",
            state=ctx.plan.state,
        )
    return table, row


def adjust(
    *,
    session: Session,
    plan_id: int,
    actor: str,
    now: datetime,
    kind: str,
    key: str,
    changes: dict[str, str],
    reason: str,
    expected_version: int | None = None,
) -> int:
    """Change a milestone or an action (never a goal), with a reason; returns the adjustment id.

    From a running plan this first fires the transition into the adjusting
    state; the change then waits for re-confirmation by its approval chain.
    """
    _refuse_unadjustable(kind, changes, reason)
    _open_adjustment(session, plan_id, actor, now, reason, expected_version)
    ctx = _begin(session, plan_id, actor, "adjust", now, None)
    table, row = _target(ctx, kind, key)
    values = _parsed(session, kind, changes, ctx.plan)
    before = {f: _text(session, f, getattr(row, _EDITABLE[kind][f])) for f in changes}
    after = {f: _text(session, f, values[_EDITABLE[kind][f]]) for f in changes}
    session.execute(update(table).where(table.c.id == row.id).values(**values))
    summary = "; ".join(f"{f} {before[f]} → {after[f]}" for f in changes)
    proposed = {
        "target_kind": kind,
        "target_key": key,
        "before": before,
        "after": after,
        "reason": reason,
        "proposed_by_id": ctx.actor.id,
        "proposed_at": now,
        "status": "proposed",
    }
    comment = f"{kind} {key}: {summary}. Reason: {reason}"
    return _recorded(ctx, comment, ADJUSTMENT, proposed, plan_digest(session, plan_id))


def _text(session: Session, field: str, value: Any) -> str:
    """A field's value as people read it (dates in ISO form, people by key)."""
    if field == "supporter" and value is not None:
        return str(session.execute(select(PERSON.c.key).where(PERSON.c.id == value)).scalar())
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)
