"""The invitations the messages carry: Zhang's plan started sends every event
(METHOD:REQUEST), the adjustment that moves report_1 sends it again with the same UID
and the next SEQUENCE, and the evaluation cancels them all; read back from a real SMTP
server on loopback with the `icalendar` parser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import Engine

from models.clock import FrozenClock
from models.db import session_scope
from states.engine import firing, signing
from states.plans import activities, operations
from states.plans.document import PlanDocument
from states.plans.opening import create_plan
from tests.notifications.conftest import smtp_server  # noqa: F401 (the fixture)
from tests.notifications.support import SmtpServer
from workflows import dispatch, messages

# The invitations do not depend on the database: SQLite alone keeps the suite short.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def mailed(
    smtp_server: SmtpServer,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SmtpServer]:
    monkeypatch.setenv("PERFPLAN_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("PERFPLAN_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("PERFPLAN_SMTP_SECURITY", "none")
    monkeypatch.setenv("PERFPLAN_REPORTS_DIR", str(tmp_path / "reports"))
    messages.config.cache_clear()
    yield smtp_server
    messages.config.cache_clear()


def _step(engine: Engine, when: str, step) -> None:
    with session_scope(engine) as session:
        step(session, _at(when))
    assert dispatch.dispatch_pending(engine, now=_at(when)).failed == []
    messages.deliver(engine, now=_at(when))


def _invitation(mail: EmailMessage) -> Calendar:
    parts = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    parsed = Calendar.from_ical(payload)
    assert parts[0].get_param("method") == str(parsed["METHOD"])
    return parsed


def _events(server: SmtpServer, kind: str, address: str) -> tuple[str, dict[str, Any]]:
    found = [m.email for m in server.inbox.to(address) if m.email["X-Perfplan-Kind"] == kind]
    assert found, f"no {kind} to {address}"
    calendar = _invitation(found[-1])
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    return str(calendar["METHOD"]), events


def test_start_adjust_and_end_send_request_sequence_and_cancel(
    mailed: SmtpServer, engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    with session_scope(engine) as session:
        plan_id = create_plan(session=session, document=zhang_doc, actor="wang", now=clock())
    for who in ("zhang", "li", "wang"):
        _step(
            engine,
            "2026-08-27T10:00",
            lambda s, now, w=who: signing.sign(session=s, plan_id=plan_id, actor=w, now=now),
        )
    _step(
        engine,
        "2026-09-01T09:00",
        lambda s, now: firing.fire(session=s, plan_id=plan_id, event="start", actor="li", now=now),
    )
    zhang = next(m for m in mailed.inbox.messages if m.email["X-Perfplan-Kind"] == "plan_started")
    address = zhang.rcpt_tos[0]
    method, events = _events(mailed, "plan_started", address)
    report_1 = f"perfplan-plan{plan_id}-milestone-report_1@localhost"
    assert method == "REQUEST" and report_1 in events
    assert f"perfplan-plan{plan_id}-evaluation@localhost" in events
    # Each reader's invitation is in their language: Zhang reads Chinese, Li English.
    by_language = {
        m.email["Content-Language"]: str(_invitation(m.email).walk("VEVENT")[0]["SUMMARY"])
        for m in mailed.inbox.messages
        if m.email["X-Perfplan-Kind"] == "plan_started"
    }
    assert by_language["zh-CN"].startswith("里程碑截止") and by_language["en"].startswith(
        "Milestone"
    )
    first = events[report_1]
    assert first["SEQUENCE"] == 0 and first.decoded("DTSTART") == date(2026, 10, 9)

    _step(
        engine,
        "2026-10-12T10:00",
        lambda s, now: activities.adjust(
            session=s,
            plan_id=plan_id,
            actor="li",
            now=now,
            kind="milestone",
            key="report_1",
            changes={"due": "2026-10-16"},
            reason="the data came late",
        ),
    )
    for who in ("zhang", "li"):
        _step(
            engine,
            "2026-10-13T10:00",
            lambda s, now, w=who: operations.confirm_adjustments(
                session=s, plan_id=plan_id, actor=w, now=now
            ),
        )
    method, events = _events(mailed, "adjustment_reconfirmed", address)
    assert method == "REQUEST" and list(events) == [report_1]  # only what moved
    moved = events[report_1]
    assert moved["SEQUENCE"] == 1 and moved.decoded("DTSTART") == date(2026, 10, 16)

    for goal, value in (
        ("contracts", 95),
        ("training", 86),
        ("reports", 100),
        ("response_time", 24),
    ):
        _step(
            engine,
            "2026-11-30T08:00",
            lambda s, now, g=goal, v=value: activities.measure(
                session=s, plan_id=plan_id, goal=g, value=v, actor="li", now=now
            ),
        )
    _step(
        engine,
        "2026-12-01T09:00",
        lambda s, now: operations.evaluate(
            session=s, plan_id=plan_id, actor="li", now=now, outcome="successful"
        ),
    )
    method, events = _events(mailed, "evaluation_ready", address)
    assert method == "CANCEL" and report_1 in events
    assert events[report_1]["SEQUENCE"] == 2 and events[report_1]["STATUS"] == "CANCELLED"
