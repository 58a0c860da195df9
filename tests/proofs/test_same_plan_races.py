"""N processes move the same plan at the same moment, round after round.

Each round every worker reads the plan's version, waits at a barrier, and
then moves the plan out of its current state with that version expected:
firing `serve` and `rally`, or firing `serve` and signing `return`. Per
version exactly one wins; every other worker gets a Conflict — never another
error (no 500, no deadlock, no "database is locked"), never a lost update:
the version moves by exactly the winner's change, with exactly the winner's
audit records, and the chain verifies. 200 racing rounds of firing per
database: 100 with two workers, 100 with eight. Signing races force the window
in which a loser has read the plan but not yet the signatures, and must still
get a Conflict (this once crashed in the engine: `sign` now re-checks).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from models.tables import AUDIT, OUTBOX
from tests.proofs.pool import Outcome, WorkerPool
from tests.proofs.support import (
    DEPUTIES,
    FIRED_MOVES,
    SIGNED,
    SIGNED_MOVES,
    START_DAY,
    Databases,
    audit_tail,
    pingpong_plans,
    plan_row,
    verify,
)
from tests.proofs.tasks import race

pytestmark = pytest.mark.slow

ROUNDS = 100  # per test: 2 workers and 8 workers, so 200 rounds per database
SIGNING_ROUNDS = 10
PAUSE = 0.2  # seconds the losers of a signing race wait between reading the plan and the rest


def expected_records(move: str, actor: str) -> list[tuple[str, str, str]]:
    """The audit records one successful move appends: a signature first, if signed."""
    if move in SIGNED:
        return [("signature", f"sign:{move}", actor), ("transition", move, actor)]
    return [("transition", move, actor)]


def check_round(db: Engine, plan_id: int, before: Any, move: str, outcomes: list[Outcome]) -> None:
    """One winner, Conflicts for the rest, and exactly the winner's change stored."""
    kinds = Counter(o.kind for o in outcomes)
    assert kinds == Counter({"ok": 1, "Conflict": len(outcomes) - 1}), outcomes
    assert {o.detail["seen"] for o in outcomes} == {before.version}, outcomes
    [winner] = [o.detail["actor"] for o in outcomes if o.kind == "ok"]
    added = expected_records(move, winner)
    after = plan_row(db, plan_id)
    assert after.version == before.version + len(added)  # no lost update, no double move
    assert after.audit_seq == before.audit_seq + len(added)
    assert after.state == ("pong" if move == "serve" else "ping")
    assert after.state != before.state
    tail = [(r.kind, r.event, r.actor) for r in audit_tail(db, plan_id, before.audit_seq)]
    assert tail == added


def assert_outbox_follows_the_records(db: Engine, plan_id: int) -> None:
    """Every outbox row belongs to a record that exists (nothing queued by a loser)."""
    with db.connect() as conn:
        seqs = set(conn.execute(select(AUDIT.c.seq).where(AUDIT.c.plan_id == plan_id)).scalars())
        keys = list(conn.execute(select(OUTBOX.c.key).where(OUTBOX.c.plan_id == plan_id)).scalars())
    assert keys and {int(key.split(":")[3]) for key in keys} <= seqs


def race_rounds(
    pool: WorkerPool,
    db: Engine,
    plan_id: int,
    moves: dict[str, str],
    rounds: int,
    actors: list[str],
    pause: float = 0.0,
) -> None:
    """Race `rounds` times on the plan, checking every round."""
    for number in range(rounds):
        before = plan_row(db, plan_id)
        move = moves[before.state]
        task = {"plan_id": plan_id, "move": move, "now": START_DAY + timedelta(minutes=number)}
        outcomes = pool.round(
            [
                (race, {**task, "actor": actor, "pause_after_read": pause * bool(n)})
                for n, actor in enumerate(actors)
            ]
        )
        check_round(db, plan_id, before, move, outcomes)


def assert_chain_holds(db: Engine, plan_id: int, records: int) -> None:
    final = plan_row(db, plan_id)
    assert final.audit_seq == records
    report = verify(db)
    assert (report.ok, report.plans, report.records) == (True, 1, records), report.breaks
    assert_outbox_follows_the_records(db, plan_id)


@pytest.mark.parametrize("workers", [2, 8])
def test_racing_fires_one_wins_each_version_and_the_others_conflict(
    databases: Databases, workers: int
) -> None:
    url = databases.new()
    db = databases.engine(url)
    [plan_id] = pingpong_plans(db, 1)
    actors = [DEPUTIES[n % 2] for n in range(workers)]

    with WorkerPool(url, workers) as pool:
        race_rounds(pool, db, plan_id, FIRED_MOVES, ROUNDS, actors)

    assert_chain_holds(db, plan_id, 1 + ROUNDS)  # the creation, then one record per round


@pytest.mark.parametrize("workers", [2, 8])
def test_racing_signers_one_wins_each_version_and_the_others_conflict(
    databases: Databases, workers: int
) -> None:
    """Signing `return` completes its chain. The race a barrier produces now and then
    (seen: round 67 of 100 with two workers on SQLite) is forced every round: worker 0
    (Wang) acts at once, the others (Li) read the plan, pause, then go on."""
    url = databases.new()
    db = databases.engine(url)
    [plan_id] = pingpong_plans(db, 1)
    actors = ["wang"] + ["li"] * (workers - 1)

    with WorkerPool(url, workers) as pool:
        race_rounds(pool, db, plan_id, SIGNED_MOVES, SIGNING_ROUNDS, actors, pause=PAUSE)

    serves, returns = (SIGNING_ROUNDS + 1) // 2, SIGNING_ROUNDS // 2
    assert_chain_holds(db, plan_id, 1 + serves + 2 * returns)  # a return: signature + transition
