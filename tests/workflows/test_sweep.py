"""The sweep as a plain function (no Prefect): each batch records its messages with
the facts its checks read, each reader's message about their own plan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import NOTIFICATION
from notifications.context import load_context
from states.engine import firing as plans
from states.engine import signing
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
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


def _started(engine: Engine, document: PlanDocument, clock: FrozenClock) -> int:
    with session_scope(engine) as session:
        plan_id = create_plan(session=session, document=document, actor="wang", now=clock())
    for who in ("zhang", "li", "wang"):
        with session_scope(engine) as session:
            signing.sign(session=session, plan_id=plan_id, actor=who, now=clock())
    with session_scope(engine) as session:
        plans.fire(
            session=session, plan_id=plan_id, event="start", actor="li", now=_at("2026-09-01T09:00")
        )
    return plan_id


def test_two_plans_with_one_department_head_tell_him_of_each_in_one_batch(
    outbox: Path, engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    # Zhang's plan and a second one for him in the same department: Sun Hao heads it.
    second_doc = zhang_doc.model_copy(update={"title": "Zhang San — a second plan"})
    ids = [_started(engine, zhang_doc, clock), _started(engine, second_doc, clock)]
    assert dispatch.dispatch_pending(engine, now=_at("2026-09-01T09:05")).failed == []

    # Levels 1 and 2 of two milestones of each plan are due, all in one batch.
    report = sweep(engine, as_of=_at("2026-10-13T02:00"))

    assert report.batches == 1
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                NOTIFICATION.c.plan_id, NOTIFICATION.c.recipient_name, NOTIFICATION.c.context
            ).where(
                NOTIFICATION.c.kind == "milestone_overdue", NOTIFICATION.c.role == "department_head"
            )
        ).all()
    told = sorted((row.plan_id, load_context(row.context)["milestone"]["key"]) for row in rows)
    assert told == [
        (plan_id, key) for plan_id in ids for key in ("training_attended", "training_passed")
    ]
    titles = {zhang_doc.title: ids[0], second_doc.title: ids[1]}
    for row in rows:
        context = load_context(row.context)
        assert row.recipient_name == "孙浩 Sun Hao"
        assert context["recipient"] == {
            "name": "孙浩 Sun Hao",
            "role": "department_head",
            "locale": "zh-CN",
        }
        assert context["plan"]["id"] == row.plan_id == titles[context["plan"]["title"]]
        assert context["level"] == 2 and context["employee"] == {"name": "张三 Zhang San"}


def test_a_later_rung_names_the_department_head_told_in_an_earlier_batch(
    outbox: Path, engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    plan_id = _started(engine, zhang_doc, clock)
    assert dispatch.dispatch_pending(engine, now=_at("2026-09-01T09:05")).failed == []

    # A sweep every morning, as cron runs it: each rung in the batch of its own day,
    # so rung 3 (HR) comes in a batch with no message to the department head.
    for day in range(47):
        sweep(engine, as_of=_at("2026-09-15T02:00") + timedelta(days=day))

    with session_scope(engine) as session:
        contexts = [
            load_context(c)
            for c in session.execute(
                select(NOTIFICATION.c.context).where(
                    NOTIFICATION.c.plan_id == plan_id,
                    NOTIFICATION.c.kind == "milestone_overdue",
                    NOTIFICATION.c.role == "hr",
                )
            ).scalars()
        ]
    assert contexts and {c["level"] for c in contexts} == {3}
    for context in contexts:
        assert context["notified"] == ["张三 Zhang San", "Li Wei", "孙浩 Sun Hao"]
