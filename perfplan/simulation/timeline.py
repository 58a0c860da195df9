"""What a simulation saw, day by day: the steps people took, every message that would
go out (to whom, by their part in the plan, in which language, by which channel), the
due dates, and the days the business calendar does not count (or counts on a weekend).
One typed record, shown as a Rich table (English or Chinese) or as one JSON document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from rich.table import Table
from rich.text import Text

# step: someone did something; message: what a change announces; reminder: what the
# sweep sent (a rung of an escalation ladder when its level is ≥ 1); due: a due date;
# calendar: a holiday, or a weekend day that is a working day.
Category = Literal["step", "message", "reminder", "due", "calendar"]


@dataclass(frozen=True)
class Recipient:
    role: str  # the part they hold in the plan (employee, manager, department_head...)
    name: str
    locale: str
    channel: str


@dataclass(frozen=True)
class Line:
    at: datetime
    day: int
    category: Category
    who: str  # a person's key, or perfplan
    what: str
    level: int = 0
    to: tuple[Recipient, ...] = ()
    state: str | None = None  # the plan's state when this step changed it

    def as_json(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "day": self.day,
            "category": self.category,
            "who": self.who,
            "what": self.what,
            "level": self.level,
            "to": [r.__dict__ for r in self.to],
            "state": self.state,
        }


@dataclass(frozen=True)
class Timeline:
    plan: str
    definition: str
    version: int
    calendar: str
    first_day: date
    last_day: date
    final_state: str
    lines: tuple[Line, ...]
    seconds: float

    @property
    def reminders(self) -> list[Line]:
        """What the sweep sent: reminders and escalation rungs."""
        return [line for line in self.lines if line.category == "reminder"]

    def as_json(self) -> dict[str, object]:
        return {
            "plan": self.plan,
            "definition": {"name": self.definition, "version": self.version},
            "calendar": self.calendar,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "final_state": self.final_state,
            "sent": False,
            "seconds": round(self.seconds, 2),
            "lines": [line.as_json() for line in self.lines],
        }


WORDS = {
    "en": {
        "title": "Simulation of “{plan}” on {definition} v{version} (calendar {calendar}, UTC); "
        "nothing was sent",
        "columns": ("when", "day", "who", "what", "to (part, language, channel)", "state"),
        "level": "rung {level}",
        "ended": "{first} → {last}: ends '{state}' "
        "({reminders} reminders and escalations, {s:.1f} s)",
    },
    "zh": {
        "title": "模拟“{plan}”（{definition} 第 {version} 版，日历 {calendar}，UTC）；"
        "未发送任何消息",
        "columns": ("时间", "第几天", "谁", "事项", "发给（角色、语言、渠道）", "状态"),
        "level": "第 {level} 级",
        "ended": "{first} → {last}：最终状态 '{state}'（提醒与升级 {reminders} 条，{s:.1f} 秒）",
    },
}
STYLE = {"step": "", "message": "cyan", "reminder": "yellow", "due": "magenta", "calendar": "dim"}


def table(timeline: Timeline, language: str = "en") -> Table:
    words = WORDS["zh" if language.startswith("zh") else "en"]
    title = str(words["title"]).format(**timeline.__dict__)
    shown = Table(*words["columns"], title=title, title_justify="left")
    for line in timeline.lines:
        what = line.what
        if line.level:
            what = f"{what} ({str(words['level']).format(level=line.level)})"
        to = ", ".join(f"{r.name} ({r.role}, {r.locale}, {r.channel})" for r in line.to)
        shown.add_row(
            f"{line.at:%Y-%m-%d %a %H:%M}",
            str(line.day),
            line.who,
            Text(what, STYLE[line.category]),
            to,
            line.state or "",
        )
    shown.caption = str(words["ended"]).format(
        first=timeline.first_day,
        last=timeline.last_day,
        state=timeline.final_state,
        reminders=len(timeline.reminders),
        s=timeline.seconds,
    )
    return shown
