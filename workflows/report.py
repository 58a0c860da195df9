"""Rendering the evaluation report (`states.report`) to a printable HTML page and to
Markdown, in English and Chinese, and writing the files.

Pure rendering: no Prefect here, so it is fast and testable; the report flow
wraps `produce_report` and publishes the Markdown as an artifact. Templates
live in `templates/report/`, with one catalogue of wording per locale
(`messages.<locale>.yaml`); every interpolated value is escaped for its
format (HTML autoescape; Markdown backslash escapes), and an undefined
variable is an error, never a blank.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session

from views.record import AuditLine, Resource
from views.report import EvaluationReport, GoalInfo, Tracking, evaluation_report
from workflows.settings import WorkflowSettings

LOCALES = ("en", "zh-CN")
FORMATS = ("html", "md")
TEMPLATES = Path(__file__).parent / "templates" / "report"

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|#])")


def markdown_escape(value: Any) -> Any:
    """Text that Markdown shows as written: no emphasis, links, raw HTML or broken
    table cells, whatever a person typed into a comment or feedback."""
    if not isinstance(value, str):
        return value
    escaped = _MD_SPECIAL.sub(r"\\\1", value)
    if "\n" not in escaped.strip():
        return escaped  # a phrase keeps its spaces (" (through the organisation)")
    return "<br>".join(line.strip() for line in escaped.strip().splitlines()) or ""


@cache
def _environment(fmt: str) -> Environment:
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format '{fmt}'; use one of {', '.join(FORMATS)}")
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=fmt == "html",
        finalize=markdown_escape if fmt == "md" else None,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment


@cache
def messages(locale: str) -> dict[str, Any]:
    """The wording of the report in `locale` (`templates/report/messages.<locale>.yaml`)."""
    if locale not in LOCALES:
        raise ValueError(f"unknown report locale '{locale}'; use one of {', '.join(LOCALES)}")
    loaded = yaml.safe_load((TEMPLATES / f"messages.{locale}.yaml").read_text(encoding="utf-8"))
    return dict(loaded)


def _number(value: float) -> str:
    """95.0 -> 95, 87.5 -> 87.5, 1.0749 -> 1.07: figures as people write them."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


_CADENCE = re.compile(r"^P(\d+)([DWM])$")
_RULE_FREQ = re.compile(r"FREQ=(DAILY|WEEKLY|MONTHLY)")
_RULE_DAYS = re.compile(r"BYDAY=([A-Z,]+)")


_INPUTS = re.compile(r"(?:^|\n)inputs: (\{.*\})\Z", re.DOTALL)
# Records whose comment starts with what they are about, by its key (`activities`):
# `<milestone> done`, `<goal> = 86 points`, `<kind> <key>: due ...`.
_KEY_FIRST = ("complete_milestone", "measure")


@cache
def _zones() -> dict[str, str]:
    """Each country's first time zone in the IANA database's zone.tab (CN: Asia/Shanghai)."""
    try:
        table = (files("tzdata") / "zoneinfo" / "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return {}
    zones: dict[str, str] = {}
    for line in table.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#"):
            zones.setdefault(fields[0], fields[2])
    return zones


def plan_zone(report: EvaluationReport) -> str:
    """The plan's own time zone: that of the country whose working days it runs on (the
    definition's business calendar), UTC when none is known."""
    return _zones().get(report.calendar.upper(), "UTC")


class ReportFormat:
    """How values read in one locale: numbers with units, dates, labels and sentences."""

    def __init__(self, report: EvaluationReport, locale: str, timezone: str = "") -> None:
        self.report = report
        self.locale = locale
        self.timezone = timezone or plan_zone(report)
        self.zone = ZoneInfo(self.timezone)
        self.words = messages(locale)
        self.titles = {
            **{goal.key: goal.title for goal in report.goals},
            **{action.key: action.title for action in report.actions},
            **{m.key: m.title for m in report.milestones},
        }

    # wording
    def t(self, key: str, **values: Any) -> str:
        """A sentence of the catalogue, with its {placeholders} filled."""
        return str(self.words[key]).format(**values)

    def count(self, key: str, n: int, **values: Any) -> str:
        """A sentence about `n` things, in its plural form where the language has one
        (`{one: ..., other: ...}`; Chinese counts with a measure word instead)."""
        forms = self.words[key]
        if isinstance(forms, Mapping):
            forms = forms["one"] if n == 1 else forms["other"]
        return str(forms).format(n=n, **values)

    def zone_name(self) -> str:
        """Asia/Shanghai (UTC+08:00): the zone the report's times are in."""
        offset = self.report.as_of.astimezone(self.zone).strftime("%z") or "+0000"
        return self.t("time_zone", zone=self.timezone, offset=f"{offset[:3]}:{offset[3:]}")

    def held(self, kind: str, tracking: Tracking) -> str:
        """2 progress reports of 13 expected (weekly over 13 weeks)."""
        said = self.count(f"{kind}_count", tracking.held)
        if tracking.expected is None:
            return said
        weeks = self.count("weeks", tracking.weeks)
        cadence = self.cadence(tracking.every)
        return said + self.t(
            "expected_suffix", expected=tracking.expected, cadence=cadence, weeks=weeks
        )

    def tracking(self) -> str:
        """Progress reports and coaching talks held against the cadence, and the minutes."""
        r = self.report
        coaching = self.held("coaching", r.coaching)
        if r.coaching_minutes:
            coaching += self.t("coaching_minutes", minutes=r.coaching_minutes)
        return self.held("progress", r.reporting) + self.t("facts_separator") + coaching

    def title(self, key: str) -> str:
        """What a key names (a milestone, goal or action), by its title."""
        return str(self.titles.get(key, key))

    def comment(self, entry: AuditLine) -> str:
        """A record's comment as a person reads it: an event's inputs as labelled facts, not
        JSON; what a record is about by its title, not its key."""
        text = entry.comment or ""
        found = _INPUTS.search(text)
        if found:
            text = text[: found.start()] + self._inputs(found.group(1))
        if entry.kind == "record":
            text = self._titled(entry.event, text)
        return text.strip() or "—"

    def _inputs(self, given: str) -> str:
        try:
            values = json.loads(given)
        except ValueError:
            return given
        if not isinstance(values, dict):
            return given
        facts = []
        for name, value in sorted(values.items(), key=lambda item: item[0] != "outcome"):
            shown = self.choice("outcomes", value) if name == "outcome" else str(value)
            label = self.words["inputs"].get(name, name)
            facts.append(f"{label}{self.t('colon')} {shown}".replace("： ", "："))
        return "\n" + self.t("facts_separator").join(facts)

    def _titled(self, event: str, text: str) -> str:
        if event in _KEY_FIRST:
            key, gap, rest = text.partition(" ")
            if key in self.titles:
                return self.t("quoted", text=self.titles[key]) + gap + rest
        if event == "adjust":
            kind, gap, rest = text.partition(" ")
            key, colon, rest = rest.partition(":")
            if colon and key in self.titles:
                return f"{kind}{gap}{self.t('quoted', text=self.titles[key])}{colon}{rest}"
        return text

    def choice(self, group: str, value: str) -> str:
        """An enumerated value (outcome, cause, status...) in words; unknown ones as stored."""
        return str(self.words[group].get(value, value))

    def label(self, labels: Mapping[str, str], fallback: str = "") -> str:
        for key in (self.locale, "en"):
            if labels.get(key):
                return labels[key]
        return next(iter(labels.values()), fallback)

    def state(self, name: str) -> str:
        return self.label(self.report.labels.states.get(name, {}), name) if name else "—"

    def role(self, name: str) -> str:
        return self.label(self.report.labels.roles.get(name, {}), self.choice("roles", name))

    def event(self, name: str, kind: str = "transition") -> str:
        """A transition by its definition's label; signatures and records by the catalogue."""
        if name.startswith("sign:"):
            return self.t("signature_for", event=self.event(name.removeprefix("sign:")))
        if kind == "record" and name in self.words["events"]:
            return self.choice("events", name)
        labels = self.report.labels.events.get(name)
        return self.label(labels, name) if labels else self.choice("events", name)

    def person(self, key: str) -> str:
        return self.report.names.get(key) or key or "—"

    def people(self, keys: Iterable[str]) -> str:
        return self.t("list_separator").join(self.person(key) for key in keys) or "—"

    def field_value(self, field: str, text: str) -> str:
        """An adjusted field's value as stored (ISO dates, person keys) in words."""
        if field in ("due", "starts", "ends") and text:
            return self.day(date.fromisoformat(text))
        if field == "supporter":
            return self.person(text)
        if field == "recurrence":
            return self.recurrence(text)
        return text or "—"

    def resource(self, resource: Resource) -> str:
        status = self.choice("resource_status", resource.status)
        if resource.amount:
            return self.t(
                "resource_amount_line", name=resource.name, amount=resource.amount, status=status
            )
        return self.t("resource_line", name=resource.name, status=status)

    # figures
    def num(self, value: float | None) -> str:
        return "—" if value is None else _number(value)

    def unit(self, unit: str) -> str:
        return str(self.words["units"].get(unit, unit))

    def qty(self, value: float | None, unit: str) -> str:
        """A figure with its unit: 95 %, 24 h (en); 95%, 24 小时 (zh-CN)."""
        if value is None:
            return "—"
        if unit == "%":
            return self.t("percent", n=_number(value))
        return f"{_number(value)} {self.unit(unit)}".strip()

    def pct(self, ratio: float | None) -> str:
        return "—" if ratio is None else self.t("percent", n=_number(ratio * 100))

    def target(self, goal: GoalInfo) -> str:
        """≥ 100 % for a goal that raises its metric, ≤ 24 h for one that lowers it."""
        sign = "≤" if goal.direction == "lower" else "≥"
        return f"{sign} {self.qty(goal.target, goal.unit)}"

    def change(self, goal: GoalInfo) -> str:
        """Baseline → actual, with the way it moved: 60 → 95 % ↑, 48 h → 24 h ↓."""
        if goal.result is None:
            return self.t("not_measured")
        actual = goal.result.actual
        if goal.baseline is None:
            return self.qty(actual, goal.unit)
        arrow = "↑" if actual > goal.baseline else "↓" if actual < goal.baseline else "="
        if goal.unit == "%":  # one unit for both ends: 60 → 95 %
            return f"{self.t('percent', n=f'{_number(goal.baseline)} → {_number(actual)}')} {arrow}"
        return f"{self.qty(goal.baseline, goal.unit)} → {self.qty(actual, goal.unit)} {arrow}"

    # time
    def day(self, value: date | datetime | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        month = self.words["months"][value.month - 1]
        return self.t("date", day=value.day, month=month, year=value.year)

    def when(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        local = value.astimezone(self.zone)
        return self.t("date_time", date=self.day(local.date()), time=local.strftime("%H:%M"))

    def period(self, start: date | None, end: date | None) -> str:
        if start is None and end is None:
            return "—"
        return self.t("period_text", start=self.day(start), end=self.day(end))

    def cadence(self, every: str) -> str:
        """P1W -> weekly, P2W -> every 2 weeks; other ISO durations as written."""
        match = _CADENCE.match(every)
        if not match:
            return every
        count, unit = int(match.group(1)), match.group(2)
        if count == 1:
            return str(self.words["cadence_one"][unit])
        return self.t(f"cadence_many_{unit}", n=count)

    def recurrence(self, rule: str) -> str:
        """FREQ=WEEKLY;BYDAY=WE -> every Wednesday; rules beyond that as written."""
        freq, days = _RULE_FREQ.search(rule), _RULE_DAYS.search(rule)
        if not rule or freq is None or ("INTERVAL=" in rule and "INTERVAL=1" not in rule):
            return rule
        if freq.group(1) == "WEEKLY" and days:
            names = [self.words["weekdays"].get(day, day) for day in days.group(1).split(",")]
            return self.t("every_weekday", days=self.t("list_separator").join(names))
        return str(self.words["cadence_rule"][freq.group(1)])

    def yes_no(self, value: bool) -> str:
        return self.t("answer_yes") if value else self.t("answer_no")


def render_report(
    report: EvaluationReport, *, locale: str = "en", fmt: str = "html", timezone: str = ""
) -> str:
    """The report as a printable HTML page or as Markdown, in `locale`, its times in
    `timezone` (default: the plan's own, `plan_zone`)."""
    template = _environment(fmt).get_template(f"report.{fmt}.j2")
    words = ReportFormat(report, locale, timezone)
    return template.render(r=report, f=words, locale=locale)


def report_filename(plan_id: int, locale: str, fmt: str) -> str:
    return f"plan-{plan_id}-evaluation.{locale}.{fmt}"


def _write_whole(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: a reader (or a crash)
    never sees half a report, and writing the same report again is harmless."""
    # Not mkstemp: its files are private (0600); a report keeps the umask's permissions.
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8", newline="\n")
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_reports(
    report: EvaluationReport,
    *,
    directory: Path,
    locales: Iterable[str] = LOCALES,
    formats: Iterable[str] = FORMATS,
    timezone: str = "",
) -> list[Path]:
    """Render and write `plan-<id>-evaluation.<locale>.<fmt>` files; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for locale in locales:
        for fmt in formats:
            path = directory / report_filename(report.plan.id, locale, fmt)
            _write_whole(path, render_report(report, locale=locale, fmt=fmt, timezone=timezone))
            written.append(path)
    return written


@dataclass(frozen=True)
class ProducedReport:
    """What `produce_report` wrote, and the English Markdown (for a Prefect artifact)."""

    paths: list[Path]
    markdown: str
    report: EvaluationReport


def produce_report(
    session: Session, *, plan_id: int, now: datetime, directory: Path | None = None
) -> ProducedReport:
    """Read a plan's report and write it in every locale and format to the reports directory."""
    settings = WorkflowSettings()
    report = evaluation_report(session, plan_id=plan_id, now=now)
    paths = write_reports(
        report,
        directory=directory or settings.reports_dir,
        timezone=settings.report_timezone,
    )
    markdown = render_report(report, locale="en", fmt="md", timezone=settings.report_timezone)
    return ProducedReport(paths=paths, markdown=markdown, report=report)
