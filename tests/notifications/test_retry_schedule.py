"""The default retry settings keep a message alive through a working day of outage,
and docs/notifications.md shows the very schedule they give."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from models.clock import FrozenClock
from notifications.ledger.delivery import DeliveryPolicy, RetryStep, deliver_due, retry_schedule
from notifications.message import Recipient
from notifications.settings import NotificationSettings
from tests.notifications.support import (
    Inbox,
    enqueue_sample,
    free_port,
    ledger_rows,
    make_config,
)

DOC = Path(__file__).parents[2] / "docs" / "notifications.md"
DEFAULTS = DeliveryPolicy.from_settings(NotificationSettings())


def _span(seconds: float) -> str:
    """30 s, 7 min 30 s, 25 h 03 min (minutes rounded down)."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def schedule_table(steps: list[RetryStep]) -> str:
    """The schedule as the doc's table: steps with the same wait share one row."""
    lines = [
        "| attempt that fails | wait before the next | the next attempt, after the first |",
        "|---|---|---|",
    ]
    for _, group in itertools.groupby(steps, key=lambda step: (step.shortest, step.longest)):
        rows = list(group)
        first, last = rows[0], rows[-1]
        which = str(first.attempt) if first is last else f"{first.attempt} to {last.attempt}"
        each = "" if first is last else " each"
        lines.append(
            f"| {which} | {_span(first.shortest)} – {_span(first.longest)}{each} "
            f"| attempt {last.attempt + 1}: {_span(last.earliest)} – {_span(last.latest)} |"
        )
    return "\n".join(lines)


def test_the_default_retries_last_more_than_a_day_and_reach_their_cap() -> None:
    steps = retry_schedule(DEFAULTS)
    assert steps[-1].earliest >= 24 * 3600  # even the shortest draws of the jitter
    assert any(step.longest == DEFAULTS.backoff_cap for step in steps)


def test_the_doc_shows_the_schedule_of_the_default_settings() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert schedule_table(retry_schedule(DEFAULTS)) in doc
    assert f"| `PERFPLAN_MAX_ATTEMPTS` | `{DEFAULTS.max_attempts}` |" in doc
    base, cap = int(DEFAULTS.backoff_base), int(DEFAULTS.backoff_cap)
    assert f"| `PERFPLAN_BACKOFF_BASE`, `_CAP` | `{base}`, `{cap}` |" in doc


@pytest.fixture
def port() -> int:
    return free_port()


def test_a_working_day_of_outage_loses_no_reminder(
    engine: Engine, zhang_plan: int, tmp_path: Path, port: int
) -> None:
    routing = (
        "channels:\n"
        f"  email: {{kind: smtp, host: 127.0.0.1, port: {port}, security: none, timeout: 2}}\n"
        "default: [email]\n"
    )
    config = make_config(tmp_path, routing)
    clock = FrozenClock(datetime(2026, 10, 12, 8, 0, tzinfo=UTC))
    enqueue_sample(
        engine,
        config,
        kind="progress_report_due",
        recipient=Recipient(person_id=1, role="employee", email="zhang@example.com"),
        plan_id=zhang_plan,
        now=clock(),
    )
    rng = random.Random(3)

    def every_five_minutes_until(end: datetime) -> None:
        while clock() < end:
            deliver_due(
                engine,
                channels=config.channels(clock),
                renderer=config.renderer,
                now=clock(),
                policy=DEFAULTS,
                rng=rng,
            )
            clock.advance(minutes=5)

    # Nothing listens on the port from 08:00 to 18:00 (a cron run every five minutes).
    every_five_minutes_until(datetime(2026, 10, 12, 18, 0, tzinfo=UTC))
    (waiting,) = ledger_rows(engine)
    assert waiting["status"] == "queued" and waiting["attempts"] > 5

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        every_five_minutes_until(clock() + timedelta(seconds=DEFAULTS.backoff_cap + 300))
    finally:
        controller.stop()
    (sent,) = ledger_rows(engine)
    assert sent["status"] == "sent"
    assert len(inbox.messages) == 1
