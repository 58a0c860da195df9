"""Durations in definitions and plans, parsed in one place.

Accepted: ISO-8601 (`P1W`, `P3D`, `PT4H`, `P0D`) and plain English
(`3 business days`, `2 days`, `1 week`, `4 hours`). Business days are kept
apart: what they mean depends on a holiday calendar, applied by the
follow-up flows.

Every duration is bounded: a plan runs at most MAX_PERIOD_DAYS (two years), so nothing
in it waits longer, and a calendar walks at most that many working days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from pydantic import TypeAdapter, ValidationError

from states.plans.bounds import MAX_PERIOD_DAYS

_ISO = TypeAdapter(timedelta)
_PLAIN = re.compile(
    r"^\s*(?P<n>\d+)\s+(?P<unit>business\s+days?|working\s+days?|days?|weeks?|hours?|minutes?)\s*$",
    re.IGNORECASE,
)
# ISO-8601 with a number of seven digits or more: no span of a plan is written like that.
_HUGE_ISO = re.compile(r"^P(?=.*\d{7})[0-9YMWDTHS.,]+$", re.IGNORECASE)
_UNIT_SECONDS = {"day": 86400, "week": 7 * 86400, "hour": 3600, "minute": 60}
LONGEST = timedelta(days=MAX_PERIOD_DAYS)
MOST_BUSINESS_DAYS = MAX_PERIOD_DAYS
TOO_LONG = "longer than any plan runs"


class DurationTooLong(ValueError):
    """A duration longer than any plan runs (MAX_PERIOD_DAYS): a mistake, never a wait."""


@dataclass(frozen=True)
class Duration:
    """A calendar span plus a number of business days (one of them is usually zero)."""

    delta: timedelta = timedelta(0)
    business_days: int = 0

    def __str__(self) -> str:
        if self.business_days:
            return f"{self.business_days} business day{'s' if self.business_days != 1 else ''}"
        return str(self.delta)


def _too_long(text: str) -> DurationTooLong:
    return DurationTooLong(
        f"'{text[:40]}' is {TOO_LONG}: a plan runs at most {MAX_PERIOD_DAYS} days, so no "
        f"follow-up waits more than {MAX_PERIOD_DAYS} days or {MOST_BUSINESS_DAYS} business days"
    )


def _plain(text: str, count: int, unit: str) -> Duration:
    if unit.startswith(("business", "working")):
        if count > MOST_BUSINESS_DAYS:
            raise _too_long(text)
        return Duration(business_days=count)
    seconds = count * _UNIT_SECONDS[unit.split()[-1].rstrip("s")]
    if seconds > LONGEST.total_seconds():
        raise _too_long(text)  # before timedelta overflows on a huge count
    return Duration(delta=timedelta(seconds=seconds))


def parse_duration(text: str) -> Duration:
    """Raises ValueError with a sentence saying what is accepted (DurationTooLong for a
    duration longer than any plan runs)."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duration such as 'P1W' or '3 business days', got {text!r}")
    match = _PLAIN.match(text)
    if match:
        digits = match["n"].lstrip("0") or "0"
        count = int(digits) if len(digits) <= 12 else 10**12  # past every bound anyway
        return _plain(text, count, match["unit"].lower())
    if text.strip().upper().startswith("P"):
        try:
            delta = _ISO.validate_python(text.strip())
        except (ValidationError, OverflowError):
            delta = None
            if _HUGE_ISO.match(text.strip()):
                raise _too_long(text) from None  # a well-formed span too big to represent
        if delta is not None and delta > LONGEST:
            raise _too_long(text)
        if delta is not None and delta >= timedelta(0):
            return Duration(delta=delta)
    raise ValueError(
        f"'{text}' is not a duration: use ISO-8601 such as 'P1W', 'P3D', 'PT4H', "
        "or words such as '3 business days', '2 days', '1 week'"
    )
