"""The events file of `perfplan simulate --events`: who does what when, checked line by
line against the plan document and the definition before anything runs.

    on_time: [signatures, transitions, milestones, reports, coaching, measurements]
    events:
      - {day: 2, as: li, event: agree}            # sign its chain (or fire an event)
      - {day: 10, miss: report_1}                 # a milestone nobody completes
      - {date: 2026-09-21, as: zhang, report: progress, at: "10:00"}

A plain list is the `events:` alone, with everyone else on time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

from perfplan.errors import SimulationRefused
from states.definitions.yamlsource import YamlDocument, load_yaml

# What the simulated people do on time unless the file says otherwise.
ON_TIME = ("signatures", "transitions", "milestones", "reports", "coaching", "measurements")
# A `miss:` of one of these skips the on-time report or talk due on or after its day.
RECURRING_MISSES = {"progress_report": "reports", "coaching": "coaching"}
# The keys naming what an entry does, and the activity each performs.
WHAT = {
    "event": "fire",
    "report": "report_progress",
    "coach": "record_coaching",
    "complete": "complete_milestone",
    "measure": "measure",
    "adjust": "adjust",
    "miss": "miss",
}
_WHEN = {"day", "date", "at"}
_FIELDS = {"as", "inputs", "comment", "summary", "blockers", "notes", "minutes", "value", "source"}
MAX_EVENTS = 1000
MAX_BYTES = 256 * 1024
DEFAULT_AT = time(10, 0)


class ScriptInvalid(SimulationRefused):
    """The events file cannot be played: one sentence naming the file, line and what."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source, self.line = source, line
        where = f"{source} line {line}" if line else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Known:
    """What an events file may name: the plan's people, milestones, goals and the
    definition's events (True for those signed through an approval chain)."""

    people: frozenset[str]
    milestones: frozenset[str]
    goals: Mapping[str, float]
    events: Mapping[str, bool]
    first_day: date


@dataclass(frozen=True)
class Scripted:
    """One entry: on which day (0 = the day the plan is opened) and at what time (UTC),
    who performs which activity (`perfplan.activities`, or `miss`) with what."""

    line: int
    day: int
    at: time
    actor: str | None
    activity: str
    key: str | None
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def said(self) -> str:
        what = self.activity.replace("_", " ")
        return f"{what} {self.key}" if self.key else what


@dataclass(frozen=True)
class Script:
    entries: tuple[Scripted, ...] = ()
    on_time: frozenset[str] = frozenset(ON_TIME)

    def on(self, day: int) -> list[Scripted]:
        return sorted((e for e in self.entries if e.day == day), key=lambda e: (e.at, e.line))

    def later(self, day: int, activity: str, key: str | None, actor: str | None = None) -> bool:
        """Whether the script does this itself on `day` or after (so nobody does it on time)."""
        return any(
            e.day >= day and e.activity == activity and e.key == key and actor in (None, e.actor)
            for e in self.entries
        )

    def missed(self, day: int, activity: str, key: str | None) -> bool:
        return any(e.activity == "miss" and e.key == key and e.day <= day for e in self.entries)


def read_script(path: Path, known: Known) -> Script:
    """The events file at `path`, checked; ScriptInvalid names the first problem."""
    source = str(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ScriptInvalid(source, None, f"the file is larger than {MAX_BYTES // 1024} KiB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptInvalid(source, None, f"cannot read the file: {exc}") from None
    document, problems = load_yaml(text)
    if problems and not isinstance(document.data, list):
        raise ScriptInvalid(source, problems[0].line, problems[0].message)
    return _script(source, document, known)


def _script(source: str, document: YamlDocument, known: Known) -> Script:
    data = document.data
    on_time: object = list(ON_TIME)
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"on_time", "events"})
        if unknown:
            line = document.line((unknown[0],))
            raise ScriptInvalid(source, line, f"unknown key '{unknown[0]}'; use on_time, events")
        on_time, data = data.get("on_time", list(ON_TIME)), data.get("events", [])
    prefix: tuple[str, ...] = ("events",) if isinstance(document.data, dict) else ()
    if not isinstance(data, list):
        raise ScriptInvalid(source, document.line(prefix), "events must be a list of entries")
    if len(data) > MAX_EVENTS:
        raise ScriptInvalid(source, None, f"more than {MAX_EVENTS} events")
    entries = tuple(
        _entry(_Place(source, document, (*prefix, index)), item, known)
        for index, item in enumerate(data)
    )
    return Script(entries, _on_time(source, document, on_time))


def _on_time(source: str, document: YamlDocument, value: object) -> frozenset[str]:
    if value is True or value is None:
        return frozenset(ON_TIME)
    if value is False or value == "none":
        return frozenset()
    listed = value if isinstance(value, list) else [value]
    for item in listed:
        if item not in ON_TIME:
            raise ScriptInvalid(
                source,
                document.line(("on_time",)),
                f"on_time: '{item}' is not one of {', '.join(ON_TIME)} (or none)",
            )
    return frozenset(str(item) for item in listed)


@dataclass(frozen=True)
class _Place:
    source: str
    document: YamlDocument
    path: tuple[str | int, ...]

    def fail(self, message: str, key: str | None = None) -> ScriptInvalid:
        path = (*self.path, key) if key else self.path
        return ScriptInvalid(self.source, self.document.line(path), message)


def _entry(place: _Place, item: object, known: Known) -> Scripted:
    if not isinstance(item, dict):
        raise place.fail("each event is a mapping such as {day: 2, as: li, event: agree}")
    unknown = sorted(set(item) - _WHEN - _FIELDS - set(WHAT))
    if unknown:
        allowed = ", ".join(sorted(WHAT))
        raise place.fail(f"unknown key '{unknown[0]}'; an event says one of {allowed}", unknown[0])
    what = [key for key in WHAT if key in item]
    if len(what) != 1:
        raise place.fail(f"say exactly one of {', '.join(WHAT)} (found {len(what)})")
    day, at = _when(place, item, known)
    actor = _actor(place, item, known, needed=what[0] != "miss")
    activity, key, fields = _what(place, what[0], item, known)
    return Scripted(place.document.line(place.path) or 0, day, at, actor, activity, key, fields)


def _when(place: _Place, item: Mapping[str, Any], known: Known) -> tuple[int, time]:
    if ("day" in item) == ("date" in item):
        raise place.fail("say when with exactly one of day (0 = the day the plan opens) or date")
    if "date" in item:
        try:
            day = (date.fromisoformat(str(item["date"])) - known.first_day).days
        except ValueError:
            raise place.fail(
                f"date '{item['date']}' is not a date like 2026-09-21", "date"
            ) from None
    else:
        day = item["day"]
        if not isinstance(day, int) or isinstance(day, bool):
            raise place.fail(f"day '{day}' is not a whole number of days", "day")
    if not 0 <= day <= 3660:
        raise place.fail(f"day {day} is outside the simulation (0 to 3660 from {known.first_day})")
    try:
        at = time.fromisoformat(str(item["at"])) if "at" in item else DEFAULT_AT
    except ValueError:
        raise place.fail(f"at '{item['at']}' is not a time of day like \"10:30\"", "at") from None
    return day, at


def _actor(place: _Place, item: Mapping[str, Any], known: Known, *, needed: bool) -> str | None:
    actor = item.get("as")
    if actor is None:
        if needed:
            raise place.fail("say who does it with as: (a person's key in the plan document)")
        return None
    if str(actor) not in known.people:
        people = ", ".join(sorted(known.people))
        raise place.fail(f"unknown person '{actor}'; the plan names {people}", "as")
    return str(actor)


def _what(
    place: _Place, what: str, item: Mapping[str, Any], known: Known
) -> tuple[str, str | None, dict[str, Any]]:
    value = item[what]
    texts = {k: item[k] for k in ("comment", "summary", "blockers", "notes", "source") if k in item}
    if what == "event":
        return _event(place, str(value), item, known, texts)
    if what == "miss":
        return "miss", _missed(place, str(value), known), {}
    if what == "complete":
        _one_of(place, what, str(value), known.milestones, "milestone")
        return "complete_milestone", str(value), {"comment": texts.get("comment", "")}
    if what == "measure":
        _one_of(place, what, str(value), frozenset(known.goals), "goal")
        measured = item.get("value", known.goals.get(str(value)))
        return "measure", str(value), {"goal": str(value), "value": measured, **texts}
    if what == "adjust":
        if not isinstance(value, dict):
            raise place.fail(
                "adjust takes {kind: milestone, key: ..., changes: {...}, reason: ...}"
            )
        changes = value.get("changes")
        if isinstance(changes, dict):  # dates and numbers are the texts a door sends
            value = {**value, "changes": {k: str(v) for k, v in changes.items()}}
        return "adjust", str(value.get("key")), dict(value)
    if what == "report":
        return "report_progress", None, {"summary": "(simulated)", **texts}
    return "record_coaching", None, {k: item[k] for k in ("notes", "minutes") if k in item}


def _event(
    place: _Place, event: str, item: Mapping[str, Any], known: Known, texts: dict[str, Any]
) -> tuple[str, str | None, dict[str, Any]]:
    _one_of(place, "event", event, frozenset(known.events), "event of the definition")
    comment = {"comment": texts["comment"]} if "comment" in texts else {}
    if known.events[event]:
        return "sign", event, {"event": event, **comment}
    inputs = item.get("inputs", {})
    if not isinstance(inputs, dict):
        raise place.fail("inputs is a mapping such as {outcome: successful}", "inputs")
    return "fire", event, {"inputs": {k: str(v) for k, v in inputs.items()}, **comment}


def _missed(place: _Place, subject: str, known: Known) -> str:
    if subject in RECURRING_MISSES or subject in known.milestones:
        return subject
    choices = ", ".join([*sorted(known.milestones), *RECURRING_MISSES])
    raise place.fail(f"miss: '{subject}' is no milestone of the plan; known: {choices}", "miss")


def _one_of(place: _Place, what: str, value: str, known: frozenset[str], kind: str) -> None:
    if value not in known:
        raise place.fail(f"unknown {kind} '{value}'; known: {', '.join(sorted(known))}", what)
