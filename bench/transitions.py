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
                                          [--database-url URL] [--workers N]
                                          [--quick] [--profile N]

`--workers N` (N > 1) adds a concurrent run: 1 and then N worker processes,
each with its own engine and connection, start distinct plans at once,
beside 1 and N processes writing the same rows with raw Core (again in
alternating blocks); the JSON then also holds `workers`,
`transitions_per_s_by_workers`, `raw_core_per_s_by_workers` and
`ratio_vs_core_by_workers` (keys: the number of workers).

`--database-url`: without it, a SQLite file in a temporary folder. A SQLite
URL, or a PostgreSQL URL naming a database that exists, is used as given and
kept: it must be empty. A PostgreSQL URL naming a database that does not
exist, or naming none (`postgresql+psycopg://postgres@127.0.0.1:5432`), makes
the benchmark create that database (or `perfplan_bench_<random>`) and drop
it at the end:

    .venv/bin/python bench/transitions.py --workers 4 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/perfplan_bench
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
import multiprocessing
import pstats
import shutil
import sys
import tempfile
import time
import uuid
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
from sqlalchemy import (  # noqa: E402
    Engine,
    bindparam,
    create_engine,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url  # noqa: E402

from models.db import analyze, create_schema, make_engine, normalise_url, session_scope  # noqa: E402
from models.plans import GENESIS_HASH  # noqa: E402
from models.tables import AUDIT, OUTBOX, PLAN, PLAN_ROLE  # noqa: E402

ZHANG_FILE = ROOT / "docs" / "examples" / "zhang.yaml"
DRAFTING_DAY = datetime(2026, 8, 25, 9, 0, tzinfo=UTC)
START_DAY = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
BLOCK = 500  # engine and raw transitions alternate in blocks of this many
WARM_UP = 200
COUNTED = 20  # untimed transitions per side whose statements are counted
CHUNK = 10_000  # rows per bulk INSERT during setup
GOAL = {"transitions_per_s": 1000, "ratio_vs_core": 3.0, "rss_ratio_100k_vs_10k": 1.25}
# The goal for PostgreSQL: transitions/s with 1 and with 4 workers, and at most
# this many times slower than raw Core with the same number of workers.
CONCURRENT_GOAL = {1: 800, 4: 1500}
CONCURRENT_RATIO = 3.0
CONCURRENT_BLOCK = 2_000  # transitions per block (all workers together) in the concurrent run
WORKER_WARM_UP = 50  # untimed transitions per worker and side before the concurrent run
SPAWN = multiprocessing.get_context("spawn")


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
    from states.plans.opening import create_plan, read_document_file

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
    analyze(db)  # the planner's figures for the loaded rows, before anything is measured


# --- the two ways of doing one transition ---------------------------------------------------------


def fire_start(db: Engine, plan_id: int) -> None:
    from states.engine.firing import fire

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


# --- a plan's whole life, as the peers play it ---------------------------------------------------


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


Step = Callable[[Any], Any]  # one change, given a session; its scope commits it


def _signing(plan_id: int) -> tuple[Callable[[str, str], Step], Callable[[str, str], Step]]:
    from states.engine.signing import sign
    from states.plans import operations

    def signed(who: str, at: str) -> Step:
        return lambda s: sign(session=s, plan_id=plan_id, actor=who, now=_at(at))

    def reconfirmed(who: str, at: str) -> Step:
        return lambda s: operations.confirm_adjustments(
            session=s, plan_id=plan_id, actor=who, now=_at(at)
        )

    return signed, reconfirmed


def _running(plan_id: int) -> tuple[Step, Step, Callable[[str, float, str], Step]]:
    from states.engine.firing import fire
    from states.plans import activities

    def start(s: Any) -> Any:
        return fire(session=s, plan_id=plan_id, event="start", actor="li", now=START_DAY)

    def adjust(s: Any) -> Any:
        return activities.adjust(
            **{"session": s, "plan_id": plan_id, "actor": "li", "now": _at("2026-10-14T09:00")},
            kind="milestone",
            key="report_1",
            changes={"due": "2026-10-16"},
            reason="data came late",
        )

    def measured(goal: str, value: float, at: str) -> Step:
        return lambda s: activities.measure(
            session=s, plan_id=plan_id, goal=goal, value=value, actor="li", now=_at(at)
        )

    return start, adjust, measured


def _life_steps(plan_id: int) -> list[tuple[str, Step]]:
    """Zhang's plan after `create`: each step one commit, as the CLI makes it (`agree`
    and `reconfirm` happen with their chains' last signatures; `evaluate` needs every
    goal measured)."""
    from states.plans import operations

    signed, reconfirmed = _signing(plan_id)
    start, adjust, measured = _running(plan_id)

    def evaluate(s: Any) -> Any:
        return operations.evaluate(
            **{"session": s, "plan_id": plan_id, "actor": "li", "now": _at("2026-12-01T09:00")},
            outcome="successful",
            feedback="From 60 % to 95 %",
        )

    return [
        ("sign", signed("zhang", "2026-08-26T10:30")),
        ("sign", signed("li", "2026-08-26T15:00")),
        ("agree", signed("wang", "2026-08-28T11:30")),
        ("start", start),
        ("adjust", adjust),
        ("sign", reconfirmed("zhang", "2026-10-14T14:00")),
        ("reconfirm", reconfirmed("li", "2026-10-14T14:30")),
        *(
            (
                ("measure", measured(g, v, f"2026-11-30T08:0{i}"))
                for i, (g, v) in enumerate(
                    [("training", 86), ("contracts", 95), ("reports", 100), ("response_time", 24)]
                )
            )
        ),
        ("evaluate", evaluate),
    ]


LIFE_TRANSITIONS = ("create", "agree", "start", "adjust", "reconfirm", "evaluate")


def live_one_plan(db: Engine, document: Any) -> int:
    """create → agree → start → adjust → reconfirm → evaluate, every step its own
    commit (signatures and measurements too); returns the commits made."""
    from states.plans.opening import create_plan

    with session_scope(db) as session:
        plan_id = create_plan(session=session, document=document, actor="wang", now=DRAFTING_DAY)
    steps = _life_steps(plan_id)
    for _, step in steps:
        with session_scope(db) as session:
            step(session)
    return 1 + len(steps)


@dataclass(frozen=True)
class Lifecycle:
    lives: int
    seconds: float
    commits: int

    def figures(self) -> dict[str, Any]:
        transitions = self.lives * len(LIFE_TRANSITIONS)
        return {
            "lifecycle_plans": self.lives,
            "lifecycle_transitions_per_s": round(transitions / self.seconds, 1),
            "lifecycle_commits_per_s": round(self.commits / self.seconds, 1),
            "lifecycle_commits_per_plan": self.commits // self.lives,
            "lifecycle_ms_per_plan": round(self.seconds * 1000 / self.lives, 2),
        }


def play_lifecycles(db: Engine, lives: int) -> Lifecycle:
    """`lives` fresh plans through their whole life, after a few untimed ones."""
    from states.plans.opening import read_document_file

    document = read_document_file(ZHANG_FILE)
    for _ in range(min(5, lives)):
        live_one_plan(db, document)
    commits, began = 0, time.perf_counter()
    for _ in range(lives):
        commits += live_one_plan(db, document)
    result = Lifecycle(lives, time.perf_counter() - began, commits)
    with db.connect() as conn:
        evaluated = conn.execute(
            select(func.count()).select_from(PLAN).where(PLAN.c.state == "evaluated")
        ).scalar_one()
    assert evaluated == lives + min(5, lives), evaluated
    say(
        f"lifecycle: {lives:,} plans through {' → '.join(LIFE_TRANSITIONS)} "
        f"({result.commits // lives} commits each, signatures and measurements included): "
        f"{result.figures()['lifecycle_transitions_per_s']:,.0f} transitions/s"
    )
    return result


# --- statements per transition, and the peers of the same run ------------------------------------


def statements_of(db: Engine, step: Callable[[int], None], plan_ids: range) -> float:
    """Statements sent to the database per call of `step` (each a round trip; the commit
    is one more), counted by an event listener outside the timed runs."""
    from sqlalchemy import event

    sent = 0

    def count(*_: Any) -> None:
        nonlocal sent
        sent += 1

    event.listen(db, "before_cursor_execute", count)
    try:
        for plan_id in plan_ids:
            step(plan_id)
    finally:
        event.remove(db, "before_cursor_execute", count)
    return sent / len(plan_ids)


def run_peers(script: str) -> dict[str, Any]:
    """The peers' benchmark, run now (the same run), and its last line's figures."""
    import subprocess

    say(f"peers: {script}")
    done = subprocess.run(["bash", script], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the peers' benchmark failed: {done.stderr.strip()[-500:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    say(f"peers: transitions + ORM (shared machine) {figures['fsm_shared_tps']:,}/s")
    return figures


def against_peers(peers: dict[str, Any], figures: dict[str, Any]) -> dict[str, Any]:
    orm = float(peers["fsm_shared_tps"])
    found = {
        "peer_fsm_shared_per_s": orm,
        "peer_sqla_core_per_s": float(peers["sqla_core_tps"]),
        "ratio_start_vs_fsm_shared": round(figures["transitions_per_s"] / orm, 3),
    }
    if "lifecycle_transitions_per_s" in figures:
        found["ratio_lifecycle_vs_fsm_shared"] = round(
            figures["lifecycle_transitions_per_s"] / orm, 3
        )
    return found


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
    return blocks_of(total, BLOCK)


def blocks_of(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


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


# --- several workers at once ----------------------------------------------------------------------


def _worker(url: str, template: Template, flows: tuple[str, ...], conn: Any) -> None:
    """One benchmark process with its own engine: runs each block it is sent when told to go."""
    db = make_engine(url)
    steps: dict[str, Callable[[int], None]] = {
        "engine": lambda plan_id: fire_start(db, plan_id),
        "raw": raw_start(db, template, flows),
    }
    while (job := conn.recv()) is not None:
        kind, plan_ids = job
        conn.send("ready")
        conn.recv()  # go
        conn.send(timed(steps[kind], plan_ids))
    db.dispose()


class Workers:
    """`size` long-lived processes; `run` makes the first few of them work at the same moment."""

    def __init__(self, url: str, template: Template, flows: tuple[str, ...], size: int) -> None:
        self.conns: list[Any] = []
        self.processes: list[Any] = []
        for _ in range(size):
            ours, theirs = SPAWN.Pipe()
            process = SPAWN.Process(target=_worker, args=(url, template, flows, theirs))
            process.start()
            self.conns.append(ours)
            self.processes.append(process)

    def run(self, kind: str, slices: list[range]) -> float:
        """Wall seconds from the common start until the last of the workers is done."""
        active = self.conns[: len(slices)]
        for conn, plan_ids in zip(active, slices, strict=True):
            conn.send((kind, plan_ids))
        for conn in active:
            conn.recv()  # ready: imported, connected, waiting
        began = time.perf_counter()
        for conn in active:
            conn.send("go")
        for conn in active:
            conn.recv()
        return time.perf_counter() - began

    def close(self) -> None:
        for conn in self.conns:
            conn.send(None)
        for process in self.processes:
            process.join(timeout=60)
            if process.exitcode != 0:
                raise SystemExit(f"a benchmark worker failed (exit code {process.exitcode})")


def split(ids: PlanIds, size: int, workers: int) -> list[range]:
    """`size` fresh plans (rounded down to a multiple of `workers`), one slice per worker."""
    each = size // workers
    return [ids.take(each) for _ in range(workers)]


def worker_counts(workers: int) -> list[int]:
    return sorted({1, workers})


def concurrent_plans(workers: int, count: int) -> int:
    """Plans each side needs for the concurrent run: warm-up, then `count` per worker count."""
    return workers * WORKER_WARM_UP + len(worker_counts(workers)) * count


@dataclass
class Concurrent:
    """Transitions per second, engine and raw, by number of workers."""

    engine: dict[int, float]
    raw: dict[int, float]
    fired: int  # engine transitions done in worker processes (warm-up included)
    written: int  # raw transitions done in worker processes (warm-up included)


def measure_concurrency(
    pool: Workers, engine_ids: PlanIds, raw_ids: PlanIds, workers: int, count: int
) -> Concurrent:
    """For 1 and `workers` workers: `count` engine and `count` raw transitions, in
    alternating blocks, every worker on plans of its own."""
    began = (engine_ids.taken(), raw_ids.taken())
    for kind, ids in (("engine", engine_ids), ("raw", raw_ids)):
        pool.run(kind, split(ids, workers * WORKER_WARM_UP, workers))
    result = Concurrent({}, {}, 0, 0)
    for size in worker_counts(workers):
        done = {"engine": 0, "raw": 0}
        seconds = {"engine": 0.0, "raw": 0.0}
        for block in blocks_of(count, CONCURRENT_BLOCK):
            for kind, ids in (("engine", engine_ids), ("raw", raw_ids)):
                slices = split(ids, block, size)
                seconds[kind] += pool.run(kind, slices)
                done[kind] += sum(len(s) for s in slices)
        result.engine[size] = done["engine"] / seconds["engine"]
        result.raw[size] = done["raw"] / seconds["raw"]
        say(
            f"{size} worker(s): engine {result.engine[size]:,.0f} transitions/s, raw Core "
            f"{result.raw[size]:,.0f}/s: engine costs {result.raw[size] / result.engine[size]:.2f}×"
        )
    result.fired = engine_ids.taken() - began[0]
    result.written = raw_ids.taken() - began[1]
    return result


def concurrent_figures(workers: int, result: Concurrent, count: int) -> dict[str, Any]:
    by = {str(k): round(v, 1) for k, v in result.engine.items()}
    raw = {str(k): round(v, 1) for k, v in result.raw.items()}
    ratios = {str(k): round(result.raw[k] / result.engine[k], 3) for k in result.engine}
    checked = [k for k in CONCURRENT_GOAL if k in result.engine]
    return {
        "workers": workers,
        "concurrent_transitions": count,
        "transitions_per_s_by_workers": by,
        "raw_core_per_s_by_workers": raw,
        "ratio_vs_core_by_workers": ratios,
        "meets_concurrency_goal": all(
            result.engine[k] >= CONCURRENT_GOAL[k]
            and result.raw[k] / result.engine[k] <= CONCURRENT_RATIO
            for k in checked
        ),
    }


# --- the database -------------------------------------------------------------------------------


def _quoted(engine: Engine, name: str) -> str:
    return str(engine.dialect.identifier_preparer.quote_identifier(name))


def server_database(url: str) -> tuple[str, Callable[[], None] | None]:
    """A PostgreSQL database named by `url` that exists is used as it is. One that does
    not exist, or none named, is created; the second value then drops it."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "postgresql":
        return url, None
    name = parsed.database or f"perfplan_bench_{uuid.uuid4().hex[:8]}"
    given = parsed.set(database=name).render_as_string(hide_password=False)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        query = text("SELECT 1 FROM pg_database WHERE datname = :name")
        if conn.execute(query, {"name": name}).scalar():
            admin.dispose()
            return given, None
        conn.execute(text(f"CREATE DATABASE {_quoted(admin, name)}"))
    say(f"created database {name} (dropped at the end)")

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {_quoted(admin, name)} WITH (FORCE)"))
        admin.dispose()
        say(f"dropped database {name}")

    return given, drop


def check_empty(db: Engine) -> None:
    with db.connect() as conn:
        if conn.execute(select(func.count()).select_from(PLAN)).scalar_one():
            raise SystemExit("--database-url must point to an empty database (it holds plans)")


# --- the run ------------------------------------------------------------------------------------


def options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--plans", type=int, default=100_000, help="plans fired by the engine")
    parser.add_argument("--timed", type=int, default=10_000, help="transitions compared per side")
    parser.add_argument(
        "--database-url",
        default=None,
        help="an empty database, or a PostgreSQL server/new database name to create and drop "
        "(default: a temporary SQLite file)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="also measure 1 and N concurrent worker processes"
    )
    parser.add_argument("--quick", action="store_true", help="a small run (smoke test)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile N fires")
    parser.add_argument(
        "--lifecycle",
        type=int,
        nargs="?",
        const=300,
        default=0,
        metavar="N",
        help="also play N plans (300 without N) through the peers' whole life, "
        "create → agree → start → adjust → reconfirm → evaluate, a commit per step",
    )
    parser.add_argument(
        "--peers",
        metavar="SCRIPT",
        help="run the peers' benchmark (its run_all.sh) first, in the same run, and compare",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.plans, args.timed = min(args.plans, 2_000), min(args.timed, 500)
        args.lifecycle = min(args.lifecycle, 5)
    args.small = min(10_000, args.plans)
    if args.plans < args.timed + WARM_UP + COUNTED + args.profile:
        parser.error("--plans must exceed --timed plus the warm-up and profiled fires")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    args.concurrent = args.timed - args.timed % args.workers if args.workers > 1 else 0
    return args


def database_url(given: str | None) -> str:
    if given:
        return given
    directory = tempfile.mkdtemp(prefix="perfplan-bench-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return f"sqlite:///{Path(directory) / 'bench.db'}"


def run_concurrently(
    args: argparse.Namespace, url: str, template: Template, flows: tuple[str, ...], first: int
) -> Concurrent:
    """The concurrent run on plans from `first` on: engine plans, then raw ones."""
    needed = concurrent_plans(args.workers, args.concurrent)
    engine_ids = PlanIds(first, first + needed - 1)
    raw_ids = PlanIds(first + needed, first + 2 * needed - 1)
    say(f"concurrent run: 1 and {args.workers} worker processes, {args.concurrent:,} each side")
    pool = Workers(url, template, flows, args.workers)
    try:
        return measure_concurrency(pool, engine_ids, raw_ids, args.workers, args.concurrent)
    finally:
        pool.close()


def main(argv: list[str] | None = None) -> None:
    args = options(argv)
    peers = run_peers(args.peers) if args.peers else None
    url, drop = server_database(database_url(args.database_url))
    try:
        run(args, url, peers)
    finally:
        if drop is not None:
            drop()


def run(args: argparse.Namespace, url: str, peers: dict[str, Any] | None = None) -> None:
    db = make_engine(url)
    kind = db.dialect.name
    create_schema(db)
    check_empty(db)
    began = time.perf_counter()
    template = open_template_plan(db)
    first = int(template.plan["id"]) + 1
    raw_count = args.timed + WARM_UP + COUNTED
    extra = 2 * concurrent_plans(args.workers, args.concurrent) if args.concurrent else 0
    clone_agreed_plans(db, template, first, args.plans + raw_count + extra)
    say(
        f"setup: {args.plans + raw_count + extra:,} agreed plans on {kind} "
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
    counted = (
        statements_of(db, lambda p: fire_start(db, p), engine_ids.take(COUNTED)),
        statements_of(db, raw, raw_ids.take(COUNTED)),
    )
    say(f"statements per start, commit aside: engine {counted[0]:g}, raw Core {counted[1]:g}")

    engine_s, raw_s = compare(db, engine_ids, raw_ids, raw, args.timed)
    per_s, raw_per_s = args.timed / engine_s, args.timed / raw_s
    say(f"engine: {per_s:,.0f} transitions/s ({engine_s * 1e6 / args.timed:,.0f} µs each)")
    say(f"raw Core: {raw_per_s:,.0f} transitions/s ({raw_s * 1e6 / args.timed:,.0f} µs each)")
    say(f"engine costs {raw_per_s / per_s:.2f}× raw Core")

    report = profile(db, engine_ids, args.profile) if args.profile else ""
    fired = WARM_UP + COUNTED + args.timed + args.profile
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

    concurrent = None
    if args.concurrent:
        concurrent = run_concurrently(args, url, template, flows, first + args.plans + raw_count)
    with db.connect() as conn:
        audits = conn.execute(select(func.count()).select_from(AUDIT)).scalar_one()
    expected = 1 + fired + raw_count  # the template's creation, then one per start
    if concurrent is not None:
        expected += concurrent.fired + concurrent.written
    assert audits == expected, (audits, expected)
    if report:
        say(report)
    lifecycle = play_lifecycles(db, args.lifecycle) if args.lifecycle else None

    figures = {
        "database": kind,
        "plans": fired,
        "timed_transitions": args.timed,
        "transitions_per_s": round(per_s, 1),
        "raw_core_per_s": round(raw_per_s, 1),
        "ratio_vs_core": round(raw_per_s / per_s, 3),
        "transitions_per_s_long_run": round(long_per_s, 1),
        "outbox_rows_per_transition": len(flows),
        "statements_per_transition": round(counted[0], 2),
        "raw_core_statements_per_transition": round(counted[1], 2),
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
    if concurrent is not None:
        figures |= concurrent_figures(args.workers, concurrent, args.concurrent)
    if lifecycle is not None:
        figures |= lifecycle.figures()
    if peers is not None:
        figures |= against_peers(peers, figures)
    db.dispose()
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
