"""What a plan announces and reminds of comes from its definition, not from code that
knows the standard one: the standard definition with every event renamed (consent
instead of agree, ...) tells the same people the same things on the same days, and a
definition's coaching talks say how long they take and whose they are to hold."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from models.db import session_scope
from models.tables import NOTIFICATION
from notifications.context import load_context
from states.definitions.catalog import BUILTIN_DIR
from states.engine import firing, signing
from states.plans import activities, operations
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
from workflows import dispatch, messages
from workflows.sweep import sweep

RENAMED = {
    "agree": "consent",
    "start": "begin",
    "adjust": "rework",
    "reconfirm": "confirm_again",
    "evaluate": "assess",
}


MORNING = time(2, 0)  # UTC: after the 01:00 reminders fall due


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def renamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The standard definition as an admin might copy it, with every event renamed."""
    text = (BUILTIN_DIR / "standard.yaml").read_text(encoding="utf-8")
    text = text.replace("name: standard", "name: renamed", 1)
    for old, new in RENAMED.items():
        text, count = re.subn(rf"(trigger: ){old}\b", rf"\g<1>{new}", text)
        assert count == 1, old
    directory = tmp_path / "definitions"
    directory.mkdir()
    (directory / "renamed.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("PERFPLAN_DEFINITIONS_DIR", str(directory))
    monkeypatch.setenv("PERFPLAN_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("PERFPLAN_REPORTS_DIR", str(tmp_path / "reports"))
    messages.config.cache_clear()
    yield "renamed"
    messages.config.cache_clear()


Step = Callable[[Any, int, datetime], object]


def _sign(who: str) -> Step:
    return lambda s, p, now: signing.sign(session=s, plan_id=p, actor=who, now=now)


def _fire(event: str, who: str) -> Step:
    return lambda s, p, now: firing.fire(session=s, plan_id=p, event=event, actor=who, now=now)


def _adjust(s: Any, p: int, now: datetime) -> object:
    return activities.adjust(
        session=s,
        plan_id=p,
        actor="li",
        now=now,
        kind="milestone",
        key="report_1",
        changes={"due": "2026-10-16"},
        reason="the data came late",
    )


def _confirm(who: str) -> Step:
    return lambda s, p, now: operations.confirm_adjustments(
        session=s, plan_id=p, actor=who, now=now
    )


def _measure(goal: str, value: float) -> Step:
    return lambda s, p, now: activities.measure(
        session=s, plan_id=p, goal=goal, value=value, actor="li", now=now
    )


def _evaluate(s: Any, p: int, now: datetime) -> object:
    return operations.evaluate(session=s, plan_id=p, actor="li", now=now, outcome="successful")


def _life(events: dict[str, str]) -> list[tuple[str, Step]]:
    """Zhang's plan from signing to evaluation: each step and when it is taken. The
    adjustment and the re-confirmation find their definition's own events."""
    return [
        ("2026-08-26T10:30", _sign("zhang")),
        ("2026-08-26T15:00", _sign("li")),
        ("2026-08-27T11:00", _sign("wang")),
        ("2026-09-01T09:00", _fire(events["start"], "li")),
        ("2026-10-12T10:00", _adjust),
        ("2026-10-13T09:00", _confirm("zhang")),
        ("2026-10-13T10:00", _confirm("li")),
        ("2026-11-30T08:00", _measure("contracts", 95)),
        ("2026-11-30T08:01", _measure("training", 86)),
        ("2026-11-30T08:02", _measure("reports", 100)),
        ("2026-11-30T08:03", _measure("response_time", 24)),
        ("2026-12-01T09:00", _evaluate),
    ]


def _play(engine: Engine, document: PlanDocument, events: dict[str, str]) -> int:
    created = _at("2026-08-25T09:00")
    with session_scope(engine) as session:
        plan_id = create_plan(session=session, document=document, actor="wang", now=created)
    dispatch.dispatch_pending(engine, now=created)
    day = created.date()
    for when, step in _life(events):
        moment = _at(when)
        while day < moment.date():  # each morning's sweep, as cron would run it
            day += timedelta(days=1)
            sweep(
                engine, as_of=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=2)
            )
        with session_scope(engine) as session:
            step(session, plan_id, moment)
        assert dispatch.dispatch_pending(engine, now=moment).failed == []
    return plan_id


def _told(engine: Engine, plan_id: int) -> list[tuple[Any, ...]]:
    """What the plan's people were told: kind, to whom, when, and what it said."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                NOTIFICATION.c.kind,
                NOTIFICATION.c.role,
                NOTIFICATION.c.recipient_name,
                NOTIFICATION.c.created_at,
                NOTIFICATION.c.context,
            )
            .where(NOTIFICATION.c.plan_id == plan_id)
            .order_by(NOTIFICATION.c.created_at, NOTIFICATION.c.kind, NOTIFICATION.c.role)
        ).all()
    told = []
    for kind, role, name, at, context in rows:
        said = load_context(context)
        said["plan"] = {k: v for k, v in said["plan"].items() if k != "id"}
        told.append((kind, role, name, at, said))
    # Two milestones overdue at one instant are told in no particular order: by content.
    return sorted(told, key=lambda message: (message[3], message[0], message[1], repr(message)))


def test_a_definition_with_renamed_events_announces_and_reminds_as_the_standard_does(
    renamed: str, engine: Engine, zhang_doc: PlanDocument
) -> None:
    standard = _play(engine, zhang_doc, {name: name for name in RENAMED})
    copy = zhang_doc.model_copy(update={"definition": renamed})
    other = _play(engine, copy, RENAMED)

    expected, got = _told(engine, standard), _told(engine, other)
    kinds = {kind for kind, *_ in expected}
    # The whole life is there: announcements, requests to sign, reminders, escalations.
    assert {
        "signature_requested",
        "plan_agreed",
        "plan_started",
        "progress_report_due",
        "coaching_session_due",
        "milestone_overdue",
        "adjustment_proposed",
        "adjustment_reconfirmed",
        "evaluation_ready",
    } <= kinds
    assert got == expected


def test_every_announcement_a_definition_may_name_is_a_message_the_clockwork_can_say() -> None:
    from notifications.kinds import KINDS
    from states.definitions.announcements import REPORT_MESSAGE
    from states.engine.registry import ANNOUNCEMENTS
    from workflows.announcements import SAYS

    assert set(ANNOUNCEMENTS) <= set(KINDS)
    assert set(SAYS) | {REPORT_MESSAGE} == set(ANNOUNCEMENTS)


def test_a_coaching_reminder_says_the_length_and_the_coach_the_definition_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine, zhang_doc: PlanDocument
) -> None:
    text = (BUILTIN_DIR / "standard.yaml").read_text(encoding="utf-8")
    text = text.replace("name: standard", "name: mentored", 1)
    before = "coaching: {every: P1W, minutes: 15, coach: manager}"
    assert before in text
    text = text.replace(before, "coaching: {every: P1W, minutes: 30, coach: mentor}")
    (tmp_path / "mentored.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("PERFPLAN_DEFINITIONS_DIR", str(tmp_path))
    monkeypatch.setenv("PERFPLAN_OUTBOX_DIR", str(tmp_path / "outbox"))
    messages.config.cache_clear()
    created = _at("2026-08-25T09:00")
    with session_scope(engine) as session:
        plan_id = create_plan(
            session=session,
            document=zhang_doc.model_copy(update={"definition": "mentored"}),
            actor="wang",
            now=created,
        )
    for when, step in _life({"start": "start"})[:4]:  # signed and started
        with session_scope(engine) as session:
            step(session, plan_id, _at(when))
    dispatch.dispatch_pending(engine, now=_at("2026-09-01T09:00"))
    sweep(engine, as_of=_at("2026-09-08T02:00"))  # the first week's talk is due
    with session_scope(engine) as session:
        said = [
            load_context(context)["coaching"]
            for (context,) in session.execute(
                select(NOTIFICATION.c.context).where(
                    NOTIFICATION.c.plan_id == plan_id,
                    NOTIFICATION.c.kind == "coaching_session_due",
                )
            )
        ]
    messages.config.cache_clear()
    assert said and all(c["minutes"] == 30 and c["coach"] == "陈静 Chen Jing" for c in said)
