"""Two sweeps at once over the same due reminders record each message once.

Several of Zhang's plans are started and their timers scheduled; on 20 October
many reminders and escalations are due (overdue milestones up the ladder,
progress reports, coaching talks). Two processes sweep at that instant, in
small batches so that their claims interleave. A twin database, set up the
same way and swept once, says what one sweep records: the two together must
record exactly that — each message once, none lost — without an error.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from models.tables import FOLLOWUP, NOTIFICATION
from tests.proofs.pool import WorkerPool
from tests.proofs.support import START_DAY, Databases, count, notification_keys, started_zhang_plans
from tests.proofs.tasks import sweep_together
from workflows import dispatch
from workflows.sweep import sweep

pytestmark = pytest.mark.slow

PLANS = 4
AS_OF = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
BATCH = 7  # small, so that the two sweeps take turns claiming


def plans_with_timers(db: Engine) -> int:
    """Started plans whose effects are carried out (timers scheduled, announcements
    recorded); returns how many ledger rows exist before any sweep."""
    started_zhang_plans(db, PLANS)
    report = dispatch.dispatch_pending(db, now=START_DAY + timedelta(minutes=5))
    assert report.failed == [] and report.done
    return count(db, NOTIFICATION)


def test_two_sweeps_at_once_record_each_message_once(
    databases: Databases, ledger_env: dict[str, str]
) -> None:
    twin = databases.engine(databases.new())
    before_twin = plans_with_timers(twin)
    alone = sweep(twin, as_of=AS_OF, batch=BATCH)
    url = databases.new()
    db = databases.engine(url)
    before = plans_with_timers(db)
    assert before == before_twin
    assert alone.recorded >= 3 * PLANS, asdict(alone)  # enough due for a real race

    with WorkerPool(url, 2, env=ledger_env) as pool:
        outcomes = pool.round([(sweep_together, {"as_of": AS_OF, "batch": BATCH})] * 2)

    assert [o.kind for o in outcomes] == ["ok", "ok"], outcomes
    reports = [o.detail for o in outcomes]
    assert sum(r["recorded"] for r in reports) == alone.recorded  # nobody counted twice
    assert sum(r["reminders"] for r in reports) == alone.reminders
    recorded = notification_keys(db, NOTIFICATION.c.created_at == AS_OF)
    assert set(recorded.values()) == {1}
    assert recorded == notification_keys(twin, NOTIFICATION.c.created_at == AS_OF)
    assert count(db, NOTIFICATION) == before + alone.recorded
    due = (FOLLOWUP.c.due_at <= AS_OF, FOLLOWUP.c.created_at < AS_OF)
    assert count(db, FOLLOWUP, *due, FOLLOWUP.c.status.in_(("pending", "claimed"))) == 0
    by_kind = Counter[str]()
    for report in reports:
        by_kind.update(report["by_kind"])
    assert dict(by_kind) == alone.by_kind
