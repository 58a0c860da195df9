"""Sign-in throttling: failed passwords counted per account and per client address in
the database (so every worker and every restart sees them), lockouts that double when
they come in a row, and each lockout written in the organisation chain.

An attempt is counted *before* its password is checked (`admit`) and the count is
committed first, so a burst of parallel guesses cannot get more checks than the limit
allows; a locked account or address is refused without computing a hash at all. The
account is the name typed, known or not, kept as its SHA-256: an unknown name is
throttled exactly as a real one, so the answer never tells which names exist.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models.tables import PERSON, SIGN_IN_THROTTLE
from people import orgaudit

T = SIGN_IN_THROTTLE


@dataclass(frozen=True)
class Rule:
    """How many attempts one account or address gets within `window`; then a lockout
    of `lockout`, twice as long for each further lockout in a row, at most `max_lockout`."""

    attempts: int
    window: timedelta
    lockout: timedelta
    max_lockout: timedelta

    def lockout_after(self, lockouts_before: int) -> timedelta:
        doubled: timedelta = self.lockout * (2 ** min(lockouts_before, 20))
        return min(doubled, self.max_lockout)


@dataclass(frozen=True)
class Rules:
    """The figures for accounts and for addresses (an office behind one address needs
    more room), and how long a quiet account or address keeps its lockout streak."""

    account: Rule = field(
        default_factory=lambda: Rule(
            5, timedelta(minutes=15), timedelta(minutes=15), timedelta(hours=4)
        )
    )
    address: Rule = field(
        default_factory=lambda: Rule(
            20, timedelta(minutes=15), timedelta(minutes=15), timedelta(hours=4)
        )
    )
    forget_after: timedelta = timedelta(hours=24)

    def of(self, scope: str) -> Rule:
        return self.account if scope == "account" else self.address


@dataclass(frozen=True)
class Locked:
    """Sign-in is refused until `until` (the later of the account's and the address's)."""

    until: datetime

    def retry_after(self, now: datetime) -> int:
        """Whole seconds to wait, for the Retry-After header (at least 1)."""
        return max(1, math.ceil((self.until - now).total_seconds()))


@dataclass(frozen=True)
class Door:
    """One sign-in attempt's two counters: the account typed and the client's address."""

    account: str  # as typed (stripped)
    address: str

    @property
    def keys(self) -> tuple[tuple[str, str], tuple[str, str]]:
        return (("account", account_key(self.account)), ("address", address_key(self.address)))


def account_key(typed: str) -> str:
    return hashlib.sha256(typed.encode()).hexdigest()


def address_key(address: str) -> str:
    """An IPv4 address as it is; an IPv6 address by its /64 network, which one client
    usually holds whole (counting each address would let it rotate past the limit)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:  # ::ffff:203.0.113.5 is 203.0.113.5
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed)


def _ensure_rows(session: Session, door: Door, now: datetime) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    rows = [
        {"scope": scope, "key": key, "attempts": 0, "lockouts": 0}
        | {"window_started_at": now, "last_attempt_at": now}
        for scope, key in door.keys
    ]
    session.execute(dialect.insert(T).values(rows).on_conflict_do_nothing())


def _where(scope: str, key: str) -> Any:
    return (T.c.scope == scope) & (T.c.key == key)


def _charge(session: Session, scope: str, key: str, rules: Rules, now: datetime) -> bool:
    """Count one attempt, unless the account or address is locked or has used its
    attempts in the current window; one statement, so parallel attempts each count."""
    rule = rules.of(scope)
    window_over = T.c.window_started_at <= now - rule.window
    quiet = T.c.last_attempt_at <= now - rules.forget_after
    done = session.execute(
        update(T)
        .where(
            _where(scope, key),
            or_(T.c.locked_until.is_(None), T.c.locked_until <= now),
            or_(window_over, T.c.attempts < rule.attempts),
        )
        .values(
            attempts=case((window_over, 1), else_=T.c.attempts + 1),
            window_started_at=case((window_over, now), else_=T.c.window_started_at),
            lockouts=case((quiet, 0), else_=T.c.lockouts),
            last_attempt_at=now,
        )
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def _refund(session: Session, scope: str, key: str) -> None:
    session.execute(
        update(T)
        .where(_where(scope, key))
        .values(attempts=case((T.c.attempts > 0, T.c.attempts - 1), else_=0))
    )


def _subject(session: Session, door: Door, scope: str) -> str:
    """What the lockout record names: the address, the person, or (for a name nobody
    has) its digest only — the name typed may be a password typed in the wrong box."""
    if scope == "address":
        return f"address {address_key(door.address)}"
    known = session.execute(select(PERSON.c.key).where(PERSON.c.key == door.account)).scalar()
    return (
        f"account {known}" if known else f"unknown account sha256:{account_key(door.account)[:16]}"
    )


def _spoken(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    if minutes % 60 == 0 and minutes >= 60:
        return f"{minutes // 60} h"
    return f"{minutes} min"


def _lock_if_full(
    session: Session, door: Door, scope: str, key: str, rules: Rules, now: datetime
) -> None:
    """Lock an account or address that has used its attempts, and record it once (of
    several workers finding it full, the one whose UPDATE lands writes the record)."""
    rule = rules.of(scope)
    row = session.execute(select(T.c.attempts, T.c.lockouts).where(_where(scope, key))).first()
    if row is None or row.attempts < rule.attempts:
        return
    duration = rule.lockout_after(row.lockouts)
    until = now + duration
    done = session.execute(
        update(T)
        .where(
            _where(scope, key),
            T.c.attempts >= rule.attempts,
            T.c.lockouts == row.lockouts,
            or_(T.c.locked_until.is_(None), T.c.locked_until <= now),
        )
        .values(locked_until=until, lockouts=row.lockouts + 1, attempts=0, window_started_at=until)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        return
    detail = (
        f"{rule.attempts} sign-in attempts within {_spoken(rule.window)}: locked for "
        f"{_spoken(duration)}, until {until:%Y-%m-%d %H:%M:%S} UTC "
        f"(lockout {row.lockouts + 1} in a row)"
    )
    orgaudit.append(
        session,
        kind="sign-in.locked",
        subject=_subject(session, door, scope),
        by=orgaudit.SIGN_IN_THROTTLE,
        now=now,
        detail=detail,
    )


def _locked(session: Session, door: Door, now: datetime) -> Locked | None:
    scopes = [_where(scope, key) for scope, key in door.keys]
    until = session.execute(
        select(func.max(T.c.locked_until)).where(or_(*scopes), T.c.locked_until > now)
    ).scalar()
    return Locked(until) if until is not None else None


def admit(session: Session, *, door: Door, rules: Rules, now: datetime) -> Locked | None:
    """Count this attempt against the account and the address, or refuse it (None: go
    on and check the password). Commit before checking it: the count must hold for
    every other worker while the hash is computed."""
    _ensure_rows(session, door, now)
    charged: list[tuple[str, str]] = []
    for scope, key in door.keys:
        if not _charge(session, scope, key, rules, now):
            break
        charged.append((scope, key))
    else:
        return None
    for scope, key in charged:  # refused by the other counter: this one gave nothing
        _refund(session, scope, key)
    for scope, key in door.keys:
        _lock_if_full(session, door, scope, key, rules, now)
    # Refused means locked now; the fallback only covers a lock lifted this instant.
    return _locked(session, door, now) or Locked(now + timedelta(seconds=1))


def failed(session: Session, *, door: Door, rules: Rules, now: datetime) -> Locked | None:
    """The password was wrong: lock what has used its attempts; forget quiet rows."""
    for scope, key in door.keys:
        _lock_if_full(session, door, scope, key, rules, now)
    session.execute(
        delete(T).where(
            T.c.last_attempt_at <= now - rules.forget_after,
            or_(T.c.locked_until.is_(None), T.c.locked_until <= now),
        )
    )
    return _locked(session, door, now)


def succeeded(session: Session, *, door: Door) -> None:
    """The password was right: the account starts afresh (its lockout streak too); the
    address gets its attempt back."""
    (account_scope, account), (address_scope, address) = door.keys
    session.execute(delete(T).where(_where(account_scope, account)))
    _refund(session, address_scope, address)


def forget_account(session: Session, *, account: str) -> None:
    """A new password was set: the account's count and lockout go with the old one."""
    session.execute(delete(T).where(_where("account", account_key(account))))
