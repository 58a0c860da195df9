"""The message kinds, what context each one needs, and the keys that make a
reminder unique."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from notifications.errors import TemplateProblem, UnknownKind

# What every kind is given: the plan, its employee, and the person addressed.
COMMON = ("plan", "employee", "recipient")

# Kind -> the context keys it needs on top of COMMON (docs/notifications.md).
KINDS: dict[str, tuple[str, ...]] = {
    "signature_requested": ("signature",),
    "plan_agreed": ("agreement",),
    "plan_started": ("started_on", "goals"),
    "progress_report_due": ("report",),
    "coaching_session_due": ("coaching",),
    "milestone_due_soon": ("milestone", "goal", "days_left"),
    "milestone_overdue": ("milestone", "goal", "level", "days_overdue"),
    "adjustment_proposed": ("adjustment",),
    "adjustment_reconfirmed": ("adjustments", "confirmed_on"),
    "evaluation_due": ("evaluation_due",),
    "evaluation_ready": ("evaluation",),
    # A rung of any ladder past the milestones' (a report or talk missed, a signature
    # waiting, an evaluation overdue): `escalation.kind` says which.
    "escalation": ("escalation",),
}

# Kinds whose wording changes with the escalation level (one folder per level).
LEVELLED = {"milestone_overdue"}


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UnknownKind("message kind", kind, sorted(KINDS))


def check_context(kind: str, context: Mapping[str, Any]) -> None:
    """Every key the kind needs is there (the templates check the rest, strictly)."""
    check_kind(kind)
    missing = [key for key in (*COMMON, *KINDS[kind]) if key not in context]
    if missing:
        raise TemplateProblem(kind, f"the context lacks {', '.join(missing)}")


def template_folders(kind: str, context: Mapping[str, Any]) -> list[str]:
    """Where the kind's templates live, most specific first.

    A levelled kind looks in `<kind>/level<N>`, then the levels below it, so a
    ladder longer than the templates uses the highest wording there is.
    """
    if kind not in LEVELLED:
        return [kind]
    level = int(context["level"])
    return [f"{kind}/level{n}" for n in range(max(level, 1), 0, -1)]


def dedup_key(
    *,
    plan_id: int | None,
    kind: str,
    subject: str = "",
    level: int | None = None,
    due: date | str | None = None,
) -> str:
    """The identity of one reminder: the same arguments always give the same key.

    `subject` is what the message is about (`milestone:report_1`,
    `signature:agree:0`); `due` the date it concerns, so the next week's
    progress reminder is a new message and this week's is not.
    """
    check_kind(kind)
    parts = [f"plan:{plan_id if plan_id is not None else '-'}", kind]
    if subject:
        parts.append(subject)
    if level is not None:
        parts.append(f"level:{level}")
    if due is not None:
        parts.append(f"due:{due.isoformat() if isinstance(due, date) else due}")
    return "|".join(parts)
