"""The ledger's history: dead letters can be queued again, one or all, with a
fresh set of attempts; only dead letters, and only those that exist."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from models.clock import FrozenClock
from models.db import session_scope
from notifications.config import NotificationConfig
from notifications.errors import NotificationNotFound, NotRetryable
from notifications.ledger.history import retry
from notifications.message import Recipient
from tests.notifications.support import (
    SmtpServer,
    attempt_rows,
    deliver,
    enqueue_sample,
    ledger_rows,
    make_config,
    smtp_routing,
)


def _dead_letter(
    engine: Engine,
    config: NotificationConfig,
    smtp_server: SmtpServer,
    recipient: Recipient,
    plan_id: int,
    frozen: FrozenClock,
) -> int:
    smtp_server.inbox.refuse[recipient.email] = "550 5.2.1 Mailbox disabled"
    (queued,) = enqueue_sample(
        engine, config, kind="plan_started", recipient=recipient, plan_id=plan_id, now=frozen()
    )
    deliver(engine, config.channels(frozen), frozen)
    return queued.id


def test_retry_queues_a_dead_letter_again(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    dead = _dead_letter(engine, config, smtp_server, people["li"], zhang_plan, frozen)
    assert ledger_rows(engine)[0]["status"] == "dead"
    smtp_server.inbox.refuse.clear()  # the mailbox was fixed
    frozen.advance(hours=2)
    with session_scope(engine) as session:
        assert retry(session, scope=None, notification_id=dead, now=frozen()) == 1
    (row,) = ledger_rows(engine)
    assert (row["status"], row["attempts"], row["dead_at"]) == ("queued", 0, None)
    assert deliver(engine, config.channels(frozen), frozen).sent == 1  # type: ignore[attr-defined]
    assert [a["status"] for a in attempt_rows(engine, dead)] == ["permanent", "sent"]
    with pytest.raises(NotRetryable, match="is sent"), session_scope(engine) as session:
        retry(session, scope=None, notification_id=dead, now=frozen())
    with pytest.raises(NotificationNotFound), session_scope(engine) as session:
        retry(session, scope=None, notification_id=9999, now=frozen())


def test_retry_all_queues_every_dead_letter(
    engine: Engine,
    zhang_plan: int,
    people: dict[str, Recipient],
    smtp_server: SmtpServer,
    tmp_path: Path,
    frozen: FrozenClock,
) -> None:
    config = make_config(tmp_path, smtp_routing(smtp_server))
    for key in ("li", "wang"):
        _dead_letter(engine, config, smtp_server, people[key], zhang_plan, frozen)
    with session_scope(engine) as session:
        assert retry(session, scope=None, notification_id=None, now=frozen()) == 2
        assert retry(session, scope=None, notification_id=None, now=frozen()) == 0
    assert {row["status"] for row in ledger_rows(engine)} == {"queued"}
