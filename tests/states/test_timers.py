"""Follow-up timers: reminders and escalation ladders on business days (China's
calendar, with make-up working days), and the sweep's checks at firing time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from models.clock import FrozenClock
from models.db import session_scope
from states import timers as followups
from states.engine import firing as plans
from states.engine import signing
from states.plans import activities as records
from workflows.sweep import sweep_batch


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def running(engine: Engine, zhang_plan: int, clock: FrozenClock) -> int:
    """Zhang's plan signed by all three and started on 1 September, timers scheduled."""
    for who in ("zhang", "li", "wang"):
        with session_scope(engine) as session:
            signing.sign(session=session, plan_id=zhang_plan, actor=who, now=clock())
    clock.set(_at("2026-09-01T09:00"))
    with session_scope(engine) as session:
        plans.fire(session=session, plan_id=zhang_plan, event="start", actor="li", now=clock())
        followups.schedule(session, plan_id=zhang_plan, now=clock())
    return zhang_plan


def _ladder(engine: Engine, plan_id: int, milestone: str) -> dict[int, str]:
    with session_scope(engine) as session:
        timers = followups.pending(session, plan_id)
    return {
        t["level"]: t["due_at"].date().isoformat()
        for t in timers
        if t["kind"] == "milestone_overdue" and t["subject"] == milestone
    }


def _sweep(engine: Engine, at: str) -> list[followups.Reminder]:
    with session_scope(engine) as session:
        return sweep_batch(session, as_of=_at(at)).reminders


def _about(
    reminders: list[followups.Reminder], kind: str, subject: str
) -> list[followups.Reminder]:
    return [
        r
        for r in reminders
        if r.kind == kind and r.context.get("milestone", {}).get("key") == subject
    ]


def test_ladder_skips_national_day_and_counts_the_makeup_saturday(
    engine: Engine, running: int
) -> None:
    # training_passed is due Wed 30 Sep 2026; 1-7 Oct are holidays; Sat 10 Oct is a working day.
    assert _ladder(engine, running, "training_passed") == {
        1: "2026-10-08",  # first working day after the due date
        2: "2026-10-12",  # + 3 business days: Fri 9, Sat 10 (调休), Mon 12
        3: "2026-10-16",  # + 7 business days
    }


def test_ladder_across_an_ordinary_weekend(engine: Engine, running: int) -> None:
    # response_36h is due Fri 30 Oct 2026.
    assert _ladder(engine, running, "response_36h") == {
        1: "2026-11-02",  # Monday
        2: "2026-11-05",
        3: "2026-11-11",
    }


def test_each_rung_reaches_its_own_people_once(engine: Engine, running: int) -> None:
    first = _about(_sweep(engine, "2026-10-08T02:00"), "milestone_overdue", "training_passed")
    assert [(r.level, sorted(p.key for p in r.recipients)) for r in first] == [(1, ["li", "zhang"])]
    assert _about(_sweep(engine, "2026-10-08T03:00"), "milestone_overdue", "training_passed") == []
    second = _about(_sweep(engine, "2026-10-12T02:00"), "milestone_overdue", "training_passed")
    assert [(r.level, [p.key for p in r.recipients]) for r in second] == [(2, ["sun"])]
    third = _about(_sweep(engine, "2026-10-16T02:00"), "milestone_overdue", "training_passed")
    assert [(r.level, [p.key for p in r.recipients]) for r in third] == [(3, ["wang"])]
    # Due 30 September: 16 calendar days later, but the National Day holiday (1-7 October)
    # is no working day and Saturday the 10th is one: 8 working days overdue.
    assert third[0].context["days_overdue"] == 8


def test_no_reminder_for_a_milestone_already_done(
    engine: Engine, running: int, clock: FrozenClock
) -> None:
    clock.set(_at("2026-09-29T10:00"))
    with session_scope(engine) as session:
        records.complete_milestone(
            session=session, plan_id=running, milestone="training_passed", actor="li", now=clock()
        )
    reminders = _sweep(engine, "2026-10-20T02:00")
    assert _about(reminders, "milestone_overdue", "training_passed") == []
    assert _about(reminders, "milestone_overdue", "training_attended") != []


def test_adjustment_that_moves_the_due_date_cancels_the_pending_escalation(
    engine: Engine, running: int, clock: FrozenClock
) -> None:
    # report_1 due Fri 9 Oct: level 1 goes out on Sat 10 Oct (a make-up working day).
    assert _about(_sweep(engine, "2026-10-10T02:00"), "milestone_overdue", "report_1")
    clock.set(_at("2026-10-12T10:00"))
    with session_scope(engine) as session:
        records.adjust(
            session=session,
            plan_id=running,
            actor="li",
            now=clock(),
            kind="milestone",
            key="report_1",
            changes={"due": "2026-10-23"},
            reason="customer data from the technical department came late",
        )
        followups.schedule(session, plan_id=running, now=clock())
    assert _ladder(engine, running, "report_1") == {
        1: "2026-10-26",
        2: "2026-10-29",
        3: "2026-11-04",
    }
    # The old level 2 (Tue 13 Oct) no longer fires.
    assert _about(_sweep(engine, "2026-10-14T02:00"), "milestone_overdue", "report_1") == []


def test_sweeping_twice_at_the_same_instant_returns_nothing_twice(
    engine: Engine, running: int
) -> None:
    first = _sweep(engine, "2026-10-08T02:00")
    assert first
    assert _sweep(engine, "2026-10-08T02:00") == []


def test_timers_of_an_older_epoch_do_not_fire(
    engine: Engine, running: int, clock: FrozenClock
) -> None:
    clock.set(_at("2026-10-12T10:00"))
    with session_scope(engine) as session:  # adjust without rescheduling: epoch moves on
        records.adjust(
            session=session,
            plan_id=running,
            actor="li",
            now=clock(),
            kind="milestone",
            key="report_2",
            changes={"due": "2026-10-27"},
            reason="holiday backlog",
        )
    assert _sweep(engine, "2026-10-20T02:00") == []


def test_progress_report_reminder_is_skipped_when_the_report_is_in(
    engine: Engine, running: int, clock: FrozenClock
) -> None:
    with session_scope(engine) as session:
        timers = followups.pending(session, running)
    report = next(t for t in timers if t["kind"] == "progress_report_due")
    assert report["due_at"] == _at("2026-09-07T01:00")  # the day before the weekly due date
    first = [r for r in _sweep(engine, "2026-09-07T02:00") if r.kind == "progress_report_due"]
    assert [(r.context["due"], [p.key for p in r.recipients]) for r in first] == [
        ("2026-09-08", ["zhang"])
    ]
    clock.set(_at("2026-09-14T08:00"))
    with session_scope(engine) as session:
        records.report_progress(
            session=session,
            plan_id=running,
            actor="zhang",
            now=clock(),
            summary="2 reports done this week, 1 approved",
        )
    second = [r for r in _sweep(engine, "2026-09-14T02:00") if r.kind == "progress_report_due"]
    assert second == []
    with session_scope(engine) as session:
        upcoming = [
            t for t in followups.pending(session, running) if t["kind"] == "progress_report_due"
        ]
    assert [t["due_at"].date().isoformat() for t in upcoming] == ["2026-09-21"]


def test_signers_are_reminded_while_a_chain_waits(
    engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    with session_scope(engine) as session:
        followups.schedule(session, plan_id=zhang_plan, now=clock())  # Tue 25 Aug
    reminders = _sweep(engine, "2026-08-27T02:00")  # + 2 business days
    assert [(r.kind, [p.key for p in r.recipients]) for r in reminders] == [
        ("signature_pending", ["zhang"])
    ]
    clock.set(_at("2026-08-27T09:00"))
    with session_scope(engine) as session:
        signing.sign(session=session, plan_id=zhang_plan, actor="zhang", now=clock())
    # The next reminder (Mon 31 Aug) now names the step that waits: manager and HR.
    later = _sweep(engine, "2026-08-31T02:00")
    assert [sorted(p.key for p in r.recipients) for r in later] == [["li", "wang"]]


def test_schedule_is_idempotent(engine: Engine, running: int, clock: FrozenClock) -> None:
    with session_scope(engine) as session:
        before = followups.pending(session, running)
        followups.schedule(session, plan_id=running, now=clock())
        assert followups.pending(session, running) == before


def test_no_due_soon_reminder_once_the_milestone_is_overdue(engine: Engine, running: int) -> None:
    # A sweep that runs late (first sweep since the start, on 20 Sep): training_attended
    # (due 15 Sep) gets its escalation, not a "due soon" reminder.
    reminders = _sweep(engine, "2026-09-20T02:00")
    assert _about(reminders, "milestone_due_soon", "training_attended") == []
    assert _about(reminders, "milestone_overdue", "training_attended")
    with session_scope(engine) as session:
        timers = followups.pending(session, running)
    wanted = ("milestone_due_soon", "training_passed")
    soon = [t["due_at"].date().isoformat() for t in timers if (t["kind"], t["subject"]) == wanted]
    assert soon == ["2026-09-24"]  # 3 business days before 30 Sep; 25 Sep is Mid-Autumn
