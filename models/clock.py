"""The one place that reads the wall clock; everything else takes `now`.

`PERFPLAN_NOW` (ISO-8601) freezes the clock for a whole process, so that a
plan's life can be replayed from the command line.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta


def utc(value: datetime) -> datetime:
    """The same instant as an aware UTC datetime (naive input is taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """An ISO-8601 date or datetime; a bare date means midnight UTC."""
    text = text.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    try:
        return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except OverflowError:  # 0001-01-01T00:00+05:00 is before the first instant held
        raise ValueError(f"'{text}' is outside the years 1 to 9999 in UTC") from None


def now() -> datetime:
    """The current instant in UTC, or the frozen one from PERFPLAN_NOW."""
    frozen = os.environ.get("PERFPLAN_NOW")
    if frozen:
        return parse_instant(frozen)
    return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until it is advanced (tests and simulations)."""

    def __init__(self, start: datetime) -> None:
        self._now = utc(start)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now

    def set(self, instant: datetime) -> datetime:
        self._now = utc(instant)
        return self._now
