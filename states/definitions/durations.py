"""Durations in definitions and plans, parsed in one place.

Accepted: ISO-8601 (`P1W`, `P3D`, `PT4H`, `P0D`) and plain English
(`3 business days`, `2 days`, `1 week`, `4 hours`). Business days are kept
apart: what they mean depends on a holiday calendar, applied by the
follow-up flows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from pydantic import TypeAdapter, ValidationError

_ISO = TypeAdapter(timedelta)
_PLAIN = re.compile(
    r"^\s*(?P<n>\d+)\s+(?P<unit>business\s+days?|working\s+days?|days?|weeks?|hours?|minutes?)\s*$",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"day": 86400, "week": 7 * 86400, "hour": 3600, "minute": 60}


@dataclass(frozen=True)
class Duration:
    """A calendar span plus a number of business days (one of them is usually zero)."""

    delta: timedelta = timedelta(0)
    business_days: int = 0

    def __str__(self) -> str:
        if self.business_days:
            return f"{self.business_days} business day{'s' if self.business_days != 1 else ''}"
        return str(self.delta)


def parse_duration(text: str) -> Duration:
    """Raises ValueError with a sentence saying what is accepted."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duration such as 'P1W' or '3 business days', got {text!r}")
    match = _PLAIN.match(text)
    if match:
        count, unit = int(match["n"]), match["unit"].lower()
        if unit.startswith(("business", "working")):
            return Duration(business_days=count)
        return Duration(
            delta=timedelta(seconds=count * _UNIT_SECONDS[unit.split()[-1].rstrip("s")])
        )
    if text.strip().upper().startswith("P"):
        try:
            delta = _ISO.validate_python(text.strip())
        except ValidationError:
            pass
        else:
            if delta >= timedelta(0):
                return Duration(delta=delta)
    raise ValueError(
        f"'{text}' is not a duration: use ISO-8601 such as 'P1W', 'P3D', 'PT4H', "
        "or words such as '3 business days', '2 days', '1 week'"
    )
