"""Guessing passwords is throttled: per account name and per client address, counted in
the database before the hash, a locked name or address costs no hash, and each lockout
is in the organisation chain. An unknown name is answered exactly as a real one."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from models.clock import FrozenClock
from models.db import session_scope
from models.tables import ORG_AUDIT, SIGN_IN_THROTTLE
from people import identity, orgaudit, throttle
from people.directory import add_person
from people.errors import SignInLocked, Unauthenticated
from people.orgaudit import Acting
from people.throttle import Door, Rule, Rules

PASSWORD = "correct horse battery"
WRONG = "wrong password!"
TESTER = Acting("tester", "cli")
RULES = Rules()  # the defaults: 5 per account, 20 per address, 15 min, doubling to 4 h


class CountingHasher:
    """Argon2id (cheap parameters: the tests count hashes, they do not time them),
    counting the hashes that checking a password costs."""

    def __init__(self) -> None:
        self.real = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hashed: str, password: str) -> bool:
        self.verified += 1
        return bool(self.real.verify(hashed, password))

    def hash(self, password: str) -> str:
        return str(self.real.hash(password))


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(identity, "_hasher", counting)
    return counting


@pytest.fixture
def people(engine: Engine, clock: FrozenClock, hasher: CountingHasher) -> Engine:
    with session_scope(engine) as session:
        for key in ("li", "wang"):
            add_person(
                session,
                key=key,
                name=key.title(),
                email=f"{key}@example.com",
                now=clock(),
                by=TESTER,
            )
            identity.set_password(session, person=key, password=PASSWORD, now=clock(), by=TESTER)
    return engine


def transaction(engine: Engine) -> Callable[[], AbstractContextManager[Session]]:
    return lambda: session_scope(engine)


def attempt(
    engine: Engine,
    clock: FrozenClock,
    person: str,
    password: str,
    *,
    address: str = "203.0.113.5",
    rules: Rules = RULES,
) -> str:
    """Sign in once; what came of it: the person's key, 'refused' or 'locked'."""
    door = Door(account=person, address=address)
    try:
        viewer = identity.sign_in(
            transaction(engine), door=door, password=password, now=clock(), rules=rules
        )
    except SignInLocked:
        return "locked"
    except Unauthenticated:
        return "refused"
    return viewer.key


def lockouts(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        query = select(ORG_AUDIT).where(ORG_AUDIT.c.kind == "sign-in.locked")
        return list(connection.execute(query.order_by(ORG_AUDIT.c.seq)))


def test_a_locked_account_costs_no_hash_and_refuses_even_the_right_password(
    people: Engine, clock: FrozenClock, hasher: CountingHasher
) -> None:
    outcomes = [attempt(people, clock, "li", WRONG) for _ in range(4)]
    assert outcomes == ["refused"] * 4
    assert attempt(people, clock, "li", WRONG) == "locked"  # the fifth locks at once
    assert hasher.verified == 5
    for _ in range(35):
        assert attempt(people, clock, "li", WRONG) == "locked"
    assert attempt(people, clock, "li", PASSWORD) == "locked"
    assert hasher.verified == 5  # forty-one attempts, five hashes


def test_the_lock_ends_when_it_says_and_the_right_password_then_resets_the_count(
    people: Engine, clock: FrozenClock, hasher: CountingHasher
) -> None:
    for _ in range(5):
        attempt(people, clock, "li", WRONG)
    clock.advance(minutes=14, seconds=59)
    assert attempt(people, clock, "li", PASSWORD) == "locked"
    clock.advance(seconds=1)
    assert attempt(people, clock, "li", PASSWORD) == "li"
    # Reset: four more mistakes do not lock (they would, were the count kept).
    assert [attempt(people, clock, "li", WRONG) for _ in range(4)] == ["refused"] * 4
    assert attempt(people, clock, "li", PASSWORD) == "li"


def test_a_success_resets_the_accounts_counter(
    people: Engine, clock: FrozenClock, hasher: CountingHasher
) -> None:
    for _ in range(4):
        assert attempt(people, clock, "li", WRONG) == "refused"
    assert attempt(people, clock, "li", PASSWORD) == "li"
    assert [attempt(people, clock, "li", WRONG) for _ in range(4)] == ["refused"] * 4


def test_each_lockout_in_a_row_lasts_twice_as_long(
    people: Engine, clock: FrozenClock, hasher: CountingHasher
) -> None:
    durations = []
    for _ in range(3):
        started = clock()
        for _ in range(5):
            attempt(people, clock, "li", WRONG)
        with session_scope(people) as session:
            until = session.execute(
                select(SIGN_IN_THROTTLE.c.locked_until).where(SIGN_IN_THROTTLE.c.scope == "account")
            ).scalar_one()
        durations.append(until - started)
        clock.set(until)
    assert durations == [timedelta(minutes=15), timedelta(minutes=30), timedelta(minutes=60)]


def test_an_unknown_name_is_throttled_and_answered_as_a_real_one(
    people: Engine, clock: FrozenClock, hasher: CountingHasher
) -> None:
    real = [attempt(people, clock, "li", WRONG) for _ in range(7)]
    unknown = [attempt(people, clock, "nobody", WRONG, address="198.51.100.7") for _ in range(7)]
    assert real == unknown == ["refused"] * 4 + ["locked"] * 3
    assert hasher.verified == 10  # five each: the unknown name costs a (dummy) hash too
    subjects = [row.subject for row in lockouts(people)]
    assert subjects[0] == "account li"
    # A name nobody has is recorded by its digest only: it may be a password typed there.
    assert subjects[1].startswith("unknown account sha256:") and "nobody" not in subjects[1]


def test_one_address_guessing_many_accounts_is_locked_for_all_of_them(
    people: Engine, clock: FrozenClock, hasher: CountingHasher
) -> None:
    rules = Rules(address=Rule(6, timedelta(minutes=15), timedelta(minutes=15), timedelta(hours=4)))
    names = [f"guess{n}" for n in range(6)]
    assert [attempt(people, clock, name, WRONG, rules=rules) for name in names] == [
        "refused"
    ] * 5 + ["locked"]
    assert attempt(people, clock, "wang", PASSWORD, rules=rules) == "locked"
    assert attempt(people, clock, "wang", PASSWORD, rules=rules, address="192.0.2.1") == "wang"
    assert [row.subject for row in lockouts(people)] == ["address 203.0.113.5"]


def test_attempts_in_flight_count_so_a_burst_gets_no_more_hashes_than_the_limit(
    people: Engine, clock: FrozenClock, hasher: CountingHasher
) -> None:
    """Five workers have admitted five guesses and are hashing them; a sixth is refused
    at once, without a hash, by the counts they committed."""
    door = Door(account="li", address="203.0.113.5")
    for _ in range(5):
        with session_scope(people) as session:
            assert throttle.admit(session, door=door, rules=RULES, now=clock()) is None
    assert attempt(people, clock, "li", PASSWORD) == "locked"
    assert hasher.verified == 0
    assert len(lockouts(people)) == 1


def test_a_lockout_is_written_once_in_the_organisation_chain(
    people: Engine, clock: FrozenClock, hasher: CountingHasher
) -> None:
    for _ in range(12):
        attempt(people, clock, "li", WRONG)
    (record,) = lockouts(people)
    assert record.actor == "system" and record.channel == "sign-in"
    assert record.detail == (
        "5 sign-in attempts within 15 min: locked for 15 min, "
        "until 2026-08-25 09:15:00 UTC (lockout 1 in a row)"
    )
    with session_scope(people) as session:
        assert orgaudit.verify(session).ok


def test_a_new_password_lifts_the_accounts_lockout(
    people: Engine, clock: FrozenClock, hasher: CountingHasher
) -> None:
    for _ in range(5):
        attempt(people, clock, "li", WRONG)
    with session_scope(people) as session:
        identity.set_password(
            session, person="li", password="a brand new password", now=clock(), by=TESTER
        )
    assert attempt(people, clock, "li", "a brand new password") == "li"


def test_quiet_rows_are_forgotten(people: Engine, clock: FrozenClock, hasher: Any) -> None:
    attempt(people, clock, "li", WRONG, address="192.0.2.9")
    clock.advance(hours=25)
    attempt(people, clock, "wang", WRONG)
    with session_scope(people) as session:
        keys = session.execute(select(SIGN_IN_THROTTLE.c.key)).scalars().all()
        count = session.execute(select(func.count()).select_from(SIGN_IN_THROTTLE)).scalar()
    assert "192.0.2.9" not in keys and count == 2  # wang's account and this address


def test_an_ipv6_client_is_counted_by_its_network(
    people: Engine, clock: FrozenClock, hasher: CountingHasher
) -> None:
    assert throttle.address_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert throttle.address_key("::ffff:203.0.113.5") == "203.0.113.5"
    assert throttle.address_key("testclient") == "testclient"
    rules = Rules(address=Rule(3, timedelta(minutes=15), timedelta(minutes=15), timedelta(hours=4)))
    rotating = [f"2001:db8:1:2::{n:x}" for n in range(1, 5)]
    outcomes = [
        attempt(people, clock, f"guess{n}", WRONG, address=address, rules=rules)
        for n, address in enumerate(rotating)
    ]
    assert outcomes == ["refused", "refused", "locked", "locked"]
    assert [row.subject for row in lockouts(people)] == ["address 2001:db8:1:2::/64"]
