"""Playing a plan's life on a throwaway SQLite file (a temporary folder, deleted after):
the plan opened five working days before its period, then day by day the real sweep
(`workflows.sweep.sweep`, what `perfplan sweep` runs, without Prefect) each morning at
02:00 UTC, then the scripted and on-time steps, each a plan activity done as a door
does it and dispatched by the real dispatcher. Nothing is delivered: the messages stay
in the throwaway ledger, and the timeline says what would have gone out, to whom."""

from __future__ import annotations

import re
import tempfile
import time as timing
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session

from models import migrate
from models.db import make_engine, session_scope
from models.tables import FOLLOWUP, MILESTONE, NOTIFICATION
from people.errors import PeopleError
from perfplan.activities import ACTIVITIES, Act
from perfplan.errors import SimulationRefused
from perfplan.simulation.actors import Cast, Moment, Planned, distances, next_on_time
from perfplan.simulation.script import Known, Script, Scripted, ScriptInvalid, read_script
from perfplan.simulation.timeline import Category, Line, Recipient, Timeline
from states.definitions import catalog
from states.definitions.calendar import BusinessCalendar
from states.definitions.compiled import CompiledDefinition
from states.definitions.schema import Effect
from states.engine.context import SYSTEM
from states.engine.firing import load_plan
from states.errors import DefinitionInvalid, StatesError
from states.plans.document import PlanDocument
from states.plans.opening import create_plan, read_document_file
from workflows import dispatch, sweep
from workflows.announcements import PlanReads
from workflows.outbox import OutboxItem

SWEEP_AT = time(2, 0)  # UTC, as the demo sweeps: after the 01:00 reminders fall due
ON_TIME_AT = time(9, 0)
LEAD_WORKING_DAYS = 5  # the plan is opened this many working days before its period
AFTER_EVALUATION_DAYS = 14  # how long to watch past the evaluation day, if nothing ends it
MAX_DAYS = 3660
MAX_STEPS_A_DAY = 200
_KEY = re.compile(r"^[^:]+:plan\d+:(.*):L(\d+):")


@dataclass(frozen=True)
class Request:
    plan_file: Path
    definition_file: Path | None = None
    events_file: Path | None = None
    days: int | None = None


def _not_rendered(session: Session, item: OutboxItem, now: datetime, reads: PlanReads) -> None:
    """Reports and signed copies are files and PDFs: a simulation renders neither."""


QUIET: dict[str, dispatch.Handler] = {
    Effect.EVALUATION_REPORT: _not_rendered,
    Effect.ARCHIVE_COPY: _not_rendered,
}


def simulate(request: Request) -> Timeline:
    """Play the plan; every problem of the inputs is refused before anything runs."""
    started = timing.perf_counter()
    document = read_document_file(request.plan_file)
    if request.days is not None and not 1 <= request.days <= MAX_DAYS:
        raise SimulationRefused(f"--days {request.days}: simulate 1 to {MAX_DAYS} days")
    with tempfile.TemporaryDirectory(prefix="perfplan-simulate-") as folder:
        extra = Path(folder) / "definitions"
        definition, document = _definition(request, document, extra)
        calendar = BusinessCalendar(definition.spec.timers.calendar)
        first_day = calendar.add_working_days(document.period.start, -LEAD_WORKING_DAYS)
        known = _known(document, definition, first_day)
        script = read_script(request.events_file, known) if request.events_file else Script()
        engine = make_engine(f"sqlite:///{Path(folder) / 'simulation.db'}")
        try:
            migrate.upgrade(engine)
            run = _Run(engine, definition, calendar, script, first_day, request)
            run.open(document, extra if request.definition_file else None)
            run.play()
        finally:
            engine.dispose()
    return run.timeline(document, timing.perf_counter() - started)


def _definition(
    request: Request, document: PlanDocument, extra: Path
) -> tuple[CompiledDefinition, PlanDocument]:
    """The definition to play: the file given (checked as `config check` checks it, and
    put where only this simulation finds it), else the installed one the plan names."""
    if request.definition_file is None:
        try:
            return catalog.find(document.definition), document
        except StatesError as error:
            raise SimulationRefused(f"{request.plan_file}: definition: {error}") from None
    try:
        compiled = catalog.load_file(request.definition_file)
    except DefinitionInvalid as invalid:
        first = invalid.problems[0]
        more = len(invalid.problems) - 1
        also = f" (and {more} more: `perfplan config check {request.definition_file}`)"
        raise SimulationRefused(
            f"{request.definition_file}: {first}{also if more else ''}"
        ) from None
    extra.mkdir()
    (extra / f"{compiled.name}.yaml").write_text(compiled.source, encoding="utf-8")
    return compiled, document.model_copy(
        update={"definition": compiled.name, "definition_version": None}
    )


def _known(document: PlanDocument, definition: CompiledDefinition, first_day: date) -> Known:
    people = {p.key for p in document.people} | {
        key for role in document.roles for key in document.holders(role)
    }
    return Known(
        people=frozenset(people),
        milestones=frozenset(m.key for g in document.goals for m in g.milestones),
        goals={g.key: g.target for g in document.goals},
        events={t.trigger: bool(t.approval) for t in definition.spec.transitions},
        first_day=first_day,
    )


def _days(first: date, count: int) -> Iterator[tuple[int, date]]:
    for number in range(count):
        yield number, first + timedelta(days=number)


@dataclass
class _Run:
    engine: Engine
    definition: CompiledDefinition
    calendar: BusinessCalendar
    script: Script
    first_day: date
    request: Request
    plan_id: int = 0
    lines: list[Line] = field(default_factory=list)
    last_message: int = 0
    state: str = ""
    day: int = 0
    last_day: date = date.min
    evaluation_day: date = date.max

    def open(self, document: PlanDocument, extra: Path | None) -> None:
        now = self._at(self.first_day, ON_TIME_AT)
        with session_scope(self.engine) as session:
            self.plan_id = create_plan(
                session=session,
                document=document,
                actor=SYSTEM.key,
                now=now,
                source=str(self.request.plan_file),
                definitions_dir=extra,
            )
        self.state = self._state()
        self._line(now, "step", SYSTEM.key, f"opens the plan ({self.definition.name})", state=True)
        self._dispatch(now)

    def play(self) -> None:
        with session_scope(self.engine) as session:
            period_end = load_plan(session, self.plan_id).period_end
        self.evaluation_day = evaluation_day = self.calendar.add_working_days(period_end, 1)
        watched = (evaluation_day - self.first_day).days + 1 + AFTER_EVALUATION_DAYS
        for number, day in _days(self.first_day, self.request.days or min(watched, MAX_DAYS)):
            self.day, self.last_day = number, day
            self._calendar_line(day)
            self._due_lines(day)
            self._sweep(self._at(day, SWEEP_AT))
            entries = self.script.on(number)
            for entry in [e for e in entries if e.at < ON_TIME_AT]:
                self._scripted(entry)
            self._on_time(day, evaluation_day)
            for entry in [e for e in entries if e.at >= ON_TIME_AT]:
                self._scripted(entry)
            if self._final() and not self.request.days and day >= evaluation_day:
                return

    def _final(self) -> bool:
        return distances(self.definition).get(self.state) == 0

    # ------------------------------------------------------------------ steps

    def _scripted(self, entry: Scripted) -> None:
        now = self._at(self.first_day + timedelta(days=entry.day), entry.at)
        if entry.activity == "miss":
            self._line(now, "step", "-", f"misses {entry.key}")
            return
        assert entry.actor is not None
        planned = Planned(entry.actor, entry.activity, entry.key, dict(entry.fields), entry.said)
        error = self._perform(planned, now)
        if error is not None:
            raise ScriptInvalid(
                str(self.request.events_file),
                entry.line,
                f"day {entry.day} ({now:%Y-%m-%d %H:%M} UTC), the plan '{self.state}': "
                f"{entry.actor} cannot {entry.said}: {error}",
            )

    def _on_time(self, day: date, evaluation_day: date) -> None:
        now = self._at(day, ON_TIME_AT)
        tried: set[tuple[str, str | None, str]] = set()
        for _ in range(MAX_STEPS_A_DAY):
            with session_scope(self.engine) as session:
                cast = Cast(session, self.plan_id, self.definition, now)
                moment = Moment(self.day, self.script, evaluation_day, frozenset(tried))
                planned = next_on_time(cast, moment)
            if planned is None:
                return
            tried.add((planned.actor, planned.key, planned.activity))
            self._perform(planned, now)

    def _perform(self, planned: Planned, now: datetime) -> str | None:
        """Do the step as a door does it; the refusal's sentence, or None when done."""
        activity = ACTIVITIES[planned.activity]
        try:
            body = activity.parse(planned.fields, key=planned.key if activity.key else None)
            with session_scope(self.engine) as session:
                act = Act(self.plan_id, planned.actor, now, planned.key)
                activity.perform(session, act, body)
        except (StatesError, PeopleError) as refused:
            return str(refused)
        before, self.state = self.state, self._state()
        self._line(now, "step", planned.actor, planned.said, state=before != self.state)
        self._dispatch(now)
        return None

    def _dispatch(self, now: datetime) -> None:
        dispatch.dispatch_pending(self.engine, now=now, plan_id=self.plan_id, handlers=QUIET)
        self._messages(now, "message")

    def _sweep(self, now: datetime) -> None:
        if sweep.due_count(self.engine, as_of=now):
            sweep.sweep(self.engine, as_of=now)
            self._messages(now, "reminder")

    # ------------------------------------------------------------------ lines

    def _messages(self, now: datetime, category: Category) -> None:
        columns = NOTIFICATION.c
        with session_scope(self.engine) as session:
            rows = session.execute(
                select(
                    columns.id,
                    columns.kind,
                    columns.dedup_key,
                    columns.role,
                    columns.recipient_name,
                    columns.locale,
                    columns.channel,
                )
                .where(columns.id > self.last_message, columns.plan_id == self.plan_id)
                .order_by(columns.id)
            ).all()
        if rows:
            self.last_message = rows[-1].id
        grouped: dict[tuple[str, str, int], list[Recipient]] = {}
        for row in rows:
            found = _KEY.match(row.dedup_key)
            subject, level = (found.group(1), int(found.group(2))) if found else ("", 0)
            recipient = Recipient(row.role, row.recipient_name, row.locale, row.channel)
            grouped.setdefault((row.kind, subject, level), []).append(recipient)
        for (kind, subject, level), to in grouped.items():
            said = f"{kind} {subject}" if subject and category == "reminder" else kind
            self._line(now, category, "perfplan", said, level=level, to=tuple(to))

    def _calendar_line(self, day: date) -> None:
        working, weekend = self.calendar.is_working_day(day), day.weekday() >= 5
        if working == weekend:  # a holiday on a weekday, or a weekend day worked
            what = _holiday_name(self.calendar.country, day) if not working else ""
            said = f"holiday: {what}" if not working else "make-up working day (weekend)"
            self._line(self._at(day, time(0, 0)), "calendar", "-", said)

    def _due_lines(self, day: date) -> None:
        with session_scope(self.engine) as session:
            milestones = session.execute(
                select(MILESTONE.c.key).where(
                    MILESTONE.c.plan_id == self.plan_id,
                    MILESTONE.c.due == day,
                    MILESTONE.c.status == "pending",
                )
            ).scalars()
            recurring = session.execute(
                select(FOLLOWUP.c.kind)
                .where(
                    FOLLOWUP.c.plan_id == self.plan_id,
                    FOLLOWUP.c.subject_due == day,
                    FOLLOWUP.c.level == 0,
                    FOLLOWUP.c.kind.in_(("progress_report_due", "coaching_session_due")),
                )
                .distinct()
            ).scalars()
            due = [f"milestone {key} due" for key in milestones]
            due += [kind.replace("_", " ") for kind in recurring]
        if day == self.evaluation_day and not self._final():
            due.append("evaluation due")
        for said in due:
            self._line(self._at(day, time(0, 0)), "due", "-", said)

    def _line(
        self,
        at: datetime,
        category: Category,
        who: str,
        what: str,
        *,
        level: int = 0,
        to: tuple[Recipient, ...] = (),
        state: bool = False,
    ) -> None:
        shown = self.state if state else None
        self.lines.append(Line(at, self.day, category, who, what, level, to, shown))

    def _state(self) -> str:
        with session_scope(self.engine) as session:
            return load_plan(session, self.plan_id).state

    def _at(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=UTC)

    def timeline(self, document: PlanDocument, seconds: float) -> Timeline:
        return Timeline(
            plan=document.title,
            definition=self.definition.name,
            version=self.definition.version,
            calendar=self.calendar.country,
            first_day=self.first_day,
            last_day=self.last_day,
            final_state=self.state,
            lines=tuple(self.lines),
            seconds=seconds,
        )


def _holiday_name(country: str, day: date) -> str:
    import holidays

    found: Any = holidays.country_holidays(country).get(day)
    return str(found or "public holiday")
