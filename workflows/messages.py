"""What the clockwork's messages share: the notification configuration (loaded once),
the facts every template is given about a plan (the plan, its employee and manager),
the people a message addresses, recording them in the delivery ledger, and delivering.

What is said when is in `workflows.announcements` (a plan's events) and
`workflows.reminders` (due follow-ups); the wording and the channels are in
`notifications`; who holds which part in a plan is `people.roles`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from models import clock
from notifications.config import NotificationConfig
from notifications.ledger import delivery, recording
from notifications.message import Recipient
from notifications.rendering import LOCALES
from people.roles import Holder, PlanPeople
from states.engine.context import PlanSnapshot
from views import calendars
from views.record import PlanRecord, PlanRow
from workflows.runs import record_run

log = logging.getLogger(__name__)

# What templates are told of the plan itself.
PLAN_FACTS = (
    "id",
    "title",
    "period_start",
    "period_end",
    "report_every",
    "coaching_every",
    "state",
)


@lru_cache(maxsize=1)
def config() -> NotificationConfig:
    """Routing, templates and settings, loaded once per process."""
    return NotificationConfig.load()


def base_context(plan: PlanRow | PlanSnapshot, people: PlanPeople) -> dict[str, Any]:
    """What every message about a plan is given: the plan, its employee and manager."""
    return {
        "plan": {name: getattr(plan, name) for name in PLAN_FACTS},
        "employee": {"name": people.name("employee")},
        "manager": {"name": people.name("manager")},
    }


def addressed(holder: Holder, role: str | None = None) -> Recipient:
    """The person as the ledger addresses them, in `role` (default: the part they hold)."""
    return Recipient(
        person_id=holder.id,
        role=role or holder.role,
        name=holder.name,
        email=holder.email,
        locale=holder.locale,
        key=holder.key,
    )


def recipients(people: PlanPeople, roles: Iterable[str]) -> list[Recipient]:
    """The holders of `roles`, each person once, in the first of those roles they hold."""
    found: dict[int, Recipient] = {}
    for role in roles:
        for holder in people.holders(role):
            found.setdefault(holder.id, addressed(holder, role))
    return list(found.values())


def record(
    session: Session,
    *,
    kind: str,
    plan_id: int,
    readers: Iterable[Recipient],
    context: Mapping[str, Any],
    dedup_key: str,
    now: datetime,
    calendars: Mapping[str, str] | None = None,
) -> int:
    """Record one message for each reader (none twice: the dedup key decides); returns
    how many were recorded. `calendars`: the invitation to attach, per language."""
    asked = [
        recording.Request(kind, plan_id, reader, context, dedup_key, calendars or {})
        for reader in readers
    ]
    return recording.enqueue_many(session, config=config(), requests=asked, now=now)


def invitations(
    plan: PlanRecord, *, method: str, now: datetime, only: Iterable[str] | None = None
) -> dict[str, str]:
    """The plan's events (`only` those items) as an iCalendar `method` message, per
    language the templates speak; empty when there is nothing to send."""
    wanted = set(only) if only is not None else None
    found = {}
    for locale in LOCALES:
        items = calendars.plan_items(
            plan, locale=locale, link=config().renderer.plan_url(plan.plan.id)
        )
        chosen = [i for i in items if wanted is None or i.item in wanted]
        text = calendars.calendar_text(
            chosen, method=method, domain=config().mail_domain, stamp=now
        )
        if text:
            found[locale] = text
    return found


def deliver(engine: Engine, *, now: datetime) -> dict[str, int]:
    """Send the recorded messages whose turn has come, on every channel that can be built."""
    channels, problems = config().available_channels()
    for name, problem in problems.items():
        log.warning("channel %s is not usable (%s); its messages wait", name, problem)
    policy = delivery.DeliveryPolicy.from_settings(config().settings)
    started = clock.now()
    report = delivery.deliver_due(
        engine,
        channels=channels,
        renderer=config().renderer,
        now=now,
        policy=policy,
        unavailable=problems,
    )
    figures = {
        "sent": report.sent,
        "retried": report.retried,
        "dead": report.dead,
        "deferred": report.deferred,
        "more": int(report.more),
    }
    if report.claimed:  # a delivery with nothing to send is not worth a row
        record_run(engine, kind="deliver", started_at=started, as_of=now, figures=figures)
    return figures
