"""Benchmark: how fast the pages answer with many plans (default 10,000), measured
through the whole app in-process (routing, session check, queries, templates).

Setup (not measured) opens Zhang's plan with `create_plan` and clones it in bulk, with
its roles and milestones, so that Li manages, Wang covers and Audrey audits every
plan; the clock stands on 2026-10-04, when two milestones of every plan are late.
Prints p50/p95 per page; last line: one JSON object.

    .venv/bin/python bench/pages.py [--plans 10000] [--requests 60] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select

from models.clock import FrozenClock
from models.db import analyze, create_schema, make_engine, session_scope
from models.tables import MILESTONE, PLAN, PLAN_ROLE
from people import access, identity
from people.directory import add_person
from people.orgaudit import Acting
from perfplan.web.app import create_app
from perfplan.web.deps import SESSION_COOKIE
from perfplan.web.runtime import Runtime
from perfplan.web.settings import WebSettings
from states.plans.opening import create_plan, read_document_file

ZHANG_FILE = Path(__file__).resolve().parents[1] / "perfplan" / "examples" / "zhang.yaml"
DRAFTING_DAY = datetime(2026, 8, 25, 9, 0, tzinfo=UTC)
CHUNK = 2000


BENCH = Acting("bench", "cli")


def open_world(db: Engine) -> int:
    with session_scope(db) as session:
        plan_id = create_plan(
            session=session, document=read_document_file(ZHANG_FILE), actor="wang", now=DRAFTING_DAY
        )
        add_person(
            session,
            key="audrey",
            name="Audrey Lin",
            email="audrey@example.com",
            now=DRAFTING_DAY,
            by=BENCH,
            department="Internal Audit",
        )
        access.grant(
            session, person="wang", role="hr", department="Sales East", now=DRAFTING_DAY, by=BENCH
        )
        access.grant(
            session, person="audrey", role="auditor", department=None, now=DRAFTING_DAY, by=BENCH
        )
    return plan_id


def clone(db: Engine, template_id: int, count: int) -> None:
    """`count` copies of the template plan, with its roles and milestones."""
    with db.connect() as conn:
        plan = dict(conn.execute(select(PLAN).where(PLAN.c.id == template_id)).one()._mapping)
        of_template = PLAN_ROLE.c.plan_id == template_id
        roles = [
            dict(r._mapping)
            for r in conn.execute(
                select(PLAN_ROLE.c.person_id, PLAN_ROLE.c.role).where(of_template)
            )
        ]
        milestones = [
            {k: v for k, v in r._mapping.items() if k != "id"}
            for r in conn.execute(select(MILESTONE).where(MILESTONE.c.plan_id == template_id))
        ]
        first = int(conn.execute(select(func.max(PLAN.c.id))).scalar_one()) + 1
    for start in range(first, first + count, CHUNK):
        ids = range(start, min(start + CHUNK, first + count))
        with db.begin() as conn:
            conn.execute(insert(PLAN), [{**plan, "id": i, "audit_seq": 0} for i in ids])
            conn.execute(insert(PLAN_ROLE), [{**r, "plan_id": i} for i in ids for r in roles])
            conn.execute(insert(MILESTONE), [{**m, "plan_id": i} for i in ids for m in milestones])
    analyze(db)  # the planner's figures for the loaded rows, before anything is measured


def signed_client(db: Engine, runtime: Runtime, person: str) -> TestClient:
    with session_scope(db) as session:
        viewer = access.load_viewer(session, key=person)
        opened = identity.open_session(
            session, viewer=viewer, now=runtime.now(), lifetime=timedelta(hours=12)
        )
    client = TestClient(create_app(runtime))
    client.cookies.set(SESSION_COOKIE, opened.cookie)
    return client


def timed(client: TestClient, path: str, requests: int) -> dict[str, float]:
    client.get(path)  # warm: templates compiled, definition cached
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = make_engine(args.database_url or f"sqlite:///{folder}/bench.db")
        if db.dialect.name == "sqlite":
            create_schema(db)
        template = open_world(db)
        clone(db, template, args.plans - 1)
        runtime = Runtime(
            engine=db,
            settings=WebSettings(dispatch_after_commit=False),
            now=FrozenClock(datetime(2026, 10, 4, 9, 0, tzinfo=UTC)),
        )
        pages = [
            ("li", "/plans"),
            ("li", "/plans?page=100"),
            ("li", "/team"),
            ("wang", "/plans"),
            ("wang", "/plans?scope=all"),
            ("audrey", "/plans?scope=all"),
            ("wang", "/overdue"),
            ("audrey", "/audit"),
            ("li", f"/plans/{template}"),
        ]
        figures: dict[str, Any] = {"plans": args.plans, "database": db.dialect.name}
        for person, path in pages:
            figures[f"{person} {path}"] = timed(
                signed_client(db, runtime, person), path, args.requests
            )
            print(f"{person:7} {path:22} {figures[f'{person} {path}']}", flush=True)
        db.dispose()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
