"""The organisation chain: every change to who may do what appends one hash-chained
record in the change's own transaction, the database refuses to change them, and
verify names any record edited, inserted or deleted behind its back."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from models.chain import GENESIS_HASH
from models.clock import FrozenClock
from models.db import session_scope
from models.tables import ORG_AUDIT, ORG_AUDIT_TIP
from people import access, identity, orgaudit
from people.directory import add_person
from people.errors import InvalidInput
from people.orgaudit import Acting, OrgVerifyReport
from states.definitions import library
from states.plans.document import PlanDocument
from states.plans.opening import create_plan

ADMIN = Acting("adam", "web")
ROOT = Path(__file__).resolve().parents[2]


def records(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(ORG_AUDIT).order_by(ORG_AUDIT.c.seq)))


def verify(engine: Engine) -> OrgVerifyReport:
    with session_scope(engine) as session:
        return orgaudit.verify(session)


def unprotect(engine: Engine) -> None:
    """What someone with owner rights could do: switch the append-only triggers off."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER IF EXISTS org_audit_record_no_update"))
            connection.execute(text("DROP TRIGGER IF EXISTS org_audit_record_no_delete"))
        else:
            connection.execute(text("ALTER TABLE org_audit_record DISABLE TRIGGER USER"))


def tamper(engine: Engine, *statements: Any) -> None:
    unprotect(engine)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(statement)


@pytest.fixture
def adam(engine: Engine, clock: FrozenClock) -> Engine:
    """Adam the admin, added from the command line: the chain's first record."""
    with session_scope(engine) as session:
        add_person(
            session,
            key="adam",
            name="Adam Xu",
            email="adam@example.com",
            now=clock(),
            by=Acting("root", "cli"),
            department="IT",
        )
    return engine


def test_each_kind_of_change_appends_one_record(
    adam: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    steps: list[tuple[str, Any]] = [
        (
            "role.granted",
            lambda s: access.grant(
                s, person="adam", role="admin", department=None, now=clock(), by=ADMIN
            ),
        ),
        (
            "role.revoked",
            lambda s: access.revoke(
                s, person="adam", role="admin", department=None, now=clock(), by=ADMIN
            ),
        ),
        (
            "password.set",
            lambda s: identity.set_password(
                s, person="adam", password="a long password", now=clock(), by=ADMIN
            ),
        ),
        (
            "token.created",
            lambda s: identity.create_token(s, person="adam", name="ci", now=clock(), by=ADMIN),
        ),
        ("token.revoked", lambda s: identity.revoke_token(s, token_id=1, now=clock(), by=ADMIN)),
        (
            "definition.installed",
            lambda s: library.install(
                s,
                text=(ROOT / "states/definitions/builtin/standard.yaml").read_text(),
                now=clock(),
                by=ADMIN,
                directory=tmp_path,
            ),
        ),
    ]
    for kind, change in steps:
        before = len(records(adam))
        with session_scope(adam) as session:
            change(session)
        added = records(adam)[before:]
        assert [(r.kind, r.actor, r.channel) for r in added] == [(kind, "adam", "web")]
    assert records(adam)[0].kind == "person.created"
    details = {r.kind: (r.subject, r.detail) for r in records(adam)}
    assert details["person.created"] == (
        "adam",
        "name 'Adam Xu', email adam@example.com, locale en, department IT",
    )
    assert details["role.granted"] == ("adam", "admin")
    assert details["password.set"] == ("adam", "first password; 0 signed-in session(s) ended")
    assert details["token.revoked"][0] == "token 1"
    assert details["definition.installed"][0] == "definition standard v1"
    assert verify(adam).ok and verify(adam).records == len(steps) + 1


def test_a_plan_document_records_the_people_it_creates_and_changes(
    engine: Engine, zhang_doc: PlanDocument, clock: FrozenClock
) -> None:
    with session_scope(engine) as session:
        create_plan(session=session, document=zhang_doc, actor="wang", now=clock())
    created = [r for r in records(engine) if r.kind == "person.created"]
    assert {r.subject for r in created} == {p.key for p in zhang_doc.people}
    assert {(r.actor, r.channel) for r in records(engine)} == {("wang", "plan document")}
    assert [r.kind for r in records(engine)].count("definition.installed") == 1
    zhang = next(r for r in created if r.subject == "zhang")
    assert zhang.detail.endswith(", manager li")
    assert ("sun", "head of Sales East") in {
        (r.subject, r.detail) for r in records(engine) if r.kind == "person.changed"
    }
    before = len(records(engine))
    with session_scope(engine) as session:  # the same document again changes no one
        create_plan(session=session, document=zhang_doc, actor="wang", now=clock())
    assert len(records(engine)) == before


def test_a_change_that_fails_leaves_no_record(adam: Engine, clock: FrozenClock) -> None:
    with pytest.raises(InvalidInput), session_scope(adam) as session:
        access.grant(session, person="adam", role="hr", department="Nowhere", now=clock(), by=ADMIN)
    with pytest.raises(RuntimeError), session_scope(adam) as session:
        access.grant(session, person="adam", role="auditor", department=None, now=clock(), by=ADMIN)
        raise RuntimeError("the rest of the change failed")
    assert [r.kind for r in records(adam)] == ["person.created"]
    assert verify(adam).ok


@pytest.fixture
def chained(adam: Engine, clock: FrozenClock) -> Engine:
    """Four records: Adam created, then admin and auditor granted, then auditor revoked."""
    with session_scope(adam) as session:
        for role in ("admin", "auditor"):
            access.grant(session, person="adam", role=role, department=None, now=clock(), by=ADMIN)
        access.revoke(
            session, person="adam", role="auditor", department=None, now=clock(), by=ADMIN
        )
    assert verify(adam).ok
    return adam


def test_the_database_refuses_to_change_or_delete_a_record(chained: Engine) -> None:
    for statement in (
        "UPDATE org_audit_record SET detail = 'forged'",
        "DELETE FROM org_audit_record",
    ):
        with pytest.raises(DBAPIError, match="append-only"), chained.begin() as connection:
            connection.execute(text(statement))
    assert verify(chained).ok


def only_break(report: OrgVerifyReport) -> Any:
    assert len(report.breaks) == 1, report.breaks
    return report.breaks[0]


def test_an_edited_record_is_named(chained: Engine) -> None:
    target = records(chained)[1]
    tamper(chained, update(ORG_AUDIT).where(ORG_AUDIT.c.id == target.id).values(detail="hr"))
    broken = only_break(verify(chained))
    assert (broken.seq, broken.record_id) == (2, target.id)
    assert "altered" in broken.problem
    assert str(broken).startswith(f"organisation chain, record #{target.id} (seq 2):")


def test_a_deleted_record_is_named(chained: Engine) -> None:
    tamper(chained, delete(ORG_AUDIT).where(ORG_AUDIT.c.seq == 2))
    broken = only_break(verify(chained))
    assert broken.seq == 3 and "missing" in broken.problem


def test_records_deleted_from_the_end_are_caught_by_the_tip(chained: Engine) -> None:
    tamper(chained, delete(ORG_AUDIT).where(ORG_AUDIT.c.seq >= 3))
    broken = only_break(verify(chained))
    assert broken.seq == 3
    assert "tip records 4 records but the chain ends at 2" in broken.problem


def test_an_inserted_record_is_caught(chained: Engine, clock: FrozenClock) -> None:
    last = records(chained)[-1]
    forged: dict[str, Any] = {
        "seq": 5,
        "kind": "role.granted",
        "subject": "mallory",
        "detail": "auditor",
        "actor": "adam",
        "channel": "web",
        "at": clock(),
        "prev_hash": last.hash,
    }
    forged["hash"] = orgaudit.org_hash(forged)  # a perfect link, but the tip says 4
    tamper(chained, insert(ORG_AUDIT).values(forged))
    broken = only_break(verify(chained))
    assert broken.seq == 5 and "added behind perfplan's back" in broken.problem


def test_an_inserted_record_with_the_tip_moved_but_a_made_up_hash_is_named(
    chained: Engine, clock: FrozenClock
) -> None:
    last = records(chained)[-1]
    forged = {
        "seq": 5,
        "kind": "role.granted",
        "subject": "mallory",
        "detail": "auditor",
        "actor": "adam",
        "channel": "web",
        "at": clock(),
        "prev_hash": last.hash,
        "hash": "f" * 64,
    }
    tamper(
        chained,
        insert(ORG_AUDIT).values(forged),
        update(ORG_AUDIT_TIP).values(seq=5, head="f" * 64),
    )
    broken = only_break(verify(chained))
    assert broken.seq == 5 and "altered" in broken.problem


def test_a_reordered_chain_is_named(chained: Engine) -> None:
    first = records(chained)[0]
    tamper(chained, update(ORG_AUDIT).where(ORG_AUDIT.c.seq == 2).values(prev_hash=GENESIS_HASH))
    broken = only_break(verify(chained))
    assert broken.seq == 2 and "previous-hash" in broken.problem
    assert first.prev_hash == GENESIS_HASH


def test_a_missing_tip_is_named_and_stops_appending(chained: Engine, clock: FrozenClock) -> None:
    tamper(chained, delete(ORG_AUDIT_TIP))
    assert "tip row" in only_break(verify(chained)).problem
    with pytest.raises(orgaudit.ChainUnusable), session_scope(chained) as session:
        access.grant(session, person="adam", role="auditor", department=None, now=clock(), by=ADMIN)


def test_concurrent_changes_line_up_in_one_unbroken_chain(adam: Engine, clock: FrozenClock) -> None:
    """Eight workers add people at once: every record gets its own place (the tip's
    lock serialises the appends), and the chain verifies."""
    names = [f"worker{n}" for n in range(8)]
    start = threading.Barrier(len(names))
    failures: list[BaseException] = []

    def add(key: str) -> None:
        try:
            start.wait()
            with session_scope(adam) as session:
                add_person(
                    session,
                    key=key,
                    name=key,
                    email=f"{key}@example.com",
                    now=clock(),
                    by=ADMIN,
                )
        except BaseException as error:  # reported below, in the test's own thread
            failures.append(error)

    threads = [threading.Thread(target=add, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    chain = records(adam)
    assert [r.seq for r in chain] == list(range(1, len(names) + 2))
    assert {r.subject for r in chain[1:]} == set(names)
    assert verify(adam).ok
