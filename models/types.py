"""Column types shared by the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from models.clock import utc


class UTCDateTime(TypeDecorator[datetime]):
    """Stores instants as UTC and always returns aware UTC datetimes.

    SQLite has no time zones; PostgreSQL has them. Storing naive UTC on both
    keeps comparisons and audit hashes identical across databases.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return utc(value).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return utc(value)
