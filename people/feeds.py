"""Private calendar feeds: each person's secret, revocable feed address.

The token is shown once, when it is made; only its SHA-256 is kept (`calendar_feed`).
Making a new one revokes the old: a person has at most one live feed address.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlmodel import Session

from models.tables import CALENDAR_FEED

_TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def revoke(session: Session, *, person_id: int, now: datetime) -> int:
    """End the person's live feed address; returns how many were live (0 or 1)."""
    ended = session.connection().execute(
        update(CALENDAR_FEED)
        .where(CALENDAR_FEED.c.person_id == person_id, CALENDAR_FEED.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(ended.rowcount or 0)


def create(session: Session, *, person_id: int, now: datetime) -> str:
    """A new feed token for the person (the old one, if any, stops working)."""
    revoke(session, person_id=person_id, now=now)
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    session.execute(
        insert(CALENDAR_FEED).values(
            person_id=person_id, token_hash=token_hash(token), created_at=now, revoked_at=None
        )
    )
    return token


def owner(session: Session, token: str) -> int | None:
    """The person whose live feed `token` opens; None for a revoked or unknown token."""
    found = session.execute(
        select(CALENDAR_FEED.c.person_id).where(
            CALENDAR_FEED.c.token_hash == token_hash(token), CALENDAR_FEED.c.revoked_at.is_(None)
        )
    ).scalar()
    return int(found) if found is not None else None


def live_since(session: Session, *, person_id: int) -> datetime | None:
    """When the person's live feed address was made (None: they have none)."""
    found: datetime | None = session.execute(
        select(CALENDAR_FEED.c.created_at).where(
            CALENDAR_FEED.c.person_id == person_id, CALENDAR_FEED.c.revoked_at.is_(None)
        )
    ).scalar()
    return found
