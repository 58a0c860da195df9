"""Processes that change different plans at the same moment never get in each
other's way: every change succeeds (no Conflict, no "database is locked", no
deadlock), each plan holds exactly its own changes, and every chain verifies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.proofs.pool import WorkerPool
from tests.proofs.support import (
    SIGNED_MOVES,
    START_DAY,
    Databases,
    pingpong_plans,
    plan_row,
    verify,
)
from tests.proofs.tasks import race

pytestmark = pytest.mark.slow

WORKERS = 4
ROUNDS = 30  # each worker moves its own plan once a round: 120 changes per database


def test_changes_to_different_plans_all_succeed_and_all_chains_verify(
    databases: Databases,
) -> None:
    url = databases.new()
    db = databases.engine(url)
    plans = pingpong_plans(db, WORKERS)  # worker n owns plans[n]
    created = plan_row(db, plans[0])

    with WorkerPool(url, WORKERS) as pool:
        for number in range(ROUNDS):
            # Serve (fired) on even rounds, return (signed) on odd ones, every plan at once.
            move = SIGNED_MOVES["ping" if number % 2 == 0 else "pong"]
            now = START_DAY + timedelta(minutes=number)
            outcomes = pool.round(
                [
                    (
                        race,
                        {
                            "plan_id": plan_id,
                            "move": move,
                            "actor": ("li", "wang")[n % 2],
                            "now": now,
                        },
                    )
                    for n, plan_id in enumerate(plans)
                ]
            )
            assert [o.kind for o in outcomes] == ["ok"] * WORKERS, outcomes

    serves = (ROUNDS + 1) // 2
    returns = ROUNDS - serves
    changes = serves + 2 * returns  # a return signs, then transitions: two records
    records = created.audit_seq + changes
    rows = [plan_row(db, plan_id) for plan_id in plans]
    assert {(r.state, r.audit_seq, r.version) for r in rows} == {
        ("ping" if ROUNDS % 2 == 0 else "pong", records, created.version + changes)
    }
    report = verify(db)
    assert (report.ok, report.plans, report.records) == (True, WORKERS, WORKERS * records), (
        report.breaks
    )
