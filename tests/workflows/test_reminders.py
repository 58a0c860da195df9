"""Reminders ask only for what is still to do: a signature reminder goes to the signers
its approval chain still waits for, never to someone who has signed this round, over
the whole chain (sign-off, then the re-confirmation of an adjustment)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import NOTIFICATION
from notifications.context import load_context
from states.engine import firing, signing
from states.plans import activities
from states.plans.document import PlanDocument
from tests.workflows.test_sweep import _started
from workflows import dispatch, messages
from workflows.sweep import sweep


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PERFPLAN_OUTBOX_DIR", str(tmp_path / "outbox"))
    messages.config.cache_clear()
    yield tmp_path / "outbox"
    messages.config.cache_clear()


class Plan:
    def __init__(self, engine: Engine, plan_id: int) -> None:
        self.engine, self.id = engine, plan_id
        self.seen: set[int] = set()

    def act(self, when: str, service: Callable[..., Any], who: str, **kwargs: Any) -> None:
        with session_scope(self.engine) as session:
            service(session=session, plan_id=self.id, actor=who, now=_at(when), **kwargs)
        assert dispatch.dispatch_pending(self.engine, now=_at(when)).failed == []

    def reminded(self, when: str) -> list[tuple[str, list[str]]]:
        """Sweep at `when`; the signature reminders it recorded: to whom, and whom each
        lists as having signed already."""
        sweep(self.engine, as_of=_at(when))
        with session_scope(self.engine) as session:
            rows = session.execute(
                select(NOTIFICATION.c.id, NOTIFICATION.c.role, NOTIFICATION.c.context)
                .where(
                    NOTIFICATION.c.plan_id == self.id,
                    NOTIFICATION.c.dedup_key.like("signature_pending:%"),
                )
                .order_by(NOTIFICATION.c.id)
            ).all()
        fresh = [row for row in rows if row.id not in self.seen]
        self.seen |= {row.id for row in rows}
        return [
            (row.role, [s["role"] for s in load_context(row.context)["signature"]["signed"]])
            for row in fresh
        ]


def test_only_those_still_to_sign_are_reminded_over_the_whole_chain(
    outbox: Path, engine: Engine, zhang_plan: int
) -> None:
    plan = Plan(engine, zhang_plan)
    assert dispatch.dispatch_pending(engine, now=_at("2026-08-25T09:00")).failed == []

    # Sign-off, step 1: only Zhang is asked, and reminded two working days later.
    assert plan.reminded("2026-08-27T02:00") == [("employee", [])]
    plan.act("2026-08-27T10:00", signing.sign, "zhang")
    # Step 2 waits for Li and Wang; Li signs, so the next reminder is Wang's alone.
    plan.act("2026-08-28T15:00", signing.sign, "li")
    assert plan.reminded("2026-08-31T02:00") == [("hr", ["employee", "manager"])]
    plan.act("2026-08-31T10:00", signing.sign, "wang")
    assert plan.reminded("2026-09-02T02:00") == []  # agreed: nobody is asked any more

    plan.act("2026-09-01T09:00", firing.fire, "li", event="start")
    # Re-confirmation of Li's adjustment: Zhang re-confirms at once; only Li is reminded.
    plan.act(
        "2026-10-12T10:00",
        activities.adjust,
        "li",
        kind="milestone",
        key="report_1",
        changes={"due": "2026-10-16"},
        reason="the technical department's data came late",
    )
    plan.act("2026-10-12T14:00", signing.sign, "zhang")
    assert plan.reminded("2026-10-14T02:00") == [("manager", ["employee"])]
    plan.act("2026-10-14T10:00", signing.sign, "li")
    assert plan.reminded("2026-10-16T02:00") == []


def test_an_escalation_counts_the_working_days_it_says(
    outbox: Path, engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    # report_1 was due on Friday 9 October 2026. Saturday the 10th is a working day in
    # China (made up for the National Day holiday), so by Wednesday the 14th it is 4
    # working days (5 calendar days) overdue: the day the department head is told.
    plan_id = _started(engine, zhang_doc, clock)
    assert dispatch.dispatch_pending(engine, now=_at("2026-09-01T09:05")).failed == []
    for day in range(10, 15):
        sweep(engine, as_of=_at(f"2026-10-{day}T02:00"))
    with session_scope(engine) as session:
        told = session.execute(
            select(NOTIFICATION.c.locale, NOTIFICATION.c.context).where(
                NOTIFICATION.c.plan_id == plan_id,
                NOTIFICATION.c.kind == "milestone_overdue",
                NOTIFICATION.c.role == "department_head",
                NOTIFICATION.c.dedup_key.like("%report_1%"),
            )
        ).one()
    context = load_context(told.context)
    assert (told.locale, context["level"], context["days_overdue"]) == ("zh-CN", 2, 4)
    renderer = messages.config().renderer
    chinese = renderer.render("milestone_overdue", "zh-CN", context)  # Sun Hao's
    for text in (chinese.subject, chinese.text, chinese.html):
        assert re.search(r"逾期 ?4 个工作日", text) and "5 个工作日" not in text
    english = renderer.render("milestone_overdue", "en", context)
    for text in (english.subject, english.text, english.html):
        assert "4 business days overdue" in text.replace("<strong>", "").replace("</strong>", "")
