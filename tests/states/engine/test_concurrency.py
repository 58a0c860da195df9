"""Several OS processes acting on the same SQLite file at the same moment.

Each worker is a real process (multiprocessing, 'spawn'), opens its own engine,
waits at a barrier and then fires or signs. Optimistic versions must turn
every race into one winner and Conflicts: never "database is locked", never
a lost update, and the audit chains verify afterwards.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from models.db import create_schema, make_engine, session_scope
from models.tables import AUDIT, OUTBOX, PLAN
from states import audit
from states.engine import firing as plan_engine
from states.engine import signing
from states.plans.opening import create_plan, read_document_file

ROOT = Path(__file__).resolve().parents[3]
ZHANG_FILE = ROOT / "docs" / "examples" / "zhang.yaml"
DRAFTING_DAY = datetime(2026, 8, 25, 9, 0, tzinfo=UTC)
PERIOD_STARTED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
SPAWN = multiprocessing.get_context("spawn")
ROUNDS = 6  # races per test: each round is a fresh plan and a fresh race

pytestmark = pytest.mark.slow


# --- what runs in each worker process -----------------------------------------------------------


def _act(db: Engine, task: dict[str, Any]) -> str:
    try:
        with session_scope(db) as session:
            kind = task.pop("kind")
            if kind == "sign":
                signed = signing.sign(session=session, now=DRAFTING_DAY, **task)
                return "fired" if signed.fired else "signed"
            plan_engine.fire(session=session, now=PERIOD_STARTED, **task)
            return "fired"
    except Exception as exc:  # reported to the test, which decides what is acceptable
        return f"{type(exc).__name__}: {exc}"


def worker(url: str, rounds: list[dict[str, Any]], barrier: Any, results: Any, name: int) -> None:
    """Per round: read the plan's version if asked, wait for the others, then act."""
    try:
        db = make_engine(url)
        with db.connect() as conn:  # connected before the first race, not during it
            conn.execute(select(PLAN.c.id).limit(1)).all()
        for number, task in enumerate(rounds):
            if task.pop("read_version", False):
                with db.connect() as conn:
                    query = select(PLAN.c.version).where(PLAN.c.id == task["plan_id"])
                    task["expected_version"] = conn.execute(query).scalar_one()
            barrier.wait(timeout=60)
            results.put((number, name, _act(db, task)))
        db.dispose()
    except Exception:
        results.put((-1, name, traceback.format_exc()))


def race(url: str, per_worker: list[list[dict[str, Any]]]) -> dict[int, list[str]]:
    """Run one worker per task list; returns, per round, the outcomes of all workers."""
    barrier = SPAWN.Barrier(len(per_worker))
    results = SPAWN.Queue()
    processes = [
        SPAWN.Process(target=worker, args=(url, rounds, barrier, results, name))
        for name, rounds in enumerate(per_worker)
    ]
    for process in processes:
        process.start()
    expected = sum(len(rounds) for rounds in per_worker)
    collected = [results.get(timeout=120) for _ in range(expected)]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    by_round: dict[int, list[str]] = {}
    for number, _name, outcome in collected:
        assert number >= 0, outcome  # a worker crashed outside of acting
        by_round.setdefault(number, []).append(outcome)
    return by_round


# --- the database the workers share -------------------------------------------------------------


def shared_database(tmp_path: Path, plans: int, *, agreed: bool) -> tuple[str, Engine, list[int]]:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    db = make_engine(url)
    create_schema(db)
    doc = read_document_file(ZHANG_FILE)
    ids = []
    for _ in range(plans):
        with session_scope(db) as session:
            ids.append(create_plan(session=session, document=doc, actor="wang", now=DRAFTING_DAY))
        for person in ("zhang", "li", "wang") if agreed else ("zhang",):
            with session_scope(db) as session:
                signing.sign(session=session, plan_id=ids[-1], actor=person, now=DRAFTING_DAY)
    return url, db, ids


def plan_rows(db: Engine) -> dict[int, Any]:
    with db.connect() as conn:
        rows = conn.execute(select(PLAN.c.id, PLAN.c.state, PLAN.c.version, PLAN.c.audit_seq))
        return {row.id: row for row in rows}


def audit_events(db: Engine, plan_id: int) -> list[tuple[str, str]]:
    with db.connect() as conn:
        query = select(AUDIT.c.event, AUDIT.c.actor).where(AUDIT.c.plan_id == plan_id)
        return [tuple(row) for row in conn.execute(query.order_by(AUDIT.c.seq))]


def assert_outbox_follows_the_records(db: Engine) -> None:
    """Outbox rows only for records that exist; each transition queued its flows once."""
    with db.connect() as conn:
        records = {(r.plan_id, r.seq): r for r in conn.execute(select(AUDIT))}
        keys = conn.execute(select(OUTBOX.c.plan_id, OUTBOX.c.key, OUTBOX.c.flow)).all()
    queued: Counter[tuple[int, int, str]] = Counter()
    for plan_id, key, flow in keys:
        seq = int(key.split(":")[3])
        assert (plan_id, seq) in records, key
        queued[(plan_id, seq, flow)] += 1
    assert set(queued.values()) == {1}
    for (plan_id, seq), record in records.items():
        if record.kind == "transition" and record.event != "create":
            assert (plan_id, seq, "announce") in queued, record


def verify(db: Engine) -> audit.VerifyReport:
    with session_scope(db) as session:
        return audit.verify(session)


def kinds(outcomes: list[str]) -> Counter[str]:
    return Counter(outcome.split(":")[0] for outcome in outcomes)


# --- races --------------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [2, 4])
def test_racers_with_expected_version_one_wins_the_rest_conflict(
    tmp_path: Path, workers: int
) -> None:
    url, db, ids = shared_database(tmp_path, ROUNDS, agreed=True)
    before = plan_rows(db)
    actors = ["li", "wang"]
    per_worker = [
        [
            {
                "kind": "fire",
                "plan_id": plan_id,
                "event": "start",
                "actor": actors[n % 2],
                "read_version": True,
            }
            for plan_id in ids
        ]
        for n in range(workers)
    ]

    by_round = race(url, per_worker)

    after = plan_rows(db)
    for number, plan_id in enumerate(ids):
        outcomes = by_round[number]
        assert kinds(outcomes) == Counter({"fired": 1, "Conflict": workers - 1}), outcomes
        assert not any("locked" in outcome for outcome in outcomes)
        assert (after[plan_id].state, after[plan_id].version) == (
            "in_progress",
            before[plan_id].version + 1,
        )
        starts = [e for e in audit_events(db, plan_id) if e[0] == "start"]
        assert len(starts) == 1
    assert_outbox_follows_the_records(db)
    report = verify(db)
    assert (report.ok, report.plans) == (True, len(ids))
    db.dispose()


def test_racers_without_expected_version_never_both_start(tmp_path: Path) -> None:
    url, db, ids = shared_database(tmp_path, ROUNDS, agreed=True)
    before = plan_rows(db)
    per_worker = [
        [{"kind": "fire", "plan_id": p, "event": "start", "actor": who} for p in ids]
        for who in ("li", "wang")
    ]

    by_round = race(url, per_worker)

    after = plan_rows(db)
    for number, plan_id in enumerate(ids):
        outcomes = kinds(by_round[number])
        assert outcomes["fired"] == 1, by_round[number]
        # The loser either read the plan before the winner wrote (Conflict) or after
        # (NotAllowedNow: it is no longer agreed). Nothing else, and never both.
        assert outcomes["Conflict"] + outcomes["NotAllowedNow"] == 1, by_round[number]
        assert after[plan_id].version == before[plan_id].version + 1
        assert len([e for e in audit_events(db, plan_id) if e[0] == "start"]) == 1
    assert_outbox_follows_the_records(db)
    assert verify(db).ok
    db.dispose()


def test_second_approver_loses_race_and_succeeds_on_retry(tmp_path: Path) -> None:
    """Li and Wang sign the same step at once: one signature lands, the other is a
    Conflict (not a lost signature); signing again completes the agreement."""
    url, db, ids = shared_database(tmp_path, ROUNDS, agreed=False)
    per_worker = [
        [{"kind": "sign", "plan_id": p, "actor": who} for p in ids] for who in ("li", "wang")
    ]

    by_round = race(url, per_worker)

    for number, plan_id in enumerate(ids):
        outcomes = kinds(by_round[number])
        assert outcomes["Conflict"] + outcomes["NotAllowedNow"] <= 1, by_round[number]
        signed = [e for e in audit_events(db, plan_id) if e[0] == "sign:agree"]
        landed = outcomes["signed"] + outcomes["fired"]
        assert len(signed) == 1 + landed  # Zhang's signature, then whoever landed
        if landed == 1:
            loser = "wang" if ("sign:agree", "li") in signed else "li"
            with session_scope(db) as session:
                retried = signing.sign(
                    session=session, plan_id=plan_id, actor=loser, now=DRAFTING_DAY
                )
            assert retried.fired is not None
        assert plan_rows(db)[plan_id].state == "agreed"
    assert verify(db).ok
    db.dispose()


def test_concurrent_transitions_on_different_plans_all_succeed(tmp_path: Path) -> None:
    workers = 4
    url, db, ids = shared_database(tmp_path, workers * 3, agreed=True)
    before = plan_rows(db)
    # Worker n starts plans n, n+4, n+8 (read_version: with a version check each time).
    per_worker = [
        [
            {"kind": "fire", "plan_id": p, "event": "start", "actor": "li", "read_version": True}
            for p in ids[n::workers]
        ]
        for n in range(workers)
    ]

    by_round = race(url, per_worker)

    assert all(outcome == "fired" for outcomes in by_round.values() for outcome in outcomes), (
        by_round
    )
    after = plan_rows(db)
    assert {after[p].state for p in ids} == {"in_progress"}
    assert all(after[p].version == before[p].version + 1 for p in ids)
    report = verify(db)
    assert (report.ok, report.plans) == (True, len(ids))
    assert report.records == sum(after[p].audit_seq for p in ids)
    db.dispose()
