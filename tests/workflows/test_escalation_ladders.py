"""Every timer kind may climb a ladder of its own, as the definition says: a missed
coaching talk, a missed progress report, a chain still waiting for signatures, an
evaluation overdue. The mentored definition (docs/examples/definitions/mentored.yaml,
written from docs/definitions.md alone) is swept on each database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import FOLLOWUP, NOTIFICATION
from notifications.context import load_context
from people import access
from people.orgaudit import Acting
from states.engine import firing, signing
from states.plans import activities
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
from workflows import dispatch, messages
from workflows.sweep import sweep

ADMIN = Acting("admin", "cli")
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "definitions"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def mentored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zhang_doc: PlanDocument
) -> Iterator[PlanDocument]:
    """Zhang's plan on the mentored definition (Chen is his mentor)."""
    monkeypatch.setenv("PERFPLAN_DEFINITIONS_DIR", str(EXAMPLES))
    monkeypatch.setenv("PERFPLAN_OUTBOX_DIR", str(tmp_path / "outbox"))
    messages.config.cache_clear()
    yield zhang_doc.model_copy(update={"definition": "mentored"})
    messages.config.cache_clear()


def _told(engine: Engine, plan_id: int, kind: str = "escalation") -> list[tuple[str, str, dict]]:
    """(recipient's role, name, escalation context) of every message of `kind`."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(NOTIFICATION.c.role, NOTIFICATION.c.recipient_name, NOTIFICATION.c.context)
            .where(NOTIFICATION.c.plan_id == plan_id, NOTIFICATION.c.kind == kind)
            .order_by(NOTIFICATION.c.id)
        ).all()
    return [(role, name, load_context(context)["escalation"]) for role, name, context in rows]


def _running(engine: Engine, document: PlanDocument, clock: FrozenClock) -> int:
    with session_scope(engine) as session:
        plan_id = create_plan(session=session, document=document, actor="wang", now=clock())
    for who in ("zhang", "chen", "li", "wang"):
        with session_scope(engine) as session:
            signing.sign(session=session, plan_id=plan_id, actor=who, now=clock())
    with session_scope(engine) as session:
        firing.fire(
            session=session, plan_id=plan_id, event="start", actor="li", now=_at("2026-09-01T09:00")
        )
    assert dispatch.dispatch_pending(engine, now=_at("2026-09-01T09:05")).failed == []
    return plan_id


def test_a_missed_coaching_talk_climbs_to_the_department_head_and_standing_hr(
    engine: Engine, mentored: PlanDocument, clock: FrozenClock
) -> None:
    plan_id = _running(engine, mentored, clock)
    with session_scope(engine) as session:  # Wang is HR for Sales East, beyond this plan
        access.grant(
            session, person="wang", role="hr", department="Sales East", now=clock(), by=ADMIN
        )

    # The talk due Tuesday 8 September is not held: the next working day, the mentor and
    # the manager hear of it; three business days on, the department head and HR.
    sweep(engine, as_of=_at("2026-09-09T02:00"))
    first = _told(engine, plan_id)
    assert [(role, name) for role, name, _ in first] == [
        ("mentor", "陈静 Chen Jing"),
        ("manager", "Li Wei"),
    ]
    rung = first[0][2]
    assert (rung["kind"], rung["level"], rung["levels"], rung["due"]) == (
        "coaching_missed",
        1,
        2,
        date(2026, 9, 8),
    )
    assert rung["next"] == {"roles": ["department_head", "standing:hr"], "on": date(2026, 9, 14)}

    sweep(engine, as_of=_at("2026-09-14T02:00"))
    second = [(role, name) for role, name, e in _told(engine, plan_id) if e["level"] == 2]
    assert second == [("department_head", "孙浩 Sun Hao"), ("standing:hr", "王芳 Wang Fang")]


def test_a_talk_held_late_stops_the_ladder_and_the_next_week_has_its_own(
    engine: Engine, mentored: PlanDocument, clock: FrozenClock
) -> None:
    plan_id = _running(engine, mentored, clock)
    sweep(engine, as_of=_at("2026-09-09T02:00"))
    with session_scope(engine) as session:
        activities.record_coaching(
            session=session,
            plan_id=plan_id,
            actor="chen",
            notes="Late, but held",
            now=_at("2026-09-10T10:00"),
        )

    sweep(engine, as_of=_at("2026-09-14T02:00"))

    assert {e["level"] for _, _, e in _told(engine, plan_id)} == {1}
    with session_scope(engine) as session:
        ladders = session.execute(
            select(FOLLOWUP.c.subject, FOLLOWUP.c.level, FOLLOWUP.c.status).where(
                FOLLOWUP.c.plan_id == plan_id, FOLLOWUP.c.kind == "coaching_missed"
            )
        ).all()
    assert ("2026-09-08", 2, "skipped") in ladders
    assert ("2026-09-15", 1, "pending") in ladders  # the next week's talk has its ladder


def test_a_chain_that_waits_is_escalated_to_hr_with_whom_it_waits_for(
    engine: Engine, mentored: PlanDocument, clock: FrozenClock
) -> None:
    with session_scope(engine) as session:
        plan_id = create_plan(session=session, document=mentored, actor="wang", now=clock())
    assert dispatch.dispatch_pending(engine, now=clock()).failed == []

    # Created Tuesday 25 August; three business days on, nobody has signed.
    sweep(engine, as_of=_at("2026-08-28T02:00"))

    [(role, name, rung)] = _told(engine, plan_id)
    assert (role, name, rung["kind"], rung["level"]) == (
        "hr",
        "王芳 Wang Fang",
        "signature_waiting",
        1,
    )
    assert rung["waiting_for"] == ["employee", "mentor"]


def test_a_missed_report_is_escalated_unless_it_came_late(
    engine: Engine, mentored: PlanDocument, clock: FrozenClock
) -> None:
    # Reports are due fortnightly from 1 September (the plan's `report_every`): Tuesday
    # 15 September is the first. Zhang's comes a day late, on the 16th; his twin's never.
    fortnightly = mentored.model_copy(update={"report_every": "P2W"})
    late = _running(engine, fortnightly, clock)
    twin = _running(engine, fortnightly.model_copy(update={"title": "Another plan"}), clock)
    with session_scope(engine) as session:
        activities.report_progress(
            session=session,
            plan_id=late,
            actor="zhang",
            summary="A day late",
            now=_at("2026-09-16T10:00"),
        )

    sweep(engine, as_of=_at("2026-09-17T02:00"))

    def reports(plan_id: int) -> list[tuple[str, date]]:
        told = _told(engine, plan_id)
        return [(role, e["due"]) for role, _, e in told if e["kind"] == "progress_report_missed"]

    assert reports(late) == []
    assert reports(twin) == [("employee", date(2026, 9, 15)), ("mentor", date(2026, 9, 15))]


def test_an_evaluation_overdue_is_escalated_after_the_period(
    engine: Engine, mentored: PlanDocument, clock: FrozenClock
) -> None:
    plan_id = _running(engine, mentored, clock)

    # The period ends Monday 30 November; two business days after the first working day
    # past it, nobody has evaluated the plan.
    sweep(engine, as_of=_at("2026-12-03T02:00"))

    told = [
        (role, e["level"])
        for role, _, e in _told(engine, plan_id)
        if e["kind"] == "evaluation_overdue"
    ]
    assert told == [("manager", 1), ("hr", 1)]
