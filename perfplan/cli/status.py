"""`perfplan status`: whether the clockwork is healthy (`views.status`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from perfplan.cli.common import JsonOption, NowOption, console, instant, print_json, session

WHAT_RAN = {"sweep": "last sweep", "deliver": "last delivery", "verify": "last verification"}


def _ago(seconds: float) -> str:
    minutes = seconds / 60
    if minutes < 1:
        return f"{seconds:.0f} s"
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def status(now: NowOption = None, as_json: JsonOption = False) -> None:
    """The outbox, the queued, retrying and dead messages, the follow-ups due, and when
    the sweep, the delivery and the verification last ran."""
    from views.status import clockwork_status

    moment = instant(now)
    with session() as active:
        found = clockwork_status(active, now=moment)
    if as_json:
        print_json(_plain(found, moment))
        return
    for line in _lines(found, moment):
        console.print(line)


def _plain(found: Any, now: datetime) -> dict[str, Any]:
    effects, messages = found.effects, found.messages
    return {
        "as_of": found.as_of,
        "effects": {
            "waiting": effects.waiting,
            "oldest": effects.oldest,
            "age_seconds": effects.age_seconds(now),
            "failed": found.effects_failed,
        },
        "messages": {
            "queued": messages.waiting,
            "oldest": messages.oldest,
            "age_seconds": messages.age_seconds(now),
            "retrying": found.retrying,
            "dead": found.dead,
            "dead_by_channel": found.dead_by_channel,
        },
        "follow_ups": {"due": found.timers_due, "next": found.next_timer},
        "last": {kind: vars(run) for kind, run in found.last.items()},
    }


def _waiting(waiting: int, age: float) -> str:
    return f"{waiting} (oldest {_ago(age)})" if waiting else "0"


def _lines(found: Any, now: datetime) -> list[str]:
    dead = ", ".join(f"{channel} {count}" for channel, count in found.dead_by_channel.items())
    effects = _waiting(found.effects.waiting, found.effects.age_seconds(now))
    messages = _waiting(found.messages.waiting, found.messages.age_seconds(now))
    lines = [
        f"Clockwork at {_when(found.as_of)}",
        f"  effects waiting    {effects}, failed {found.effects_failed}",
        f"  messages queued    {messages}, retrying {found.retrying}, dead {found.dead}"
        + (f" ({dead})" if dead else ""),
        f"  follow-ups due     {found.timers_due}; next {_when(found.next_timer)}",
    ]
    return lines + [_last(label, found.last.get(kind)) for kind, label in WHAT_RAN.items()]


def _last(label: str, run: Any) -> str:
    if run is None:
        return f"  {label:<18} never"
    figures = ", ".join(f"{k} {v}" for k, v in run.figures.items() if not isinstance(v, dict))
    verdict = "" if run.ok else " — FAILED"
    ran = _when(run.finished_at)
    if abs((run.finished_at - run.as_of).total_seconds()) > 60:
        ran += f" (as of {_when(run.as_of)})"
    return f"  {label:<18} {ran}, {run.seconds:.1f} s: {figures}{verdict}"
