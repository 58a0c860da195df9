"""The clockwork, run as Prefect flows in this process: from a committed
transition to its effects without loss, sweeps that send nothing twice, and
the evaluation report published as an artifact."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, update

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import NOTIFICATION, OUTBOX
from states.engine import firing as plans
from states.engine import signing
from states.plans import activities as records
from workflows import dispatch, messages
from workflows.flows import deliver_flow, dispatch_flow, report_flow, sweep_flow


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def clockwork(
    prefect: None, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Flows open their own engine on the test's database; files go to tmp_path."""
    monkeypatch.setenv("PERFPLAN_DATABASE_URL", db_url)
    monkeypatch.setenv("PERFPLAN_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("PERFPLAN_REPORTS_DIR", str(tmp_path / "reports"))
    messages.config.cache_clear()
    yield tmp_path
    messages.config.cache_clear()


def _messages(engine: Engine, **where: str) -> list[tuple[str, str, str]]:
    query = select(NOTIFICATION.c.kind, NOTIFICATION.c.recipient_name, NOTIFICATION.c.locale)
    for column, value in where.items():
        query = query.where(NOTIFICATION.c[column] == value)
    with session_scope(engine) as session:
        return [tuple(r) for r in session.execute(query.order_by(NOTIFICATION.c.id))]


def _artifacts(key: str) -> list[dict[str, Any]]:
    """Artifacts with this key, from the Prefect API the flows ran against."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value() or SubprocessASGIServer().api_url  # the temporary server
    response = httpx.post(
        f"{api}/artifacts/filter",
        json={
            "artifacts": {"key": {"any_": [key]}},
            "sort": "CREATED_DESC",
            "limit": 10,
            "offset": 0,
        },
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json())


def _agree_and_start(engine: Engine, plan_id: int, clock: FrozenClock) -> None:
    for who in ("zhang", "li", "wang"):
        with session_scope(engine) as session:
            signing.sign(session=session, plan_id=plan_id, actor=who, now=clock())
    clock.set(_at("2026-09-01T09:00"))
    with session_scope(engine) as session:
        plans.fire(session=session, plan_id=plan_id, event="start", actor="li", now=clock())


def test_a_crash_after_commit_still_delivers_once(
    clockwork: Path, engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    # The transitions committed, and the process died before carrying out their effects.
    _agree_and_start(engine, zhang_plan, clock)
    with session_scope(engine) as session:
        waiting = session.execute(
            select(func.count()).select_from(OUTBOX).where(OUTBOX.c.status == "pending")
        ).scalar_one()
    assert waiting > 0
    assert dispatch_flow(as_of="2026-09-01T09:05:00+00:00")["failed"] == 0
    started = _messages(engine, kind="plan_started")
    assert sorted(started) == sorted(
        [
            ("plan_started", "张三 Zhang San", "zh-CN"),
            ("plan_started", "Li Wei", "en"),
            ("plan_started", "王芳 Wang Fang", "zh-CN"),
            ("plan_started", "陈静 Chen Jing", "zh-CN"),
        ]
    )
    assert deliver_flow(as_of="2026-09-01T09:05:00+00:00")["sent"] == len(_messages(engine))
    outbox_files = sorted((clockwork / "outbox").iterdir())
    assert any(f.name.endswith("plan_started-employee-zh-CN.eml") for f in outbox_files)
    # A second dispatcher finds nothing left, and nothing is sent twice.
    assert dispatch_flow(as_of="2026-09-01T09:06:00+00:00") == {"done": 0, "failed": 0}
    assert len(_messages(engine, kind="plan_started")) == 4


def test_an_effect_carried_out_twice_changes_nothing_twice(
    clockwork: Path, engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    _agree_and_start(engine, zhang_plan, clock)
    dispatch.dispatch_pending(engine, now=_at("2026-09-01T09:05"))
    before = _messages(engine)
    # A dispatcher whose lease ran out mid-way: every row is handed out again.
    with session_scope(engine) as session:
        session.execute(update(OUTBOX).values(status="pending", claimed_until=None))
    report = dispatch.dispatch_pending(engine, now=_at("2026-09-01T10:00"))
    assert report.failed == [] and len(report.done) > 0
    assert _messages(engine) == before


def test_a_failing_effect_waits_and_is_retried(
    clockwork: Path, engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    def broken(*_: object) -> None:
        raise ConnectionError("mail relay unreachable")

    _agree_and_start(engine, zhang_plan, clock)
    report = dispatch.dispatch_pending(
        engine, now=_at("2026-09-01T09:05"), handlers={"announce": broken}
    )
    assert report.failed and all(":announce" in key for key in report.failed)
    with session_scope(engine) as session:
        errors = (
            session.execute(select(OUTBOX.c.last_error).where(OUTBOX.c.flow == "announce"))
            .scalars()
            .all()
        )
    assert errors and all("mail relay unreachable" in e for e in errors)
    assert dispatch.dispatch_pending(engine, now=_at("2026-09-01T09:05:01")).done == []
    retried = dispatch.dispatch_pending(engine, now=_at("2026-09-01T12:00"))
    assert retried.failed == [] and all(":announce" in key for key in retried.done)
    assert len(_messages(engine, kind="plan_started")) == 4


def test_sweeping_twice_at_the_same_instant_sends_nothing_twice(
    clockwork: Path, engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    _agree_and_start(engine, zhang_plan, clock)
    dispatch_flow(as_of="2026-09-01T09:05:00+00:00")  # schedules the timers
    first = sweep_flow(as_of="2026-10-08T02:00:00+00:00")
    assert first["recorded"] > 0
    overdue = _messages(engine, kind="milestone_overdue")
    assert ("milestone_overdue", "孙浩 Sun Hao", "zh-CN") in overdue  # level 2: the department head
    again = sweep_flow(as_of="2026-10-08T02:00:00+00:00")
    assert (again["reminders"], again["recorded"]) == (0, 0)
    assert _messages(engine, kind="milestone_overdue") == overdue
    deliver_flow(as_of="2026-10-08T02:00:00+00:00")  # rendered now, each with its goal
    with session_scope(engine) as session:
        texts = (
            session.execute(
                select(NOTIFICATION.c.body_text).where(NOTIFICATION.c.kind == "milestone_overdue")
            )
            .scalars()
            .all()
        )
    assert len(texts) == len(overdue)
    assert all('"industry customer analysis" training' in text for text in texts)  # both overdue


def test_evaluation_report_flow_publishes_an_artifact(
    clockwork: Path, engine: Engine, zhang_plan: int, clock: FrozenClock
) -> None:
    _agree_and_start(engine, zhang_plan, clock)
    clock.set(_at("2026-11-30T16:00"))
    with session_scope(engine) as session:
        for goal, value in (
            ("contracts", 95),
            ("training", 86),
            ("reports", 100),
            ("response_time", 24),
        ):
            records.measure(
                session=session, plan_id=zhang_plan, goal=goal, value=value, actor="li", now=clock()
            )
        plans.fire(
            session=session,
            plan_id=zhang_plan,
            event="evaluate",
            actor="li",
            now=clock(),
            inputs={"outcome": "successful"},
        )
    result = dispatch_flow(as_of="2026-11-30T16:05:00+00:00")
    assert result["failed"] == 0
    written = sorted(p.name for p in (clockwork / "reports").iterdir())
    assert written == [
        f"plan-{zhang_plan}-evaluation.{loc}.{ext}"
        for loc in ("en", "zh-CN")
        for ext in ("html", "md")
    ]
    ready = _messages(engine, kind="evaluation_ready")
    assert ("evaluation_ready", "Li Wei", "en") in ready
    assert ("evaluation_ready", "张三 Zhang San", "zh-CN") in ready
    artifacts = _artifacts(f"evaluation-report-plan-{zhang_plan}")
    assert artifacts and "95" in artifacts[0]["data"]
    # On demand, again: the same files, no second announcement.
    assert report_flow(plan_id=zhang_plan, as_of="2026-12-02T09:00:00+00:00")
    assert _messages(engine, kind="evaluation_ready") == ready
