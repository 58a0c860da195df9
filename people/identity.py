"""Proving who someone is: personal API tokens, passwords and web sessions.

Tokens and session ids are long random strings, so a SHA-256 digest is enough
to keep them (a stolen table gives nothing to replay); passwords are short and
chosen by people, so they get Argon2id, which is slow on purpose. Every failure
says the same thing, so nobody learns which part was wrong.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, insert, select, update
from sqlmodel import Session

from models.tables import API_TOKEN, CREDENTIAL, ORG_ROLE, PERSON, WEB_SESSION
from people import orgaudit, throttle
from people.access import Viewer, load_viewer
from people.directory import RESERVED_KEYS
from people.errors import InvalidInput, NotFound, SignInLocked, Unauthenticated
from people.orgaudit import Acting

TOKEN_PREFIX = "pp_"
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# Checked when the person is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    id: int
    token: str  # shown once, never stored
    prefix: str


def create_token(
    session: Session,
    *,
    person: str,
    name: str,
    now: datetime,
    by: Acting,
    expires_at: datetime | None = None,
) -> IssuedToken:
    """A new personal API token for `person`; the token itself is returned only here."""
    viewer = load_viewer(session, key=person)
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("the expiry must be in the future", field="expires")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = token[:10]
    token_id = session.execute(
        insert(API_TOKEN)
        .values(
            person_id=viewer.id,
            name=name,
            prefix=prefix,
            token_hash=digest(token),
            created_at=now,
            expires_at=expires_at,
        )
        .returning(API_TOKEN.c.id)
    ).scalar_one()
    expiry = f", expires {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
    orgaudit.append(
        session,
        kind="token.created",
        subject=f"token {token_id}",
        by=by,
        now=now,
        detail=f"for {person}, prefix {prefix}, named {name!r}{expiry}",
    )
    return IssuedToken(int(token_id), token, prefix)


# Nobody is the automation: a row under one of its keys (from before they were refused)
# is reached by no token and no password.
_A_PERSON = func.lower(PERSON.c.key).not_in(sorted(RESERVED_KEYS))

# One statement per request: the token, its person and their standing roles.
_TOKEN_OWNER = (
    select(
        API_TOKEN.c.id,
        API_TOKEN.c.expires_at,
        API_TOKEN.c.revoked_at,
        API_TOKEN.c.last_used_at,
        PERSON.c.id.label("person_id"),
        PERSON.c.key,
        PERSON.c.name,
        PERSON.c.locale,
        ORG_ROLE.c.role,
        ORG_ROLE.c.department_id,
    )
    .join(PERSON, PERSON.c.id == API_TOKEN.c.person_id)
    .outerjoin(ORG_ROLE, ORG_ROLE.c.person_id == PERSON.c.id)
    .where(API_TOKEN.c.token_hash == bindparam("token_hash"), _A_PERSON)
)
_TOUCH_TOKEN = (
    update(API_TOKEN)
    .where(API_TOKEN.c.id == bindparam("token_id"))
    .values(last_used_at=bindparam("now", type_=API_TOKEN.c.last_used_at.type))
)


def authenticate_token(session: Session, *, token: str, now: datetime) -> Viewer:
    """The person a bearer token belongs to; Unauthenticated if unknown, revoked or expired."""
    rows = session.execute(_TOKEN_OWNER, {"token_hash": digest(token)}).all()
    if not rows or rows[0].revoked_at is not None:
        raise Unauthenticated("the API token is unknown or revoked")
    row = rows[0]
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated("the API token has expired")
    # Written at most once a minute: a busy client must not turn every read into a write.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        session.execute(_TOUCH_TOKEN, {"token_id": row.id, "now": now})
    roles = frozenset((r.role, r.department_id) for r in rows if r.role is not None)
    return Viewer(row.person_id, row.key, row.name, row.locale, roles)


def revoke_token(session: Session, *, token_id: int, now: datetime, by: Acting) -> None:
    owner = session.execute(
        update(API_TOKEN)
        .where(API_TOKEN.c.id == token_id, API_TOKEN.c.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(API_TOKEN.c.person_id, API_TOKEN.c.prefix)
    ).first()
    if owner is None:
        raise NotFound(f"no active API token with id {token_id}")
    person = session.execute(select(PERSON.c.key).where(PERSON.c.id == owner.person_id)).scalar()
    orgaudit.append(
        session,
        kind="token.revoked",
        subject=f"token {token_id}",
        by=by,
        now=now,
        detail=f"of {person}, prefix {owner.prefix}",
    )


class TokenRow(NamedTuple):
    """A token as its owner and an admin see it: never the token itself."""

    id: int
    person: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def list_tokens(session: Session, *, person: str | None = None) -> list[TokenRow]:
    query = (
        select(
            API_TOKEN.c.id,
            PERSON.c.key.label("person"),
            API_TOKEN.c.name,
            API_TOKEN.c.prefix,
            API_TOKEN.c.created_at,
            API_TOKEN.c.expires_at,
            API_TOKEN.c.last_used_at,
            API_TOKEN.c.revoked_at,
        )
        .join(PERSON, PERSON.c.id == API_TOKEN.c.person_id)
        .order_by(API_TOKEN.c.id)
    )
    if person is not None:
        query = query.where(PERSON.c.key == person)
    return [TokenRow(*row) for row in session.execute(query).tuples()]


def set_password(
    session: Session, *, person: str, password: str, now: datetime, by: Acting
) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters", field="password")
    viewer = load_viewer(session, key=person)
    hashed = _hasher.hash(password)
    done = session.execute(
        update(CREDENTIAL)
        .where(CREDENTIAL.c.person_id == viewer.id)
        .values(password_hash=hashed, changed_at=now)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        session.execute(
            insert(CREDENTIAL).values(person_id=viewer.id, password_hash=hashed, changed_at=now)
        )
    # A new password signs out every browser that knew the old one.
    ended = session.execute(
        update(WEB_SESSION)
        .where(WEB_SESSION.c.person_id == viewer.id, WEB_SESSION.c.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount  # type: ignore[attr-defined]
    first = "first password" if not done.rowcount else "password changed"  # type: ignore[attr-defined]
    # Whoever set it (the person, or an admin for someone locked out) lifts a lockout.
    throttle.forget_account(session, account=person)
    orgaudit.append(
        session,
        kind="password.set",
        subject=person,
        by=by,
        now=now,
        detail=f"{first}; {ended} signed-in session(s) ended",
    )


def _stored_hash(session: Session, person: str) -> tuple[int, str] | None:
    row = session.execute(
        select(PERSON.c.id, CREDENTIAL.c.password_hash)
        .join(CREDENTIAL, CREDENTIAL.c.person_id == PERSON.c.id)
        .where(PERSON.c.key == person, _A_PERSON)
    ).first()
    return (int(row.id), str(row.password_hash)) if row else None


def _matches(stored: tuple[int, str] | None, password: str) -> int | None:
    """The person's id if the password is theirs. An unknown person costs one hash too
    (against a dummy), so a wrong name takes as long as a wrong password."""
    try:
        _hasher.verify(stored[1] if stored else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return stored[0] if stored else None


Transaction = Callable[[], AbstractContextManager[Session]]


def sign_in(
    transaction: Transaction,
    *,
    door: throttle.Door,
    password: str,
    now: datetime,
    rules: throttle.Rules,
) -> Viewer:
    """The person whose name and password were given at `door`, throttled per account
    and per address (`people.throttle`). Three short transactions: the attempt is
    counted and committed before the hash, which runs outside any transaction; then the
    outcome is recorded. SignInLocked (no hash computed) or Unauthenticated otherwise,
    each raised after its count is committed; the same for unknown names."""
    with transaction() as session:
        locked = throttle.admit(session, door=door, rules=rules, now=now)
        stored = None if locked else _stored_hash(session, door.account)
    if locked:
        raise SignInLocked(locked.until, locked.retry_after(now))
    person_id = _matches(stored, password)
    with transaction() as session:
        if person_id is not None:
            throttle.succeeded(session, door=door)
            return load_viewer(session, person_id=person_id)
        locked = throttle.failed(session, door=door, rules=rules, now=now)
    if locked:
        raise SignInLocked(locked.until, locked.retry_after(now))
    raise Unauthenticated("unknown person or wrong password")


@dataclass(frozen=True)
class OpenedSession:
    cookie: str  # goes to the browser, never stored
    csrf_token: str
    expires_at: datetime


def open_session(
    session: Session, *, viewer: Viewer, now: datetime, lifetime: timedelta
) -> OpenedSession:
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires = now + lifetime
    session.execute(
        insert(WEB_SESSION).values(
            person_id=viewer.id,
            session_hash=digest(cookie),
            csrf_token=csrf,
            created_at=now,
            expires_at=expires,
        )
    )
    return OpenedSession(cookie, csrf, expires)


@dataclass(frozen=True)
class SignedIn:
    viewer: Viewer
    csrf_token: str
    session_id: int


_SESSION = select(WEB_SESSION.c.id, WEB_SESSION.c.person_id, WEB_SESSION.c.csrf_token).where(
    WEB_SESSION.c.session_hash == bindparam("session_hash"),
    WEB_SESSION.c.revoked_at.is_(None),
    WEB_SESSION.c.expires_at > bindparam("now", type_=WEB_SESSION.c.expires_at.type),
)


def session_viewer(session: Session, *, cookie: str, now: datetime) -> SignedIn:
    row = session.execute(_SESSION, {"session_hash": digest(cookie), "now": now}).first()
    if row is None:
        raise Unauthenticated("not signed in, or the session has ended")
    return SignedIn(load_viewer(session, person_id=row.person_id), row.csrf_token, row.id)


def close_session(session: Session, *, cookie: str, now: datetime) -> None:
    session.execute(
        update(WEB_SESSION)
        .where(WEB_SESSION.c.session_hash == digest(cookie), WEB_SESSION.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
