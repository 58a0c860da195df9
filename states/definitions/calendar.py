"""Business days: weekends and public holidays of a country, with China's
make-up working days (调休, weekend days that are working days) counted as
working days. The `holidays` package knows both."""

from __future__ import annotations

import difflib
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from states.definitions.durations import Duration


@lru_cache(maxsize=16)
def _country(code: str) -> Any:
    import holidays  # imported on first use: it is large

    try:
        return holidays.country_holidays(code)
    except NotImplementedError as exc:
        raise ValueError(f"no holiday calendar for '{code}'") from exc


def calendar_problem(code: str) -> str | None:
    """Why `code` is not a calendar the `holidays` package has, or None when it is."""
    import holidays

    supported = holidays.list_supported_countries()
    if code in supported:
        return None
    by_name = {
        name.lower(): codes[0]
        for module, (name, *codes) in holidays.registry.COUNTRIES.items()
        for name in (name, module)
    }
    close = by_name.get(code.lower().replace(" ", "_")) or by_name.get(code.lower())
    if close is None and code.upper() in supported:
        close = code.upper()
    if close is None:
        close = next(iter(difflib.get_close_matches(code.upper(), sorted(supported), n=1)), None)
    hint = f"did you mean '{close}'? U" if close else "u"
    return (
        f"calendar '{code[:40]}' is not a country the holidays package knows; {hint}se the "
        "ISO 3166 code of a country it supports, such as CN, DE or US"
    )


class BusinessCalendar:
    """Working days of one country (ISO 3166 code, e.g. CN, US, DE)."""

    def __init__(self, country: str = "CN") -> None:
        self.country = country
        self._holidays = _country(country)

    def is_working_day(self, day: date) -> bool:
        return bool(self._holidays.is_working_day(day))

    def add_working_days(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (before it, for a negative count)."""
        step = timedelta(days=1 if count >= 0 else -1)
        remaining = abs(count)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def shift(self, day: date, duration: Duration, *, backwards: bool = False) -> date:
        """`day` moved by a duration; business days use this calendar."""
        if duration.business_days:
            count = -duration.business_days if backwards else duration.business_days
            return self.add_working_days(day, count)
        days = timedelta(days=duration.delta.days)
        return day - days if backwards else day + days
