"""Appending to and verifying the hash-chained audit trail; `entry` is what a change
of a plan (a transition, a signature, a record, the plan's creation) writes in it.

Each record's hash covers every field of the record and the hash of the one
before it; the plan row keeps the tip (`audit_seq`, `audit_head`), so a
deleted last record is caught as well as an edited or reordered one.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from models.audit import AuditRecord
from models.chain import broken_link, link_problem, seal
from models.chain import instant_text as _instant
from models.plans import GENESIS_HASH
from models.tables import AUDIT, PLAN
from states.engine.context import Context, PlanSnapshot
from states.errors import Conflict


class Record(NamedTuple):
    """One link of a plan's chain: the columns of `audit_record`, in order. `entry` makes
    what happened, by whom, when; `advance` gives it its place in the chain."""

    id: int  # 0 until it is stored
    plan_id: int
    seq: int
    kind: str  # transition | signature | record
    event: str
    from_state: str
    to_state: str
    actor: str  # a person's key, or "system" for flows
    role: str
    at: datetime
    comment: str
    definition_hash: str
    content_digest: str
    prev_hash: str
    hash: str


# A record before it has a place in a chain: `advance` fills the rest.
_UNCHAINED = Record._make((0, 0, 0, *[""] * 6, datetime.min.replace(tzinfo=UTC), *[""] * 5))


def entry(
    ctx: Context,
    kind: str,
    *,
    event: str | None = None,
    moves: tuple[str, str] | None = None,
    comment: str = "",
) -> Record:
    """The record of a change made in `ctx`, not yet in the chain: by its actor, in its
    role, at its time, about its event (unless another is named); the plan stays in its
    state unless it `moves` (from, to)."""
    from_state, to_state = moves or (ctx.plan.state, ctx.plan.state)
    return _UNCHAINED._replace(
        kind=kind,
        event=ctx.event if event is None else event,
        from_state=from_state,
        to_state=to_state,
        actor=ctx.actor.key,
        role=ctx.role,
        at=ctx.now,
        comment=comment,
    )


# What a record's hash covers, in this order; the case file's script reads it too.
CHAIN_FIELDS = (
    "plan_id",
    "seq",
    "kind",
    "event",
    "from_state",
    "to_state",
    "actor",
    "role",
    "at",
    "comment",
    "definition_hash",
    "content_digest",
    "prev_hash",
)


_CHAINED = operator.itemgetter(*CHAIN_FIELDS)
_AT, _COMMENT = CHAIN_FIELDS.index("at"), CHAIN_FIELDS.index("comment")


def chained_values(fields: dict[str, Any]) -> list[Any]:
    """The record's fields as its hash covers them: in CHAIN_FIELDS order, the instant in
    UTC to the microsecond, no comment as ''."""
    values = list(_CHAINED(fields))
    values[_AT] = _instant(values[_AT])
    values[_COMMENT] = values[_COMMENT] or ""
    return values


def chain_hash(fields: dict[str, Any]) -> str:
    """The record's hash: SHA-256 over its fields in CHAIN_FIELDS order (the organisation
    chain seals its records the same way, `models.chain.seal`)."""
    return seal(chained_values(fields))


def _advance_statement(*, moves_state: bool) -> Any:
    """The version-checked UPDATE of a plan's row, built once (it runs on every change)."""
    values: dict[str, Any] = {
        name: bindparam(f"new_{name}", type_=PLAN.c[name].type)
        for name in ("version", "audit_seq", "audit_head", "updated_at", "content_digest")
    }
    if moves_state:
        values.update(state=bindparam("new_state"), epoch=bindparam("new_epoch"))
    return (
        update(PLAN)
        .where(PLAN.c.id == bindparam("plan_id"), PLAN.c.version == bindparam("seen_version"))
        .values(values)
    )


_ADVANCE = _advance_statement(moves_state=False)
_ADVANCE_AND_MOVE = _advance_statement(moves_state=True)
_APPEND = insert(AUDIT)


def advance(
    session: Session,
    plan: PlanSnapshot,
    entry: Record,
    *,
    new_state: str | None = None,
    content_digest: str | None = None,
) -> int:
    """Bump the plan's version (failing on a concurrent change), move its state if
    given, and append the audit record; returns the record's sequence number.

    `plan` is updated in place to what is now stored.
    """
    record: dict[str, Any] = entry._replace(
        plan_id=plan.id,
        seq=plan.audit_seq + 1,
        definition_hash=plan.definition_hash,
        content_digest=content_digest or plan.content_digest,
        prev_hash=plan.audit_head,
    )._asdict()
    del record["id"]  # the database gives it
    record["hash"] = chain_hash(record)
    params: dict[str, Any] = {
        "plan_id": plan.id,
        "seen_version": plan.version,
        "new_version": plan.version + 1,
        "new_audit_seq": record["seq"],
        "new_audit_head": record["hash"],
        "new_updated_at": entry.at,
        "new_content_digest": record["content_digest"],
    }
    statement = _ADVANCE
    if new_state is not None:
        statement = _ADVANCE_AND_MOVE
        params.update(new_state=new_state, new_epoch=plan.epoch + 1)
    connection = session.connection()  # Core statements: past the ORM's execution path
    if connection.execute(statement, params).rowcount != 1:
        current = session.execute(select(PLAN.c.version).where(PLAN.c.id == plan.id)).scalar()
        raise Conflict(plan.id, plan.version, current)
    connection.execute(_APPEND, record)
    plan.version += 1
    plan.audit_seq = record["seq"]
    plan.audit_head = record["hash"]
    plan.content_digest = record["content_digest"]
    if new_state is not None:
        plan.state, plan.epoch = new_state, plan.epoch + 1
    return int(record["seq"])


@dataclass(frozen=True)
class Break:
    """The first broken link found in one plan's chain, and what is wrong with it."""

    plan_id: int
    seq: int
    record_id: int | None
    problem: str

    def __str__(self) -> str:
        return broken_link(f"plan {self.plan_id}", self.seq, self.record_id, self.problem)


@dataclass
class VerifyReport:
    plans: int = 0
    records: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def _chains(session: Session, plan_id: int | None) -> Iterator[tuple[int, list[Any]]]:
    query = select(AUDIT).order_by(AUDIT.c.plan_id, AUDIT.c.seq)
    if plan_id is not None:
        query = query.where(AUDIT.c.plan_id == plan_id)
    current: int | None = None
    rows: list[Any] = []
    for row in session.execute(query.execution_options(yield_per=2000)):
        if row.plan_id != current and current is not None:
            yield current, rows
            rows = []
        current = row.plan_id
        rows.append(row)
    if current is not None:
        yield current, rows


def _verify_chain(rows: list[Any], tip: tuple[int, str] | None) -> Break | None:
    prev_hash = GENESIS_HASH
    for expected_seq, row in enumerate(rows, start=1):
        problem = link_problem(row, expected_seq, prev_hash, chain_hash(row._asdict()))
        if problem:
            return Break(row.plan_id, row.seq, row.id, problem)
        prev_hash = row.hash
    last_seq = len(rows)
    if tip is not None and tip != (last_seq, prev_hash):
        return Break(
            rows[0].plan_id,
            last_seq + 1,
            None,
            f"the plan records {tip[0]} audit records but the chain ends at {last_seq}: "
            "records were deleted or the plan's tip was altered",
        )
    return None


def verify(session: Session, plan_id: int | None = None) -> VerifyReport:
    """Recompute every chain (or one plan's) and report the first break of each."""
    tips_query = select(PLAN.c.id, PLAN.c.audit_seq, PLAN.c.audit_head)
    if plan_id is not None:
        tips_query = tips_query.where(PLAN.c.id == plan_id)
    tips = {row.id: (row.audit_seq, row.audit_head) for row in session.execute(tips_query)}
    report = VerifyReport(plans=len(tips))
    seen: set[int] = set()
    for chain_plan, rows in _chains(session, plan_id):
        seen.add(chain_plan)
        report.records += len(rows)
        broken = _verify_chain(rows, tips.get(chain_plan))
        if broken:
            report.breaks.append(broken)
    for missing in sorted(set(tips) - seen):
        if tips[missing][0] > 0:
            report.breaks.append(_all_gone(missing))
    return report


def _all_gone(plan_id: int) -> Break:
    return Break(plan_id, 1, None, "the plan has audit history but no records remain")


def verify_chain(plan_id: int, rows: list[Any], tip: tuple[int, str]) -> VerifyReport:
    """One plan's chain checked from records already read (oldest first) against the
    tip its plan row records (`audit_seq`, `audit_head`): what `verify(session, plan_id)`
    finds, for a page that shows the very records it verifies."""
    broken = _verify_chain(rows, tip) if rows else None
    if not rows and tip[0] > 0:
        broken = _all_gone(plan_id)
    return VerifyReport(plans=1, records=len(rows), breaks=[broken] if broken else [])


def history(session: Session, plan_id: int | None = None) -> list[AuditRecord]:
    """Audit records, oldest first, for one plan or all of them."""
    query = select(AuditRecord).order_by(AUDIT.c.plan_id, AUDIT.c.seq)
    if plan_id is not None:
        query = query.where(AUDIT.c.plan_id == plan_id)
    return list(session.execute(query).scalars())
