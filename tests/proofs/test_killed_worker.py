"""A dispatcher killed (SIGKILL) after claiming outbox rows loses nothing and
repeats nothing: its rows wait for their lease, then another dispatcher
carries them out, and every message is recorded once.

The worker claims every pending row with a 30-second lease and commits the
claim, carries out the rows before the first announcement, and is killed in
the middle of that announcement's transaction (its messages written, not
committed). Time is the frozen clock's: "after the lease" is a `now` 31 s
later, not a sleep. A twin database, dispatched once without a crash, says
which messages there should be.
"""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest

from models.tables import NOTIFICATION, OUTBOX
from tests.proofs.pool import WorkerPool
from tests.proofs.support import (
    START_DAY,
    Databases,
    count,
    notification_keys,
    outbox_rows,
    started_zhang_plans,
)
from tests.proofs.tasks import claim_then_hang
from workflows import dispatch, messages

pytestmark = pytest.mark.slow

PLANS = 2
CLAIMED_AT = START_DAY + timedelta(minutes=5)
LEASE = timedelta(seconds=30)


def test_rows_of_a_killed_dispatcher_are_carried_out_once_after_their_lease(
    databases: Databases, ledger_env: dict[str, str]
) -> None:
    twin = databases.engine(databases.new())
    started_zhang_plans(twin, PLANS)
    assert dispatch.dispatch_pending(twin, now=CLAIMED_AT).failed == []
    url = databases.new()
    db = databases.engine(url)
    started_zhang_plans(db, PLANS)
    queued = set(outbox_rows(db))

    with WorkerPool(url, 1, env=ledger_env) as pool:
        pool.send(0, claim_then_hang, now=CLAIMED_AT, lease=LEASE)
        stuck = pool.receive(0)
        assert stuck.kind == "stuck", stuck
        os.kill(pool.processes[0].pid, signal.SIGKILL)
        pool.processes[0].join(timeout=30)
        assert pool.processes[0].exitcode == -signal.SIGKILL
    claimed, finished = set(stuck.detail["claimed"]), set(stuck.detail["finished"])
    assert claimed == queued and finished and stuck.detail["stuck"] not in finished
    # The killed transaction left nothing behind; the claimed rows stay leased.
    half_done = NOTIFICATION.c.dedup_key.contains(f"|{stuck.detail['stuck']}|")
    assert count(db, NOTIFICATION, half_done) == 0
    early = dispatch.dispatch_pending(db, now=CLAIMED_AT + LEASE - timedelta(seconds=1))
    assert (early.done, early.failed) == ([], [])

    late = dispatch.dispatch_pending(db, now=CLAIMED_AT + LEASE + timedelta(seconds=1))

    assert late.failed == [] and set(late.done) == claimed - finished
    rows = outbox_rows(db)
    assert {row.status for row in rows.values()} == {"done"}
    assert {key: row.attempts for key, row in rows.items()} == {
        key: 1 if key in finished else 2 for key in queued
    }
    recorded = notification_keys(db)
    assert set(recorded.values()) == {1}
    assert recorded == notification_keys(twin)  # the same messages a clean run records
    assert count(db, OUTBOX) == len(queued)
    sent = messages.deliver(db, now=CLAIMED_AT + timedelta(minutes=2))
    assert sent["sent"] == sum(recorded.values())
    assert len(list(Path(ledger_env["PERFPLAN_OUTBOX_DIR"]).iterdir())) == sent["sent"]
