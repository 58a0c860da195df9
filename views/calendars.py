"""A plan's dates as iCalendar events (RFC 5545, iTIP RFC 5546): its milestones'
deadlines, its coaching sessions and its evaluation meeting, for the invitations the
messages carry and for each person's private feed.

Every event has a UID that stays the same for the life of the plan (`plan:item`), and a
SEQUENCE that counts the confirmed adjustments that moved it, so that a calendar
replaces the event an adjustment moved instead of adding a second one. The plan holds
dates, not times of day, so every event is an all-day event (DTSTART;VALUE=DATE); times
of day (UTC, with the plan's TZID) come with the plans' time zones.

What an event says is what every person on the plan may read of it on the plan page:
the plan's title, the milestone's title and criterion, the goal it belongs to, the
link to the plan. Nothing else of the plan (evidence, evaluation, notes) is put in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event, vCalAddress, vRecur
from sqlmodel import Session

from people import access, feeds
from people.roles import Holder
from states.definitions import catalog
from views.lists import PlanFilter, search_plans
from views.record import PlanRecord, plan_record

PRODID = "-//perfplan//perfplan calendars//EN"
REQUEST, CANCEL, PUBLISH = "REQUEST", "CANCEL", "PUBLISH"

_WORDS = {
    "milestone": {"en": "Milestone due: {title}", "zh": "里程碑截止：{title}"},
    "coaching": {"en": "Coaching session: {plan}", "zh": "辅导面谈：{plan}"},
    "evaluation": {"en": "Evaluation meeting: {plan}", "zh": "评估面谈：{plan}"},
    "criterion": {"en": "Done when: {text}", "zh": "完成标准：{text}"},
    "goal": {"en": "Goal: {text}", "zh": "目标：{text}"},
    "plan": {"en": "Plan: {text}", "zh": "计划：{text}"},
}
_CADENCE = re.compile(r"^P(\d+)([DWM])$")
_FREQ = {"D": "DAILY", "W": "WEEKLY", "M": "MONTHLY"}


def _say(word: str, locale: str, **values: str) -> str:
    language = "zh" if locale.lower().startswith("zh") else "en"
    return _WORDS[word][language].format(**values)


@dataclass(frozen=True)
class CalendarItem:
    """One event of a plan: `item` names it within the plan (`milestone:report_1`)."""

    plan_id: int
    item: str
    summary: str
    description: str
    starts: date
    sequence: int
    organizer: Holder | None
    attendees: tuple[Holder, ...]
    rrule: dict[str, object] | None = None


def uid(plan_id: int, item: str, domain: str) -> str:
    """The event's identity for the life of the plan, whatever moves it."""
    return f"perfplan-plan{plan_id}-{item.replace(':', '-')}@{domain}"


def _first(plan: PlanRecord, *roles: str) -> Holder | None:
    return next((h for role in roles for h in plan.people.holders(role)), None)


def _people(plan: PlanRecord, roles: Iterable[str]) -> tuple[Holder, ...]:
    found: dict[int, Holder] = {}
    for role in roles:
        for holder in plan.people.holders(role):
            found.setdefault(holder.id, holder)
    return tuple(found.values())


def _moves(plan: PlanRecord, kind: str, key: str) -> int:
    """How many confirmed adjustments moved the item (its SEQUENCE)."""
    return sum(
        1
        for a in plan.adjustments
        if a.status == "confirmed" and a.target_kind == kind and a.target_key == key
    )


def _milestones(plan: PlanRecord, locale: str, link: str) -> list[CalendarItem]:
    items = []
    for m in plan.milestones:
        lines = [
            _say("plan", locale, text=plan.plan.title),
            _say("goal", locale, text=m.goal_title),
            *([_say("criterion", locale, text=m.criterion)] if m.criterion else []),
            link,
        ]
        items.append(
            CalendarItem(
                plan_id=plan.plan.id,
                item=f"milestone:{m.key}",
                summary=_say("milestone", locale, title=m.title),
                description="\n".join(lines),
                starts=m.due,
                sequence=_moves(plan, "milestone", m.key),
                organizer=_first(plan, "hr", "manager"),
                attendees=_people(plan, ("employee", "manager")),
            )
        )
    return items


def _coaching_rule(plan: PlanRecord) -> dict[str, object] | None:
    found = _CADENCE.match(plan.plan.coaching_every or "")
    if found is None:
        return None
    count, unit = found.groups()
    return {"freq": _FREQ[unit], "interval": int(count), "until": plan.plan.period_end}


def plan_items(plan: PlanRecord, *, locale: str, link: str) -> list[CalendarItem]:
    """Every event of the plan, worded for a reader of `locale`."""
    title = plan.plan.title
    items = _milestones(plan, locale, link)
    rule = _coaching_rule(plan)
    if rule is not None:
        items.append(
            CalendarItem(
                plan_id=plan.plan.id,
                item="coaching",
                summary=_say("coaching", locale, plan=title),
                description=link,
                starts=plan.plan.period_start,
                sequence=0,
                organizer=_first(plan, "manager"),
                attendees=_people(plan, ("employee", "manager")),
                rrule=rule,
            )
        )
    items.append(
        CalendarItem(
            plan_id=plan.plan.id,
            item="evaluation",
            summary=_say("evaluation", locale, plan=title),
            description=link,
            starts=plan.plan.period_end,
            sequence=0,
            organizer=_first(plan, "hr", "manager"),
            attendees=_people(plan, ("employee", "manager", "hr")),
        )
    )
    return items


def _address(holder: Holder) -> vCalAddress:
    found = vCalAddress(f"mailto:{holder.email}" if holder.email else f"urn:perfplan:{holder.key}")
    found.params["CN"] = holder.name
    return found


def _event(item: CalendarItem, *, method: str, domain: str, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", uid(item.plan_id, item.item, domain))
    event.add("dtstamp", stamp)
    event.add("dtstart", item.starts)
    event.add("dtend", item.starts + timedelta(days=1))
    event.add("summary", item.summary)
    event.add("description", item.description)
    # A cancellation is a change too: it comes after every request (RFC 5546 §3.2.5).
    event.add("sequence", item.sequence + (1 if method == CANCEL else 0))
    event.add("transp", "TRANSPARENT")
    if item.rrule is not None:
        event.add("rrule", vRecur(item.rrule))
    if method == CANCEL:
        event.add("status", "CANCELLED")
    if item.organizer is not None:
        event.add("organizer", _address(item.organizer))
    for holder in item.attendees:
        attendee = _address(holder)
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        if method == REQUEST:
            attendee.params["PARTSTAT"] = "NEEDS-ACTION"
        event.add("attendee", attendee)
    return event


def calendar_text(
    items: Sequence[CalendarItem], *, method: str, domain: str, stamp: datetime, name: str = ""
) -> str:
    """The VCALENDAR of `items` as iCalendar text (CRLF lines), "" when there are none."""
    if not items:
        return ""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    for item in items:
        calendar.add_component(_event(item, method=method, domain=domain, stamp=stamp))
    text: bytes = calendar.to_ical()
    return text.decode("utf-8")


_FEED_PLANS = 500  # a person on more plans than this sees the newest


def person_feed(
    session: Session, *, token: str, today: date, base_url: str, domain: str, stamp: datetime
) -> str | None:
    """The ICS feed that `token` opens: the events of every plan its owner holds a part
    in and may read (the plan list's own access policy), in the owner's language;
    a finished plan's events are left out. None for a revoked or unknown token."""
    person_id = feeds.owner(session, token)
    if person_id is None:
        return None
    viewer = access.load_viewer(session, person_id=person_id)
    listed = search_plans(
        session,
        viewer=viewer,
        today=today,
        filters=PlanFilter(relation="participant"),
        limit=_FEED_PLANS,
    )
    items: list[CalendarItem] = []
    for summary in listed:
        plan = plan_record(session, summary.id, today=today)
        definition = catalog.by_hash(session, plan.plan.definition_hash)
        if plan.plan.state in definition.final_states:
            continue
        link = f"{base_url.rstrip('/')}/plans/{plan.plan.id}"
        items += plan_items(plan, locale=viewer.locale, link=link)
    name = "绩效改进计划" if viewer.locale.lower().startswith("zh") else "Improvement plans"
    calendar = calendar_text(items, method=PUBLISH, domain=domain, stamp=stamp, name=name)
    return calendar or _empty(name)


def _empty(name: str) -> str:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", PUBLISH)
    calendar.add("x-wr-calname", name)
    text: bytes = calendar.to_ical()
    return text.decode("utf-8")
