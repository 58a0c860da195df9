"""A template's context as the ledger keeps it: JSON, with dates and times tagged
so that the templates see the very values the caller passed (`longdate` of a
date, not of a string)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

_DATE, _DATETIME = "$date", "$datetime"


def _tagged(value: Any) -> Any:
    # datetime before date: a datetime is a date too.
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, date):
        return {_DATE: value.isoformat()}
    raise TypeError(f"a message's context cannot hold a {type(value).__name__}")


def _untagged(value: dict[str, Any]) -> Any:
    if len(value) == 1:
        if _DATE in value:
            return date.fromisoformat(value[_DATE])
        if _DATETIME in value:
            return datetime.fromisoformat(value[_DATETIME])
    return value


def dump_context(context: Mapping[str, Any]) -> str:
    """JSON text; raises TypeError for a value JSON cannot hold (found when recording,
    not when sending)."""
    return json.dumps(context, default=_tagged, ensure_ascii=False, separators=(",", ":"))


def dump_context_with(shared: str, key: str, value: Any) -> str:
    """`dump_context({**context, key: value})`, given `shared`, the JSON of a context
    that has no `key`: a context that several readers share is dumped once."""
    member = dump_context({key: value})[1:]  # '"key":…}'
    return f"{shared[:-1]},{member}" if shared != "{}" else "{" + member


def load_context(text: str) -> dict[str, Any]:
    loaded = json.loads(text, object_hook=_untagged)
    if not isinstance(loaded, dict):
        raise ValueError("a message's context is not a JSON object")
    return loaded
