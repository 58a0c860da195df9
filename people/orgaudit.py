"""The organisation's audit chain: appending a record of a change to who may do what,
in the transaction that makes the change, and verifying the chain.

What goes in it (`KINDS`): standing roles granted and revoked, people created or
changed, departments created, passwords set, API tokens created and revoked, definitions
installed, and sign-ins locked out. Records are sealed as the plan chains' are
(`models.chain.seal`): each hash covers every field and the hash before it, and the tip
row keeps the last position and hash, so an edited, inserted, reordered or deleted
record is named.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import insert, select, update
from sqlmodel import Session

from models.chain import GENESIS_HASH, broken_link, instant_text, link_problem, seal
from models.tables import ORG_AUDIT, ORG_AUDIT_TIP
from people.errors import PeopleError

KINDS = (
    "role.granted",
    "role.revoked",
    "person.created",
    "person.changed",
    "department.created",
    "password.set",
    "token.created",
    "token.revoked",
    "definition.installed",
    "sign-in.locked",
)


@dataclass(frozen=True)
class Acting:
    """Who makes an organisation change and through which door: a person's key (web,
    api), the operating-system user (cli), or `system` (the sign-in throttle)."""

    actor: str
    channel: str  # cli | web | api | plan document | sign-in

    @classmethod
    def cli(cls) -> Acting:
        """Whoever runs the command: they hold the database's credentials."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no login name in this environment (a container)
            user = "unknown"
        return cls(user or "unknown", "cli")


SIGN_IN_THROTTLE = Acting("system", "sign-in")


class ChainUnusable(PeopleError):
    """The organisation chain's tip row is gone: nothing can be appended until it is
    restored (`perfplan audit verify` names what is wrong)."""

    def __init__(self) -> None:
        super().__init__(
            "the organisation audit chain has no tip row (org_audit_tip): "
            "run `perfplan audit verify` and restore the database"
        )


class OrgRecord(NamedTuple):
    """One link of the organisation chain: the columns of `org_audit_record`, in order."""

    id: int
    seq: int
    kind: str
    subject: str
    detail: str
    actor: str
    channel: str
    at: datetime
    prev_hash: str
    hash: str


def org_hash(fields: dict[str, Any] | OrgRecord) -> str:
    """The record's hash: SHA-256 over its fields in a fixed order, as a plan record's."""
    values = fields._asdict() if isinstance(fields, OrgRecord) else fields
    return seal(
        [
            "organisation",  # a plan record can never hash to an organisation record
            values["seq"],
            values["kind"],
            values["subject"],
            values["detail"],
            values["actor"],
            values["channel"],
            instant_text(values["at"]),
            values["prev_hash"],
        ]
    )


class OrgEntry(NamedTuple):
    """A change to append: its kind (`KINDS`), to whom or what, and the details."""

    kind: str
    subject: str
    detail: str = ""


def append(
    session: Session, *, kind: str, subject: str, by: Acting, now: datetime, detail: str = ""
) -> int:
    """Append one record to the organisation chain, in `session`'s transaction (so it
    is kept exactly when the change is); returns its sequence number."""
    return append_many(session, [OrgEntry(kind, subject, detail)], by=by, now=now)


def append_many(session: Session, entries: Sequence[OrgEntry], *, by: Acting, now: datetime) -> int:
    """Append records in order, as `append` does one, in three statements whatever their
    number (a bulk import's thousands); returns the last sequence number (0 for none)."""
    if not entries:
        return 0
    assert all(entry.kind in KINDS for entry in entries), entries
    # Moving the tip first takes the chain's lock (a row lock on PostgreSQL, the write
    # lock on SQLite): a concurrent change waits, then reads the tip this one leaves.
    bump = (
        update(ORG_AUDIT_TIP)
        .where(ORG_AUDIT_TIP.c.id == 1)
        .values(seq=ORG_AUDIT_TIP.c.seq + len(entries))
        .returning(ORG_AUDIT_TIP.c.seq, ORG_AUDIT_TIP.c.head)
    )
    tip = session.execute(bump).first()
    if tip is None:
        raise ChainUnusable()
    records: list[dict[str, Any]] = []
    prev_hash = tip.head
    for seq, entry in enumerate(entries, start=tip.seq - len(entries) + 1):
        record: dict[str, Any] = {
            **entry._asdict(),
            "seq": seq,
            "actor": by.actor,
            "channel": by.channel,
            "at": now,
            "prev_hash": prev_hash,
        }
        record["hash"] = prev_hash = org_hash(record)
        records.append(record)
    session.execute(insert(ORG_AUDIT), records)
    session.execute(update(ORG_AUDIT_TIP).where(ORG_AUDIT_TIP.c.id == 1).values(head=prev_hash))
    return int(tip.seq)


@dataclass(frozen=True)
class OrgBreak:
    """The first broken link of the organisation chain, and what is wrong with it."""

    seq: int
    record_id: int | None
    problem: str

    def __str__(self) -> str:
        return broken_link("organisation chain", self.seq, self.record_id, self.problem)


@dataclass
class OrgVerifyReport:
    records: int = 0
    breaks: list[OrgBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def _tip_problem(tip: Any, last_seq: int, last_hash: str) -> OrgBreak | None:
    if tip is None:
        return OrgBreak(last_seq + 1, None, "the chain's tip row (org_audit_tip) is missing")
    if (tip.seq, tip.head) == (last_seq, last_hash):
        return None
    if tip.seq > last_seq:
        problem = (
            f"the tip records {tip.seq} records but the chain ends at {last_seq}: "
            "records were deleted or the tip was altered"
        )
    else:
        problem = (
            f"the chain goes on to {last_seq} records but the tip records {tip.seq}: "
            "records were added behind perfplan's back or the tip was altered"
        )
    return OrgBreak(min(tip.seq, last_seq) + 1, None, problem)


def verify(session: Session) -> OrgVerifyReport:
    """Recompute the whole organisation chain; report its first break."""
    report = OrgVerifyReport()
    prev_hash, last_seq = GENESIS_HASH, 0
    query = select(ORG_AUDIT).order_by(ORG_AUDIT.c.seq).execution_options(yield_per=2000)
    for row in session.execute(query).tuples():
        record = OrgRecord(*row)
        report.records += 1
        problem = link_problem(record, last_seq + 1, prev_hash, org_hash(record))
        if problem:
            report.breaks.append(OrgBreak(record.seq, record.id, problem))
            return report
        prev_hash, last_seq = record.hash, record.seq
    tip = session.execute(select(ORG_AUDIT_TIP).where(ORG_AUDIT_TIP.c.id == 1)).first()
    broken = _tip_problem(tip, last_seq, prev_hash)
    if broken:
        report.breaks.append(broken)
    return report


def history(
    session: Session, *, kind: str | None = None, limit: int | None = None, offset: int = 0
) -> list[OrgRecord]:
    """The organisation chain, oldest first (one kind of change, if given)."""
    query = select(ORG_AUDIT).order_by(ORG_AUDIT.c.seq).offset(offset).limit(limit)
    if kind is not None:
        query = query.where(ORG_AUDIT.c.kind == kind)
    return [OrgRecord(*row) for row in session.execute(query).tuples()]


def recent(session: Session, *, count: int) -> list[OrgRecord]:
    """The last `count` records of the organisation chain, oldest first."""
    query = select(ORG_AUDIT).order_by(ORG_AUDIT.c.seq.desc()).limit(count)
    return [OrgRecord(*row) for row in reversed(session.execute(query).tuples().all())]
