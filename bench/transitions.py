"""Benchmark: persisted transitions per second, beside the same rows written by raw
SQLAlchemy Core in the same run, and memory after firing across 10k and 100k plans.

Every engine transition is a plan's real `start` in the standard definition,
done in full and committed on its own: load the plan, look up its definition,
check the actor's role, run the `period_started` guard, move the shared
machine, update the plan with a version check, append the hash-chained audit
record and the outbox rows. The raw baseline writes the same rows (the same
UPDATE, audit INSERT with its SHA-256, and as many outbox rows) with Core, one
commit each, on the same engine and SQLite settings (WAL, synchronous=NORMAL).
Engine and raw transitions alternate in blocks so that both see the same
database size and the same machine weather.

Setup (not measured) opens one real plan with `create_plan` and clones it,
state `agreed`, in bulk. Last line: one JSON object.

    .venv/bin/python bench/transitions.py [--plans 100000] [--timed 10000]
                                          [--database-url URL] [--quick] [--profile]

`--database-url` must point to an empty database (a PostgreSQL one works too).
"""

from __future__ import annotations

import argparse
import atexit
import cProfile
import gc
import hashlib
import importlib.machinery
import importlib.util
import io
import json
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# This file's name is the `transitions` library's. Run as a script, bench/
# comes first on sys.path and the engine's `import transitions` would find
# this file: so bench/ leaves the path. When another script in bench/ runs,
# its `import transitions` does find this file: it then loads the real library
# in its own place, and only harmless definitions follow (the engine and
# `states` are imported inside the functions that use them).
BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent


def _outside_bench(paths: list[str]) -> list[str]:
    return [p for p in paths if Path(p or ".").resolve() != BENCH_DIR]


if __name__ == "transitions":
    _spec = importlib.machinery.PathFinder.find_spec("transitions", _outside_bench(sys.path))
    assert _spec is not None and _spec.loader is not None
    _library = importlib.util.module_from_spec(_spec)
    sys.modules["transitions"] = _library
    _spec.loader.exec_module(_library)
else:
    sys.path[:] = [str(ROOT), *_outside_bench(sys.path)]

import psutil  # noqa: E402
from sqlalchemy import Engine, bindparam, func, insert, select, update  # noqa: E402

from models.db import create_schema, make_engine, session_scope  # noqa: E402
from models.plans import GENESIS_HASH  # noqa: E402
from models.tables import AUDIT, OUTBOX, PLAN, PLAN_ROLE  # noqa: E402

ZHANG_FILE = ROOT / "docs" / "examples" / "zhang.yaml"
DRAFTING_DAY = datetime(2026, 8, 25, 9, 0, tzinfo=UTC)
START_DAY = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
BLOCK = 500  # engine and raw transitions alternate in blocks of this many
WARM_UP = 200
CHUNK = 10_000  # rows per bulk INSERT during setup
GOAL = {"transitions_per_s": 1000, "ratio_vs_core": 3.0, "rss_ratio_100k_vs_10k": 1.25}


def say(line: str) -> None:
    print(line, flush=True)


def rss_mb() -> float:
    gc.collect()
    return float(psutil.Process().memory_info().rss) / 2**20


# --- setup --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    plan: dict[str, Any]
    roles: list[tuple[int, str]]  # (person_id, role)


def open_template_plan(db: Engine) -> Template:
    """Zhang's plan, opened for real: people, roles, the installed definition."""
    from states.plans import create_plan, read_document_file  # late: see the top

    with session_scope(db) as session:
        plan_id = create_plan(
            session=session,
            document=read_document_file(ZHANG_FILE),
            actor="wang",
            now=DRAFTING_DAY,
        )
    with db.connect() as conn:
        row = conn.execute(select(PLAN).where(PLAN.c.id == plan_id)).one()
        roles = conn.execute(
            select(PLAN_ROLE.c.person_id, PLAN_ROLE.c.role).where(PLAN_ROLE.c.plan_id == plan_id)
        ).all()
    return Template(dict(row._mapping), [(r.person_id, r.role) for r in roles])


def clone_agreed_plans(db: Engine, template: Template, first_id: int, count: int) -> None:
    """`count` signed, agreed copies of the template plan, each with its roles."""
    plan = {
        **template.plan,
        "state": "agreed",
        "version": 1,
        "epoch": 1,
        "audit_seq": 0,
        "audit_head": GENESIS_HASH,
    }
    for start in range(first_id, first_id + count, CHUNK):
        ids = range(start, min(start + CHUNK, first_id + count))
        with db.begin() as conn:
            conn.execute(insert(PLAN), [{**plan, "id": i} for i in ids])
            conn.execute(
                insert(PLAN_ROLE),
                [{"plan_id": i, "person_id": p, "role": r} for i in ids for p, r in template.roles],
            )


# --- the two ways of doing one transition ---------------------------------------------------------


def fire_start(db: Engine, plan_id: int) -> None:
    from states.engine import fire  # late: see the top (a dictionary look-up per call)

    with session_scope(db) as session:
        fire(session=session, plan_id=plan_id, event="start", actor="li", now=START_DAY)


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 over the record's fields, as a hand-written chain would compute it."""
    fields = [
        *(record[k] for k in ("plan_id", "seq", "kind", "event", "from_state", "to_state")),
        *(record[k] for k in ("actor", "role")),
        record["at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        *(record[k] for k in ("comment", "definition_hash", "content_digest", "prev_hash")),
    ]
    encoded = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


# Built once, executed with parameters: the way hand-written Core code goes fast.
RAW_UPDATE = (
    update(PLAN)
    .where(PLAN.c.id == bindparam("b_id"), PLAN.c.version == bindparam("b_version"))
    .values(
        state=bindparam("b_state"),
        version=bindparam("b_version") + 1,
        epoch=bindparam("b_epoch"),
        audit_seq=bindparam("b_seq"),
        audit_head=bindparam("b_hash"),
        updated_at=bindparam("b_at", type_=PLAN.c.updated_at.type),
        content_digest=bindparam("b_digest"),
    )
)
RAW_AUDIT = insert(AUDIT)
RAW_OUTBOX = insert(OUTBOX)


def raw_start(db: Engine, template: Template, flows: tuple[str, ...]) -> Callable[[int], None]:
    """The same rows the engine writes for a start, written directly with Core."""
    plan = template.plan

    def write(plan_id: int) -> None:
        record: dict[str, Any] = {
            "plan_id": plan_id,
            "seq": 1,
            "kind": "transition",
            "event": "start",
            "from_state": "agreed",
            "to_state": "in_progress",
            "actor": "li",
            "role": "manager",
            "at": START_DAY,
            "comment": "",
            "definition_hash": plan["definition_hash"],
            "content_digest": plan["content_digest"],
            "prev_hash": GENESIS_HASH,
        }
        record["hash"] = record_hash(record)
        payload = {"plan_id": plan_id, "seq": 1, "event": "start", "from": "agreed"}
        payload |= {"to": "in_progress", "actor": "li"}
        with db.begin() as conn:
            moved = conn.execute(
                RAW_UPDATE,
                {
                    "b_id": plan_id,
                    "b_version": 1,
                    "b_state": "in_progress",
                    "b_epoch": 2,
                    "b_seq": 1,
                    "b_hash": record["hash"],
                    "b_at": START_DAY,
                    "b_digest": plan["content_digest"],
                },
            )
            assert moved.rowcount == 1
            conn.execute(RAW_AUDIT, record)
            conn.execute(
                RAW_OUTBOX,
                [
                    {
                        "key": f"plan:{plan_id}:seq:1:{flow}",
                        "plan_id": plan_id,
                        "flow": flow,
                        "payload": payload,
                        "created_at": START_DAY,
                        "status": "pending",
                        "attempts": 0,
                        "last_error": "",
                    }
                    for flow in flows
                ],
            )

    return write


def engine_flows(db: Engine, plan_id: int) -> tuple[str, ...]:
    """The flows the engine queued for a start: the raw baseline writes as many."""
    with db.connect() as conn:
        query = select(OUTBOX.c.flow).where(OUTBOX.c.plan_id == plan_id).order_by(OUTBOX.c.id)
        return tuple(conn.execute(query).scalars())


# --- measuring ----------------------------------------------------------------------------------


class PlanIds:
    """Hands out fresh plan ids: every transition starts a different plan."""

    def __init__(self, first: int, last: int) -> None:
        self.next, self.last = first, last

    def take(self, count: int) -> range:
        if self.next + count - 1 > self.last:
            raise SystemExit(f"not enough plans: need {count} more after id {self.next - 1}")
        taken = range(self.next, self.next + count)
        self.next += count
        return taken

    def taken(self) -> int:
        return self.next


def timed(step: Callable[[int], None], plan_ids: range) -> float:
    began = time.perf_counter()
    for plan_id in plan_ids:
        step(plan_id)
    return time.perf_counter() - began


def blocks(total: int) -> Iterator[int]:
    while total > 0:
        yield min(BLOCK, total)
        total -= BLOCK


def compare(
    db: Engine, engine_ids: PlanIds, raw_ids: PlanIds, raw: Callable[[int], None], count: int
) -> tuple[float, float]:
    """Seconds for `count` engine transitions and `count` raw ones, in alternating blocks."""
    engine_s = raw_s = 0.0
    for size in blocks(count):
        engine_s += timed(lambda p: fire_start(db, p), engine_ids.take(size))
        raw_s += timed(raw, raw_ids.take(size))
    return engine_s, raw_s


def fire_until(db: Engine, engine_ids: PlanIds, fired: int, target: int) -> tuple[int, float]:
    """Fire on fresh plans until `target` plans have been fired; returns (count, seconds)."""
    count = max(0, target - fired)
    return count, timed(lambda p: fire_start(db, p), engine_ids.take(count))


def profile(db: Engine, engine_ids: PlanIds, count: int) -> str:
    profiler = cProfile.Profile()
    ids = engine_ids.take(count)
    profiler.enable()
    for plan_id in ids:
        fire_start(db, plan_id)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return out.getvalue()


# --- the run ------------------------------------------------------------------------------------


def options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--plans", type=int, default=100_000, help="plans fired by the engine")
    parser.add_argument("--timed", type=int, default=10_000, help="transitions compared per side")
    parser.add_argument("--database-url", default=None, help="an empty database (default: temp)")
    parser.add_argument("--quick", action="store_true", help="a small run (smoke test)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile N fires")
    args = parser.parse_args(argv)
    if args.quick:
        args.plans, args.timed = min(args.plans, 2_000), min(args.timed, 500)
    args.small = min(10_000, args.plans)
    if args.plans < args.timed + WARM_UP + args.profile:
        parser.error("--plans must exceed --timed plus the warm-up and profiled fires")
    return args


def database_url(given: str | None) -> str:
    if given:
        return given
    directory = tempfile.mkdtemp(prefix="perfplan-bench-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return f"sqlite:///{Path(directory) / 'bench.db'}"


def main(argv: list[str] | None = None) -> None:
    args = options(argv)
    db = make_engine(database_url(args.database_url))
    kind = db.dialect.name
    create_schema(db)
    began = time.perf_counter()
    template = open_template_plan(db)
    first = int(template.plan["id"]) + 1
    raw_count = args.timed + WARM_UP
    clone_agreed_plans(db, template, first, args.plans + raw_count)
    say(
        f"setup: {args.plans + raw_count:,} agreed plans on {kind} "
        f"in {time.perf_counter() - began:.1f} s"
    )
    engine_ids = PlanIds(first, first + args.plans - 1)
    raw_ids = PlanIds(first + args.plans, first + args.plans + raw_count - 1)

    for plan_id in engine_ids.take(WARM_UP):
        fire_start(db, plan_id)
    flows = engine_flows(db, first)
    raw = raw_start(db, template, flows)
    for plan_id in raw_ids.take(WARM_UP):
        raw(plan_id)
    rss_start = rss_mb()
    say(f"each start writes 1 plan update, 1 audit record, {len(flows)} outbox rows: {flows}")

    engine_s, raw_s = compare(db, engine_ids, raw_ids, raw, args.timed)
    per_s, raw_per_s = args.timed / engine_s, args.timed / raw_s
    say(f"engine: {per_s:,.0f} transitions/s ({engine_s * 1e6 / args.timed:,.0f} µs each)")
    say(f"raw Core: {raw_per_s:,.0f} transitions/s ({raw_s * 1e6 / args.timed:,.0f} µs each)")
    say(f"engine costs {raw_per_s / per_s:.2f}× raw Core")

    report = profile(db, engine_ids, args.profile) if args.profile else ""
    fired = WARM_UP + args.timed + args.profile
    more, more_s = fire_until(db, engine_ids, fired, args.small)
    fired += more
    fired_small, rss_small = fired, rss_mb()
    say(f"RSS after firing across {fired:,} plans: {rss_small:.1f} MB (start {rss_start:.1f} MB)")
    rest, rest_s = fire_until(db, engine_ids, fired, args.plans)
    fired += rest
    rss_large = rss_mb()
    say(f"RSS after firing across {fired:,} plans: {rss_large:.1f} MB")
    long_per_s = (more + rest) / (more_s + rest_s) if more + rest else per_s
    say(f"engine over the long run: {long_per_s:,.0f} transitions/s ({more + rest:,} fires)")

    with db.connect() as conn:
        audits = conn.execute(select(func.count()).select_from(AUDIT)).scalar_one()
    expected = 1 + fired + raw_count  # the template's creation, then one per start
    assert audits == expected, (audits, expected)
    if report:
        say(report)

    figures = {
        "database": kind,
        "plans": fired,
        "timed_transitions": args.timed,
        "transitions_per_s": round(per_s, 1),
        "raw_core_per_s": round(raw_per_s, 1),
        "ratio_vs_core": round(raw_per_s / per_s, 3),
        "transitions_per_s_long_run": round(long_per_s, 1),
        "outbox_rows_per_transition": len(flows),
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_10k": round(rss_small, 1),
        "rss_mb_100k": round(rss_large, 1),
        "rss_ratio_100k_vs_10k": round(rss_large / rss_small, 3),
        "memory_plans": [fired_small, fired],
        "quick": args.quick,
    }
    figures["meets_goal"] = (
        figures["transitions_per_s"] >= GOAL["transitions_per_s"]
        and figures["ratio_vs_core"] <= GOAL["ratio_vs_core"]
        and figures["rss_ratio_100k_vs_10k"] <= GOAL["rss_ratio_100k_vs_10k"]
    )
    db.dispose()
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
