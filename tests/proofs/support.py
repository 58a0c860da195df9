"""Plans, people and read-backs the concurrency proofs share.

Two kinds of plan: a `pingpong` plan (definitions/pingpong.yaml) that can
change state for ever — `serve` is fired, `return` is signed — for races
of many rounds; and Zhang's real plan (docs/examples/zhang.yaml), agreed and
started, for the sweeps and the outbox.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from models.db import create_schema, make_engine, session_scope
from models.tables import AUDIT, NOTIFICATION, OUTBOX, PLAN
from states import audit
from states.engine import firing as plan_engine
from states.engine import signing
from states.plans.opening import create_plan, read_document_file
from tests.postgres import PostgresFactory

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFINITIONS = HERE / "definitions"
PINGPONG_FILE = HERE / "pingpong-plan.yaml"
ZHANG_FILE = ROOT / "docs" / "examples" / "zhang.yaml"
DRAFTING_DAY = datetime(2026, 8, 25, 9, 0, tzinfo=UTC)
START_DAY = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
# pingpong: the move that leaves each state, fired both ways or signed on the way back.
FIRED_MOVES = {"ping": "serve", "pong": "rally"}
SIGNED_MOVES = {"ping": "serve", "pong": "return"}
SIGNED = {"return"}
DEPUTIES = ("li", "wang")  # the manager and HR: both may serve and sign a return


class Databases:
    """Fresh databases of one kind for one test: `new()` gives a URL, ready to use
    (SQLite: schema created; PostgreSQL: a copy of the migrated template)."""

    def __init__(self, kind: str, folder: Path, postgres: PostgresFactory | None) -> None:
        self.kind, self.folder, self.postgres = kind, folder, postgres
        self.urls: list[str] = []
        self.engines: list[Engine] = []

    def new(self) -> str:
        if self.kind == "sqlite":
            url = f"sqlite:///{self.folder / f'proof-{len(self.urls)}.db'}"
            create_schema(self.engine(url))
        else:
            assert self.postgres is not None
            url = self.postgres.fresh()
        self.urls.append(url)
        return url

    def engine(self, url: str) -> Engine:
        """An engine on `url` for the test's own reads and writes, disposed at the end."""
        self.engines.append(make_engine(url))
        return self.engines[-1]

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()
        if self.postgres is not None:
            for url in self.urls:
                self.postgres.drop(url)


def pingpong_plans(db: Engine, count: int) -> list[int]:
    """`count` pingpong plans, drafted by Wang, in state `ping`."""
    document = read_document_file(PINGPONG_FILE)
    ids = []
    for _ in range(count):
        with session_scope(db) as session:
            ids.append(
                create_plan(
                    session=session,
                    document=document,
                    actor="wang",
                    now=DRAFTING_DAY,
                    definitions_dir=DEFINITIONS,
                )
            )
    return ids


def started_zhang_plans(db: Engine, count: int) -> list[int]:
    """`count` copies of Zhang's plan, signed by Zhang, Li and Wang, started by Li."""
    document = read_document_file(ZHANG_FILE)
    ids = []
    for _ in range(count):
        with session_scope(db) as session:
            plan_id = create_plan(
                session=session, document=document, actor="wang", now=DRAFTING_DAY
            )
        for person in ("zhang", "li", "wang"):
            with session_scope(db) as session:
                signing.sign(session=session, plan_id=plan_id, actor=person, now=DRAFTING_DAY)
        with session_scope(db) as session:
            plan_engine.fire(
                session=session, plan_id=plan_id, event="start", actor="li", now=START_DAY
            )
        ids.append(plan_id)
    return ids


def plan_row(db: Engine, plan_id: int) -> Any:
    with db.connect() as conn:
        return conn.execute(
            select(PLAN.c.state, PLAN.c.version, PLAN.c.audit_seq).where(PLAN.c.id == plan_id)
        ).one()


def audit_tail(db: Engine, plan_id: int, after_seq: int) -> list[Any]:
    """The plan's audit records after `after_seq`, oldest first."""
    with db.connect() as conn:
        query = select(AUDIT.c.seq, AUDIT.c.kind, AUDIT.c.event, AUDIT.c.actor).where(
            AUDIT.c.plan_id == plan_id, AUDIT.c.seq > after_seq
        )
        return list(conn.execute(query.order_by(AUDIT.c.seq)))


def verify(db: Engine) -> audit.VerifyReport:
    with session_scope(db) as session:
        return audit.verify(session)


def count(db: Engine, table: Any, *where: Any) -> int:
    with db.connect() as conn:
        query = select(func.count()).select_from(table)
        return int(conn.execute(query.where(*where) if where else query).scalar_one())


def notification_keys(db: Engine, *where: Any) -> Counter[str]:
    """How many ledger rows carry each dedup key (1 each, if nothing was recorded twice)."""
    with db.connect() as conn:
        rows = conn.execute(
            select(NOTIFICATION.c.dedup_key, func.count())
            .where(*where)
            .group_by(NOTIFICATION.c.dedup_key)
        )
        return Counter({key: n for key, n in rows})


def outbox_rows(db: Engine) -> dict[str, Any]:
    with db.connect() as conn:
        query = select(OUTBOX.c.key, OUTBOX.c.flow, OUTBOX.c.status, OUTBOX.c.attempts)
        return {row.key: row for row in conn.execute(query)}
